"""``sm.tl.network_logreg``: keys written, label handling, networks and errors."""

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import stmin as sm
from stmin.sparse import network_logreg as core_logreg


@pytest.fixture
def adata():
    rng = np.random.default_rng(0)
    n, p = 240, 30
    types = np.repeat(["alpha", "beta", "delta"], n // 3)
    X = rng.gamma(2.0, 0.5, size=(n, p))
    X[types == "alpha", :3] += 2.0  # markers of alpha: genes 0-2
    X[types == "beta", 3:5] += 2.0
    X[types == "alpha", 5] -= 0.8  # a gene lower in alpha
    X = np.log1p(np.clip(X, 0, None))
    a = ad.AnnData(
        X=sp.csr_matrix(X),
        obs=pd.DataFrame({"cell_type": pd.Categorical(types)}, index=[f"c{i}" for i in range(n)]),
        var=pd.DataFrame(index=[f"g{j}" for j in range(p)]),
    )
    return a


def test_one_vs_rest_writes_keys(adata):
    sm.tl.network_logreg(adata, "cell_type", positive="alpha", lam=0.05)
    coef = adata.var["network_logreg_coef"].to_numpy()
    sel = adata.var["network_logreg_selected"].to_numpy()
    assert sel.dtype == bool and np.array_equal(sel, coef != 0)
    assert set(np.flatnonzero(sel)) >= {0, 1, 2} and np.all(coef[:3] > 0)
    proba = adata.obs["network_logreg_proba"].to_numpy()
    assert proba.shape == (adata.n_obs,) and np.all((proba > 0) & (proba < 1))
    is_alpha = (adata.obs["cell_type"] == "alpha").to_numpy()
    assert proba[is_alpha].mean() > 0.8 > 0.2 > proba[~is_alpha].mean()
    rec = adata.uns["network_logreg"]
    assert rec["positive"] == "alpha" and rec["negative"] == "rest"
    assert rec["params"]["penalty"] == "abs_network" and rec["train_auc"] > 0.95
    assert rec["n_selected"] == sel.sum() and rec["n_obs_fit"] == adata.n_obs
    obj = np.asarray(rec["objective"])
    assert obj.size == rec["n_iter"] + 1 and obj[-1] < obj[0]
    # the automatic kNN correlation network was stored
    net = adata.varp["network_logreg_network"]
    assert net.shape == (30, 30) and rec["network_key"] == "network_logreg_network"
    assert rec["params"]["network_key"] is None  # the call's own argument


def test_matches_core_on_standardised_data(adata):
    out = sm.tl.network_logreg(
        adata, "cell_type", positive="beta", penalty="elastic_net", lam=0.02, eta=0.01,
        key_added="en", copy=True,
    )  # fmt: skip
    assert out is not adata and "en_coef" not in adata.var
    X = adata.X.toarray()
    Z = (X - X.mean(0)) / X.std(0)
    y = (adata.obs["cell_type"] == "beta").to_numpy().astype(int)
    ref = core_logreg(Z, y, penalty="elastic_net", lam=0.02, eta=0.01)
    np.testing.assert_allclose(out.var["en_coef"].to_numpy(), ref.coef)
    assert out.uns["en"]["intercept"] == pytest.approx(ref.intercept)


def test_groups_contrast_and_binary_column(adata):
    sm.tl.network_logreg(adata, "cell_type", groups=("beta", "delta"), penalty="lasso", lam=0.05)
    rec = adata.uns["network_logreg"]
    assert rec["positive"] == "beta" and rec["negative"] == "delta"
    assert rec["n_obs_fit"] == 160
    assert adata.var["network_logreg_coef"].iloc[3] > 0
    adata.obs["is_beta"] = pd.Categorical(
        np.where(adata.obs["cell_type"] == "beta", "yes", "no"), categories=["no", "yes"]
    )
    sm.tl.network_logreg(adata, "is_beta", penalty="lasso", lam=0.05, key_added="b")
    assert adata.uns["b"]["positive"] == "yes"


def test_network_from_varp_and_edge_table(adata):
    p = adata.n_vars
    adj = sp.csr_matrix(([1.0, 1.0], ([0, 1], [1, 0])), shape=(p, p))
    adata.varp["ppi"] = adj
    sm.tl.network_logreg(adata, "cell_type", positive="alpha", network_key="ppi", key_added="v")
    table = pd.DataFrame({"source": ["g0", "zzz"], "target": ["g1", "g2"]})
    sm.tl.network_logreg(adata, "cell_type", positive="alpha", network=table, key_added="t")
    np.testing.assert_allclose(adata.var["v_coef"], adata.var["t_coef"])
    assert "v_network" not in adata.varp


def test_errors(adata):
    with pytest.raises(KeyError, match="nope"):
        sm.tl.network_logreg(adata, "nope", positive="alpha")
    with pytest.raises(ValueError, match="distinct labels"):
        sm.tl.network_logreg(adata, "cell_type")
    with pytest.raises(ValueError, match="not a value"):
        sm.tl.network_logreg(adata, "cell_type", positive="gamma")
    adata.obs["one"] = "x"
    with pytest.raises(ValueError, match="one class"):
        sm.tl.network_logreg(adata, "one", positive="x")
    adata.varp["bad"] = sp.identity(adata.n_vars, format="csr")
    adata.varp["bad"][0, 0] = -1.0
    with pytest.raises(ValueError, match="negative edge weights"):
        sm.tl.network_logreg(adata, "cell_type", positive="alpha", network_key="bad")
    with pytest.raises(KeyError, match="missing_net"):
        sm.tl.network_logreg(adata, "cell_type", positive="alpha", network_key="missing_net")
    X = adata.X.toarray()
    X[0, 0] = np.nan
    adata.layers["nan"] = X
    with pytest.raises(ValueError, match="NaN"):
        sm.tl.network_logreg(adata, "cell_type", positive="alpha", layer="nan")
