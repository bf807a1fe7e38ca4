"""Network-regularised sparse logistic regression and the coordinate-descent engine."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from stmin.sparse import network_from_correlation, network_logreg
from stmin.sparse._cd import cd_sweep, penalty_value
from stmin.sparse._logreg import lambda_max


def _data(n=200, p=15, seed=0, signs=(2.0, -1.5, 1.0, -1.0, 0.5)):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[: len(signs)] = signs
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ w + 0.3)))).astype(int)
    return X, y


def _objective(X, y, coef, intercept, lam, eta=0.0, M=None, absolute=False):
    lin = X @ coef + intercept
    loss = np.mean(np.logaddexp(0.0, lin) - y * lin)
    return loss + penalty_value(coef, lam, M, eta, absolute)


def _sklearn(X, y, C, l1_ratio):
    est = LogisticRegression(C=C, l1_ratio=l1_ratio, solver="saga", tol=1e-12, max_iter=200_000)
    return est.fit(X, y)


def test_elastic_net_matches_sklearn():
    # sklearn minimises C·Σ loss + ρ‖w‖₁ + (1−ρ)/2‖w‖²; dividing by nC gives
    # mean loss + ρ/(nC)‖w‖₁ + (1−ρ)/(2nC)‖w‖², i.e. lam = ρ/(nC), eta = (1−ρ)/(2nC).
    X, y = _data()
    n = X.shape[0]
    C, rho = 0.5, 0.6
    ours = network_logreg(
        X, y, penalty="elastic_net", lam=rho / (n * C), eta=(1 - rho) / (2 * n * C),
        max_iter=2000, tol=1e-14,
    )  # fmt: skip
    ref = _sklearn(X, y, C, rho)
    assert np.abs(ref.coef_).max() > 0.1 and np.count_nonzero(ref.coef_) < X.shape[1]
    np.testing.assert_allclose(ours.coef, ref.coef_.ravel(), atol=1e-4)
    assert ours.intercept == pytest.approx(ref.intercept_[0], abs=1e-4)
    np.testing.assert_array_equal(ours.coef != 0, ref.coef_.ravel() != 0)


def test_lasso_matches_sklearn_l1():
    X, y = _data(seed=1)
    n = X.shape[0]
    C = 0.3
    ours = network_logreg(X, y, penalty="lasso", lam=1 / (n * C), max_iter=2000, tol=1e-14)
    saga = _sklearn(X, y, C, 1.0)
    np.testing.assert_allclose(ours.coef, saga.coef_.ravel(), atol=1e-4)
    assert ours.intercept == pytest.approx(saga.intercept_[0], abs=1e-4)
    # liblinear penalises the intercept as a feature of value `intercept_scaling`; a large value
    # makes that penalty negligible.
    lib = LogisticRegression(
        C=C, l1_ratio=1.0, solver="liblinear", intercept_scaling=1e3, tol=1e-10, max_iter=10_000
    ).fit(X, y)
    np.testing.assert_allclose(ours.coef, lib.coef_.ravel(), atol=2e-3)


def test_bound_weights_reach_the_same_optimum_monotonically():
    X, y = _data(seed=2)
    kw = {"penalty": "elastic_net", "lam": 0.02, "eta": 0.01, "tol": 1e-14}
    exact = network_logreg(X, y, max_iter=500, **kw)
    bound = network_logreg(X, y, irls="bound", max_iter=5000, **kw)
    np.testing.assert_allclose(bound.coef, exact.coef, atol=1e-6)
    assert np.all(np.diff(bound.objective) <= 1e-13)


@pytest.mark.parametrize("penalty", ["abs_network", "network", "lasso", "elastic_net"])
@pytest.mark.parametrize("irls", ["bound", "exact"])
def test_objective_never_increases(penalty, irls):
    X, y = _data(n=150, p=20, seed=3)
    net = network_from_correlation(X, 4)
    res = network_logreg(X, y, net, penalty=penalty, lam=0.01, irls=irls, max_iter=200, tol=1e-12)
    obj = np.asarray(res.objective)
    assert obj.size == res.n_iter + 1
    assert np.all(np.diff(obj) <= 1e-12 * np.abs(obj[:-1]))
    assert obj[-1] < obj[0]


def test_recorded_objective_is_the_objective():
    X, y = _data(seed=4)
    net = network_from_correlation(X, 3)
    res = network_logreg(X, y, net, penalty="abs_network", lam=0.02, eta=0.05, laplacian=None)
    M = sp.csr_matrix(net)
    expected = _objective(X, y, res.coef, res.intercept, 0.02, 0.05, M, absolute=True)
    assert res.objective[-1] == pytest.approx(expected, rel=1e-12)


def test_abs_network_invariant_to_flipping_a_gene():
    X, y = _data(seed=5)
    net = network_from_correlation(X, 4)  # |corr| network: unchanged by a flip
    kw = {"lam": 0.015, "eta": 0.05, "irls": "bound", "max_iter": 3000, "tol": 1e-14}
    base = network_logreg(X, y, net, penalty="abs_network", **kw)
    Xf = X.copy()
    Xf[:, 1] *= -1
    flipped = network_logreg(Xf, y, net, penalty="abs_network", **kw)
    expected = base.coef.copy()
    expected[1] *= -1
    assert abs(base.coef[1]) > 0.1
    np.testing.assert_allclose(flipped.coef, expected, atol=1e-9)
    assert flipped.intercept == pytest.approx(base.intercept, abs=1e-9)
    assert flipped.objective[-1] == pytest.approx(base.objective[-1], rel=1e-12)
    # the signed network penalty is not invariant: the flip changes the fit
    s0 = network_logreg(X, y, net, penalty="network", **kw)
    s1 = network_logreg(Xf, y, net, penalty="network", **kw)
    s1.coef[1] *= -1
    assert np.abs(s1.coef - s0.coef).max() > 1e-3


def test_abs_network_equals_signed_when_signs_agree():
    # |w|ᵀL|w| = wᵀLw whenever linked genes share a sign; here the five linked genes all have
    # positive effects, so both models have the same solution
    X, y = _data(seed=6, signs=(1.5, 1.0, 1.0, 0.8, 0.5))
    net = sp.csr_matrix(np.ones((5, 5)) - np.eye(5))
    net = sp.block_diag([net, sp.csr_matrix((10, 10))]).tocsr()
    kw = {"lam": 0.01, "eta": 0.02, "max_iter": 500, "tol": 1e-14}
    a = network_logreg(X, y, net, penalty="abs_network", **kw)
    s = network_logreg(X, y, net, penalty="network", **kw)
    assert np.all(a.coef[:5] > 0) and np.all(s.coef[:5] > 0)  # linked genes share a sign
    np.testing.assert_allclose(a.coef, s.coef, atol=1e-8)


def test_network_lowers_the_threshold_of_neighbours():
    # a weak gene linked to a strong selected one enters under abs_network, not under lasso
    rng = np.random.default_rng(7)
    n = 400
    X = rng.standard_normal((n, 6))
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(2.0 * X[:, 0] - 0.25 * X[:, 1])))).astype(int)
    net = sp.csr_matrix(([1.0, 1.0], ([0, 1], [1, 0])), shape=(6, 6))
    lam = 0.12
    lasso = network_logreg(X, y, penalty="lasso", lam=lam, max_iter=500, tol=1e-12)
    absn = network_logreg(
        X, y, net, penalty="abs_network", lam=lam, eta=0.4, laplacian="combinatorial",
        max_iter=500, tol=1e-12,
    )  # fmt: skip
    assert lasso.coef[0] != 0 and lasso.coef[1] == 0
    assert absn.coef[1] < 0  # selected with its own (negative) sign


def test_screening_does_not_change_the_solution():
    X, y = _data(n=120, p=30, seed=8)
    net = network_from_correlation(X, 5)
    kw = {"penalty": "abs_network", "lam": 0.01, "max_iter": 3000, "tol": 1e-15, "irls": "bound"}
    a = network_logreg(X, y, net, screen=True, **kw)
    b = network_logreg(X, y, net, screen=False, **kw)
    np.testing.assert_allclose(a.coef, b.coef, atol=1e-7)


def test_lambda_max_selects_nothing():
    X, y = _data(seed=9)
    lmax = lambda_max(X, y)
    res = network_logreg(X, y, penalty="lasso", lam=lmax * 1.0001)
    assert np.count_nonzero(res.coef) == 0
    assert res.intercept == pytest.approx(np.log(y.mean() / (1 - y.mean())))
    res = network_logreg(X, y, penalty="lasso", lam=lmax * 0.9)
    assert np.count_nonzero(res.coef) >= 1


def test_labels_any_two_values_and_sparse_input():
    X, y = _data(seed=10)
    ref = network_logreg(X, y, penalty="lasso", lam=0.02)
    labels = np.where(y == 1, "tumour", "normal")  # "tumour" > "normal": positive
    res = network_logreg(sp.csr_matrix(X), labels, penalty="lasso", lam=0.02)
    np.testing.assert_allclose(res.coef, ref.coef)
    assert res.classes == ("normal", "tumour")


def test_cd_sweep_modes_agree_and_converge_to_kkt():
    rng = np.random.default_rng(11)
    A = np.asfortranarray(rng.standard_normal((50, 8)))
    target = rng.standard_normal(50)
    M = sp.csr_matrix(np.diag(np.full(8, 2.0)) - 0.5 * (np.eye(8, k=1) + np.eye(8, k=-1)))
    lam, eta = 2.0, 0.7
    w1, w2 = np.zeros(8), np.zeros(8)
    e = target.copy()
    B = A.T @ A
    g = -(A.T @ target)  # B·0 − t
    for _ in range(300):
        cd_sweep(w1, lam, design=(A, e), M=M, eta=eta)
        cd_sweep(w2, lam, gram=(B, g), M=M, eta=eta)
    np.testing.assert_allclose(w1, w2, atol=1e-10)
    np.testing.assert_allclose(e, target - A @ w1, atol=1e-10)
    # KKT of ½‖t − Aw‖² + λ‖w‖₁ + η wᵀMw
    grad = -(A.T @ (target - A @ w1)) + 2 * eta * (M @ w1)
    nz = w1 != 0
    np.testing.assert_allclose(grad[nz], -lam * np.sign(w1[nz]), atol=1e-8)
    assert np.all(np.abs(grad[~nz]) <= lam + 1e-8)


def test_cd_coordinate_step_is_exact_for_absolute_penalty():
    # brute force along one coordinate: the step lands on the grid minimiser
    rng = np.random.default_rng(12)
    A = np.asfortranarray(rng.standard_normal((30, 4)))
    t = rng.standard_normal(30)
    M = sp.csr_matrix(np.array([[1, -1, 0, 0], [-1, 2, -1, 0], [0, -1, 2, -1], [0, 0, -1, 1.0]]))
    w = np.array([0.3, -0.8, 0.0, 0.5])
    lam, eta = 0.4, 1.5

    def f(v):
        return (
            0.5 * np.sum((t - A @ v) ** 2)
            + lam * np.abs(v).sum()
            + eta * penalty_value(v, 0.0, M, 1.0, True)
        )

    grid = np.linspace(-3, 3, 6001)
    for j in range(4):
        before = w.copy()
        e = t - A @ w
        cd_sweep(w, lam, design=(A[:, [j]].copy(order="F"), e), coords=[j], M=M, eta=eta,
                 absolute=True)  # fmt: skip
        vals = []
        for x in grid:
            before[j] = x
            vals.append(f(before))
        assert w[j] == pytest.approx(grid[int(np.argmin(vals))], abs=2e-3)
        assert f(w) <= min(vals) + 1e-12


def test_network_from_correlation():
    rng = np.random.default_rng(13)
    base = rng.standard_normal((100, 1))
    X = np.hstack(
        [base, -base + 0.01 * rng.standard_normal((100, 1)), rng.standard_normal((100, 6))]
    )
    net = network_from_correlation(X, 1)
    assert sp.issparse(net) and net.shape == (8, 8)
    assert abs(net - net.T).max() == 0 and net.diagonal().sum() == 0
    assert net[0, 1] > 0.99  # strongly anti-correlated pair is linked
    assert np.all(np.diff(net.indptr) >= 1)
    pos = network_from_correlation(X, 1, absolute=False)
    assert pos[0, 1] == 0
    np.testing.assert_allclose(
        network_from_correlation(sp.csr_matrix(X), 2).toarray(),
        network_from_correlation(X, 2).toarray(),
        atol=1e-10,
    )


def test_errors():
    X, y = _data(n=40, p=6)
    with pytest.raises(ValueError, match="exactly two classes"):
        network_logreg(X, np.zeros(40), penalty="lasso")
    with pytest.raises(ValueError, match="must be 6 × 6"):
        network_logreg(X, y, sp.identity(5), penalty="abs_network")
    with pytest.raises(ValueError, match="one label per sample"):
        network_logreg(X, y[:-1], penalty="lasso")
    with pytest.raises(ValueError, match="2-D"):
        network_logreg(X[:, 0], y, penalty="lasso")
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        network_logreg(Xn, y, penalty="lasso")
    yn = y.astype(float)
    yn[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        network_logreg(X, yn, penalty="lasso")
    with pytest.raises(ValueError, match="needs a gene network"):
        network_logreg(X, y, penalty="network")
    with pytest.raises(ValueError, match="penalty"):
        network_logreg(X, y, penalty="ridge")
    with pytest.raises(ValueError, match="eta"):
        network_logreg(X, y, penalty="lasso", eta=0.1)
    with pytest.raises(ValueError, match="lam"):
        network_logreg(X, y, penalty="lasso", lam=-1.0)
    with pytest.raises(ValueError, match="irls"):
        network_logreg(X, y, penalty="lasso", irls="newton")
    with pytest.raises(ValueError, match="n_neighbors"):
        network_from_correlation(X, 6)
