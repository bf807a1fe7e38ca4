import numpy as np
import pytest
from scipy.optimize import nnls

from stmin.sparse._palm import palm


def _nnls_blocks(seed=0, m=40, sizes=(4, 3)):
    """Two-block non-negative least squares: min ½||A1 x1 + A2 x2 − b||², x ≥ 0."""
    g = np.random.default_rng(seed)
    As = [g.standard_normal((m, s)) for s in sizes]
    b = g.standard_normal(m) + 1.0
    A = np.hstack(As)

    def residual(x):
        return sum(Ai @ xi for Ai, xi in zip(As, x, strict=True)) - b

    kw = dict(
        grad=lambda x, i: As[i].T @ residual(x),
        lipschitz=lambda x, i: np.linalg.norm(As[i], 2) ** 2,
        prox=lambda z, i, step: np.maximum(z, 0.0),
        objective=lambda x: 0.5 * float(residual(x) @ residual(x)),
    )
    x0 = [np.ones(s) for s in sizes]
    return A, b, x0, kw


def _l0_ls(seed=0, m=30, d=12, k=3):
    """One-block ℓ0-constrained least squares (non-convex prox): min ½||Ax − b||², ||x||₀ ≤ k."""
    g = np.random.default_rng(seed)
    A = g.standard_normal((m, d))
    b = g.standard_normal(m)

    def prox(z, i, step):
        out = np.zeros_like(z)
        keep = np.argsort(-np.abs(z), kind="stable")[:k]
        out[keep] = z[keep]
        return out

    kw = dict(
        grad=lambda x, i: A.T @ (A @ x[0] - b),
        lipschitz=lambda x, i: np.linalg.norm(A, 2) ** 2,
        prox=prox,
        objective=lambda x: 0.5 * float(np.sum((A @ x[0] - b) ** 2)),
    )
    return [prox(g.standard_normal(d), 0, 1.0)], kw


@pytest.mark.parametrize("solver", ["palm", "apalm", "abpl+", "apalm+"])
def test_convex_blocks_reach_nnls(solver):
    A, b, x0, kw = _nnls_blocks()
    res = palm(x0, solver=solver, max_iter=20000, tol=1e-14, **kw)
    ref, _ = nnls(A, b)
    np.testing.assert_allclose(np.concatenate(res.x), ref, atol=1e-5)
    assert res.converged
    assert res.objective.shape == (res.n_iter + 1,)


@pytest.mark.parametrize("solver", ["palm", "apalm", "abpl+", "apalm+"])
@pytest.mark.parametrize("seed", range(4))
def test_monotone_on_l0_problem(solver, seed):
    x0, kw = _l0_ls(seed)
    res = palm(x0, solver=solver, max_iter=300, tol=0.0, **kw)
    diffs = np.diff(res.objective)
    assert np.all(diffs <= 1e-12 * abs(res.objective[0]))
    assert np.count_nonzero(res.x[0]) <= 3


@pytest.mark.parametrize("solver", ["abpl+", "apalm+"])
def test_zero_momentum_is_palm_exactly(solver):
    _, _, x0, kw = _nnls_blocks(seed=3)
    ref = palm(x0, solver="palm", step_factor=1.5, max_iter=200, tol=0.0, **kw)
    res = palm(x0, solver=solver, beta0=0.0, max_iter=200, tol=0.0, **kw)
    for a, c in zip(ref.x, res.x, strict=True):
        assert np.array_equal(a, c)
    assert np.array_equal(ref.objective, res.objective)
    assert res.beta == 0.0


def test_momentum_accelerates():
    _, _, x0, kw = _nnls_blocks(seed=1, m=60, sizes=(8, 8))
    f_star = palm(x0, solver="abpl+", max_iter=20000, tol=1e-15, **kw).objective[-1]
    plain = palm(x0, solver="palm", step_factor=1.5, max_iter=60, tol=0.0, **kw)
    fast = palm(x0, solver="abpl+", max_iter=60, tol=0.0, **kw)
    assert fast.objective[-1] - f_star < plain.objective[-1] - f_star


def test_stopping_rules_and_errors():
    _, _, x0, kw = _nnls_blocks()
    res = palm(x0, solver="palm", max_iter=5000, tol=1e-3, stop="abs_objective", **kw)
    assert res.converged and abs(res.objective[-1] - res.objective[-2]) < 1e-3
    res = palm(x0, solver="palm", max_iter=5000, tol=1e-3, stop="iterate", min_iter=50, **kw)
    assert res.converged and res.n_iter >= 50
    res = palm(x0, solver="palm", max_iter=3, tol=0.0, **kw)
    assert not res.converged and res.n_iter == 3
    with pytest.raises(ValueError, match="solver"):
        palm(x0, solver="adam", **kw)
    with pytest.raises(ValueError, match="step_factor"):
        palm(x0, step_factor=-1.0, **kw)
