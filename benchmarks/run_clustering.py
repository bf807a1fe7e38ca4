"""Run one scRNA-seq clustering method on an .h5ad of raw counts; write its labels as JSON.

Same protocol as ``run_stmin.py``: the timing covers preprocessing, training and clustering,
not interpreter start-up, imports or file reading; the peak memory is that of this process.
The reference labels are dropped before any method sees the data. ``leiden_best`` also writes
the labels of its whole resolution sweep (``<output>.npy``, one row per resolution), from which
the harness picks the best one against the reference.

    python benchmarks/run_clustering.py --method leiden_true_k --input x.h5ad --n-clusters 8 \
        --seed 0 --output out.json
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
import numpy as np
import pandas as pd
import scanpy as sc
import torch
from peers._run import write_result
from sklearn.cluster import KMeans

import stmin as sm

METHODS = ["scasdc", "scasdc_paper", "leiden_true_k", "leiden_best", "kmeans_pca", "scvi_leiden"]
PAPER_ARCHITECTURE = {"n_hidden": (1000, 1000, 4000), "wide_heads": True, "attention": "full"}
N_HVG = 2000
N_PCS = 50
N_NEIGHBORS = 15
RESOLUTION_RANGE = (0.01, 5.0)
BISECTION_STEPS = 30
SWEEP = [round(0.1 * i, 1) for i in range(1, 21)]  # 0.1, 0.2, …, 2.0


def _log_normalized(adata):
    """Copy of ``adata`` normalised to 10⁴ counts per cell and log1p-transformed."""
    tmp = adata.copy()
    sc.pp.normalize_total(tmp, target_sum=1e4)
    sc.pp.log1p(tmp)
    return tmp


def _hvg_mask(lognorm) -> np.ndarray:
    """The 2,000 most variable genes (Seurat flavour, on log data); all genes if ≤ 2,000."""
    if lognorm.n_vars <= N_HVG:
        return np.ones(lognorm.n_vars, dtype=bool)
    hvg = sc.pp.highly_variable_genes(lognorm, n_top_genes=N_HVG, flavor="seurat", inplace=False)
    return hvg["highly_variable"].to_numpy()


def _pca(adata, seed: int):
    """Standard scanpy pipeline up to PCA: normalise, log1p, HVGs, scale (max 10), 50 PCs."""
    tmp = _log_normalized(adata)
    tmp = tmp[:, _hvg_mask(tmp)].copy()
    sc.pp.scale(tmp, max_value=10)
    sc.pp.pca(tmp, n_comps=N_PCS, random_state=seed)
    return tmp


def _neighbors(tmp, seed: int, use_rep: str = "X_pca"):
    """15-NN graph with the exact scikit-learn search (PyNNDescent fails above 4,096 cells)."""
    sc.pp.neighbors(
        tmp,
        n_neighbors=N_NEIGHBORS,
        use_rep=use_rep,
        transformer="sklearn",
        random_state=seed,
    )
    return tmp


def _leiden(graph, resolution: float, seed: int) -> np.ndarray:
    sc.tl.leiden(
        graph,
        resolution=resolution,
        random_state=seed,
        flavor="igraph",
        n_iterations=2,
        directed=False,
    )
    return graph.obs["leiden"].astype(str).to_numpy()


def _leiden_true_k(graph, k: int, seed: int) -> tuple[np.ndarray, dict]:
    """Leiden, bisecting the resolution in [0.01, 5] to give ``k`` clusters (else the closest)."""
    lo, hi = RESOLUTION_RANGE
    best, steps = None, 0
    while steps < BISECTION_STEPS:
        steps += 1
        res = (lo + hi) / 2
        labels = _leiden(graph, res, seed)
        found = len(np.unique(labels))
        if best is None or abs(found - k) < abs(best[2] - k):
            best = (labels, res, found)
        if found == k:
            break
        lo, hi = (res, hi) if found < k else (lo, res)
    labels, res, found = best
    return labels, {"resolution": res, "n_clusters_found": found, "bisection_steps": steps}


def _leiden_sweep(graph, seed: int) -> np.ndarray:
    """Integer labels (resolutions × cells) of Leiden at each resolution of ``SWEEP``."""
    rows = []
    for res in SWEEP:
        labels = _leiden(graph, res, seed)
        rows.append(pd.factorize(labels)[0])
    return np.asarray(rows, dtype=np.int32)


def _scvi_latent(adata, seed: int) -> np.ndarray:
    """scVI (default model and epochs, CPU) on the raw counts of the 2,000 HVGs."""
    import scvi

    scvi.settings.seed = seed
    counts = adata[:, _hvg_mask(_log_normalized(adata))].copy()
    # scanpy's numba-parallel code can reset PyTorch to all cores; scVI gets one thread
    torch.set_num_threads(1)
    scvi.model.SCVI.setup_anndata(counts)
    model = scvi.model.SCVI(counts)
    model.train(accelerator="cpu", enable_progress_bar=False)
    return model.get_latent_representation()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--method", required=True, choices=METHODS)
    parser.add_argument("--input", required=True)
    parser.add_argument("--n-clusters", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("stmin").setLevel(logging.WARNING)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    logging.getLogger("scvi").setLevel(logging.WARNING)
    torch.set_num_threads(1)

    adata = ad.read_h5ad(args.input)
    adata.obs = adata.obs[[]]  # no method sees the reference labels
    k, seed = args.n_clusters, args.seed
    settings: dict = {"n_clusters": k}
    sweep = None
    start = time.perf_counter()
    if args.method in ("scasdc", "scasdc_paper"):
        sm.tl.scasdc_cluster(
            adata,
            n_clusters=k,
            random_state=seed,
            model_kwargs=PAPER_ARCHITECTURE if args.method == "scasdc_paper" else None,
            train_kwargs={"enable_progress_bar": False},
        )
        labels = adata.obs["scasdc_cluster"].astype(str).to_numpy()
        settings["model_kwargs"] = adata.uns["scasdc_cluster"]["params"]["model_kwargs"]
    elif args.method == "scvi_leiden":
        z = _scvi_latent(adata, seed)
        graph = ad.AnnData(obs=pd.DataFrame(index=adata.obs_names), obsm={"X_scVI": z})
        labels, found = _leiden_true_k(_neighbors(graph, seed, "X_scVI"), k, seed)
        settings |= {"latent_dim": z.shape[1], "n_neighbors": N_NEIGHBORS, **found}
    else:
        tmp = _pca(adata, seed)
        settings |= {"n_genes": tmp.n_vars, "n_pcs": N_PCS}
        if args.method == "kmeans_pca":
            labels = KMeans(k, n_init=10, random_state=seed).fit_predict(tmp.obsm["X_pca"])
        else:
            graph = _neighbors(tmp, seed)
            settings["n_neighbors"] = N_NEIGHBORS
            if args.method == "leiden_true_k":
                labels, found = _leiden_true_k(graph, k, seed)
                settings |= found
            else:
                sweep = _leiden_sweep(graph, seed)
                labels = sweep[SWEEP.index(1.0)].astype(str)
                settings["resolutions"] = SWEEP
    write_result(args.output, args.method, sm.__version__, list(labels), start, settings)
    if sweep is not None:
        np.save(Path(args.output).with_suffix(".npy"), sweep)


if __name__ == "__main__":
    main()
