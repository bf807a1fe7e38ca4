"""L0 graph-regularised sparse SVD (AISP) and group-sparse SVD (GL0/GL1/OGL0/OGL1).

Both solve rank-1 layers ``max uᵀ X v − penalties`` over unit vectors by alternating
projections (:func:`stmin.sparse._rank1.rank1`) and take further components by deflation
``X ← X − d u vᵀ``. ``X`` is observations × variables (spots × genes): ``u`` is the observation
side, ``v`` the variable (gene) side.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
import scipy.sparse as sp

from .._random import check_random_state
from .._validate import check_bool, check_int, check_number
from ._checks import check_iterations, check_k, check_matrix, rng
from ._graph import check_graph, laplacian
from ._groups import _weights, group_soft, group_topk, make_groups, overlapping_group_prox
from ._projections import _topk_sphere, _unit, abs_graph_linearize
from ._rank1 import LowRankUpdated, rank1


class SVDResult(NamedTuple):
    """Output of :func:`sparse_svd` and :func:`group_sparse_svd`.

    Attributes
    ----------
    U
        Observation factors (``n × K``), unit columns.
    d
        Pseudo-singular values ``d_k = u_kᵀ X_k v_k`` (``K``).
    V
        Variable loadings (``p × K``), unit columns, sparse.
    history
        Per component, the objective after every sweep (non-decreasing for the L0 and GL0
        models).
    n_iter
        Sweeps per component.
    converged
        Whether each component met the tolerance.
    active_groups
        Per component, the indices of the selected groups (group SVD only; else empty lists).
    """

    U: np.ndarray
    d: np.ndarray
    V: np.ndarray
    history: list
    n_iter: np.ndarray
    converged: np.ndarray
    active_groups: list


def _k_or_dim(k, dim: int, name: str) -> int:
    return dim if k is None else check_k(k, dim, name)


def _graph_matrices(graph, n: int, name: str):
    """``(L, M)``: normalised Laplacian and its PSD, non-negative complement ``M = 2I − L``."""
    L = laplacian(check_graph(graph, n, name), normalized=True)
    M = (2.0 * sp.eye(n, format="csr") - L).tocsr()
    return L, M


def _check_lam(lam, name: str, graph) -> float:
    lam = check_number(lam, name, min_value=0)
    if lam > 0 and graph is None:
        raise ValueError(f"`{name}` = {lam} > 0 needs a graph; pass the matching graph or set 0.")
    return lam


def _graph_projection(k: int, M, lam: float, penalty: str):
    """Projection ``z, old → new`` for one side of the AISP model (columns = restarts)."""
    if M is None or lam == 0:
        return lambda z, old: _topk_sphere(z, k)
    if penalty == "absolute":

        def project(z, old):
            # maximise Σ|u_i| s_i with s = |z| + λ M |u_old|, signs from z
            s = abs_graph_linearize(z, M, old, lam)
            return _topk_sphere(np.where(z >= 0, s, -s), k)

        return project

    return lambda z, old: _topk_sphere(z + lam * np.asarray(M @ old), k)


def _sign_fix(u: np.ndarray, v: np.ndarray):
    """Make the largest-magnitude entry of ``v`` positive."""
    j = int(np.argmax(np.abs(v)))
    return (-u, -v) if v[j] < 0 else (u, v)


def _quad(L, A: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->j", A, np.asarray(L @ A))


def _prepare(X, center: bool) -> LowRankUpdated:
    check_bool(center, "center")
    op = LowRankUpdated(check_matrix(X, "X"))
    return op.centered() if center else op


def _check_common(n_components: int, n: int, p: int, max_iter, tol) -> None:
    check_k(n_components, min(n, p), "n_components")
    check_iterations(max_iter, tol)


def _truncated_svd(op: LowRankUpdated, n_components: int, random_state) -> SVDResult:
    """All layers at once when nothing is constrained: the truncated SVD that deflation reaches.

    Small operators go through LAPACK, larger ones through ARPACK (``scipy.sparse.linalg.svds``)
    on the implicit (centred) operator, so sparse input stays sparse.
    """
    from scipy.sparse.linalg import LinearOperator, svds

    n, p = op.shape
    if min(n, p) <= 50 or n_components >= min(n, p) - 1:
        eye = np.eye(p)
        U, d, Vt = np.linalg.svd(np.asarray(op.matvec(eye)), full_matrices=False)
    else:
        lin = LinearOperator(
            (n, p), matvec=op.matvec, rmatvec=op.rmatvec, matmat=op.matvec, rmatmat=op.rmatvec,
            dtype=float,
        )  # fmt: skip
        seed = int(rng(random_state).integers(2**31 - 1))
        U, d, Vt = svds(lin, k=n_components, random_state=seed)
    order = np.argsort(-d)[:n_components]
    pairs = [_sign_fix(U[:, i], Vt[i]) for i in order]
    U = np.column_stack([u for u, _ in pairs])
    V = np.column_stack([v for _, v in pairs])
    d = d[order]
    history = [np.array([x]) for x in d]
    ones = np.ones(n_components, dtype=int)
    return SVDResult(U, d, V, history, ones, ones.astype(bool), [[] for _ in d])


def _run_components(op, n_components, make_side, *, n_restarts, max_iter, tol, random_state):
    """Fit ``n_components`` layers by deflation; ``make_side(op)`` gives the projections."""
    n, p = op.shape
    U, V, d = np.zeros((n, n_components)), np.zeros((p, n_components)), np.zeros(n_components)
    hist, n_iter, conv, extra = [], [], [], []
    gen = rng(random_state)
    for c in range(n_components):
        project_u, project_v, penalty, restarts, finish, polish = make_side(op)
        res = rank1(
            op,
            project_u,
            project_v,
            penalty=penalty,
            support_polish=polish,
            n_restarts=restarts,
            tol=tol,
            max_iter=max_iter,
            random_state=gen,
        )
        u, v = _sign_fix(*res.blocks)
        d[c] = float(u @ op.matvec(v))
        U[:, c], V[:, c] = u, v
        hist.append(res.history)
        n_iter.append(res.n_iter)
        conv.append(res.converged)
        extra.append(finish(op, u) if finish is not None else [])
        op = op.minus(d[c] * u, v)
    return SVDResult(U, d, V, hist, np.array(n_iter), np.array(conv), extra)


def sparse_svd(
    X,
    n_components: int = 1,
    k_obs: int | None = None,
    k_var: int | None = None,
    *,
    obs_graph=None,
    var_graph=None,
    lam_obs: float = 0.0,
    lam_var: float = 0.0,
    penalty: Literal["absolute", "signed"] = "absolute",
    n_restarts: int = 1,
    max_iter: int = 100,
    tol: float = 1e-4,
    center: bool = False,
    random_state: int | None = 0,
) -> SVDResult:
    """L0-norm sparse graph-regularised SVD (Min, Liu & Zhang 2016), solved by AISP.

    Each layer maximises ::

        uᵀ X v − (λ_obs/2) |u|ᵀ L_obs |u| − (λ_var/2) |v|ᵀ L_var |v|
        s.t. ‖u‖₂ = ‖v‖₂ = 1, ‖u‖₀ ≤ k_obs, ‖v‖₀ ≤ k_var

    with ``L`` the normalised Laplacian of a graph (``|·|`` element-wise; ``penalty="signed"``
    uses ``u`` and ``v`` instead, which pulls linked variables to the same sign). Each block step
    maximises a minorant (the quadratic is linearised with ``2I − L``, which is PSD), so the
    objective never decreases. The ``u`` update is ``s = |Xv| + λ_obs (2I − L)|u_old|``, keep
    the ``k_obs`` largest ``s``, restore the signs of ``Xv``, normalise; likewise for ``v``.

    Parameters
    ----------
    X
        Data (``n × p``), dense or sparse.
    n_components
        Number of layers (deflation ``X ← X − d u vᵀ`` between them).
    k_obs, k_var
        Nonzeros kept in ``u`` / ``v``; ``None`` keeps all.
    obs_graph, var_graph
        Adjacency (``n × n`` / ``p × p``, non-negative, dense or sparse; symmetrised).
    lam_obs, lam_var
        Graph penalty weights (need the graph when positive).
    penalty
        ``"absolute"`` (AISP) or ``"signed"``.
    n_restarts
        Starts per layer: the leading singular pair, then random unit vectors; the best
        objective is kept. The default, one start from the singular pair, is AGSVD's; the
        authors' SNSVD code uses 5 (``n_restarts=5``), which costs ~2.5× the time (random
        starts need many more sweeps before their support settles). With nothing constrained
        (full ``k``, no graph term) the problem is the truncated SVD and is solved as one
        (LAPACK or ARPACK), all layers at once.
    max_iter, tol
        Sweep cap; a restart stops when ``u`` and ``v`` move by at most ``tol`` (l2).
    center
        Centre the columns of ``X`` first (implicitly; sparse input stays sparse).
    random_state
        Seed of the random starts.

    Returns
    -------
    :class:`SVDResult`.
    """
    if not isinstance(penalty, str) or penalty not in ("absolute", "signed"):
        raise ValueError(f"`penalty` must be 'absolute' or 'signed' (got {penalty!r}).")
    check_int(n_restarts, "n_restarts", min_value=1)
    random_state = check_random_state(random_state)
    op = _prepare(X, center)
    n, p = op.shape
    _check_common(n_components, n, p, max_iter, tol)
    k_obs = _k_or_dim(k_obs, n, "k_obs")
    k_var = _k_or_dim(k_var, p, "k_var")
    lam_obs = _check_lam(lam_obs, "lam_obs", obs_graph)
    lam_var = _check_lam(lam_var, "lam_var", var_graph)
    L_obs, M_obs = (
        _graph_matrices(obs_graph, n, "obs_graph") if obs_graph is not None else (None,) * 2
    )
    L_var, M_var = (
        _graph_matrices(var_graph, p, "var_graph") if var_graph is not None else (None,) * 2
    )
    pu = _graph_projection(k_obs, M_obs, lam_obs, penalty)
    pv = _graph_projection(k_var, M_var, lam_var, penalty)
    vacuous = k_obs == n and k_var == p and lam_obs == 0 and lam_var == 0

    def penalty_fn(U, V):
        out = np.zeros(U.shape[1])
        f = np.abs if penalty == "absolute" else (lambda a: a)
        if lam_obs > 0:
            out -= 0.5 * lam_obs * _quad(L_obs, f(U))
        if lam_var > 0:
            out -= 0.5 * lam_var * _quad(L_var, f(V))
        return out

    pen = None if lam_obs == 0 and lam_var == 0 else penalty_fn
    if vacuous:  # the problem is the truncated SVD: solve it directly
        return _truncated_svd(op, n_components, random_state)

    def make_side(_op):
        return pu, pv, pen, n_restarts, None, pen is None

    return _run_components(
        op,
        n_components,
        make_side,
        n_restarts=n_restarts,
        max_iter=max_iter,
        tol=tol,
        random_state=random_state,
    )


def group_sparse_svd(
    X,
    groups,
    n_groups: int,
    penalty: Literal["gl0", "gl1", "ogl0", "ogl1"] = "gl0",
    n_components: int = 1,
    *,
    weights="sqrt_size",
    admm_rho: float = 1.0,
    admm_iter: int = 10,
    n_restarts: int = 1,
    max_iter: int = 100,
    tol: float = 1e-4,
    center: bool = False,
    random_state: int | None = 0,
) -> SVDResult:
    """Group-sparse SVD (Min, Liu & Zhang, TKDE 2021) with the group penalty on ``v``.

    Each layer maximises ``uᵀ X v`` over unit ``u`` and unit ``v`` whose support is made of
    ``n_groups`` groups of variables:

    - ``"gl0"``: keep the ``n_groups`` groups of largest ``‖z_g‖`` (non-overlapping groups);
      block-exact, so the objective ``d`` never decreases.
    - ``"gl1"``: group soft-threshold at the ``(n_groups+1)``-th largest ``‖z_g‖/w_g``.
    - ``"ogl0"``: overlapping groups ranked by ``‖z_g‖/√|g|``, support = union of the top ones.
    - ``"ogl1"``: overlapping group-lasso prox by ADMM (per-group copies, ``admm_rho``,
      ``admm_iter`` iterations), threshold as in ``"gl1"``.

    then ``v`` is normalised; ``u = X v / ‖X v‖``. Variables in no group are never selected.

    Parameters
    ----------
    X
        Data (``n × p``), dense or sparse.
    groups
        List of integer index arrays over the ``p`` variables (overlaps allowed for
        ``"ogl0"``/``"ogl1"``).
    n_groups
        Number of active groups per layer.
    penalty
        ``"gl0"``, ``"gl1"``, ``"ogl0"`` or ``"ogl1"``.
    n_components
        Number of layers (deflation between them).
    weights
        Group weights ``w_g`` of the L1 models: ``"sqrt_size"``, ``None`` (ones) or an array.
    admm_rho, admm_iter
        ADMM settings of ``"ogl1"``.
    n_restarts, max_iter, tol, center, random_state
        As in :func:`sparse_svd`.

    Returns
    -------
    :class:`SVDResult` with ``active_groups`` filled.
    """
    if not isinstance(penalty, str) or penalty not in ("gl0", "gl1", "ogl0", "ogl1"):
        raise ValueError(
            f"`penalty` must be one of 'gl0', 'gl1', 'ogl0', 'ogl1' (got {penalty!r})."
        )
    check_number(admm_rho, "admm_rho", min_value=0, min_inclusive=False)
    check_int(admm_iter, "admm_iter", min_value=1)
    check_int(n_restarts, "n_restarts", min_value=1)
    random_state = check_random_state(random_state)
    op = _prepare(X, center)
    n, p = op.shape
    _check_common(n_components, n, p, max_iter, tol)
    G = make_groups(groups, p)
    k = check_k(n_groups, G.n_groups, "n_groups")
    if penalty in ("gl1", "ogl1"):
        _weights(G, weights)
    if penalty in ("gl0", "gl1") and G.overlapping:
        raise ValueError(
            f"`penalty={penalty!r}` needs non-overlapping groups but some variables are in "
            f"several groups; use `penalty='o{penalty}'`."
        )

    def prox(z):
        if penalty == "gl0":
            return group_topk(z, G, k, return_active=True)
        if penalty == "ogl0":
            return group_topk(z, G, k, size_normalized=True, return_active=True)
        if penalty == "gl1":
            out = group_soft(z, G, k, weights=weights)
            return out, G.norms(out) > 0
        return overlapping_group_prox(
            z, G, k, weights=weights, rho=admm_rho, n_iter=admm_iter, return_active=True
        )

    def project_v(z, old):
        return _unit(prox(z)[0])

    def project_u(z, old):
        return _unit(z)

    def finish(op_c, u):
        active = prox(op_c.rmatvec(u))[1]
        return np.flatnonzero(active).tolist()

    def make_side(_op):
        return project_u, project_v, None, n_restarts, finish, penalty in ("gl0", "ogl0")

    return _run_components(
        op,
        n_components,
        make_side,
        n_restarts=n_restarts,
        max_iter=max_iter,
        tol=tol,
        random_state=random_state,
    )
