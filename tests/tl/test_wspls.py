"""``sm.tl.wspls`` / ``sm.tl.swcca`` wrappers."""

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import stmin as sm
from stmin.sparse import wspls


@pytest.fixture
def adata():
    rng = np.random.default_rng(0)
    n, p, q = 50, 30, 12
    z = np.zeros(n)
    z[:20] = rng.choice([-1, 1], 20) * (1 + rng.random(20)) * 2
    u = np.zeros(p)
    u[:6] = 1
    v = np.zeros(q)
    v[:4] = -1
    X = np.outer(z, u) + 0.5 * rng.normal(size=(n, p))
    Y = np.outer(z, v) + 0.5 * rng.normal(size=(n, q))
    a = ad.AnnData(
        sp.csr_matrix(X),
        obs=pd.DataFrame(index=[f"s{i}" for i in range(n)]),
        var=pd.DataFrame(index=[f"g{j}" for j in range(p)]),
    )
    a.obsm["X_image"] = Y
    return a


def test_wspls_writes_keys(adata):
    sm.tl.wspls(adata, "X_image", 6, 4, 20)
    assert set(np.flatnonzero(adata.varm["wspls_u"][:, 0])) == set(range(6))
    assert set(np.flatnonzero(adata.var["wspls_selected"])) == set(range(6))
    assert set(np.flatnonzero(adata.obs["wspls_selected"])) == set(range(20))
    w = adata.obs["wspls_weight"].to_numpy()
    assert np.all((w >= 0) & (w <= 1))
    assert adata.obsm["X_wspls"].shape == (50, 2)
    rec = adata.uns["wspls"]
    assert rec["v"].shape == (12, 1)
    assert set(np.flatnonzero(rec["v"][:, 0])) == set(range(4))
    assert rec["view2_features"] == [str(i) for i in range(12)]
    assert np.all(np.diff(rec["objective"]) >= -1e-9 * np.abs(rec["objective"]).max())
    core = wspls(adata.X, adata.obsm["X_image"], 6, 4, 20)
    np.testing.assert_allclose(adata.varm["wspls_u"], core.u)


def test_view2_forms_agree(adata):
    Y = adata.obsm["X_image"]
    other = ad.AnnData(
        Y,
        obs=pd.DataFrame(index=adata.obs_names),
        var=pd.DataFrame(index=[f"f{i}" for i in range(12)]),
    )
    df = pd.DataFrame(Y, index=adata.obs_names, columns=other.var_names)
    outs = [
        sm.tl.wspls(adata, view, 6, 4, 20, copy=True)
        for view in ("X_image", Y, other[::-1], df.iloc[::-1])
    ]
    for o in outs[1:]:
        np.testing.assert_allclose(o.varm["wspls_u"], outs[0].varm["wspls_u"])
        np.testing.assert_allclose(o.obs["wspls_weight"], outs[0].obs["wspls_weight"])
    assert outs[2].uns["wspls"]["view2_features"][0] == "f0"


def test_swcca_alias(adata):
    sm.tl.swcca(adata, "X_image", 6, 4, 20)
    rec = adata.uns["swcca"]
    assert rec["params"]["sample_constraint"] == "l2"
    w = adata.obs["swcca_weight"].to_numpy()
    assert np.linalg.norm(w) == pytest.approx(1)
    assert adata.obs["swcca_selected"].sum() == 20


def test_wrapper_errors(adata):
    with pytest.raises(KeyError, match="obsm\\['nope'\\]"):
        sm.tl.wspls(adata, "nope")
    with pytest.raises(ValueError, match="one row per observation"):
        sm.tl.wspls(adata, np.ones((10, 3)))
    other = ad.AnnData(np.ones((3, 2)))
    with pytest.raises(ValueError, match="same `obs_names`"):
        sm.tl.wspls(adata, other)
    with pytest.raises(ValueError, match="n_obs_nonzero"):
        sm.tl.wspls(adata, "X_image", n_obs_nonzero=51)


def test_record_survives_h5ad(adata, tmp_path):
    sm.tl.wspls(adata, "X_image", 6, 4, 20, n_components=2)
    adata.write_h5ad(tmp_path / "a.h5ad")
    back = ad.read_h5ad(tmp_path / "a.h5ad")
    np.testing.assert_allclose(back.uns["wspls"]["v"], adata.uns["wspls"]["v"])
    assert back.obsm["X_wspls"].shape == (50, 4)
