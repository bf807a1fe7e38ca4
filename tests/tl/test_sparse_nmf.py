import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import stmin as sm
from stmin.sparse._nmf import sparse_nmf as sparse_nmf_core


def _adata(n_obs=60, n_vars=40, seed=0, sparse=False):
    g = np.random.default_rng(seed)
    mean = g.gamma(0.6, 1.0, (n_obs, 3)) @ g.gamma(0.6, 1.0, (3, n_vars)) * 2.0
    X = np.log1p(g.negative_binomial(3.0, 3.0 / (3.0 + mean))).astype(np.float64)
    adata = ad.AnnData(sp.csr_matrix(X) if sparse else X)
    adata.obs_names = [f"s{i}" for i in range(n_obs)]
    adata.var_names = [f"g{i}" for i in range(n_vars)]
    side = int(np.ceil(np.sqrt(n_obs)))
    adata.obsm["spatial"] = np.c_[np.arange(n_obs) % side, np.arange(n_obs) // side].astype(float)
    d = ((adata.obsm["spatial"][:, None] - adata.obsm["spatial"][None]) ** 2).sum(-1)
    adata.obsp["spatial_connectivities"] = sp.csr_matrix((d > 0) & (d <= 1.0), dtype=float)
    return adata


def test_writes_keys_and_matches_core():
    adata = _adata()
    sm.tl.sparse_nmf(adata, 3, n_top_genes=15, max_iter=100)
    H = adata.obsm["X_sparse_nmf"]
    W = adata.varm["sparse_nmf_W"]
    assert H.shape == (60, 3) and W.shape == (40, 3)
    sel = adata.var["sparse_nmf_selected"]
    assert sel.dtype == bool and sel.sum() == 15
    assert np.array_equal(sel.to_numpy(), np.any(W > 0, axis=1))
    cl = adata.obs["sparse_nmf_cluster"]
    assert isinstance(cl.dtype, pd.CategoricalDtype)
    assert np.array_equal(cl.cat.codes.to_numpy(), H.argmax(1))
    rec = adata.uns["sparse_nmf"]
    assert rec["params"]["n_top_genes"] == 15 and rec["graph_key"] == ""
    core = sparse_nmf_core(adata.X.T, 3, 15, max_iter=100)
    np.testing.assert_array_equal(H, core.H.T)
    np.testing.assert_array_equal(rec["objective"], core.objective)
    assert np.all(np.diff(rec["objective"]) <= 1e-10 * rec["objective"][0])


def test_sparse_adata_same_as_dense_and_copy():
    dense = _adata(seed=1)
    sparse = _adata(seed=1, sparse=True)
    out = sm.tl.sparse_nmf(sparse, 3, n_top_genes=20, max_iter=60, copy=True)
    assert "X_sparse_nmf" not in sparse.obsm
    sm.tl.sparse_nmf(dense, 3, n_top_genes=20, max_iter=60)
    np.testing.assert_allclose(
        out.obsm["X_sparse_nmf"], dense.obsm["X_sparse_nmf"], rtol=1e-7, atol=1e-10
    )
    np.testing.assert_allclose(
        out.varm["sparse_nmf_W"], dense.varm["sparse_nmf_W"], rtol=1e-7, atol=1e-10
    )


def test_graph_and_orthogonal_variants(tmp_path):
    adata = _adata(seed=2)
    sm.tl.graph_sparse_nmf(adata, 3, lam_graph=0.0, n_top_genes=20, max_iter=60, tol=0.0)
    sm.tl.sparse_nmf(adata, 3, n_top_genes=20, max_iter=60, tol=0.0, key_added="plain")
    assert np.array_equal(adata.obsm["X_graph_sparse_nmf"], adata.obsm["X_plain"])
    rec = adata.uns["graph_sparse_nmf"]
    assert rec["graph_key"] == "spatial_connectivities"
    sm.tl.sparse_nmf(
        adata,
        3,
        graph_key="spatial_connectivities",
        lam_graph=2.0,
        solver="abpl+",
        key_added="gnmf",
    )
    assert adata.uns["gnmf"]["params"]["lam_graph"] == 2.0
    sm.tl.sparse_nmf(adata, 3, orthogonal=True, key_added="onmf", max_iter=100, rho_max_iter=20)
    rec = adata.uns["onmf"]
    assert len(rec["rho_path"]) == len(rec["orth_error"]) >= 1
    assert rec["orth_error"][-1] <= rec["orth_error"][0]
    adata.write_h5ad(tmp_path / "nmf.h5ad")


def test_errors():
    adata = _adata(seed=3)
    bad = adata.copy()
    bad.X = bad.X - 1.0
    with pytest.raises(ValueError, match="log1p"):
        sm.tl.sparse_nmf(bad, 2)
    with pytest.raises(ValueError, match="n_top_genes"):
        sm.tl.sparse_nmf(adata, 2, n_top_genes=41)
    with pytest.raises(KeyError, match="connectivities"):
        sm.tl.sparse_nmf(adata, 2, graph_key="connectivities")
    with pytest.raises(KeyError, match="counts"):
        sm.tl.sparse_nmf(adata, 2, layer="counts")
