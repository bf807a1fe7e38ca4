"""``sm.tl.sparse_svd`` / ``sm.tl.group_sparse_svd`` wrappers."""

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import stmin as sm
from stmin.sparse import group_sparse_svd, sparse_svd


@pytest.fixture
def adata():
    rng = np.random.default_rng(0)
    n, p = 60, 40
    u = np.zeros(n)
    u[:15] = 1
    v = np.zeros(p)
    v[:8] = rng.choice([-1, 1], 8)
    X = 6 * np.outer(u, v) + rng.normal(size=(n, p))
    a = ad.AnnData(
        X,
        obs=pd.DataFrame(index=[f"s{i}" for i in range(n)]),
        var=pd.DataFrame(index=[f"g{j}" for j in range(p)]),
    )
    A = sp.diags([np.ones(p - 1)], [1], shape=(p, p))
    a.varp["net"] = (A + A.T).tocsr()
    a.obsp["spatial_connectivities"] = sp.eye(n, k=1, format="csr") + sp.eye(n, k=-1)
    a.var["module"] = pd.Categorical([f"m{j // 4}" for j in range(p)])
    a.layers["sparse"] = sp.csr_matrix(X * (np.abs(X) > 0.5))
    return a


def test_sparse_svd_writes_keys_and_matches_core(adata):
    sm.tl.sparse_svd(
        adata,
        2,
        n_var_nonzero=8,
        n_obs_nonzero=15,
        var_graph_key="net",
        lam_var=0.5,
        obs_graph_key="spatial_connectivities",
        lam_obs=0.2,
    )
    assert adata.obsm["X_sparse_svd"].shape == (60, 2)
    assert adata.varm["sparse_svd_loadings"].shape == (40, 2)
    assert set(np.flatnonzero(adata.varm["sparse_svd_loadings"][:, 0])) == set(range(8))
    assert adata.var["sparse_svd_selected"].dtype == bool
    assert adata.obs["sparse_svd_selected"].sum() <= 30
    rec = adata.uns["sparse_svd"]
    assert rec["params"]["var_graph_key"] == "net"
    assert len(rec["objective"]) == rec["objective_lengths"].sum()
    core = sparse_svd(
        adata.X,
        2,
        15,
        8,
        var_graph=adata.varp["net"],
        lam_var=0.5,
        obs_graph=adata.obsp["spatial_connectivities"],
        lam_obs=0.2,
    )
    np.testing.assert_allclose(adata.obsm["X_sparse_svd"], core.U * core.d)
    np.testing.assert_allclose(rec["d"], core.d)


def test_sparse_layer_equals_dense_and_copy(adata):
    out = sm.tl.sparse_svd(adata, n_var_nonzero=8, layer="sparse", copy=True)
    assert "X_sparse_svd" not in adata.obsm
    dense = adata.copy()
    dense.layers["sparse"] = dense.layers["sparse"].toarray()
    sm.tl.sparse_svd(dense, n_var_nonzero=8, layer="sparse")
    np.testing.assert_allclose(
        out.varm["sparse_svd_loadings"], dense.varm["sparse_svd_loadings"], atol=1e-10
    )


def test_group_sparse_svd_group_formats_agree(adata):
    genes = adata.var_names
    as_dict = {f"m{i}": list(genes[4 * i : 4 * i + 4]) for i in range(10)}
    net = pd.DataFrame(
        [(k, g) for k, gs in as_dict.items() for g in gs], columns=["source", "target"]
    )
    results = []
    for groups in ("module", as_dict, net):
        b = adata.copy()
        sm.tl.group_sparse_svd(b, groups, 2, penalty="gl0")
        results.append(b)
        assert b.uns["group_sparse_svd"]["active_groups"]["0"] == ["m0", "m1"]
        assert b.varm["group_sparse_svd_groups"].shape == (40, 10)
        assert set(np.flatnonzero(b.var["group_sparse_svd_selected"])) == set(range(8))
    for b in results[1:]:
        np.testing.assert_allclose(
            b.varm["group_sparse_svd_loadings"], results[0].varm["group_sparse_svd_loadings"]
        )
    core = group_sparse_svd(adata.X, [np.arange(4 * i, 4 * i + 4) for i in range(10)], 2)
    np.testing.assert_allclose(results[0].varm["group_sparse_svd_loadings"], core.V)


def test_overlapping_sets_and_unknown_genes(adata):
    sets = {
        "a": ["g0", "g1", "g2", "g3", "g4", "g5"],
        "b": ["g4", "g5", "g6", "g7", "nope"],
        "c": ["g20", "g21", "g22"],
        "empty": ["x", "y"],
    }
    sm.tl.group_sparse_svd(adata, sets, 2, penalty="ogl0", key_added="og")
    assert adata.uns["og"]["group_names"] == ["a", "b", "c"]
    assert sorted(adata.uns["og"]["active_groups"]["0"]) == ["a", "b"]
    sm.tl.group_sparse_svd(adata, sets, 2, penalty="ogl1", key_added="og1")
    assert adata.var["og1_selected"][8:].sum() == 0


def test_wrapper_errors(adata):
    with pytest.raises(KeyError, match="varp\\['missing'\\]"):
        sm.tl.sparse_svd(adata, var_graph_key="missing", lam_var=1.0)
    with pytest.raises(KeyError, match="obsp"):
        sm.tl.sparse_svd(adata, obs_graph_key="missing", lam_obs=1.0)
    with pytest.raises(ValueError, match="between 1 and 40"):
        sm.tl.sparse_svd(adata, n_var_nonzero=41)
    with pytest.raises(KeyError, match="var\\['nope'\\]"):
        sm.tl.group_sparse_svd(adata, "nope", 1)
    with pytest.raises(ValueError, match="no group"):
        sm.tl.group_sparse_svd(adata, {"x": ["zz"]}, 1)
    with pytest.raises(ValueError, match="source"):
        sm.tl.group_sparse_svd(adata, pd.DataFrame({"a": [1]}), 1)
    with pytest.raises(ValueError, match="one of 'gl0'"):
        sm.tl.group_sparse_svd(adata, "module", 1, penalty="l1")


def test_records_survive_h5ad(adata, tmp_path):
    sm.tl.sparse_svd(adata, 2, n_var_nonzero=8)
    sm.tl.group_sparse_svd(adata, "module", 2, penalty="gl1", n_components=2)
    adata.write_h5ad(tmp_path / "a.h5ad")
    back = ad.read_h5ad(tmp_path / "a.h5ad")
    assert (
        list(back.uns["group_sparse_svd"]["active_groups"]["1"])
        == adata.uns["group_sparse_svd"]["active_groups"]["1"]
    )
    np.testing.assert_allclose(back.uns["sparse_svd"]["d"], adata.uns["sparse_svd"]["d"])
