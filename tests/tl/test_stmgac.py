import anndata as ad
import numpy as np
import pandas as pd
import pytest

import stmin as sm

FAST = {"train_kwargs": {"enable_progress_bar": False}, "accelerator": "cpu", "max_epochs": 2}


def test_keys_written(section, tmp_path):
    x_before = section.X.copy()
    sm.tl.stmgac(section, n_clusters=5, **FAST)
    assert section.obsm["X_stmgac"].shape == (section.n_obs, 16)
    assert isinstance(section.obs["stmgac"].dtype, pd.CategoricalDtype)
    rec = section.uns["stmgac"]
    assert rec["params"]["n_clusters"] == 5 and rec["params"]["refine"] == 30
    assert "stmin_version" in rec
    assert set(rec["history"]) >= {"train_loss", "sce_loss_train", "triplet_loss_train"}
    assert len(rec["history"]["train_loss"]) == 2
    # nothing else is added, the counts are untouched, and the result is writable
    assert set(section.obsm) == {"spatial", "X_stmgac"}
    assert "_indices" not in section.obs
    assert (section.X != x_before).nnz == 0
    section.write_h5ad(tmp_path / "out.h5ad")
    back = ad.read_h5ad(tmp_path / "out.h5ad")
    np.testing.assert_array_equal(back.obsm["X_stmgac"], section.obsm["X_stmgac"])


def test_copy_and_key_added(section):
    out = sm.tl.stmgac(section, n_clusters=4, key_added="dom", copy=True, refine=None, **FAST)
    assert "dom" not in section.obs and "dom" in out.obs and "X_dom" in out.obsm
    assert len(out.obs["dom"].cat.categories) == 4


def test_use_rep_and_seed_reproducibility(section):
    import scanpy as sc

    tmp = section.copy()
    sc.pp.normalize_total(tmp)
    sc.pp.log1p(tmp)
    sc.pp.pca(tmp, n_comps=20)
    section.obsm["X_pca"] = tmp.obsm["X_pca"]
    a = sm.tl.stmgac(section, n_clusters=5, use_rep="X_pca", copy=True, random_state=1, **FAST)
    b = sm.tl.stmgac(section, n_clusters=5, use_rep="X_pca", copy=True, random_state=1, **FAST)
    np.testing.assert_array_equal(a.obsm["X_stmgac"], b.obsm["X_stmgac"])
    assert (a.obs["stmgac"] == b.obs["stmgac"]).all()


def test_overwrite_is_logged(section, stmin_logs):
    sm.tl.stmgac(section, n_clusters=5, **FAST)
    assert "overwriting" not in stmin_logs.text
    stmin_logs.clear()
    sm.tl.stmgac(section, n_clusters=5, **FAST)
    assert "overwriting" in stmin_logs.text


def test_errors(section):
    with pytest.raises(ValueError, match="n_clusters"):
        sm.tl.stmgac(section, n_clusters=1, **FAST)
    with pytest.raises(ValueError, match="n_clusters"):
        sm.tl.stmgac(section, n_clusters=section.n_obs + 1, **FAST)
    with pytest.raises(ValueError, match="n_clusters"):
        sm.tl.stmgac(section, n_clusters=None, **FAST)
    no_graph = section.copy()
    del no_graph.obsp["spatial_connectivities"]
    with pytest.raises(KeyError, match=r"sm\.pp\.spatial_graph"):
        sm.tl.stmgac(no_graph, n_clusters=5, **FAST)
    no_xy = section.copy()
    del no_xy.obsm["spatial"]
    with pytest.raises(KeyError, match=r"obsm\['spatial'\]"):
        sm.tl.stmgac(no_xy, n_clusters=5, **FAST)
    with pytest.raises(KeyError, match=r"obsm\['X_pca'\]"):
        sm.tl.stmgac(section, n_clusters=5, use_rep="X_pca", **FAST)
    with pytest.raises(KeyError, match=r"layers\['counts'\]"):
        sm.tl.stmgac(section, n_clusters=5, layer="counts", **FAST)
    nan = section.copy()
    nan.X.data[3] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        sm.tl.stmgac(nan, n_clusters=5, **FAST)
    neg = section.copy()
    neg.X.data[3] = -2
    with pytest.raises(ValueError, match="negative"):
        sm.tl.stmgac(neg, n_clusters=5, **FAST)
    with pytest.raises(ValueError, match="view"):
        sm.tl.stmgac(section[:200], n_clusters=5, **FAST)
    dup = section.copy()
    dup.obs_names = ["spot"] * dup.n_obs
    with pytest.raises(ValueError, match="obs_names_make_unique"):
        sm.tl.stmgac(dup, n_clusters=5, **FAST)
    section.obsm["X_small"] = np.zeros((section.n_obs, 3), dtype=np.float32)
    section.obsm["X_small"][:, 0] = np.nan
    with pytest.raises(ValueError, match=r"obsm\['X_small'\].*NaN"):
        sm.tl.stmgac(section, n_clusters=5, use_rep="X_small", **FAST)


def test_too_few_spots_for_the_graph():
    adata = ad.AnnData(np.ones((8, 3), dtype=np.float32))
    adata.obsm["spatial"] = np.random.default_rng(0).uniform(size=(8, 2))
    with pytest.raises(ValueError, match="n_neighs"):
        sm.pp.spatial_graph(adata, n_neighs=12)
