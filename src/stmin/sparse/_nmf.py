"""Row-sparse NMF: NMF_ℓ20, ONMF_ℓ20 and GNMF_ℓ20 (Min et al.) on the PALM engine.

Orientation: the functional core takes the papers' orientation, ``X`` = features × samples
(genes × spots/cells, i.e. ``adata.X.T``), and factorises ``X ≈ W H`` with ``W`` (genes × r,
at most ``k`` nonzero rows = the selected genes) and ``H`` (r × samples).

Objective (``Ω`` the graph term, ``P`` the orthogonality penalty)::

    ½||X − WH||²_F + (λ/2) tr(H L Hᵀ) + (ρ/2)(||1ᵀH||² − ||H||²_F) + (ν/2)||H||²_F
    s.t. W ≥ 0, H ≥ 0, ||W||_{2,0} ≤ k

with ``L`` the Laplacian of a sample graph (GNMF_ℓ20; ``λ = 0`` gives NMF_ℓ20 on the same code
path) and ``ρ`` raised geometrically between warm-started subproblems (ONMF_ℓ20).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
import scipy.sparse as sp

from .._random import check_random_state
from .._validate import check_bool, check_int, check_number
from ._checks import check_iterations, check_k, check_matrix, check_momentum, check_nonneg, rng
from ._graph import check_graph, laplacian
from ._palm import check_solver, palm
from ._projections import _topk_rows_nonneg

NMFSolver = Literal["palm", "apalm", "abpl+"]


class SparseNMFResult(NamedTuple):
    """Output of :func:`sparse_nmf`.

    Attributes
    ----------
    W
        Gene loadings (genes × r), non-negative, at most ``k`` nonzero rows.
    H
        Sample factors (r × samples), non-negative.
    selected
        Boolean mask of the genes with a nonzero row in ``W``.
    objective
        Objective after every iteration (all ONMF subproblems concatenated).
    n_iter
        Total number of PALM iterations.
    converged
        Whether the stopping rule fired before the iteration cap.
    rho_path
        ``ρ`` of each ONMF subproblem (empty for plain/graph NMF).
    orth_error
        ``||ĤĤᵀ − I||_F / r²`` (``Ĥ`` = ``H`` with unit rows) after each ONMF subproblem, or
        for plain NMF the final value only.
    """

    W: np.ndarray
    H: np.ndarray
    selected: np.ndarray
    objective: np.ndarray
    n_iter: int
    converged: bool
    rho_path: np.ndarray
    orth_error: np.ndarray


def _mean(X) -> float:
    return float(X.sum() / (X.shape[0] * X.shape[1]))


def _nndsvd(X, r: int, fill: bool, random_state) -> tuple[np.ndarray, np.ndarray]:
    """NNDSVD initialisation (Boutsidis & Gallopoulos 2008); ``fill`` sets zeros to mean(X)."""
    from sklearn.utils.extmath import randomized_svd

    if min(X.shape) <= 200 and X.shape[0] * X.shape[1] <= 4_000_000:
        # small: exact SVD (a small sparse X is densified only here, so CSR and dense agree)
        U, s, Vt = np.linalg.svd(X.toarray() if sp.issparse(X) else X, full_matrices=False)
        U, s, Vt = U[:, :r], s[:r], Vt[:r]
    else:
        U, s, Vt = randomized_svd(X, r, random_state=random_state)
    W = np.zeros((X.shape[0], r))
    H = np.zeros((r, X.shape[1]))
    for j in range(r):
        u, v = U[:, j], Vt[j]
        if j == 0:
            # the leading pair of a non-negative matrix has one sign; take absolute values
            W[:, 0], H[0] = np.sqrt(s[0]) * np.abs(u), np.sqrt(s[0]) * np.abs(v)
            continue
        up, un = np.maximum(u, 0), np.maximum(-u, 0)
        vp, vn = np.maximum(v, 0), np.maximum(-v, 0)
        nup, nun = np.linalg.norm(up), np.linalg.norm(un)
        nvp, nvn = np.linalg.norm(vp), np.linalg.norm(vn)
        if nup * nvp >= nun * nvn:
            a, b, m = up, vp, nup * nvp
            na, nb = nup, nvp
        else:
            a, b, m = un, vn, nun * nvn
            na, nb = nun, nvn
        if m > 0:
            scale = np.sqrt(s[j] * m)
            W[:, j], H[j] = scale * a / na, scale * b / nb
    if fill:
        avg = _mean(X)
        W[W == 0] = avg
        H[H == 0] = avg
    return W, H


def _init(X, r, init, random_state) -> tuple[np.ndarray, np.ndarray]:
    d, n = X.shape
    if isinstance(init, tuple | list):
        if len(init) != 2:
            raise ValueError("`init` given as arrays must be a pair (W0, H0).")
        try:
            W0 = np.array(init[0], dtype=np.float64)
            H0 = np.array(init[1], dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                "`init` given as arrays must be two numeric arrays (W0, H0)."
            ) from None
        if W0.shape != (d, r) or H0.shape != (r, n):
            raise ValueError(
                f"`init` arrays must have shapes W0 {(d, r)} and H0 {(r, n)} "
                f"(got {W0.shape} and {H0.shape})."
            )
        if not (np.isfinite(W0).all() and np.isfinite(H0).all()):
            raise ValueError("`init` arrays (W0, H0) contain NaN or infinite values.")
        return W0, H0
    if isinstance(init, str) and init in ("nndsvd", "nndsvda"):
        return _nndsvd(X, r, init == "nndsvda", random_state)
    if isinstance(init, str) and init == "random":
        gen = rng(random_state)
        scale = 2.0 * np.sqrt(max(_mean(X), 1e-12) / r)
        return scale * gen.uniform(size=(d, r)), scale * gen.uniform(size=(r, n))
    raise ValueError(
        f"`init` must be 'nndsvd', 'nndsvda', 'random' or a pair (W0, H0) (got {init!r})."
    )


def _top_eig(M: np.ndarray) -> float:
    """Spectral norm of a small symmetric matrix."""
    ev = np.linalg.eigvalsh(M)
    return float(max(abs(ev[0]), abs(ev[-1])))


def _orth_error(H: np.ndarray) -> float:
    r = H.shape[0]
    norms = np.linalg.norm(H, axis=1, keepdims=True)
    Hn = H / np.where(norms > 0, norms, 1.0)
    return float(np.linalg.norm(Hn @ Hn.T - np.eye(r)) / r**2)


def nmf_objective(X, W, H, *, lap=None, lam_graph: float = 0.0, rho=0.0, nu=0.0) -> float:
    """The sparse-NMF objective at ``(W, H)`` (``X`` genes × samples; see the module docstring)."""
    X = check_matrix(X, "X")
    d, n = X.shape
    W = np.asarray(W, dtype=float)
    H = np.asarray(H, dtype=float)
    if W.ndim != 2 or H.ndim != 2 or W.shape[0] != d or H.shape[1] != n or W.shape[1] != H.shape[0]:
        raise ValueError(
            f"`W` {W.shape} and `H` {H.shape} do not factorise `X` {X.shape}: W must be "
            f"{d} × r and H r × {n}."
        )
    lam_graph = check_number(lam_graph, "lam_graph", min_value=0)
    if lam_graph and lap is None:
        raise ValueError("`lam_graph` > 0 needs the Laplacian `lap` of the sample graph.")
    rho = check_number(rho, "rho", min_value=0)
    nu = check_number(nu, "nu", min_value=0)
    R = X - W @ H if not sp.issparse(X) else X.toarray() - W @ H
    val = 0.5 * float(np.sum(R * R))
    if lam_graph:
        val += 0.5 * lam_graph * float(np.sum(H * (lap @ H.T).T))
    if rho:
        val += 0.5 * rho * float(np.sum(H.sum(axis=0) ** 2) - np.sum(H * H))
    if nu:
        val += 0.5 * nu * float(np.sum(H * H))
    return val


def sparse_nmf(
    X,
    n_components: int,
    k: int | None = None,
    *,
    orthogonal: bool = False,
    graph=None,
    lam_graph: float = 0.0,
    normalized_laplacian: bool = False,
    solver: NMFSolver = "palm",
    max_iter: int = 500,
    tol: float = 3e-3,
    min_iter: int | None = None,
    init="nndsvd",
    random_state: int | None = 0,
    rho: float = 0.1,
    rho_growth: float = 1.5,
    rho_max_iter: int = 100,
    nu: float | None = None,
    step_factor: float | None = None,
    momentum: dict | None = None,
) -> SparseNMFResult:
    """NMF with at most ``k`` nonzero rows in ``W`` (NMF_ℓ20), optionally orthogonal or graph-regularised.

    Parameters
    ----------
    X
        Non-negative data, **genes × samples** (the papers' orientation: ``adata.X.T``); dense or
        ``scipy.sparse`` (kept sparse: only ``X Hᵀ`` and ``Wᵀ X`` products are formed).
    n_components
        Rank ``r``.
    k
        Number of genes kept (nonzero rows of ``W``); ``None`` keeps all (plain NMF).
    orthogonal
        ONMF_ℓ20: add ``(ρ/2)(||1ᵀH||² − ||H||²)`` and raise ``ρ ← rho_growth·ρ`` between
        warm-started subproblems until the rows of ``H`` are orthogonal.
    graph
        Sample affinity (samples × samples, non-negative, sparse or dense) for GNMF_ℓ20's
        ``(λ/2) tr(H L Hᵀ)``, ``L`` its Laplacian.
    lam_graph
        ``λ``; ``0`` reduces GNMF_ℓ20 to NMF_ℓ20 exactly (same iterates).
    normalized_laplacian
        Use the symmetric normalised Laplacian instead of ``D − S``.
    solver
        ``"palm"`` (no momentum), ``"apalm"`` (extrapolation with restart) or ``"abpl+"``
        (adaptive momentum with the monotone safeguard); see :func:`stmin.sparse.palm`.
    max_iter
        Iteration cap (per ONMF subproblem).
    tol
        Stop when ``||ΔW||/||W|| + ||ΔH||/||H|| ≤ tol`` (the SSNMF rule).
    min_iter
        Minimum iterations before stopping (``None``: 20, or 5 per ONMF subproblem).
    init
        ``"nndsvd"``, ``"nndsvda"`` (zeros filled with the mean), ``"random"`` (uniform), or a
        pair ``(W0, H0)``; ``W0`` is projected onto the feasible set first.
    random_state
        Seed for the randomised SVD / random init.
    rho, rho_growth, rho_max_iter
        ONMF penalty start, growth ``γ`` and the number of subproblems at most.
    nu
        ``(ν/2)||H||²`` ridge; ``None``: 0, or ``1e-4`` for ONMF (the SSNMF defaults).
    step_factor
        ``c`` in the step ``1/(c L)``; ``None``: 1 (``palm``/``apalm``) or 1.5 (``abpl+``).
    momentum
        ABPL+ momentum settings ``beta0`` (0.6), ``beta_growth`` (1.1), ``beta_max`` (0.9999).

    Returns
    -------
    A :class:`SparseNMFResult` with ``W`` (genes × r) and ``H`` (r × samples).
    """
    check_solver(solver, ("palm", "apalm", "abpl+"))
    check_bool(orthogonal, "orthogonal")
    check_bool(normalized_laplacian, "normalized_laplacian")
    check_iterations(max_iter, tol, min_iter=min_iter)
    random_state = check_random_state(random_state)
    lam_graph = check_number(lam_graph, "lam_graph", min_value=0)
    check_number(rho, "rho", min_value=0, min_inclusive=False)
    check_number(rho_growth, "rho_growth", min_value=1, min_inclusive=False)
    check_int(rho_max_iter, "rho_max_iter", min_value=1)
    if nu is not None:
        check_number(nu, "nu", min_value=0)
    if step_factor is not None:
        check_number(step_factor, "step_factor", min_value=0, min_inclusive=False)
    momentum = check_momentum(momentum)
    X = check_matrix(X, "X")
    check_nonneg(X, "X")
    d, n = X.shape
    r = check_k(n_components, min(d, n), "n_components")
    k = d if k is None else check_k(k, d, "k")
    lap, lap_norm = None, 0.0
    if graph is not None:
        graph = check_graph(graph, n, "graph")
        lap = sp.csr_matrix(laplacian(graph, normalized=normalized_laplacian))
        # ||L||₂ ≤ 2·max degree (combinatorial) or ≤ 2 (normalised)
        lap_norm = 2.0 if normalized_laplacian else 2.0 * float(np.max(lap.diagonal(), initial=0.0))
    elif lam_graph:
        raise ValueError("`lam_graph` > 0 needs a sample `graph`.")
    nu = (1e-4 if orthogonal else 0.0) if nu is None else float(nu)
    if min_iter is None:
        min_iter = 5 if orthogonal else 20

    sparse_x = sp.issparse(X)
    xsq = float(X.multiply(X).sum()) if sparse_x else float(np.sum(X * X))
    XT = X.T.tocsr() if sparse_x else X.T

    W0, H0 = _init(X, r, init, random_state)
    W0 = _topk_rows_nonneg(W0, k)
    H0 = np.maximum(H0, 0.0)

    memo: dict = {}
    state = {"rho": rho if orthogonal else 0.0}

    def wtx(W):
        if memo.get("W") is W:
            return memo["WtX"]
        out = (XT @ W).T if sparse_x else W.T @ X
        memo["W"], memo["WtX"] = W, np.ascontiguousarray(out)
        return memo["WtX"]

    def h_hess(W):
        G = W.T @ W
        rho_ = state["rho"]
        if rho_ or nu:
            G = G + rho_ * np.ones((r, r)) + (nu - rho_) * np.eye(r)
        return G

    def lipschitz(x, i):
        W, H = x
        if i == 0:
            return _top_eig(H @ H.T)
        return _top_eig(h_hess(W)) + lam_graph * lap_norm

    def grad(x, i):
        W, H = x
        if i == 0:
            return W @ (H @ H.T) - X @ H.T
        g = h_hess(W) @ H - wtx(W)
        if lap is not None:
            g = g + lam_graph * (lap @ H.T).T
        return g

    def prox(z, i, step):
        if i == 0:
            return _topk_rows_nonneg(z, k)
        return np.maximum(z, 0.0)

    def objective(x):
        W, H = x
        HHt = H @ H.T
        val = 0.5 * xsq - float(np.sum(wtx(W) * H)) + 0.5 * float(np.sum((W.T @ W) * HHt))
        if lap is not None:
            val += 0.5 * lam_graph * float(np.sum(H * (lap @ H.T).T))
        rho_ = state["rho"]
        if rho_:
            val += 0.5 * rho_ * (float(np.sum(H.sum(axis=0) ** 2)) - float(np.trace(HHt)))
        if nu:
            val += 0.5 * nu * float(np.trace(HHt))
        return val

    mom = {"beta0": 0.6, "beta_growth": 1.1, "beta_max": 0.9999, **(momentum or {})}
    kwargs = dict(
        grad=grad,
        lipschitz=lipschitz,
        prox=prox,
        objective=objective,
        solver=solver,
        step_factor=step_factor,
        max_iter=max_iter,
        min_iter=min_iter,
        tol=tol,
        stop="iterate",
        **mom,
    )
    x = [W0, H0]
    if not orthogonal:
        res = palm(x, **kwargs)
        W, H = res.x
        return SparseNMFResult(
            W,
            H,
            np.any(W > 0, axis=1),
            res.objective,
            res.n_iter,
            res.converged,
            np.empty(0),
            np.array([_orth_error(H)]),
        )

    objective_path, rho_path, orth_path = [], [], []
    n_iter_total, converged = 0, False
    for outer in range(rho_max_iter):
        state["rho"] = rho * rho_growth**outer
        res = palm(x, **kwargs)
        delta = sum(
            np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)
            for a, b in zip(res.x, x, strict=True)
        )
        x = res.x
        n_iter_total += res.n_iter
        objective_path.append(res.objective if outer == 0 else res.objective[1:])
        rho_path.append(state["rho"])
        orth_path.append(_orth_error(x[1]))
        if orth_path[-1] <= tol and delta <= tol:
            converged = True
            break
    W, H = x
    return SparseNMFResult(
        W,
        H,
        np.any(W > 0, axis=1),
        np.concatenate(objective_path),
        n_iter_total,
        converged,
        np.asarray(rho_path),
        np.asarray(orth_path),
    )
