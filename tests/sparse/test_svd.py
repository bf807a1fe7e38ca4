"""L0 graph-regularised sparse SVD and group-sparse SVD."""

import numpy as np
import pytest
import scipy.sparse as sp

from stmin.sparse import group_sparse_svd, sparse_svd

RNG = np.random.default_rng(3)


def _separated(n=60, p=40, s=(20.0, 12.0, 7.0, 4.0), noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    Q1, _ = np.linalg.qr(rng.normal(size=(n, len(s))))
    Q2, _ = np.linalg.qr(rng.normal(size=(p, len(s))))
    return Q1 @ np.diag(s) @ Q2.T + noise * rng.normal(size=(n, p))


def _planted(n=80, p=60, ku=20, kv=12, snr=3.0, seed=0):
    rng = np.random.default_rng(seed)
    u = np.zeros(n)
    u[:ku] = rng.choice([-1, 1], ku) * (1 + rng.random(ku))
    v = np.zeros(p)
    v[:kv] = rng.choice([-1, 1], kv) * (1 + rng.random(kv))
    u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)
    X = snr * np.sqrt(n) * np.outer(u, v) + rng.normal(size=(n, p)) * 0.5
    return X, u, v


@pytest.mark.parametrize("sparse", [False, True])
def test_full_k_no_penalty_is_the_svd(sparse):
    X = _separated()
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    res = sparse_svd(sp.csr_matrix(X) if sparse else X, n_components=3, tol=1e-10, max_iter=1000)
    np.testing.assert_allclose(res.d, s[:3], rtol=1e-8)
    for c in range(3):
        assert abs(res.U[:, c] @ U[:, c]) == pytest.approx(1, abs=1e-8)
        assert abs(res.V[:, c] @ Vt[c]) == pytest.approx(1, abs=1e-8)
    centred = sparse_svd(X, center=True)
    sc = np.linalg.svd(X - X.mean(0), compute_uv=False)
    assert centred.d[0] == pytest.approx(sc[0], rel=1e-8)


def test_all_groups_is_the_svd():
    X = _separated()
    s = np.linalg.svd(X, compute_uv=False)
    part = [np.arange(i, i + 5) for i in range(0, 40, 5)]
    overlap = [np.arange(i, min(i + 10, 40)) for i in range(0, 40, 5)]
    for penalty, groups in [("gl0", part), ("gl1", part), ("ogl0", overlap), ("ogl1", overlap)]:
        res = group_sparse_svd(
            X, groups, len(groups), penalty, n_components=2, tol=1e-10, max_iter=1000
        )
        np.testing.assert_allclose(res.d, s[:2], rtol=1e-7, err_msg=penalty)


def test_singleton_groups_gl0_is_l0_svd():
    X, _, _ = _planted()
    singles = [np.array([j]) for j in range(X.shape[1])]
    for k in (5, 12, 30):
        a = sparse_svd(X, n_components=2, k_var=k)
        b = group_sparse_svd(X, singles, k, "gl0", n_components=2)
        np.testing.assert_allclose(a.V, b.V, atol=1e-12)
        np.testing.assert_allclose(a.d, b.d, rtol=1e-12)


def test_planted_support_recovery():
    X, u, v = _planted()
    res = sparse_svd(X, k_obs=20, k_var=12)
    assert set(np.flatnonzero(res.U[:, 0])) == set(np.flatnonzero(u))
    assert set(np.flatnonzero(res.V[:, 0])) == set(np.flatnonzero(v))
    # group version: genes in blocks of 4, the planted genes are groups 0-2
    groups = [np.arange(i, i + 4) for i in range(0, 60, 4)]
    g = group_sparse_svd(X, groups, 3, "gl0")
    assert g.active_groups[0] == [0, 1, 2]
    assert set(np.flatnonzero(g.V[:, 0])) == set(range(12))


def _ring(p):
    A = sp.lil_matrix((p, p))
    for i in range(p):
        A[i, (i + 1) % p] = A[(i + 1) % p, i] = 1
    return A.tocsr()


@pytest.mark.parametrize("penalty", ["absolute", "signed"])
def test_graph_penalty_objective_is_monotone(penalty):
    X, _, _ = _planted(snr=0.5)
    res = sparse_svd(
        X,
        2,
        k_obs=30,
        k_var=15,
        var_graph=_ring(60),
        lam_var=2.0,
        obs_graph=_ring(80),
        lam_obs=1.0,
        penalty=penalty,
        max_iter=300,
    )
    for h in res.history:
        assert np.all(np.diff(h) >= -1e-10)
    gl0 = group_sparse_svd(X, [np.arange(i, i + 4) for i in range(0, 60, 4)], 2, "gl0")
    assert np.all(np.diff(gl0.history[0]) >= -1e-10)


def test_absolute_penalty_invariant_to_flipping_a_gene():
    X, _, _ = _planted(snr=1.0)
    A = _ring(60)
    kw = dict(k_obs=20, k_var=12, var_graph=A, lam_var=1.0, tol=1e-12, max_iter=2000)
    base = sparse_svd(X, **kw)
    for j in (0, 3, 40):
        Xf = X.copy()
        Xf[:, j] *= -1
        flipped = sparse_svd(Xf, **kw)
        np.testing.assert_array_equal(flipped.V != 0, base.V != 0)
        np.testing.assert_allclose(np.abs(flipped.V), np.abs(base.V), atol=1e-8)
        np.testing.assert_allclose(flipped.d, base.d, rtol=1e-10)
        expect = base.V[:, 0].copy()
        expect[j] *= -1
        assert abs(flipped.V[:, 0] @ expect) == pytest.approx(1, abs=1e-10)


def test_graph_pulls_in_connected_genes():
    # genes 0..11 are planted; a strong ring penalty keeps the selection contiguous
    X, _, _ = _planted(snr=0.6, seed=4)
    A = _ring(60)
    res = sparse_svd(X, k_obs=20, k_var=12, var_graph=A, lam_var=5.0)
    sel = np.flatnonzero(res.V[:, 0])
    assert len(sel) == 12
    edges_inside = sum(A[i, j] for i in sel for j in sel) / 2
    free = sparse_svd(X, k_obs=20, k_var=12)
    free_sel = np.flatnonzero(free.V[:, 0])
    assert edges_inside >= sum(A[i, j] for i in free_sel for j in free_sel) / 2


def test_sparse_input_equals_dense():
    X, _, _ = _planted()
    X[np.abs(X) < 0.4] = 0
    kw = dict(k_obs=20, k_var=12, var_graph=_ring(60), lam_var=0.5, n_components=2)
    a, b = sparse_svd(X, **kw), sparse_svd(sp.csr_matrix(X), **kw)
    np.testing.assert_allclose(a.V, b.V, atol=1e-10)
    np.testing.assert_allclose(a.U, b.U, atol=1e-10)
    groups = [np.arange(i, i + 4) for i in range(0, 60, 4)]
    a = group_sparse_svd(X, groups, 3, "gl1", center=True)
    b = group_sparse_svd(sp.csr_matrix(X), groups, 3, "gl1", center=True)
    np.testing.assert_allclose(a.V, b.V, atol=1e-10)


def test_errors():
    X = RNG.normal(size=(10, 8))
    with pytest.raises(ValueError, match="between 1 and 8"):
        sparse_svd(X, k_var=9)
    with pytest.raises(ValueError, match="between 1 and 10"):
        sparse_svd(X, k_obs=0)
    with pytest.raises(ValueError, match="must be 8 × 8"):
        sparse_svd(X, var_graph=sp.eye(7), lam_var=1.0)
    with pytest.raises(ValueError, match="needs a graph"):
        sparse_svd(X, lam_obs=1.0)
    with pytest.raises(ValueError, match="'absolute' or 'signed'"):
        sparse_svd(X, penalty="l2")
    with pytest.raises(ValueError, match="2-D"):
        sparse_svd(np.ones(5))
    with pytest.raises(ValueError, match="n_components"):
        sparse_svd(X, n_components=9)
    groups = [np.array([0, 1]), np.array([1, 2])]
    with pytest.raises(ValueError, match="one of 'gl0'"):
        group_sparse_svd(X, groups, 1, "lasso")
    with pytest.raises(ValueError, match="ogl0"):
        group_sparse_svd(X, groups, 1, "gl0")
    with pytest.raises(ValueError, match="between 1 and 2"):
        group_sparse_svd(X, groups, 3, "ogl0")
    with pytest.raises(ValueError, match="outside"):
        group_sparse_svd(X, [np.array([0, 8])], 1)
