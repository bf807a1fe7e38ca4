"""Regenerate ``src/stmin/datasets/data/dlpfc_151673.h5ad``, the data set shipped with stmin.

Reads DLPFC section 151673 (5,000-gene counts, layers, positions, lowres H&E) from the shared
data folder with :func:`stmin.datasets.dlpfc`, keeps the 3,000 genes that scanpy's
``highly_variable_genes(flavor="seurat_v3")`` picks from the raw counts (needs scikit-misc) and
writes integer CSR counts with gzip compression.

Usage::

    python scripts/make_bundled_dataset.py [--data-dir ../shared/data] [--out PATH]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import scanpy as sc
import scipy.sparse as sp

from stmin.datasets import dlpfc
from stmin.datasets._bundled import BUNDLED_FILE
from stmin.datasets._dlpfc import CITATION, SOURCE

SECTION = "151673"
N_GENES = 3000
MAX_BYTES = 5 * 2**20


def _default_data_dir() -> Path:
    env = os.environ.get("STMIN_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> None:
    """Build the bundled file and check its size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=_default_data_dir())
    parser.add_argument("--out", type=Path, default=BUNDLED_FILE)
    args = parser.parse_args()

    adata = dlpfc(SECTION, path=args.data_dir)
    sc.pp.highly_variable_genes(adata, flavor="seurat_v3", n_top_genes=N_GENES)
    small = adata[:, adata.var["highly_variable"].to_numpy()].copy()
    small.var = small.var[["gene_symbols"]]
    del small.uns["hvg"]
    small.X = sp.csr_matrix(small.X, dtype=np.int32)
    small.uns["dataset"] = {
        "source": (
            f"DLPFC section {SECTION}, {SOURCE}. Raw UMI counts of the top 5,000 HVGs as "
            "distributed in the R package BANKSY (prabhakarlab/Banksy, data/dlpfc151673.rda); "
            "positions, scale factors, lowres H&E and layer annotation from "
            "LieberInstitute/HumanPilot."
        ),
        "citation": CITATION,
        "license": (
            "Public data of the Lieber Institute for Brain Development (spatialLIBD); the "
            "HumanPilot repository is under the Artistic License 2.0. Cite Maynard et al. 2021."
        ),
        "reduction": (
            f"All {small.n_obs} in-tissue spots; {N_GENES} of the 5,000 genes chosen by "
            f'scanpy.pp.highly_variable_genes(flavor="seurat_v3", n_top_genes={N_GENES}) on the '
            "raw counts; counts stored as int32 CSR, gzip-compressed "
            "(scripts/make_bundled_dataset.py)."
        ),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    small.write_h5ad(args.out, compression="gzip")
    size = args.out.stat().st_size
    print(f"wrote {args.out}: {small.n_obs} spots x {small.n_vars} genes, {size / 2**20:.2f} MiB")
    if size > MAX_BYTES:
        raise SystemExit(f"{args.out} is larger than {MAX_BYTES / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
