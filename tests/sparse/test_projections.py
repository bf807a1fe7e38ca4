"""The projection operators equal brute force over all supports on tiny inputs."""

from itertools import combinations

import numpy as np
import pytest
import scipy.sparse as sp

from stmin.sparse._checks import check_binary_labels, check_k, check_matrix, check_nonneg
from stmin.sparse._graph import check_graph, laplacian
from stmin.sparse._projections import (
    abs_graph_linearize,
    binary_topk,
    soft,
    topk_box,
    topk_nonneg,
    topk_rows_nonneg,
    topk_sphere,
)

RNG = np.random.default_rng(0)


def _supports(n, k):
    for size in range(1, k + 1):
        yield from combinations(range(n), size)


@pytest.mark.parametrize("n,k", [(5, 1), (5, 2), (6, 3), (6, 6)])
def test_topk_sphere_brute_force(n, k):
    for _ in range(20):
        z = RNG.normal(size=n)
        best, best_val = None, -np.inf
        for S in combinations(range(n), k):
            u = np.zeros(n)
            u[list(S)] = z[list(S)] / np.linalg.norm(z[list(S)])
            if u @ z > best_val:
                best, best_val = u, u @ z
        np.testing.assert_allclose(topk_sphere(z, k), best, atol=1e-12)
    Z = RNG.normal(size=(n, 4))
    cols = np.column_stack([topk_sphere(Z[:, j], k) for j in range(4)])
    np.testing.assert_allclose(topk_sphere(Z, k), cols)


def _box_projection(z, S):
    w = np.zeros_like(z)
    w[list(S)] = np.clip(z[list(S)], 0, 1)
    return w


@pytest.mark.parametrize("k", [1, 2, 3, 6])
def test_topk_box_and_binary_brute_force(k):
    n = 6
    for _ in range(20):
        z = RNG.normal(scale=1.5, size=n) + 0.3
        cands = [_box_projection(z, S) for S in _supports(n, k)]
        best = min(cands, key=lambda w: np.sum((w - z) ** 2))
        np.testing.assert_allclose(topk_box(z, k), best, atol=1e-12)
        binaries = [np.zeros(n)]
        for S in _supports(n, k):
            w = np.zeros(n)
            w[list(S)] = 1
            binaries.append(w)
        best = min(binaries, key=lambda w: np.sum((w - z) ** 2))
        np.testing.assert_allclose(binary_topk(z, k), best)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_topk_rows_nonneg_brute_force(k):
    W = RNG.normal(size=(5, 3))
    best = min(
        (np.where(np.isin(np.arange(5), S)[:, None], np.maximum(W, 0), 0) for S in _supports(5, k)),
        key=lambda V: np.sum((V - W) ** 2),
    )
    np.testing.assert_allclose(topk_rows_nonneg(W, k), best)


@pytest.mark.parametrize("a", [1, 3, 5])
def test_topk_nonneg_brute_force(a):
    W = RNG.normal(size=(2, 3))
    flat = W.ravel()
    best = min(
        (np.where(np.isin(np.arange(6), S), np.maximum(flat, 0), 0) for S in _supports(6, a)),
        key=lambda v: np.sum((v - flat) ** 2),
    )
    np.testing.assert_allclose(topk_nonneg(W, a), best.reshape(2, 3))


def test_soft_is_the_l1_prox():
    z = RNG.normal(size=6)
    tau = np.abs(RNG.normal(size=6)) * 0.5
    grid = np.linspace(-4, 4, 80001)
    for i in range(6):
        obj = 0.5 * (grid - z[i]) ** 2 + tau[i] * np.abs(grid)
        assert abs(soft(z, tau)[i] - grid[np.argmin(obj)]) < 1e-3
    np.testing.assert_allclose(soft(z, 0.0), z)


def test_k_at_least_dimension_and_bad_k():
    z = RNG.normal(size=4)
    np.testing.assert_allclose(topk_sphere(z, 10), z / np.linalg.norm(z))
    np.testing.assert_allclose(topk_box(z, 4), np.clip(z, 0, 1))
    assert not topk_sphere(np.zeros(3), 2).any()
    for f in (topk_sphere, topk_box, topk_nonneg, binary_topk):
        with pytest.raises(ValueError, match="positive integer"):
            f(z, 0)
    with pytest.raises(ValueError, match="positive integer"):
        topk_rows_nonneg(np.ones((3, 2)), 0)


def test_abs_graph_linearize_dense_and_sparse():
    W = np.abs(RNG.normal(size=(4, 4)))
    z, x = RNG.normal(size=4), RNG.normal(size=4)
    expected = np.abs(z) + 0.7 * W @ np.abs(x)
    np.testing.assert_allclose(abs_graph_linearize(z, W, x, 0.7), expected)
    np.testing.assert_allclose(abs_graph_linearize(z, sp.csr_matrix(W), x, 0.7), expected)
    # invariant to the signs of z and x_old
    np.testing.assert_allclose(abs_graph_linearize(-z, W, -x, 0.7), expected)


def test_graph_helpers():
    A = sp.random(6, 6, density=0.5, random_state=0)
    L = laplacian(A)
    S = ((A + A.T) / 2).toarray()
    np.fill_diagonal(S, 0)
    np.testing.assert_allclose(L.toarray(), np.diag(S.sum(1)) - S, atol=1e-12)
    Ln = laplacian(A, normalized=True).toarray()
    assert np.linalg.eigvalsh(Ln).min() > -1e-10
    assert np.linalg.eigvalsh(Ln).max() < 2 + 1e-10
    with pytest.raises(ValueError, match="must be 5 × 5"):
        check_graph(A, 5, "varp['net']")
    with pytest.raises(ValueError, match="negative"):
        check_graph(-sp.eye(3), 3)
    with pytest.raises(ValueError, match="square"):
        check_graph(np.ones((2, 3)), 2)


def test_checks():
    assert sp.issparse(check_matrix(sp.random(3, 4, density=0.5)))
    with pytest.raises(ValueError, match="2-D"):
        check_matrix(np.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        check_matrix(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="between 1 and 4"):
        check_k(5, 4, "k_var")
    with pytest.raises(ValueError, match="negative"):
        check_nonneg(-np.ones((2, 2)))
    with pytest.raises(ValueError, match="two classes"):
        check_binary_labels(np.ones(5))
