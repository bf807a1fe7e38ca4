import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.decomposition import NMF

from stmin.sparse._nmf import nmf_objective, sparse_nmf


def _counts(n_genes=60, n_samples=80, r=4, seed=0):
    """log1p of negative-binomial counts with a rank-r mean: genes × samples (paper orientation)."""
    g = np.random.default_rng(seed)
    mean = g.gamma(0.6, 1.0, (n_genes, r)) @ g.gamma(0.6, 1.0, (r, n_samples)) * 2.0
    counts = g.negative_binomial(3.0, 3.0 / (3.0 + mean))
    return np.log1p(counts).astype(np.float64)


def _knn_graph(n, seed=0, k=4):
    g = np.random.default_rng(seed)
    pts = g.uniform(size=(n, 2))
    d = ((pts[:, None] - pts[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nbr = np.argsort(d, axis=1)[:, :k]
    A = sp.csr_matrix((np.ones(n * k), (np.repeat(np.arange(n), k), nbr.ravel())), shape=(n, n))
    return ((A + A.T) > 0).astype(float)


def _sklearn(X, r, **kw):
    """sklearn NMF on the AnnData orientation; returns paper (W, H) and ½||X − WH||²."""
    m = NMF(r, init="nndsvda", solver="cd", beta_loss="frobenius", random_state=0, **kw)
    Ws = m.fit_transform(X.T)
    W, H = m.components_.T, Ws.T
    return W, H, 0.5 * float(np.sum((X - W @ H) ** 2))


def test_full_k_matches_sklearn_objective():
    X = _counts()
    _, _, f_ref = _sklearn(X, 4, max_iter=5000, tol=1e-8)
    for solver in ("palm", "apalm", "abpl+"):
        res = sparse_nmf(X, 4, solver=solver, init="nndsvda", tol=1e-7, max_iter=5000)
        f = res.objective[-1]
        assert f <= 1.02 * f_ref, (solver, f, f_ref)
        assert np.isclose(f, nmf_objective(X, res.W, res.H), rtol=1e-9)
        assert res.selected.all()


def test_sklearn_solution_is_near_fixed_point():
    X = _counts(seed=1)
    W, H, f_ref = _sklearn(X, 3, max_iter=20000, tol=1e-12)
    res = sparse_nmf(X, 3, init=(W, H), tol=0.0, min_iter=1, max_iter=100)
    assert res.objective[0] == pytest.approx(f_ref, rel=1e-12)
    assert res.objective[-1] >= (1 - 1e-4) * f_ref
    assert np.linalg.norm(res.W - W) / np.linalg.norm(W) < 1e-2
    assert np.linalg.norm(res.H - H) / np.linalg.norm(H) < 1e-2


def test_exact_low_rank_recovered():
    g = np.random.default_rng(3)
    X = g.uniform(size=(30, 3)) @ g.uniform(size=(3, 40))
    res = sparse_nmf(X, 3, solver="abpl+", tol=1e-9, max_iter=5000)
    assert np.linalg.norm(X - res.W @ res.H) / np.linalg.norm(X) < 1e-3


@pytest.mark.parametrize("solver", ["palm", "apalm", "abpl+"])
@pytest.mark.parametrize("seed", range(4))
def test_objective_monotone(solver, seed):
    X = _counts(40, 50, seed=seed)
    graph = _knn_graph(50, seed) if seed % 2 else None
    res = sparse_nmf(
        X,
        3,
        k=15,
        graph=graph,
        lam_graph=0.5 if graph is not None else 0.0,
        solver=solver,
        init="random",
        random_state=seed,
        tol=0.0,
        max_iter=150,
    )
    diffs = np.diff(res.objective)
    assert np.all(diffs <= 1e-10 * res.objective[0])
    assert res.objective[-1] < res.objective[0]


@pytest.mark.parametrize("k", [1, 7, 25])
def test_at_most_k_gene_rows(k):
    X = _counts(40, 30, seed=2)
    res = sparse_nmf(X, 3, k=k, max_iter=60)
    nz_rows = np.count_nonzero(np.any(res.W != 0, axis=1))
    assert nz_rows <= k
    assert res.selected.sum() == nz_rows
    assert (res.W >= 0).all() and (res.H >= 0).all()


def test_graph_zero_lambda_equals_nmf_exactly():
    X = _counts(seed=4)
    graph = _knn_graph(X.shape[1], 4)
    for solver in ("palm", "abpl+"):
        a = sparse_nmf(X, 4, k=20, solver=solver, max_iter=80, tol=0.0)
        b = sparse_nmf(X, 4, k=20, graph=graph, lam_graph=0.0, solver=solver, max_iter=80, tol=0.0)
        assert np.array_equal(a.W, b.W) and np.array_equal(a.H, b.H)
        assert np.array_equal(a.objective, b.objective)


def test_graph_term_smooths_factors():
    X = _counts(seed=5)
    graph = _knn_graph(X.shape[1], 5)
    L = sp.diags(np.asarray(graph.sum(1)).ravel()) - graph
    smooth = []
    for lam in (0.0, 1.0, 10.0):
        res = sparse_nmf(X, 4, graph=graph, lam_graph=lam, max_iter=200, tol=0.0)
        smooth.append(np.sum(res.H * (L @ res.H.T).T) / np.sum(res.H**2))
    assert smooth[0] > smooth[1] > smooth[2]


def test_zero_momentum_abpl_is_palm():
    X = _counts(seed=6)
    a = sparse_nmf(X, 3, k=30, solver="palm", step_factor=1.5, max_iter=60, tol=0.0)
    b = sparse_nmf(X, 3, k=30, solver="abpl+", momentum={"beta0": 0.0}, max_iter=60, tol=0.0)
    assert np.array_equal(a.W, b.W) and np.array_equal(a.H, b.H)


def test_csr_equals_dense():
    X = _counts(seed=7)
    X[X < 1.0] = 0.0
    for init in ("nndsvd", "random"):
        a = sparse_nmf(X, 4, k=25, init=init, max_iter=50, tol=0.0)
        b = sparse_nmf(sp.csr_matrix(X), 4, k=25, init=init, max_iter=50, tol=0.0)
        np.testing.assert_allclose(a.W, b.W, rtol=1e-7, atol=1e-10)
        np.testing.assert_allclose(a.H, b.H, rtol=1e-7, atol=1e-10)
        np.testing.assert_allclose(a.objective, b.objective, rtol=1e-10)


def test_onmf_gives_near_orthogonal_rows():
    g = np.random.default_rng(8)
    labels = np.repeat(np.arange(3), 20)
    centers = g.uniform(0.0, 0.3, (50, 3))
    for c in range(3):
        centers[15 * c : 15 * c + 15, c] += 2.0
    X = np.abs(centers[:, labels] + 0.1 * g.standard_normal((50, 60)))
    plain = sparse_nmf(X, 3, k=45, max_iter=200)
    res = sparse_nmf(X, 3, k=45, orthogonal=True, max_iter=200, rho_max_iter=40)
    assert res.orth_error[-1] < 1e-2
    assert res.orth_error[-1] < plain.orth_error[-1]
    assert np.all(np.diff(res.rho_path) > 0)
    # each sample loads on (essentially) one factor and the factors are the planted clusters
    Hn = res.H / res.H.sum(0, keepdims=True)
    assert np.median(Hn.max(0)) > 0.95
    pred = res.H.argmax(0)
    assert all(len(np.unique(pred[labels == c])) == 1 for c in range(3))
    assert len(np.unique(pred)) == 3


def test_errors():
    X = _counts(20, 15)
    with pytest.raises(ValueError, match="negative"):
        sparse_nmf(X - 1.0, 2)
    with pytest.raises(ValueError, match="k"):
        sparse_nmf(X, 2, k=21)
    with pytest.raises(ValueError, match="n_components"):
        sparse_nmf(X, 16)
    with pytest.raises(ValueError, match="graph"):
        sparse_nmf(X, 2, graph=_knn_graph(14), lam_graph=1.0)
    with pytest.raises(ValueError, match="graph"):
        sparse_nmf(X, 2, lam_graph=1.0)
    with pytest.raises(ValueError, match="solver"):
        sparse_nmf(X, 2, solver="apalm+")
    with pytest.raises(ValueError, match="init"):
        sparse_nmf(X, 2, init="kmeans")
    with pytest.raises(ValueError, match="shapes"):
        sparse_nmf(X, 2, init=(np.ones((20, 3)), np.ones((3, 15))))
