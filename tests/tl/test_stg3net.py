import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import stmin as sm

QUICK = {
    "max_epochs": 4,
    "accelerator": "cpu",
    "model_kwargs": {"start_step": 2, "t_step": 2},
    "train_kwargs": {"enable_progress_bar": False},
}


def test_writes_keys_and_leaves_input(slices, tmp_path):
    before = slices.X.copy()
    sm.tl.stg3net(slices, "slice", 5, **QUICK)
    assert slices.obsm["X_stg3net"].shape == (slices.n_obs, 16)
    assert isinstance(slices.obs["stg3net"].dtype, pd.CategoricalDtype)
    rec = slices.uns["stg3net"]
    assert rec["params"]["batch_key"] == "slice" and rec["params"]["n_clusters"] == 5
    assert list(rec["anchors"]["epoch"]) == [2]
    assert rec["anchors"]["pairs"][0] > 0
    assert len(rec["history"]["train_loss"]) == 4
    assert (slices.X != before).nnz == 0
    assert "X_stg3net_input" not in slices.obsm  # trained on a private copy
    slices.write_h5ad(tmp_path / "out.h5ad")  # the record is storable


def test_copy_and_use_rep(slices):
    sm.pp.stmgac_preprocess(slices, n_comps=20)
    out = sm.tl.stg3net(slices, "slice", 4, use_rep="X_stmgac_input", copy=True, **QUICK)
    assert "stg3net" not in slices.obs and "stg3net" in out.obs
    assert out.uns["stg3net"]["params"]["use_rep"] == "X_stmgac_input"


def test_errors(slices):
    with pytest.raises(KeyError, match="donor"):
        sm.tl.stg3net(slices, "donor", 5, **QUICK)
    one = slices.copy()
    one.obs["slice"] = "a"
    with pytest.raises(ValueError, match="at least 2"):
        sm.tl.stg3net(one, "slice", 5, **QUICK)
    with pytest.raises(ValueError, match="view"):
        sm.tl.stg3net(slices[:100], "slice", 5, **QUICK)
    nan = slices.copy()
    nan.X = nan.X.toarray()
    nan.X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sm.tl.stg3net(nan, "slice", 5, **QUICK)
    bare = slices.copy()
    del bare.obsp["spatial_connectivities"]
    with pytest.raises(KeyError, match="spatial_graph"):
        sm.tl.stg3net(bare, "slice", 5, **QUICK)
    with pytest.raises(ValueError, match="n_clusters"):
        sm.tl.stg3net(slices, "slice", 1, **QUICK)


def test_slices_without_shared_genes(slices):
    x = slices.X.toarray()
    left = (slices.obs["slice"] == "left").to_numpy()
    half = x.shape[1] // 2
    x[np.ix_(left, np.arange(half))] = 0  # left measured only the second half of the genes
    x[np.ix_(~left, np.arange(half, x.shape[1]))] = 0  # right only the first half
    slices.X = sp.csr_matrix(x)
    with pytest.raises(ValueError, match="share no genes"):
        sm.tl.stg3net(slices, "slice", 5, **QUICK)


def test_slice_with_too_few_spots(two_slices):
    small = two_slices[
        (two_slices.obs["slice"] == "left").to_numpy() | (np.arange(two_slices.n_obs) < 5)
    ].copy()
    with pytest.raises(ValueError, match="too few for `n_neighs`"):
        sm.pp.spatial_graph(small, n_neighs=12, library_key="slice")


def test_real_consecutive_sections(shared_data):
    adata = sm.datasets.stahl2016_breast_cancer(path=shared_data)
    sm.pp.spatial_graph(adata, n_neighs=6, library_key="slice")
    sm.tl.stg3net(adata, "slice", 5, **{**QUICK, "max_epochs": 60})
    # joint domains: the main domains appear in every section
    table = pd.crosstab(adata.obs["stg3net"], adata.obs["slice"])
    assert (table > 0).sum(axis=1).max() == 4
    assert sm.metrics.ilisi(adata.obsm["X_stg3net"], adata.obs["slice"]) > 1.5
