"""wsPLS / mwsPLS / SWCCA."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cross_decomposition import PLSSVD

from stmin.sparse import swcca, wspls
from stmin.sparse._projections import topk_sphere

RNG = np.random.default_rng(5)


def _two_views(n=60, p=20, q=15, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    X = np.outer(z, rng.normal(size=p)) + rng.normal(size=(n, p))
    Y = np.outer(z, rng.normal(size=q)) + rng.normal(size=(n, q))
    return X, Y


def _planted(n=50, p=80, q=100, seed=0, noise=0.5):
    """The authors' design: u ±1 on 20 genes, v ±1 on 30 features, 25 co-varying samples."""
    rng = np.random.default_rng(seed)
    u = np.zeros(p)
    u[:10], u[10:20] = 1, -1
    v = np.zeros(q)
    v[:15], v[15:30] = -1, 1
    w = np.zeros(n)
    w[:25] = 1
    z = rng.choice([-1, 1], n) * (1 + rng.random(n)) * 2
    X = np.outer(w * z, u) / np.sqrt(20) * 3 + noise * rng.normal(size=(n, p))
    Y = np.outer(w * z, v) / np.sqrt(30) * 3 + noise * rng.normal(size=(n, q))
    return X, Y, u, v, w


@pytest.mark.parametrize("sparse", [False, True])
def test_fixed_weights_full_k_is_plssvd(sparse):
    X, Y = _two_views()
    pls = PLSSVD(n_components=2, scale=False).fit(X, Y)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    Us, s, Vts = np.linalg.svd(Xc.T @ Yc)
    Xi = sp.csr_matrix(X) if sparse else X
    res = wspls(Xi, Y, update_weights=False, n_components=2, tol=1e-12, max_iter=2000)
    for c in range(2):
        assert abs(res.u[:, c] @ pls.x_weights_[:, c]) == pytest.approx(1, abs=1e-8)
        assert abs(res.v[:, c] @ pls.y_weights_[:, c]) == pytest.approx(1, abs=1e-8)
        assert abs(res.u[:, c] @ Us[:, c]) == pytest.approx(1, abs=1e-8)
        assert abs(res.v[:, c] @ Vts[c]) == pytest.approx(1, abs=1e-8)
        assert res.objective[c] == pytest.approx(s[c], rel=1e-8)
    assert np.all(res.W == 1)


def test_l2_constraint_reproduces_swcca():
    X, Y, *_ = _planted()
    kw = dict(n_restarts=1, center=False)
    a = swcca(X, Y, 20, 30, 25, **kw)
    b = wspls(
        X,
        Y,
        20,
        30,
        25,
        sample_constraint="l2",
        lipschitz=0.0,
        max_iter=1000,
        min_iter=1,
        tol=1e-4,
        **kw,
    )
    np.testing.assert_allclose(a.u, b.u)
    np.testing.assert_allclose(a.W, b.W)
    # reference: the SWCCA updates of the paper from the same (top singular pair) start
    w = np.full(50, 1 / np.sqrt(50))
    U, _, Vt = np.linalg.svd(X.T @ Y)
    u, v = U[:, 0], Vt[0]
    for _ in range(1000):
        u0, v0, w0 = u, v, w
        u = topk_sphere(X.T @ (w * (Y @ v)), 20)
        v = topk_sphere(Y.T @ (w * (X @ u)), 30)
        w = topk_sphere((X @ u) * (Y @ v), 25)
        if max(np.linalg.norm(u - u0), np.linalg.norm(v - v0), np.linalg.norm(w - w0)) <= 1e-4:
            break
    sign = np.sign(u[np.argmax(np.abs(u))])
    np.testing.assert_allclose(a.u[:, 0], sign * u, atol=1e-12)
    np.testing.assert_allclose(a.v[:, 0], sign * v, atol=1e-12)
    np.testing.assert_allclose(a.W[:, 0], w, atol=1e-12)
    # default PALM step (L_c = 0.1) reaches the same SWCCA solution here
    c = wspls(X, Y, 20, 30, 25, sample_constraint="l2", **kw)
    np.testing.assert_array_equal(c.W != 0, a.W != 0)


@pytest.mark.parametrize("constraint", ["linf", "binary", "l2"])
@pytest.mark.parametrize("lipschitz", [0.0, 0.1, 10.0])
def test_objective_is_monotone(constraint, lipschitz):
    X, Y, *_ = _planted(noise=2.0)
    res = wspls(X, Y, 10, 10, 20, sample_constraint=constraint, lipschitz=lipschitz, n_components=2)
    for h in res.history:
        assert np.all(np.diff(h) >= -1e-9 * np.abs(h).max())


@pytest.mark.parametrize("scheme", ["sum", "product"])
def test_multiview_monotone_and_two_view_schemes_agree(scheme):
    X, Y, *_ = _planted()
    Z = Y[:, :40] + RNG.normal(size=(50, 40))
    res = wspls(X, [Y, Z], 20, [30, 10], 25, scheme=scheme, lipschitz=10.0)
    assert len(res.loadings) == 3
    assert [int((L != 0).sum()) for L in res.loadings] == [20, 30, 10]
    assert np.all(np.diff(res.history[0]) >= -1e-9 * abs(res.history[0]).max())
    a = wspls(X, Y, 20, 30, 25, scheme="sum")
    b = wspls(X, [Y], 20, [30], 25, scheme="product")
    np.testing.assert_allclose(a.u, b.u)


def test_planted_recovery_of_genes_features_and_samples():
    X, Y, u, v, w = _planted()
    res = wspls(X, Y, 20, 30, 25)
    assert set(np.flatnonzero(res.u[:, 0])) == set(np.flatnonzero(u))
    assert set(np.flatnonzero(res.v[:, 0])) == set(np.flatnonzero(v))
    assert set(np.flatnonzero(res.W[:, 0])) == set(np.flatnonzero(w))
    assert np.all((res.W >= 0) & (res.W <= 1))
    assert np.sign(res.u[0, 0]) == -np.sign(res.v[0, 0])  # u ∝ +1, v ∝ −1 on the first block


def test_full_sample_budget_with_positive_products_keeps_every_sample():
    rng = np.random.default_rng(0)
    z = rng.normal(size=30)
    X = np.outer(z, rng.normal(size=6))
    Y = np.outer(z, rng.normal(size=4))
    res = wspls(X, Y, center=False, lipschitz=0.0)
    np.testing.assert_allclose(res.W[:, 0], 1.0)


def test_sparse_equals_dense():
    X, Y, *_ = _planted()
    X[np.abs(X) < 0.5] = 0
    a = wspls(X, Y, 20, 30, 25, n_components=2)
    b = wspls(sp.csr_matrix(X), sp.csr_matrix(Y), 20, 30, 25, n_components=2)
    np.testing.assert_allclose(a.u, b.u, atol=1e-10)
    np.testing.assert_allclose(a.W, b.W, atol=1e-10)


def test_errors():
    X, Y = _two_views()
    with pytest.raises(ValueError, match="share the observations"):
        wspls(X, Y[:-1])
    with pytest.raises(ValueError, match="k_view2"):
        wspls(X, Y, k_view2=16)
    with pytest.raises(ValueError, match="k_obs"):
        wspls(X, Y, k_obs=61)
    with pytest.raises(ValueError, match="sample_constraint"):
        wspls(X, Y, sample_constraint="l1")
    with pytest.raises(ValueError, match="scheme"):
        wspls(X, Y, scheme="max")
    with pytest.raises(ValueError, match="lipschitz"):
        wspls(X, Y, lipschitz=-1)
    with pytest.raises(ValueError, match="one per further view"):
        wspls(X, [Y, Y], k_view2=[3])
