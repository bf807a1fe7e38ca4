import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from stmin.sparse._mslr import multilinear_decision, multilinear_logreg


def _planted(m=300, d1=8, d2=6, seed=0, noise=0.5):
    """Rank-1 bilinear logistic model with supports {0,1,2} × {1,3}."""
    g = np.random.default_rng(seed)
    w1 = np.zeros(d1)
    w1[[0, 1, 2]] = [1.5, -1.0, 1.2]
    w2 = np.zeros(d2)
    w2[[1, 3]] = [1.0, -1.3]
    T = g.standard_normal((m, d1, d2))
    s = np.einsum("mij,i,j->m", T, w1, w2) + 0.3
    y = np.where(s + noise * g.standard_normal(m) > 0, "case", "ctrl")
    return T, y, w1, w2


def test_vector_case_matches_sklearn_l2_logistic():
    g = np.random.default_rng(1)
    m, d = 200, 5
    X = g.standard_normal((m, d))
    w_true = np.array([1.0, -0.5, 0.0, 0.8, 0.3])
    y = (X @ w_true + 0.2 + g.standard_normal(m) > 0).astype(int)
    lam = 1e-3
    ref = LogisticRegression(C=1.0 / (lam * m), tol=1e-12, max_iter=10000).fit(X, y)
    for solver in ("apalm+", "abpl+"):
        res = multilinear_logreg(X, y, None, lam=lam, solver=solver, tol=1e-13, max_iter=20000)
        np.testing.assert_allclose(res.w[0], ref.coef_[0], atol=1e-4)
        assert res.intercept == pytest.approx(ref.intercept_[0], abs=1e-4)
        np.testing.assert_allclose(res.proba, ref.predict_proba(X)[:, 1], atol=1e-5)
        assert list(res.classes) == [0, 1]


def test_planted_bilinear_support_recovered():
    T, y, w1, w2 = _planted()
    res = multilinear_logreg(T, y, (3, 2), lam=0.002, max_iter=3000)
    assert set(np.flatnonzero(res.w[0])) == {0, 1, 2}
    assert set(np.flatnonzero(res.w[1])) == {1, 3}
    W = np.outer(res.w[0], res.w[1])
    cos = np.sum(W * np.outer(w1, w2)) / (np.linalg.norm(W) * np.linalg.norm(np.outer(w1, w2)))
    # np.unique order: "ctrl" is the positive class, so the planted weights appear negated
    assert list(res.classes) == ["case", "ctrl"]
    assert cos < -0.95
    acc = np.mean((res.proba > 0.5) == (y == "ctrl"))
    assert acc > 0.85
    np.testing.assert_allclose(
        res.proba, 1 / (1 + np.exp(-multilinear_decision(T, res.w, res.intercept)))
    )


@pytest.mark.parametrize("solver", ["apalm+", "abpl+", "palm"])
@pytest.mark.parametrize("seed", range(3))
def test_objective_monotone_and_sparse(solver, seed):
    T, y, _, _ = _planted(m=120, seed=seed, noise=1.0)
    res = multilinear_logreg(T, y, 0.35, solver=solver, tol=0.0, max_iter=150, random_state=seed)
    assert np.all(np.diff(res.objective) <= 1e-12)
    assert res.n_nonzero == (3, 3)
    assert [np.count_nonzero(v) <= k for v, k in zip(res.w, res.n_nonzero, strict=True)] == [
        True,
        True,
    ]


def test_three_modes_and_zero_momentum():
    g = np.random.default_rng(4)
    T = g.standard_normal((80, 4, 3, 5))
    y = (T[:, 0, 0, 0] - T[:, 1, 2, 3] > 0).astype(int)
    res = multilinear_logreg(T, y, (2, 2, 2), max_iter=500)
    assert [len(v) for v in res.w] == [4, 3, 5]
    a = multilinear_logreg(T, y, (2, 2, 2), solver="palm", max_iter=40, tol=0.0)
    b = multilinear_logreg(
        T, y, (2, 2, 2), solver="apalm+", momentum={"beta0": 0.0}, max_iter=40, tol=0.0
    )
    for u, v in zip(a.w, b.w, strict=True):
        assert np.array_equal(u, v)


def test_errors():
    T, y, _, _ = _planted(m=30)
    with pytest.raises(ValueError, match="two classes"):
        multilinear_logreg(T, np.zeros(30))
    with pytest.raises(ValueError, match="shape"):
        multilinear_logreg(np.ones(30), y)
    with pytest.raises(ValueError, match="labels"):
        multilinear_logreg(T, y[:-1])
    with pytest.raises(ValueError, match="n_nonzero"):
        multilinear_logreg(T, y, (9, 2))
    with pytest.raises(ValueError, match="one value per mode"):
        multilinear_logreg(T, y, (2, 2, 2))
    with pytest.raises(ValueError, match="solver"):
        multilinear_logreg(T, y, solver="sgd")
    with pytest.raises(ValueError, match="shape"):
        multilinear_decision(T, [np.ones(8)])
