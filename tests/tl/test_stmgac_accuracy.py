"""STMGAC really learns the layers of real tissue (not only that it runs)."""

import pytest
import scanpy as sc

import stmin as sm

QUIET = {"accelerator": "cpu", "train_kwargs": {"enable_progress_bar": False}}


def _pca_kmeans_ari(adata, k):
    tmp = adata.copy()
    sc.pp.normalize_total(tmp)
    sc.pp.log1p(tmp)
    sc.pp.pca(tmp, n_comps=30, random_state=0)
    labels = sm.tl.cluster_embedding(tmp.obsm["X_pca"], k, method="kmeans")
    return sm.metrics.ari(adata.obs["layer_guess"], labels)


def test_short_training_beats_expression_only_baseline(small_section):
    """100 epochs on a real 848-spot corner of DLPFC 151673 (6 layers present)."""
    k = small_section.obs["layer_guess"].nunique()
    baseline = _pca_kmeans_ari(small_section, k)
    sm.pp.spatial_graph(small_section, n_neighs=12)
    sm.tl.stmgac(small_section, n_clusters=k, max_epochs=100, random_state=0, **QUIET)
    ari = sm.metrics.ari(small_section.obs["layer_guess"], small_section.obs["stmgac"])
    assert ari > baseline + 0.1, (ari, baseline)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paper_setting_on_bundled_section(bundled, seed):
    """The paper's DLPFC setting (500 epochs, 12 neighbours, refinement) on 151673."""
    adata = bundled[bundled.obs["layer_guess"].notna()].copy()
    sm.pp.spatial_graph(adata, n_neighs=12)
    sm.tl.stmgac(adata, n_clusters=7, random_state=seed, **QUIET)
    assert sm.metrics.ari(adata.obs["layer_guess"], adata.obs["stmgac"]) > 0.45


@pytest.mark.slow
def test_paper_setting_on_public_files(shared_data):
    """Same on the 5,000-gene public file of 151674 read through the loader."""
    adata = sm.datasets.dlpfc("151674", path=shared_data)
    adata = adata[adata.obs["layer_guess"].notna()].copy()
    sm.pp.spatial_graph(adata, n_neighs=12)
    sm.tl.stmgac(adata, n_clusters=7, random_state=0, **QUIET)
    assert sm.metrics.ari(adata.obs["layer_guess"], adata.obs["stmgac"]) > 0.45
