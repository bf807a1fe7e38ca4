"""Run one peer deconvolution tool on a reference and spots (.h5ad); write proportions as JSON.

Executed by the Python that has the tool: Tangram and cell2location from their own virtual
environments (``benchmarks/.envs/<tool>``, built by ``peers/setup_deconv_envs.sh``), DestVI,
Stereoscope and NNLS from the project's (scvi-tools 1.4.2). Only the standard library,
NumPy, pandas and anndata are imported at the top; each tool is imported in its function.

    <python> benchmarks/run_deconv_peer.py --tool destvi --reference ref.h5ad \
        --spatial st.h5ad --labels-key cell_type --seed 0 --output out.json [--max-epochs N]

Settings (each tool's own tutorial or documented defaults; the JSON records them):

- ``nnls``: per-type mean of the reference's library-normalised profiles; each spot's
  library-normalised counts fitted by non-negative least squares; coefficients normalised to 1.
- ``tangram`` (tangram-sc): the tutorial's deconvolution path — training genes = top 100
  Wilcoxon markers per type (log-normalised reference), ``map_cells_to_space(mode="cells",
  density_prior="rna_count_based")`` with its default 1,000 epochs on CPU, then
  ``project_cell_annotations``; the projected type scores normalised per spot.
- ``destvi`` (scvi-tools): ``CondSCVI(weight_obs=False, prior="mog")`` trained 300 epochs (its
  default), ``DestVI.from_rna_model`` trained 2,000 epochs (its default), ``get_proportions``.
  Genes: the 2,000 most variable of the reference (Seurat v3) where there are more, as the
  DestVI tutorial.
- ``stereoscope`` (scvi-tools): ``RNAStereoscope`` and ``SpatialStereoscope.from_rna_model``,
  400 epochs each (their defaults); same genes as DestVI.
- ``cell2location``: the tutorial's two steps — genes filtered by ``filter_genes(
  cell_count_cutoff=5, cell_percentage_cutoff2=0.03, nonz_mean_cutoff=1.12)``;
  ``RegressionModel`` 250 epochs → per-type signatures; ``Cell2location(
  N_cells_per_location=10, detection_alpha=20)`` trained full-batch for ``--max-epochs``
  (documented default 30,000); proportions = the posterior-mean abundance normalised per spot.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import warnings
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd


def peak_rss_mb() -> float:
    """This process's peak resident memory (``VmHWM``) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _dense(x) -> np.ndarray:
    return x.toarray() if hasattr(x, "toarray") else np.asarray(x)


def _hvg(ref: ad.AnnData, n_top: int = 2000) -> list[str]:
    import scanpy as sc

    if ref.n_vars <= n_top:
        return list(ref.var_names)
    tmp = ref.copy()
    sc.pp.highly_variable_genes(tmp, n_top_genes=n_top, flavor="seurat_v3")
    return list(tmp.var_names[tmp.var["highly_variable"]])


def nnls(ref, st, labels, seed, args):
    from scipy.optimize import nnls as solve

    x = _dense(ref.X)
    x = x / np.clip(x.sum(1, keepdims=True), 1, None)
    types = sorted(ref.obs[labels].astype(str).unique())
    lab = ref.obs[labels].astype(str).to_numpy()
    profiles = np.stack([x[lab == t].mean(0) for t in types], 1)
    y = _dense(st.X)
    y = y / np.clip(y.sum(1, keepdims=True), 1, None)
    coef = np.array([solve(profiles, row)[0] for row in y])
    return pd.DataFrame(coef, index=st.obs_names, columns=types), "scipy", {}


def tangram(ref, st, labels, seed, args):
    import scanpy as sc
    import tangram as tg
    import torch

    torch.manual_seed(seed)
    np.random.seed(seed)
    tmp = ref.copy()
    sc.pp.normalize_total(tmp, target_sum=1e4)
    sc.pp.log1p(tmp)
    sc.tl.rank_genes_groups(tmp, labels, method="wilcoxon")
    markers = pd.DataFrame(tmp.uns["rank_genes_groups"]["names"]).iloc[:100]
    genes = sorted(set(markers.to_numpy().ravel()))
    tg.pp_adatas(ref, st, genes=genes)
    mapping = tg.map_cells_to_space(
        ref, st, mode="cells", density_prior="rna_count_based", device="cpu", random_state=seed,
        verbose=False,
    )  # fmt: skip
    tg.project_cell_annotations(mapping, st, annotation=labels)
    scores = st.obsm["tangram_ct_pred"].clip(lower=0)
    settings = {"mode": "cells", "density_prior": "rna_count_based", "num_epochs": 1000,
                "training_genes": len(st.uns["training_genes"])}  # fmt: skip
    return scores, tg.__version__, settings


def _scvi_inputs(ref, st, seed):
    import scvi

    scvi.settings.seed = seed
    genes = _hvg(ref)
    return ref[:, genes].copy(), st[:, genes].copy(), len(genes)


def destvi(ref, st, labels, seed, args):
    import scvi
    from scvi.model import CondSCVI, DestVI

    ref, st, n_genes = _scvi_inputs(ref, st, seed)
    CondSCVI.setup_anndata(ref, labels_key=labels)
    sc_model = CondSCVI(ref, weight_obs=False, prior="mog")
    sc_model.train(max_epochs=300, enable_progress_bar=False)
    DestVI.setup_anndata(st)
    st_model = DestVI.from_rna_model(st, sc_model)
    epochs = args.max_epochs or 2000
    st_model.train(max_epochs=epochs, enable_progress_bar=False)
    props = st_model.get_proportions()
    settings = {"condscvi_epochs": 300, "destvi_epochs": epochs, "prior": "mog", "genes": n_genes}
    return props, scvi.__version__, settings


def stereoscope(ref, st, labels, seed, args):
    import scvi
    from scvi.external import RNAStereoscope, SpatialStereoscope

    ref, st, n_genes = _scvi_inputs(ref, st, seed)
    RNAStereoscope.setup_anndata(ref, labels_key=labels)
    sc_model = RNAStereoscope(ref)
    sc_model.train(max_epochs=400, enable_progress_bar=False)
    SpatialStereoscope.setup_anndata(st)
    st_model = SpatialStereoscope.from_rna_model(st, sc_model)
    epochs = args.max_epochs or 400
    st_model.train(max_epochs=epochs, enable_progress_bar=False)
    props = st_model.get_proportions()
    settings = {"rna_epochs": 400, "spatial_epochs": epochs, "genes": n_genes}
    return props, scvi.__version__, settings


def cell2location(ref, st, labels, seed, args):
    import cell2location as c2l
    import scvi
    from cell2location.models import RegressionModel
    from cell2location.utils.filtering import filter_genes

    scvi.settings.seed = seed
    keep = filter_genes(
        ref, cell_count_cutoff=5, cell_percentage_cutoff2=0.03, nonz_mean_cutoff=1.12
    )
    ref = ref[:, keep].copy()
    RegressionModel.setup_anndata(ref, labels_key=labels)
    reg = RegressionModel(ref)
    reg.train(max_epochs=250, enable_progress_bar=False)
    ref = reg.export_posterior(ref, sample_kwargs={"num_samples": 1000, "batch_size": 2500})
    cols = [f"means_per_cluster_mu_fg_{t}" for t in ref.uns["mod"]["factor_names"]]
    signatures = ref.varm["means_per_cluster_mu_fg"][cols].copy()
    signatures.columns = ref.uns["mod"]["factor_names"]
    genes = st.var_names.intersection(signatures.index)
    st, signatures = st[:, genes].copy(), signatures.loc[genes]
    c2l.models.Cell2location.setup_anndata(st)
    model = c2l.models.Cell2location(
        st, cell_state_df=signatures, N_cells_per_location=10, detection_alpha=20
    )
    epochs = args.max_epochs or 30000
    t0 = time.perf_counter()
    model.train(max_epochs=epochs, batch_size=None, train_size=1, enable_progress_bar=False)
    spatial_s = time.perf_counter() - t0
    st = model.export_posterior(
        st, sample_kwargs={"num_samples": 1000, "batch_size": model.adata.n_obs}
    )
    abundance = st.obsm["means_cell_abundance_w_sf"].copy()
    abundance.columns = st.uns["mod"]["factor_names"]
    settings = {"regression_epochs": 250, "spatial_epochs": epochs, "N_cells_per_location": 10,
                "detection_alpha": 20, "genes": len(genes),
                "spatial_training_s": round(spatial_s, 1)}  # fmt: skip
    return abundance, c2l.__version__, settings


TOOLS = {f.__name__: f for f in (nnls, tangram, destvi, stereoscope, cell2location)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tool", required=True, choices=list(TOOLS))
    parser.add_argument("--reference", required=True)
    parser.add_argument("--spatial", required=True)
    parser.add_argument("--labels-key", default="cell_type")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", required=True)
    parser.add_argument("--max-epochs", type=int, default=None)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("scvi").setLevel(logging.WARNING)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    try:
        import torch

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    except ImportError:
        pass
    ref, st = ad.read_h5ad(args.reference), ad.read_h5ad(args.spatial)
    genes = ref.var_names.intersection(st.var_names, sort=False)
    ref, st = ref[:, genes].copy(), st[:, genes].copy()
    ref.obs[args.labels_key] = ref.obs[args.labels_key].astype(str).astype("category")

    t0 = time.perf_counter()
    props, version, settings = TOOLS[args.tool](ref, st, args.labels_key, args.seed, args)
    wall = time.perf_counter() - t0
    props = props.loc[:, sorted(props.columns.astype(str))].astype(float)
    values = props.to_numpy()
    totals = values.sum(1, keepdims=True)
    values = np.where(totals > 0, values / np.where(totals > 0, totals, 1), 1 / values.shape[1])
    result = {
        "tool": args.tool,
        "version": version,
        "cell_types": list(props.columns),
        "spots": [str(s) for s in props.index],
        "proportions": values.round(6).tolist(),
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "settings": settings,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result))
    print(f"{args.tool} {version}: {wall:.1f} s, peak {result['peak_rss_mb']} MiB", file=sys.stderr)


if __name__ == "__main__":
    main()
