"""Run one stmin method (or an in-house baseline) on an .h5ad and write labels as JSON.

Same protocol as the peer runners in ``peers/``: the timing covers preprocessing, training and
clustering, not interpreter start-up or imports; the peak memory is that of this process.

    python benchmarks/run_stmin.py --method stmgac --input x.h5ad --n-clusters 7 --seed 0 \
        --output out.json [--n-neighs 12] [--refine 30]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import anndata as ad
import scanpy as sc
from peers._run import write_result

import stmin as sm


def _pca(adata, seed):
    """Seurat-style baseline: normalise to 10⁴, log1p, 3,000 HVGs, scale, 30 PCs."""
    tmp = adata.copy()
    sc.pp.normalize_total(tmp, target_sum=1e4)
    sc.pp.log1p(tmp)
    sc.pp.highly_variable_genes(tmp, n_top_genes=min(3000, tmp.n_vars - 1))
    tmp = tmp[:, tmp.var["highly_variable"]].copy()
    sc.pp.scale(tmp)
    sc.pp.pca(tmp, n_comps=30, random_state=seed)
    return tmp.obsm["X_pca"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--method", required=True, choices=["stmgac", "pca_kmeans", "leiden"])
    parser.add_argument("--input", required=True)
    parser.add_argument("--n-clusters", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", required=True)
    parser.add_argument("--n-neighs", type=int, default=12)
    parser.add_argument("--refine", type=int, default=30)
    parser.add_argument("--max-epochs", type=int, default=500)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("stmin").setLevel(logging.WARNING)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)

    adata = ad.read_h5ad(args.input)
    start = time.perf_counter()
    if args.method == "stmgac":
        sm.pp.spatial_graph(adata, n_neighs=args.n_neighs)
        sm.tl.stmgac(
            adata,
            n_clusters=args.n_clusters,
            refine=args.refine or None,
            max_epochs=args.max_epochs,
            accelerator="cpu",
            random_state=args.seed,
            train_kwargs={"enable_progress_bar": False},
        )
        labels = adata.obs["stmgac"].astype(str).tolist()
        settings = {"n_neighs": args.n_neighs, "refine": args.refine, "max_epochs": args.max_epochs}
    else:
        method = "kmeans" if args.method == "pca_kmeans" else "leiden"
        x = _pca(adata, args.seed)
        labels = sm.tl.cluster_embedding(x, args.n_clusters, method=method, random_state=args.seed)
        labels = labels.astype(str).tolist()
        settings = {"pcs": 30, "hvg": 3000, "clustering": method}
    write_result(args.output, f"stmin-{args.method}", sm.__version__, labels, start, settings)


if __name__ == "__main__":
    main()
