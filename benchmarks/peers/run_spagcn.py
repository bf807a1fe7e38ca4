"""SpaGCN spatial domains (CPU), run inside ``benchmarks/.envs/spagcn``.

Follows SpaGCN's tutorial (``tutorial/tutorial.md`` in jianhuupenn/SpaGCN, sections 4-5,
DLPFC 151673): adjacency from spot pixel coordinates plus histology colour (``s=1``,
``b=49``); ``prefilter_genes(min_cells=3)``, ``prefilter_specialgenes``,
``normalize_per_cell``, ``log1p``; ``p=0.5`` and ``search_l``; ``search_res`` from 0.7 for
the requested number of clusters; ``SpaGCN.train`` with louvain initialisation (no R needed),
``lr=0.05``, ``max_epochs=200``, ``tol=5e-3``; then ``refine`` with ``shape="hexagon"``. The
refined labels are returned. Deviations: the tutorial reads the full-resolution H&E tif; here
the lowres image in ``uns["spatial"]`` is used (coordinates and ``b`` scaled by
``tissue_lowres_scalef``), or no histology when the input has no image. Refinement distances
use pixel coordinates instead of array coordinates (same 6 hexagonal neighbours). ``--seed``
replaces the tutorial's r_seed = t_seed = n_seed = 100.
"""

import random
import time
from importlib.metadata import version

import anndata as ad
import numpy as np
import scanpy as sc
import SpaGCN as spg
import torch
from _run import parse_runner_args, write_result

SETTINGS = {
    "s": 1,
    "b": 49,
    "p": 0.5,
    "min_cells": 3,
    "res_start": 0.7,
    "res_step": 0.1,
    "init": "louvain",
    "lr": 0.05,
    "max_epochs": 200,
    "tol": 5e-3,
    "refine_shape": "hexagon",
}


def lowres_image(adata: ad.AnnData) -> tuple[np.ndarray, float] | None:
    """The first library's lowres H&E image and its scale factor, if present."""
    for lib in adata.uns.get("spatial", {}).values():
        img = lib.get("images", {}).get("lowres")
        if img is not None:
            return np.asarray(img), float(lib["scalefactors"]["tissue_lowres_scalef"])
    return None


def main() -> None:
    """Run SpaGCN with the tutorial's settings and write refined domain labels."""
    args = parse_runner_args(__doc__.splitlines()[0])
    adata = ad.read_h5ad(args.input)
    adata.var_names_make_unique()
    t0 = time.perf_counter()
    # SpaGCN's x/y are (row, col) full-resolution pixels; obsm["spatial"] is (col, row).
    row, col = adata.obsm["spatial"][:, 1], adata.obsm["spatial"][:, 0]
    image = lowres_image(adata)
    s, b = SETTINGS["s"], SETTINGS["b"]
    if image is None:
        adj = spg.calculate_adj_matrix(x=row, y=col, histology=False)
    else:
        img, scalef = image
        adj = spg.calculate_adj_matrix(
            x=row,
            y=col,
            x_pixel=np.round(row * scalef).astype(int).tolist(),
            y_pixel=np.round(col * scalef).astype(int).tolist(),
            image=img,
            beta=b * scalef,
            alpha=s,
            histology=True,
        )
    spg.prefilter_genes(adata, min_cells=SETTINGS["min_cells"])
    spg.prefilter_specialgenes(adata)
    sc.pp.normalize_per_cell(adata)
    sc.pp.log1p(adata)
    l_val = spg.search_l(SETTINGS["p"], adj, start=0.01, end=1000, tol=0.01, max_run=100)
    seed = args.seed
    res = spg.search_res(
        adata, adj, l_val, args.n_clusters,
        start=SETTINGS["res_start"], step=SETTINGS["res_step"], tol=SETTINGS["tol"],
        lr=SETTINGS["lr"], max_epochs=20, r_seed=seed, t_seed=seed, n_seed=seed,
    )  # fmt: skip
    clf = spg.SpaGCN()
    clf.set_l(l_val)
    random.seed(seed)
    torch.manual_seed(seed)
    np.random.seed(seed)
    clf.train(
        adata, adj, init_spa=True, init=SETTINGS["init"], res=res,
        tol=SETTINGS["tol"], lr=SETTINGS["lr"], max_epochs=SETTINGS["max_epochs"],
    )  # fmt: skip
    y_pred, _ = clf.predict()
    adj_2d = spg.calculate_adj_matrix(x=row, y=col, histology=False)
    refined = spg.refine(
        sample_id=adata.obs_names.tolist(), pred=y_pred.tolist(), dis=adj_2d,
        shape=SETTINGS["refine_shape"],
    )  # fmt: skip
    settings = {
        **SETTINGS,
        "histology": "lowres" if image is not None else None,
        "l": float(l_val),
        "res": float(res),
        "n_clusters_raw": len(set(y_pred.tolist())),
        "seed": seed,
    }
    write_result(args.output, "spagcn", version("SpaGCN"), refined, t0, settings)


if __name__ == "__main__":
    main()
