"""ℓ∞/ℓ0 weighted sparse PLS (wsPLS), its multi-view form (mwsPLS) and SWCCA (the ℓ2 case).

One solver (PALM with a fixed step ``1/L_c`` on the block-multilinear objective) covers::

    max_{u_i, w}  wᵀ [ (X₁u₁) ⊙ (X₂u₂) ]                       (two views)
                  Σ_{i<j} wᵀ[(X_i u_i) ⊙ (X_j u_j)]  ("sum")   or   wᵀ[⊙_i X_i u_i]  ("product")
    s.t. ‖u_i‖₂ = 1, ‖u_i‖₀ ≤ k_i,   w ∈ W

with ``W`` = ``{0 ≤ w ≤ 1, ‖w‖₀ ≤ k_obs}`` (``"linf"``, wsPLS), ``{w ∈ {0,1}ⁿ, ‖w‖₀ ≤ k_obs}``
(``"binary"``) or ``{‖w‖₂ = 1, ‖w‖₀ ≤ k_obs}`` (``"l2"``, SWCCA). The objective is linear in
each block, so every PALM step (exact projection of ``x + ∇/L_c``) never lowers it, for any
``L_c > 0``; ``L_c = 0`` is exact block maximisation (the SWCCA algorithm).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np

from .._random import check_random_state
from .._validate import check_bool, check_choice, check_number
from ._checks import check_iterations, check_k, check_matrix, rng
from ._projections import _binary_topk, _check_k, _top_mask, _topk_box, _topk_sphere
from ._rank1 import LowRankUpdated, alternate, leading_pair, random_unit


class WSPLSResult(NamedTuple):
    """Output of :func:`wspls` / :func:`swcca`.

    Attributes
    ----------
    loadings
        One array per view (``p_i × K``): unit, sparse loadings ``u_i`` of each component.
    W
        Sample weights (``n × K``).
    scores
        One array per view (``n × K``): ``X_i u_i`` (on the centred data when ``center``).
    objective
        Final objective of each component.
    history
        Per component, the objective after every sweep (non-decreasing).
    n_iter
        Sweeps per component.
    converged
        Whether each component met the tolerance.
    """

    loadings: list
    W: np.ndarray
    scores: list
    objective: np.ndarray
    history: list
    n_iter: np.ndarray
    converged: np.ndarray

    @property
    def u(self) -> np.ndarray:
        """Loadings of the first view."""
        return self.loadings[0]

    @property
    def v(self) -> np.ndarray:
        """Loadings of the second view."""
        return self.loadings[1]


def _wmul(w: np.ndarray, A: np.ndarray) -> np.ndarray:
    return w * A if A.ndim == 1 else w[:, None] * A


def _weight_step(constraint: str, k: int, lipschitz: float):
    """``(w, grad) → new w``: the PALM step of the sample weights."""

    def step(w, c):
        if lipschitz == 0:  # exact maximiser of wᵀc over W
            if constraint == "l2":
                return _topk_sphere(c, k)
            return (_top_mask(c, k) & (c > 0)).astype(float)
        a = w + c / lipschitz
        if constraint == "linf":
            return _topk_box(a, k)
        if constraint == "binary":
            return _binary_topk(a, k)
        return _topk_sphere(a, k)

    return step


def _combine(S: list[np.ndarray], scheme: str, skip: int | None = None) -> np.ndarray:
    """Sum of pairwise products (``"sum"``) or product of the scores, leaving out ``skip``."""
    if skip is not None:
        rest = [s for i, s in enumerate(S) if i != skip]
        if scheme == "product":
            return np.prod(rest, axis=0)
        return np.sum(rest, axis=0)
    if scheme == "product" or len(S) == 2:
        return np.prod(S, axis=0)
    total = np.sum(S, axis=0)
    return 0.5 * (total**2 - np.sum([s**2 for s in S], axis=0))


def wspls(
    X,
    Y,
    k_var: int | None = None,
    k_view2=None,
    k_obs: int | None = None,
    *,
    sample_constraint: Literal["linf", "binary", "l2"] = "linf",
    scheme: Literal["sum", "product"] = "sum",
    n_components: int = 1,
    lipschitz: float = 0.1,
    update_weights: bool = True,
    n_restarts: int = 1,
    max_iter: int = 100,
    min_iter: int = 20,
    tol: float = 1e-5,
    center: bool = True,
    random_state: int | None = 0,
) -> WSPLSResult:
    """Weighted sparse PLS (Min, Xu & Ding 2023) by PALM: joint feature and sample selection.

    Finds unit, sparse loadings ``u`` (``X``) and ``v`` (``Y``) and sample weights ``w`` with at
    most ``k_obs`` nonzeros maximising ``wᵀ[(Xu) ⊙ (Yv)] = uᵀ Xᵀ diag(w) Y v``. PALM step with
    ``L_c`` = ``lipschitz``: ``u ← P(u + Xᵀ(w ⊙ Yv)/L_c)`` (top-``k`` by magnitude, unit norm),
    likewise ``v``, then ``w ← P_W(w + (Xu ⊙ Yv)/L_c)``.

    Parameters
    ----------
    X
        First view (``n × p``), dense or sparse.
    Y
        Second view (``n × q``), or a list of further views (multi-view mwsPLS).
    k_var
        Nonzeros of ``u`` (``None``: all).
    k_view2
        Nonzeros of ``v``, or a list (one per further view); ``None``: all.
    k_obs
        Samples kept (nonzeros of ``w``); ``None``: all.
    sample_constraint
        ``"linf"`` (``0 ≤ w ≤ 1``), ``"binary"`` (``w ∈ {0,1}``) or ``"l2"`` (``‖w‖₂ = 1``,
        SWCCA).
    scheme
        Multi-view objective: ``"sum"`` of pairwise terms or ``"product"`` of all scores (the
        same for two views).
    n_components
        Components; between them each view is deflated ``X_i ← X_i (I − u_i u_iᵀ)``.
    lipschitz
        ``L_c`` of the fixed step ``1/L_c`` (the paper's default 0.1); 0 gives exact block
        maximisation.
    update_weights
        ``False`` holds ``w`` at its start (all ones; ``1/√n`` for ``"l2"``): with full ``k`` this
        is PLS-SVD, the top singular pair of ``Xᵀ Y``.
    n_restarts
        Starts: the first from the top singular pair of ``Xᵀ Y`` (two views), the others random;
        the best objective is kept. The default is that one start; the authors' code draws 5
        (``n_restarts=5``; ~2.5× the time).
    max_iter, min_iter, tol
        Sweeps: at least ``min_iter``, at most ``max_iter``; stop when no block moves by more than
        ``tol``.
    center
        Centre every view's columns (implicitly; sparse input stays sparse), as PLS does.
    random_state
        Seed of the random starts.

    Returns
    -------
    :class:`WSPLSResult`.
    """
    check_choice(sample_constraint, "sample_constraint", ("linf", "binary", "l2"))
    check_choice(scheme, "scheme", ("sum", "product"))
    lipschitz = check_number(lipschitz, "lipschitz", min_value=0)
    check_bool(update_weights, "update_weights")
    check_bool(center, "center")
    check_iterations(max_iter, tol, min_iter=min_iter)
    random_state = check_random_state(random_state)
    others = list(Y) if isinstance(Y, list | tuple) else [Y]
    if not others:
        raise ValueError("`Y` is an empty list; pass the second view (or a list of views).")
    views = [check_matrix(X, "X")] + [
        check_matrix(V, "Y" if len(others) == 1 else f"Y[{i}]") for i, V in enumerate(others)
    ]
    n = views[0].shape[0]
    for i, V in enumerate(views[1:]):
        if V.shape[0] != n:
            name = "Y" if len(others) == 1 else f"Y[{i}]"
            raise ValueError(
                f"`{name}` has {V.shape[0]} rows but `X` has {n}; the views must share the "
                "observations (same rows, same order)."
            )
    if isinstance(k_view2, list | tuple):
        if len(k_view2) != len(others):
            raise ValueError(f"`k_view2` needs {len(others)} values, one per further view.")
        k_rest = list(k_view2)
    else:
        k_rest = [k_view2] * len(others)
    names = ["k_var"] + (
        ["k_view2"] if len(others) == 1 else [f"k_view2[{i}]" for i in range(len(others))]
    )
    ks = [
        V.shape[1] if k is None else check_k(k, V.shape[1], nm)
        for V, k, nm in zip(views, [k_var, *k_rest], names, strict=True)
    ]
    k_w = n if k_obs is None else check_k(k_obs, n, "k_obs")
    check_k(n_components, min(V.shape[1] for V in views), "n_components")
    _check_k(n_restarts, "n_restarts")
    ops = [LowRankUpdated(V) for V in views]
    if center:
        ops = [op.centered() for op in ops]
    M = len(ops)
    gen = rng(random_state)
    w_start = np.full(n, 1 / np.sqrt(n) if sample_constraint == "l2" else 1.0)
    w_step = _weight_step(sample_constraint, k_w, lipschitz)
    if (
        M == 2
        and not update_weights
        and all(k == op.shape[1] for k, op in zip(ks, ops, strict=True))
    ):
        # PLS-SVD: the first start is the answer; the sweeps only confirm it
        n_restarts, min_iter = 1, 1

    K = n_components
    loadings = [np.zeros((op.shape[1], K)) for op in ops]
    scores = [np.zeros((n, K)) for _ in ops]
    W, objective = np.zeros((n, K)), np.zeros(K)
    hist, n_iter, conv = [], [], []
    for c in range(K):
        init = [random_unit(op.shape[1], n_restarts, gen) for op in ops]
        if M == 2:
            a, b = ops

            def mv(V, a=a, b=b):
                return a.rmatvec(_wmul(w_start, b.matvec(V)))

            def rmv(U, a=a, b=b):
                return b.rmatvec(_wmul(w_start, a.matvec(U)))

            u1, _, v1 = leading_pair(mv, rmv, (a.shape[1], b.shape[1]), gen)
            init[0][:, 0], init[1][:, 0] = u1, v1
        init.append(np.repeat(w_start[:, None], n_restarts, axis=1))
        cache: dict = {}

        def update(b, cur, ops=ops, cache=cache):
            Wc = cur[M]
            if b == 0:
                cache["S"] = [op.matvec(U) for op, U in zip(ops, cur[:M], strict=True)]
            S = cache["S"]
            if b < M:
                g = ops[b].rmatvec(Wc * _combine(S, scheme, skip=b))
                z = g if lipschitz == 0 else cur[b] + g / lipschitz
                new = _topk_sphere(z, ks[b])
                dead = ~new.any(axis=0)
                new[:, dead] = cur[b][:, dead]
                S[b] = ops[b].matvec(new)
                return new
            cache["c"] = _combine(S, scheme)
            return w_step(Wc, cache["c"]) if update_weights else Wc

        def obj(cur, cache=cache):
            return np.einsum("ij,ij->j", cur[M], cache["c"])

        res = alternate(init, update, obj, tol=tol, max_iter=max_iter, min_iter=min_iter)
        us, w = res.blocks[:M], res.blocks[M]
        if M == 2 and us[0][np.argmax(np.abs(us[0]))] < 0:
            us = [-us[0], -us[1]]
        for i, op in enumerate(ops):
            loadings[i][:, c] = us[i]
            scores[i][:, c] = op.matvec(us[i])
        W[:, c] = w
        objective[c] = res.objective
        hist.append(res.history)
        n_iter.append(res.n_iter)
        conv.append(res.converged)
        ops = [op.minus(op.matvec(u), u) for op, u in zip(ops, us, strict=True)]
    return WSPLSResult(loadings, W, scores, objective, hist, np.array(n_iter), np.array(conv))


def swcca(
    X,
    Y,
    k_var: int | None = None,
    k_view2=None,
    k_obs: int | None = None,
    *,
    lipschitz: float = 0.0,
    max_iter: int = 1000,
    min_iter: int = 1,
    tol: float = 1e-4,
    **kwargs,
) -> WSPLSResult:
    """Sparse weighted CCA (Min, Liu & Zhang 2018): :func:`wspls` with ``‖w‖₂ = 1``.

    Exact alternating maximisation (``lipschitz=0``): ``u ← P(Xᵀ(w ⊙ Yv))``,
    ``v ← P(Yᵀ(w ⊙ Xu))``, ``w ← P((Xu) ⊙ (Yv))`` with ``P`` the top-``k`` unit projection;
    the objective never decreases. Other arguments as in :func:`wspls`.
    """
    if kwargs.get("sample_constraint", "l2") != "l2":
        raise ValueError(
            "SWCCA weights the samples with a unit l2 vector (`sample_constraint='l2'`); for "
            f"{kwargs['sample_constraint']!r} use `wspls`."
        )
    kwargs.pop("sample_constraint", None)
    return wspls(
        X,
        Y,
        k_var,
        k_view2,
        k_obs,
        sample_constraint="l2",
        lipschitz=lipschitz,
        max_iter=max_iter,
        min_iter=min_iter,
        tol=tol,
        **kwargs,
    )
