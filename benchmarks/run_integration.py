"""Run one multi-slice method on a concatenated .h5ad; write labels (JSON) and embedding (.npy).

Same protocol as ``run_stmin.py``: the timing covers preprocessing, training and clustering,
not interpreter start-up, imports or file reading; the peak memory is that of this process.

    python benchmarks/run_integration.py --method stg3net --input slices.h5ad --batch-key slice \
        --n-clusters 7 --seed 0 --output out.json [--n-neighs 12]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import anndata as ad
import numpy as np
import pandas as pd
import scanpy as sc
from peers._run import write_result

import stmin as sm

METHODS = ["stg3net", "stg3net_noadv", "stmgac_per_slice", "harmony_gmm", "scvi_gmm"]


def _stg3net(adata, args, adversarial):
    sm.pp.spatial_graph(adata, n_neighs=args.n_neighs, library_key=args.batch_key)
    sm.tl.stg3net(
        adata,
        args.batch_key,
        args.n_clusters,
        accelerator="cpu",
        random_state=args.seed,
        model_kwargs={"adversarial": adversarial},
        train_kwargs={"enable_progress_bar": False},
    )
    return adata.obs["stg3net"].astype(str).to_numpy(), adata.obsm["X_stg3net"]


def _stmgac_per_slice(adata, args):
    labels = np.empty(adata.n_obs, dtype=object)
    z = np.zeros((adata.n_obs, 16), dtype=np.float32)
    for name in adata.obs[args.batch_key].cat.categories:
        idx = np.flatnonzero(adata.obs[args.batch_key] == name)
        part = adata[idx].copy()
        sm.pp.spatial_graph(part, n_neighs=args.n_neighs)
        sm.tl.stmgac(
            part,
            args.n_clusters,
            refine=None,
            accelerator="cpu",
            random_state=args.seed,
            train_kwargs={"enable_progress_bar": False},
        )
        labels[idx] = part.obs["stmgac"].astype(str).to_numpy()
        z[idx] = part.obsm["X_stmgac"]
    return labels, z


def _log_hvg_pca(adata, args):
    """Normalise to 10⁴, log1p, 2,000 HVGs (per batch), scale, 50 PCs."""
    tmp = adata.copy()
    sc.pp.normalize_total(tmp, target_sum=1e4)
    sc.pp.log1p(tmp)
    sc.pp.highly_variable_genes(tmp, n_top_genes=2000, batch_key=args.batch_key)
    tmp = tmp[:, tmp.var["highly_variable"]].copy()
    sc.pp.scale(tmp)
    sc.pp.pca(tmp, n_comps=50, random_state=args.seed)
    return tmp.obsm["X_pca"]


def _harmony(adata, args):
    import harmonypy

    pcs = _log_hvg_pca(adata, args)
    ho = harmonypy.run_harmony(
        pcs, adata.obs[[args.batch_key]], args.batch_key, random_state=args.seed, verbose=False
    )
    z = np.asarray(ho.Z_corr)
    z = z if z.shape[0] == adata.n_obs else z.T
    return sm.tl.cluster_embedding(z, args.n_clusters, random_state=args.seed).astype(str), z


def _scvi(adata, args):
    import scvi
    import torch

    scvi.settings.seed = args.seed
    tmp = adata.copy()
    sc.pp.highly_variable_genes(
        tmp, n_top_genes=2000, flavor="seurat_v3", batch_key=args.batch_key, subset=True
    )
    # scanpy's numba-parallel HVG code resets PyTorch to all cores; give scVI one thread like
    # every other method here
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    scvi.model.SCVI.setup_anndata(tmp, batch_key=args.batch_key)
    model = scvi.model.SCVI(tmp)
    model.train(accelerator="cpu", enable_progress_bar=False)
    z = model.get_latent_representation()
    labels = sm.tl.cluster_embedding(z, args.n_clusters, random_state=args.seed).astype(str)
    return labels, z


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--method", required=True, choices=METHODS)
    parser.add_argument("--input", required=True)
    parser.add_argument("--batch-key", default="slice")
    parser.add_argument("--n-clusters", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", required=True)
    parser.add_argument("--n-neighs", type=int, default=12)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("stmin").setLevel(logging.WARNING)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    logging.getLogger("scvi").setLevel(logging.WARNING)

    adata = ad.read_h5ad(args.input)
    adata.obs[args.batch_key] = pd.Categorical(adata.obs[args.batch_key])
    start = time.perf_counter()
    if args.method == "stg3net":
        labels, z = _stg3net(adata, args, "grl")
    elif args.method == "stg3net_noadv":
        labels, z = _stg3net(adata, args, "none")
    elif args.method == "stmgac_per_slice":
        labels, z = _stmgac_per_slice(adata, args)
    elif args.method == "harmony_gmm":
        labels, z = _harmony(adata, args)
    else:
        labels, z = _scvi(adata, args)
    settings = {"n_neighs": args.n_neighs, "n_clusters": args.n_clusters}
    write_result(args.output, args.method, sm.__version__, list(labels), start, settings)
    np.save(Path(args.output).with_suffix(".npy"), np.asarray(z, dtype=np.float32))


if __name__ == "__main__":
    main()
