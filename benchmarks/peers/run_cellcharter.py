"""CellCharter spatial domains (CPU), run inside ``benchmarks/.envs/cellcharter``.

CellCharter's docs have no Visium tutorial; this follows the authors' own per-section DLPFC
benchmark (``src/benchmarking/CellCharter/individual.py`` in CSOgroup/cellcharter_analyses,
the paper's Fig. 1 setup) with the current API of the docs' transcriptomics tutorial
(``cosmx_human_nsclc``): ``filter_genes``/``filter_cells`` with ``min_counts=3``; counts
layer; ``normalize_total(1e6)`` + ``log1p``; 5,000 seurat_v3 HVGs on counts (all genes when
the input has fewer); scVI with ``n_latent=5``, trained with early stopping, AdamW and
reduce-LR-on-plateau; ``cc.gr.aggregate_neighbors`` over 4 neighbourhood layers;
``cc.tl.Cluster`` (Gaussian mixture, CellCharter's own clusterer) with K components. The
spatial graph is squidpy's Visium grid graph (``coord_type="grid"``, 6 neighbours). Spots
removed by ``filter_cells`` get the label ``"filtered"``. ``--seed`` sets ``scvi.settings.seed``
and the mixture's ``random_state``. The histology image is not used.
"""

import time
from importlib.metadata import version

import anndata as ad
import cellcharter as cc
import numpy as np
import pandas as pd
import scanpy as sc
import scvi
import squidpy as sq
from _run import parse_runner_args, write_result

SETTINGS = {
    "min_counts": 3,
    "target_sum": 1e6,
    "n_top_genes": 5000,
    "n_latent": 5,
    "scvi_train": "early_stopping, AdamW, reduce_lr_on_plateau, cpu",
    "spatial_graph": "squidpy grid, n_neighs=6",
    "n_layers": 4,
    "clustering": "cc.tl.Cluster (GMM)",
}


def main() -> None:
    """Embed with scVI, aggregate spatial neighbourhoods and fit a K-component GMM."""
    args = parse_runner_args(__doc__.splitlines()[0])
    adata = ad.read_h5ad(args.input)
    adata.var_names_make_unique()
    obs_names = adata.obs_names.copy()
    t0 = time.perf_counter()
    sc.pp.filter_genes(adata, min_counts=SETTINGS["min_counts"])
    sc.pp.filter_cells(adata, min_counts=SETTINGS["min_counts"])
    adata.layers["counts"] = adata.X.copy()
    sc.pp.normalize_total(adata, target_sum=SETTINGS["target_sum"])
    sc.pp.log1p(adata)
    n_top = min(SETTINGS["n_top_genes"], adata.n_vars)
    if n_top < adata.n_vars:
        sc.pp.highly_variable_genes(
            adata, n_top_genes=n_top, subset=True, layer="counts", flavor="seurat_v3"
        )
    scvi.settings.seed = args.seed
    scvi.model.SCVI.setup_anndata(adata, layer="counts")
    model = scvi.model.SCVI(adata, n_latent=SETTINGS["n_latent"])
    model.train(
        accelerator="cpu",
        early_stopping=True,
        enable_progress_bar=False,
        plan_kwargs={"optimizer": "AdamW", "reduce_lr_on_plateau": True},
    )
    adata.obsm["X_scVI"] = model.get_latent_representation(adata).astype(np.float32)
    sq.gr.spatial_neighbors(adata, coord_type="grid", n_neighs=6)
    cc.gr.aggregate_neighbors(
        adata, n_layers=SETTINGS["n_layers"], use_rep="X_scVI", out_key="X_cellcharter"
    )
    gmm = cc.tl.Cluster(
        n_clusters=args.n_clusters,
        random_state=args.seed,
        trainer_params={"accelerator": "cpu", "devices": 1, "enable_progress_bar": False},
    )
    gmm.fit(adata, use_rep="X_cellcharter")
    pred = gmm.predict(adata, use_rep="X_cellcharter")
    labels = pd.Series(pred, index=adata.obs_names).astype(str)
    labels = labels.reindex(obs_names).fillna("filtered").tolist()
    settings = {
        **SETTINGS,
        "n_genes_used": int(adata.n_vars),
        "n_spots_filtered": int(len(obs_names) - adata.n_obs),
        "scvi_epochs": int(model.history["elbo_train"].shape[0]),
        "seed": args.seed,
    }
    write_result(args.output, "cellcharter", version("cellcharter"), labels, t0, settings)


if __name__ == "__main__":
    main()
