"""The small DLPFC section shipped inside the package (works offline)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scanpy as sc
import scipy.sparse as sp
from anndata import AnnData

BUNDLED_FILE = Path(__file__).parent / "data" / "dlpfc_151673.h5ad"


def dlpfc_151673() -> AnnData:
    """DLPFC section 151673 (Maynard et al. 2021), reduced to 3,000 genes and shipped with stmin.

    Needs no download and no data folder. It is :func:`dlpfc` ``("151673")`` restricted to the
    3,000 genes that :func:`scanpy.pp.highly_variable_genes` (``flavor="seurat_v3"``) picks
    from the raw counts of the 5,000-gene matrix; all 3,639 in-tissue spots are kept
    (regenerate it with ``scripts/make_bundled_dataset.py``).

    Returns
    -------
    AnnData of 3,639 spots × 3,000 genes with

    - ``.X``: raw UMI counts (CSR, float32); ``var_names``: Ensembl ids,
      ``var["gene_symbols"]``: gene symbols.
    - ``obs["layer_guess"]``: manual layers L1…L6, WM (categorical, NaN = unannotated);
      ``obs["array_row"]``, ``obs["array_col"]``: Visium array coordinates.
    - ``obsm["spatial"]``: full-resolution pixel coordinates (x = column, y = row).
    - ``uns["spatial"]["151673"]``: ``images["lowres"]`` H&E, ``scalefactors``, ``metadata``.
    - ``uns["dataset"]``: source, citation, license note and how the data were reduced.
    """
    adata = sc.read_h5ad(BUNDLED_FILE)
    adata.X = sp.csr_matrix(adata.X, dtype=np.float32)
    return adata
