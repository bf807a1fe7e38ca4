"""ℓ0-constrained multilinear (rank-1) sparse logistic regression, ℓ0-MLSR (Yang & Min 2023).

Samples are tensors ``𝒳_i`` (``T[i]``, shape ``d_1 × … × d_N``) with binary labels; the
coefficient tensor is rank one, ``𝒲 = w_1 ∘ … ∘ w_N``::

    min (1/m) Σ_i log(1 + exp(−y_i(⟨𝒳_i, w_1∘…∘w_N⟩ + b))) + Σ_n (λ_n/2)||w_n||²
    s.t. ||w_n||_0 ≤ k_n

solved by APALM+ (the ``"apalm+"`` solver of :func:`stmin.sparse.palm`): adaptive momentum with
a safeguard, then per mode a gradient step ``1/(r L_n)`` followed by hard top-``k_n`` selection,
and a plain gradient step for the bias. ``N = 1`` is ℓ0-constrained logistic regression.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from scipy.special import expit

from .._random import check_random_state
from .._validate import check_bool, check_number
from ._checks import check_iterations, check_k, check_labels, check_momentum, rng
from ._palm import check_solver, palm


class MSLRResult(NamedTuple):
    """Output of :func:`multilinear_logreg`.

    Attributes
    ----------
    w
        One weight vector per mode (length ``d_n``, at most ``k_n`` nonzeros).
    intercept
        The bias ``b``.
    classes
        The two labels; ``classes[1]`` is the positive class (``y = +1``).
    proba
        Training probabilities of ``classes[1]``.
    objective
        Objective at the start and after every iteration.
    n_iter
        Iterations run.
    converged
        Whether ``|ΔF| < tol`` fired before ``max_iter``.
    n_nonzero
        ``k_n`` per mode.
    """

    w: list[np.ndarray]
    intercept: float
    classes: np.ndarray
    proba: np.ndarray
    objective: np.ndarray
    n_iter: int
    converged: bool
    n_nonzero: tuple[int, ...]


def _hard_topk(z: np.ndarray, k: int) -> np.ndarray:
    """Keep the ``k`` entries of largest magnitude (ties by index), zero the rest."""
    if k >= z.size:
        return z.copy()
    keep = np.argsort(-np.abs(z), kind="stable")[:k]
    out = np.zeros_like(z)
    out[keep] = z[keep]
    return out


def _contract_except(T: np.ndarray, ws: Sequence[np.ndarray], n: int) -> np.ndarray:
    """``Z[i] = 𝒳_i ×_{j≠n} w_j`` as an ``(m, d_n)`` array."""
    Z = T
    for j in range(len(ws) - 1, -1, -1):  # contract from the last mode so axes stay valid
        if j != n:
            Z = np.tensordot(Z, ws[j], axes=([j + 1], [0]))
    return Z


def multilinear_decision(T, w: Sequence[np.ndarray], intercept: float = 0.0) -> np.ndarray:
    """Margins ``⟨𝒳_i, w_1∘…∘w_N⟩ + b`` of the samples in ``T`` (``n_samples × d_1 × … × d_N``)."""
    try:
        T = np.asarray(T, dtype=np.float64)
        w = [np.asarray(v, dtype=np.float64) for v in w]
    except (TypeError, ValueError):
        raise ValueError("`T` and `w` must be numeric arrays.") from None
    if any(v.ndim != 1 for v in w) or not w:
        raise ValueError("`w` must be a list of 1-D weight vectors, one per mode.")
    if not (np.isfinite(T).all() and all(np.isfinite(v).all() for v in w)):
        raise ValueError("`T` and `w` must be finite (no NaN or infinite values).")
    intercept = check_number(intercept, "intercept")
    if T.ndim != len(w) + 1 or T.shape[1:] != tuple(len(v) for v in w):
        raise ValueError(
            f"`T` must have shape (n_samples, {', '.join(str(len(v)) for v in w)}) (got {T.shape})."
        )
    return _contract_except(T, w, len(w) - 1) @ w[-1] + intercept


def _sq_spectral_norm(Z: np.ndarray) -> float:
    """``||Z||₂²``, exactly from the smaller Gram when cheap, else the Frobenius bound."""
    m, d = Z.shape
    if min(m, d) > 300:
        return float(np.sum(Z * Z))
    G = Z @ Z.T if m <= d else Z.T @ Z
    return float(np.linalg.eigvalsh(G)[-1]) * (1.0 + 1e-10)


def _per_mode(value, n_modes: int, name: str) -> list:
    if np.ndim(value) == 0:
        return [value] * n_modes
    value = list(value)
    if len(value) != n_modes:
        raise ValueError(f"`{name}` needs one value per mode ({n_modes}), got {len(value)}.")
    return value


def multilinear_logreg(
    T,
    y,
    n_nonzero: float | int | Sequence[float | int] | None = 0.35,
    *,
    lam: float | Sequence[float] = 0.002,
    solver: str = "apalm+",
    max_iter: int = 2000,
    tol: float = 1e-5,
    step_factor: float = 1.5,
    momentum: dict | None = None,
    fit_intercept: bool = True,
    init: Sequence[np.ndarray] | None = None,
    random_state: int | None = 0,
) -> MSLRResult:
    """Fit an ℓ0-constrained rank-1 multilinear logistic regression (ℓ0-MLSR).

    Parameters
    ----------
    T
        Samples, shape ``(n_samples, d_1, …, d_N)``, ``N ≥ 1`` (``N = 1``: ordinary features).
    y
        Labels with exactly two classes; the larger (``np.unique`` order) is the positive class.
    n_nonzero
        Nonzeros ``k_n`` kept per mode: an int, a fraction in ``(0, 1]`` of ``d_n`` (rounded up),
        or one such value per mode; ``None`` keeps every coefficient.
    lam
        Ridge weight ``λ_n`` per mode (scalar or one per mode).
    solver
        ``"apalm+"`` (adaptive momentum with safeguard, the paper's), ``"abpl+"``, ``"apalm"`` or
        ``"palm"``.
    max_iter, tol
        Iteration cap; stop when ``|F_k − F_{k−1}| < tol``.
    step_factor
        ``r`` in the step ``1/(r L_n)`` (1.5 in the paper).
    momentum
        ``beta0`` (0.6), ``beta_growth`` ``t`` (1.1), ``beta_max`` (0.999).
    fit_intercept
        Fit the bias ``b`` (otherwise ``b = 0``).
    init
        Starting weights, one per mode; ``None``: standard normal on a random support of size
        ``k_n``, scaled to unit norm.
    random_state
        Seed of the initialisation.

    Returns
    -------
    An :class:`MSLRResult`.
    """
    check_solver(solver)
    check_iterations(max_iter, tol)
    check_number(step_factor, "step_factor", min_value=0, min_inclusive=False)
    momentum = check_momentum(momentum)
    check_bool(fit_intercept, "fit_intercept")
    random_state = check_random_state(random_state)
    try:
        T = np.asarray(T, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"`T` must be a numeric array (n_samples, d_1, ..., d_N) (got {type(T).__name__})."
        ) from None
    if T.ndim < 2:
        raise ValueError(
            f"`T` must have shape (n_samples, d_1, ..., d_N) with N >= 1 (got shape {T.shape})."
        )
    if not np.isfinite(T).all():
        raise ValueError("`T` contains NaN or infinite values.")
    m, dims = T.shape[0], T.shape[1:]
    n_modes = len(dims)
    y = check_labels(y, m, against="T")
    classes = np.unique(y)
    ypm = np.where(y == classes[1], 1.0, -1.0)

    ks = []
    for n, (kv, dn) in enumerate(
        zip(_per_mode(n_nonzero, n_modes, "n_nonzero"), dims, strict=True)
    ):
        if kv is None:
            kv = dn
        elif isinstance(kv, float) and 0 < kv <= 1:
            kv = int(np.ceil(kv * dn))
        ks.append(check_k(kv, dn, f"n_nonzero[{n}]"))
    lams = [
        check_number(v, f"lam[{i}]" if np.ndim(lam) else "lam", min_value=0)
        for i, v in enumerate(_per_mode(lam, n_modes, "lam"))
    ]

    gen = rng(random_state)
    if init is None:
        w0 = []
        for dn, kn in zip(dims, ks, strict=True):
            v = np.zeros(dn)
            supp = gen.choice(dn, size=kn, replace=False)
            v[supp] = gen.standard_normal(kn)
            w0.append(v / max(np.linalg.norm(v), 1e-300))
        b0 = gen.uniform() if fit_intercept else 0.0
    else:
        if isinstance(init, str) or not hasattr(init, "__len__") or len(init) != n_modes:
            raise ValueError(f"`init` needs one vector per mode ({n_modes}).")
        try:
            w0 = [
                _hard_topk(np.asarray(v, dtype=np.float64).ravel(), kn)
                for v, kn in zip(init, ks, strict=True)
            ]
        except (TypeError, ValueError):
            raise ValueError("`init` must hold one numeric vector per mode.") from None
        if not all(np.isfinite(v).all() for v in w0):
            raise ValueError("`init` contains NaN or infinite values.")
        if any(v.size != dn for v, dn in zip(w0, dims, strict=True)):
            raise ValueError(f"`init` vectors must have lengths {dims}.")
        b0 = 0.0

    memo: dict[int, tuple] = {}

    def partial(x, n):
        others = tuple(x[j] for j in range(n_modes) if j != n)
        hit = memo.get(n)
        if hit is not None and all(a is b for a, b in zip(hit[0], others, strict=True)):
            return hit[1]
        Z = _contract_except(T, x[:n_modes], n)
        memo[n] = (others, Z)
        return Z

    def margins(x):
        return partial(x, n_modes - 1) @ x[n_modes - 1] + x[n_modes][0]

    def dloss(x):
        """d(mean loss)/d margin."""
        ys = ypm * margins(x)
        return -ypm * np.exp(-np.logaddexp(0.0, ys)) / m  # −y σ(−y s) / m

    def objective(x):
        ys = ypm * margins(x)
        val = float(np.mean(np.logaddexp(0.0, -ys)))
        return val + sum(0.5 * lv * float(v @ v) for lv, v in zip(lams, x[:n_modes], strict=True))

    def lipschitz(x, i):
        if i == n_modes:
            return 0.25
        return _sq_spectral_norm(partial(x, i)) / (4.0 * m) + lams[i]

    def grad(x, i):
        g = dloss(x)
        if i == n_modes:
            return np.array([g.sum()]) if fit_intercept else np.zeros(1)
        return partial(x, i).T @ g + lams[i] * x[i]

    def prox(z, i, step):
        return z.copy() if i == n_modes else _hard_topk(z, ks[i])

    def feasible(x):
        return all(np.count_nonzero(v) <= kn for v, kn in zip(x[:n_modes], ks, strict=True))

    mom = {"beta0": 0.6, "beta_growth": 1.1, "beta_max": 0.999, **(momentum or {})}
    res = palm(
        [*w0, np.array([float(b0)])],
        grad=grad,
        lipschitz=lipschitz,
        prox=prox,
        objective=objective,
        feasible=feasible,
        solver=solver,
        step_factor=step_factor,
        max_iter=max_iter,
        min_iter=2,
        tol=tol,
        stop="abs_objective",
        **mom,
    )
    w = [np.asarray(v) for v in res.x[:n_modes]]
    b = float(res.x[n_modes][0])
    proba = expit(multilinear_decision(T, w, b))
    return MSLRResult(w, b, classes, proba, res.objective, res.n_iter, res.converged, tuple(ks))
