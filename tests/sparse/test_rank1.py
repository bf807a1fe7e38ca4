"""The alternating rank-1 engine: operators, restarts, stopping, history."""

import numpy as np
import pytest
import scipy.sparse as sp

from stmin.sparse._projections import _unit
from stmin.sparse._rank1 import LowRankUpdated, alternate, leading_pair, rank1

RNG = np.random.default_rng(2)


@pytest.mark.parametrize("sparse", [False, True])
def test_low_rank_updated_operator(sparse):
    Xd = RNG.normal(size=(12, 9)) * (RNG.random((12, 9)) < 0.5)
    X = sp.csr_matrix(Xd) if sparse else Xd
    a, b = RNG.normal(size=12), RNG.normal(size=9)
    op = LowRankUpdated(X).centered().minus(a, b)
    dense = Xd - Xd.mean(0) - np.outer(a, b)
    V, U = RNG.normal(size=(9, 3)), RNG.normal(size=(12, 2))
    np.testing.assert_allclose(op.matvec(V), dense @ V)
    np.testing.assert_allclose(op.rmatvec(U), dense.T @ U)
    np.testing.assert_allclose(op.toarray(), dense)
    assert sp.issparse(op.X) == sparse


@pytest.mark.parametrize("shape", [(30, 20), (120, 90)])  # LAPACK and ARPACK paths
def test_leading_pair(shape):
    X = RNG.normal(size=shape)
    u, d, v = leading_pair(lambda V: X @ V, lambda U: X.T @ U, shape)
    U_, s, Vt = np.linalg.svd(X)
    assert d == pytest.approx(s[0], rel=1e-8)
    assert abs(u @ U_[:, 0]) == pytest.approx(1, abs=1e-8)
    assert abs(v @ Vt[0]) == pytest.approx(1, abs=1e-8)


def test_rank1_power_method_from_random_starts_is_monotone():
    X = RNG.normal(size=(40, 25))
    X += 4 * np.outer(RNG.normal(size=40), RNG.normal(size=25)) / 5
    X_op = LowRankUpdated(X)
    unit = lambda z, old: _unit(z)  # noqa: E731
    res = rank1(X_op, unit, unit, n_restarts=4, svd_init=False, tol=1e-10, max_iter=500)
    s = np.linalg.svd(X, compute_uv=False)
    assert res.objective == pytest.approx(s[0], rel=1e-8)
    assert res.converged
    assert np.all(np.diff(res.history) >= -1e-10)
    assert res.restart_objectives.shape == (4,)
    assert X_op.shape == X.shape


def test_alternate_keeps_best_restart_and_stops_each_column():
    # block 0 halves its distance to a per-restart target held in block 1
    targets = np.array([[1.0, 5.0, 2.5]])

    def update(b, cur):
        return 0.5 * (cur[0] + cur[1]) if b == 0 else cur[1]

    res = alternate(
        [np.zeros((1, 3)), targets], update, lambda cur: -np.abs(cur[0][0] - 2.0), tol=1e-3
    )
    assert res.restart == 2
    assert res.blocks[0][0] == pytest.approx(2.5, abs=2e-3)
    assert res.converged
    assert res.n_iter < 100
    assert len(res.history) <= res.n_iter
