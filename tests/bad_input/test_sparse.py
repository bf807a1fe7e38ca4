"""Bad input to the array core sm.sparse ends in a clear stmin error naming the argument."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import stmin as sm

pytestmark = pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")

S = sm.sparse
RNG = np.random.default_rng(0)
X = RNG.normal(size=(30, 12))
Y = RNG.normal(size=(30, 8))
T = RNG.normal(size=(30, 4, 5))
LABELS = np.array([0, 1] * 15)
GROUPS = [np.arange(0, 4), np.arange(4, 8), np.arange(8, 12)]
BAD_SEEDS = ["abc", [1, 2], -1, 1.5, True]
BAD_FLAGS = ["yes", 1, None]


def _first(result) -> np.ndarray:
    """The first factor of a solver's result (the first view's loadings for wsPLS)."""
    first = result[0]
    return np.asarray(first[0] if isinstance(first, list) else first)


def _nan(x):
    x = np.array(x, dtype=float)
    x.flat[0] = np.nan
    return x


SOLVERS = {
    "sparse_svd": lambda x, **kw: S.sparse_svd(x, k_var=3, **kw),
    "group_sparse_svd": lambda x, **kw: S.group_sparse_svd(x, GROUPS, 1, **kw),
    "sparse_nmf": lambda x, **kw: S.sparse_nmf(x if isinstance(x, str) else abs(x), 2, **kw),
    "wspls": lambda x, **kw: S.wspls(x, Y, 3, 3, **kw),
    "swcca": lambda x, **kw: S.swcca(x, Y, 3, 3, **kw),
    "network_logreg": lambda x, **kw: S.network_logreg(x, LABELS, penalty="lasso", **kw),
}
ANY_SOLVER = pytest.mark.parametrize("solve", SOLVERS.values(), ids=SOLVERS.keys())
SEEDED = {k: v for k, v in SOLVERS.items() if k not in ("network_logreg",)}


# -- the data matrix -----------------------------------------------------------------------------


@ANY_SOLVER
@pytest.mark.parametrize(
    ("x", "match"),
    [
        (X[:, 0], "`X` must be a 2-D matrix"),
        (X[None], "`X` must be a 2-D matrix"),
        (_nan(X), "`X` contains NaN"),
        ("abc", "`X` must be a numeric 2-D matrix"),
        (np.zeros((0, 12)), "`X` is empty"),
    ],
    ids=["1-D", "3-D", "nan", "string", "empty"],
)
def test_data_matrix(solve, x, match):
    with pytest.raises(ValueError, match=match):
        solve(x)


@ANY_SOLVER
def test_matrix_sparse_and_frames_are_accepted(solve):
    dense = _first(solve(X))
    for x in (np.asmatrix(X), sp.csr_matrix(X), pd.DataFrame(X)):
        np.testing.assert_allclose(_first(solve(x)), dense, atol=1e-8)


@pytest.mark.parametrize("solve", SEEDED.values(), ids=SEEDED.keys())
@pytest.mark.parametrize("seed", BAD_SEEDS)
def test_seeds(solve, seed):
    with pytest.raises(ValueError, match="random_state"):
        solve(X, random_state=seed)


@pytest.mark.parametrize("solve", SEEDED.values(), ids=SEEDED.keys())
def test_numpy_seed_is_a_seed(solve):
    np.testing.assert_allclose(
        _first(solve(X, random_state=np.int64(3))), _first(solve(X, random_state=3))
    )


@ANY_SOLVER
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_iter": 0}, "max_iter"),
        ({"max_iter": 1.5}, "max_iter"),
        ({"max_iter": "x"}, "max_iter"),
        ({"tol": -1}, "tol"),
        ({"tol": "x"}, "tol"),
        ({"tol": np.nan}, "tol"),
    ],
)
def test_iterations(solve, kwargs, match):
    with pytest.raises(ValueError, match=match):
        solve(X, **kwargs)


@pytest.mark.parametrize(
    ("solve", "flag"),
    [
        (SOLVERS["sparse_svd"], "center"),
        (SOLVERS["group_sparse_svd"], "center"),
        (SOLVERS["sparse_nmf"], "orthogonal"),
        (SOLVERS["wspls"], "center"),
        (SOLVERS["wspls"], "update_weights"),
        (SOLVERS["network_logreg"], "screen"),
    ],
)
@pytest.mark.parametrize("value", BAD_FLAGS)
def test_flags(solve, flag, value):
    with pytest.raises(ValueError, match=f"`{flag}` must be True or False"):
        solve(X, **{flag: value})


# -- per solver ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        *[({"n_components": v}, "n_components") for v in (0, 1.5, "x", True, None, 10**6)],
        *[({"k_obs": v}, "k_obs") for v in (0, -1, 1.5, 10**6)],
        ({"k_var": 2.5}, "k_var"),
        ({"n_restarts": 0}, "n_restarts"),
        ({"lam_obs": -1}, "lam_obs"),
        ({"lam_obs": "x"}, "lam_obs"),
        ({"lam_var": 1.0}, "needs a graph"),
        ({"penalty": "abs"}, "penalty"),
        ({"var_graph": np.ones((3, 3)), "lam_var": 1.0}, "var_graph"),
        ({"var_graph": -np.eye(12), "lam_var": 1.0}, "var_graph"),
        ({"var_graph": "abc", "lam_var": 1.0}, "var_graph"),
    ],
)
def test_sparse_svd_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        S.sparse_svd(X, **{"k_var": 3, **kwargs})


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((GROUPS, 0), {}, "n_groups"),
        (("abc", 1), {}, "groups"),
        ((3, 1), {}, "groups"),
        (([np.array([0.0, 1.0])], 1), {}, "integer variable indices"),
        (([np.array([0, 99])], 1), {}, "outside"),
        ((GROUPS, 1), {"penalty": "gl2"}, "penalty"),
        ((GROUPS, 1), {"penalty": "ogl1", "admm_rho": 0}, "admm_rho"),
        ((GROUPS, 1), {"penalty": "ogl1", "admm_iter": 0}, "admm_iter"),
        ((GROUPS, 1), {"penalty": "gl1", "weights": [1]}, "weights"),
        ((GROUPS, 1), {"penalty": "gl1", "weights": "x"}, "weights"),
    ],
)
def test_group_sparse_svd_options(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        S.group_sparse_svd(X, *args, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        *[({"n_components": v}, "n_components") for v in (0, 1.5, "x", None)],
        ({"k": 0}, "`k`"),
        ({"lam_graph": -1}, "lam_graph"),
        ({"lam_graph": np.nan}, "lam_graph"),
        ({"lam_graph": 1.0}, "needs a sample `graph`"),
        ({"graph": np.ones((3, 3)), "lam_graph": 1.0}, "graph"),
        ({"solver": "apalm+"}, "solver"),
        ({"min_iter": -1}, "min_iter"),
        ({"init": "nnd"}, "init"),
        ({"init": (np.ones((12, 2)),)}, "init"),
        ({"init": (np.full((30, 2), np.nan), np.ones((2, 12)))}, "init"),
        ({"rho": -1}, "rho"),
        ({"rho_growth": 0.5}, "rho_growth"),
        ({"rho_max_iter": 0}, "rho_max_iter"),
        ({"nu": -1}, "nu"),
        ({"step_factor": 0}, "step_factor"),
        ({"momentum": "x"}, "momentum"),
        ({"momentum": {"foo": 1}}, "momentum"),
        ({"momentum": {"beta0": -1}}, "beta0"),
        ({"normalized_laplacian": "no"}, "normalized_laplacian"),
    ],
)
def test_sparse_nmf_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        S.sparse_nmf(np.abs(X), **{"n_components": 2, **kwargs})


def test_sparse_nmf_needs_non_negative_data():
    with pytest.raises(ValueError, match="`X` has negative entries"):
        S.sparse_nmf(X, 2)


def test_nmf_objective_shapes():
    with pytest.raises(ValueError, match="do not factorise"):
        S.nmf_objective(np.abs(X), np.ones((3, 2)), np.ones((2, 12)))
    with pytest.raises(ValueError, match="`lap`"):
        S.nmf_objective(np.abs(X), np.ones((30, 2)), np.ones((2, 12)), lam_graph=1.0)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((Y[:-1],), {}, "`Y` has 29 rows but `X` has 30"),
        ((Y[:, 0],), {}, "`Y` must be a 2-D matrix"),
        (([],), {}, "`Y` is an empty list"),
        ((Y, 0), {}, "k_var"),
        ((Y, 3, [1, 2]), {}, "k_view2"),
        ((Y, 3, 3, 1.5), {}, "k_obs"),
        ((Y,), {"sample_constraint": "l1"}, "sample_constraint"),
        ((Y,), {"scheme": "prod"}, "scheme"),
        ((Y,), {"lipschitz": -1}, "lipschitz"),
        ((Y,), {"n_restarts": 0}, "n_restarts"),
        ((Y,), {"min_iter": "x"}, "min_iter"),
    ],
)
def test_wspls_options(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        S.wspls(X, *args, **kwargs)


def test_swcca_keeps_its_constraint():
    with pytest.raises(ValueError, match="sample_constraint"):
        S.swcca(X, Y, sample_constraint="linf")


# -- labels --------------------------------------------------------------------------------------

BAD_LABELS = {
    "short": (LABELS[:-1], "one label per sample"),
    "nan": (np.r_[LABELS[:-1], np.nan], "missing values"),
    "none": (np.r_[LABELS[:-1].astype(object), [None]], "missing values"),
    "three-classes": (np.arange(30) % 3, "exactly two classes"),
    "one-class": (np.zeros(30), "exactly two classes"),
    "2-D": (np.c_[LABELS, LABELS], "1-D"),
}
LABELLED = {
    "network_logreg": lambda y: S.network_logreg(X, y, penalty="lasso"),
    "multilinear_logreg": lambda y: S.multilinear_logreg(T, y, max_iter=5),
}


@pytest.mark.parametrize("fit", LABELLED.values(), ids=LABELLED.keys())
@pytest.mark.parametrize("labels", BAD_LABELS.values(), ids=BAD_LABELS.keys())
def test_labels(fit, labels):
    y, match = labels
    with pytest.raises(ValueError, match=rf"`y`.*{match}|{match}.*`y`|`y` must hold"):
        fit(y)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"penalty": "l1"}, "penalty"),
        ({"lam": -1}, "lam"),
        ({"lam": True}, "lam"),
        ({"eta": np.nan}, "eta"),
        ({"laplacian": "norm"}, "laplacian"),
        ({"irls": "exactly"}, "irls"),
        ({"tol": 0}, "tol"),
        ({"network": np.ones((3, 3))}, "network"),
        ({"network": -np.eye(12)}, "network"),
        ({"network": "abc"}, "network"),
        ({"penalty": "lasso", "eta": 1.0}, "eta"),
    ],
)
def test_network_logreg_options(kwargs, match):
    args = {"network": np.eye(12, k=1) + np.eye(12, k=-1), **kwargs}
    with pytest.raises(ValueError, match=match):
        S.network_logreg(X, LABELS, **args)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        *[({"n_neighbors": v}, "n_neighbors") for v in (0, 12, 1.5, "x", True, None)],
        ({"chunk_size": 0}, "chunk_size"),
        ({"absolute": "x"}, "absolute"),
    ],
)
def test_network_from_correlation_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        S.network_from_correlation(X, **{"n_neighbors": 3, **kwargs})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_nonzero": 0}, "n_nonzero"),
        ({"n_nonzero": [1]}, "n_nonzero"),
        ({"lam": np.nan}, "lam"),
        ({"lam": [1]}, "lam"),
        ({"solver": "x"}, "solver"),
        ({"max_iter": 0}, "max_iter"),
        ({"step_factor": 0}, "step_factor"),
        ({"momentum": {"foo": 1}}, "momentum"),
        ({"fit_intercept": "x"}, "fit_intercept"),
        ({"init": [np.ones(4)]}, "init"),
        ({"init": [np.full(4, np.nan), np.ones(5)]}, "init"),
        *[({"random_state": v}, "random_state") for v in BAD_SEEDS],
    ],
)
def test_multilinear_logreg_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        S.multilinear_logreg(T, LABELS, **kwargs)


@pytest.mark.parametrize(
    ("tensor", "match"),
    [(T[:, 0, 0], r"shape \(n_samples"), (_nan(T), "NaN"), ("abc", "numeric")],
)
def test_multilinear_logreg_tensor(tensor, match):
    with pytest.raises(ValueError, match=rf"`T`.*{match}"):
        S.multilinear_logreg(tensor, LABELS)


def test_multilinear_decision():
    w = [np.ones(4), np.ones(5)]
    with pytest.raises(ValueError, match="`T` must have shape"):
        S.multilinear_decision(T, [np.ones(3), np.ones(5)])
    with pytest.raises(ValueError, match="finite"):
        S.multilinear_decision(_nan(T), w)
    with pytest.raises(ValueError, match="intercept"):
        S.multilinear_decision(T, w, "x")


# -- operators -------------------------------------------------------------------------------

PROJECTIONS = {
    "topk_sphere": S.topk_sphere,
    "topk_box": S.topk_box,
    "topk_nonneg": S.topk_nonneg,
    "topk_rows_nonneg": S.topk_rows_nonneg,
}


@pytest.mark.parametrize("project", PROJECTIONS.values(), ids=PROJECTIONS.keys())
@pytest.mark.parametrize(
    ("z", "k", "match"),
    [
        (X, 0, "positive integer"),
        (X, 1.5, "positive integer"),
        (X, "x", "positive integer"),
        (X, True, "positive integer"),
        (X, None, "positive integer"),
        (_nan(X), 2, "NaN"),
        ("abc", 2, "numeric array"),
        (np.zeros((2, 2, 2)), 1, "-D"),
        (3.0, 1, "-D"),
        (sp.csr_matrix(X), 2, "dense array"),
    ],
)
def test_projections(project, z, k, match):
    with pytest.raises(ValueError, match=match):
        project(z, k)


@pytest.mark.parametrize("project", PROJECTIONS.values(), ids=PROJECTIONS.keys())
def test_projections_leave_their_input_alone(project):
    z = X.copy()
    assert project(z, np.int64(2)).shape == X.shape
    assert np.array_equal(z, X)


@pytest.mark.parametrize(
    ("tau", "match"), [(-1, "non-negative"), ("x", "tau"), (np.ones(3), "does not match")]
)
def test_soft_threshold(tau, match):
    with pytest.raises(ValueError, match=match):
        S.soft(X[:, 0], tau)
    with pytest.raises(ValueError, match="`z` contains NaN"):
        S.soft(_nan(X), 1.0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: S.make_groups([], 12), "`groups` is empty"),
        (lambda: S.make_groups("abc", 12), "`groups` must be a list"),
        (lambda: S.make_groups(GROUPS, 1.5), "n_vars"),
        (lambda: S.make_groups([np.array([[0, 1]])], 12), "flat list"),
        (lambda: S.group_topk(_nan(X[:, 0]), GROUPS, 1), "NaN"),
        (lambda: S.group_topk(X[:, 0], GROUPS, 1, size_normalized="x"), "size_normalized"),
        (lambda: S.group_soft(X[:, 0], GROUPS, tau=-1), "tau"),
        (lambda: S.group_soft(X[:, 0], GROUPS, 1, weights=[-1, 1, 1]), "weights"),
        (lambda: S.overlapping_group_prox(X[:, 0], GROUPS, 1, rho=0), "rho"),
        (lambda: S.overlapping_group_prox(X[:, 0], GROUPS, 1, n_iter=1.5), "n_iter"),
    ],
)
def test_group_operators(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _palm(**kwargs):
    args = {
        "grad": lambda x, i: x[i],
        "lipschitz": lambda x, i: 1.0,
        "prox": lambda z, i, s: z,
        "objective": lambda x: float(np.sum(x[0] ** 2)),
        **kwargs,
    }
    x0 = args.pop("x0", [np.ones(2)])
    return S.palm(x0, **args)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x0": []}, "x0"),
        ({"solver": "x"}, "solver"),
        ({"max_iter": 1.5}, "max_iter"),
        ({"min_iter": -1}, "min_iter"),
        ({"tol": -1}, "tol"),
        ({"stop": "x"}, "stop"),
        ({"step_factor": 0}, "step_factor"),
        ({"beta0": -1}, "beta0"),
        ({"beta_growth": 0.5}, "beta_growth"),
        ({"grad": "x"}, "grad"),
        ({"objective": lambda x: np.nan}, "objective"),
    ],
)
def test_palm_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _palm(**kwargs)
