"""One PALM engine for block problems ``min f(x_1, …, x_s) + Σ_i r_i(x_i)``.

Every block step is a prox-linear (projected-gradient) step: with ``L_i`` the Lipschitz constant of
``∇_i f`` at the current point (the other blocks fixed) and ``c`` the step factor,

``x_i ← prox_i(x_i − ∇_i f(x) / (c L_i))``,

taken cyclically over the blocks, always with the freshest blocks (Gauss–Seidel). The momentum
variants differ only in the point the pass starts from:

``"palm"``
    No momentum (Bolte, Sabach & Teboulle 2014).
``"apalm"``
    Block-wise extrapolation ``x̂_i = x_i + ω_i (x_i − x_i^{prev})`` with the FISTA weight capped by
    ``0.5·√(L_i^{prev}/L_i)``; when the objective rises the iteration is redone without
    extrapolation and the FISTA sequence restarts (Xu & Yin 2013; the aPALM of NMF_ℓ20).
``"abpl+"``
    ABPL+ (Yang & Min): extrapolate all blocks, ``x̂ = x + β(x − x^{prev})``, and run the pass from
    ``x̂``. The result is accepted when its objective did not rise above ``F(x)``; otherwise the
    plain pass from ``x`` is also run and the better of the two candidates is kept. The momentum
    adapts: ``β ← min(β·t, β_max)`` when the extrapolated candidate wins, ``β ← β/t`` otherwise.
``"apalm+"``
    APALM+ (ℓ0-MLSR): extrapolate all blocks; if ``x̂`` is feasible and ``F(x̂) < F(x)`` the pass
    starts from ``x̂`` (``β ← min(β·t, β_max)``), otherwise from ``x`` (``β ← β/t``).

All four are monotone: a prox-linear pass with ``c ≥ 1`` never increases ``F`` from a feasible
start, and each variant only ever keeps a candidate whose ``F`` is at most ``F(x)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, NamedTuple

import numpy as np

from .._validate import check_choice, check_int, check_number

Solver = Literal["palm", "apalm", "abpl+", "apalm+"]
SOLVERS: tuple[str, ...] = ("palm", "apalm", "abpl+", "apalm+")
_TINY = 1e-300


class PalmResult(NamedTuple):
    """Output of :func:`palm`.

    Attributes
    ----------
    x
        The final blocks.
    objective
        ``F`` at the start and after every iteration (length ``n_iter + 1``).
    n_iter
        Iterations run.
    converged
        Whether the stopping rule fired before ``max_iter``.
    beta
        The momentum after the last iteration (``abpl+``/``apalm+``; 0 otherwise).
    """

    x: list[np.ndarray]
    objective: np.ndarray
    n_iter: int
    converged: bool
    beta: float


def check_solver(solver: str, allowed: Sequence[str] = SOLVERS) -> str:
    """Raise a ValueError unless ``solver`` is one of ``allowed``."""
    check_choice(solver, "solver", allowed)
    return solver


def _extrapolate(x: list, x_prev: list, beta: float) -> list:
    if beta == 0.0:
        return list(x)
    return [xi + beta * (xi - pi) for xi, pi in zip(x, x_prev, strict=True)]


def _rel_change(x: list, x_old: list) -> float:
    """``Σ_i ||x_i − x_i^{old}||_F / ||x_i^{old}||_F`` (the SSNMF stopping quantity)."""
    total = 0.0
    for xi, oi in zip(x, x_old, strict=True):
        den = np.linalg.norm(oi)
        total += np.linalg.norm(xi - oi) / (den if den > 0 else 1.0)
    return float(total)


def palm(
    x0: Sequence[np.ndarray],
    *,
    grad: Callable[[list, int], np.ndarray],
    lipschitz: Callable[[list, int], float],
    prox: Callable[[np.ndarray, int, float], np.ndarray],
    objective: Callable[[list], float],
    solver: Solver = "palm",
    step_factor: float | None = None,
    feasible: Callable[[list], bool] | None = None,
    max_iter: int = 500,
    min_iter: int = 1,
    tol: float = 1e-5,
    stop: Literal["rel_objective", "abs_objective", "iterate"] = "rel_objective",
    beta0: float = 0.6,
    beta_growth: float = 1.1,
    beta_max: float = 0.9999,
    x_prev: Sequence[np.ndarray] | None = None,
) -> PalmResult:
    """Minimise ``F = f + Σ r_i`` over blocks by prox-linear passes with optional momentum.

    Parameters
    ----------
    x0
        Feasible starting blocks (arrays; they are never modified in place).
    grad
        ``grad(x, i)`` returns ``∇_i f`` at the blocks ``x`` (a list; blocks before ``i`` already
        updated in the current pass).
    lipschitz
        ``lipschitz(x, i)`` returns the Lipschitz constant ``L_i`` of ``∇_i f`` in block ``i`` at
        ``x``; it is called before ``grad(x, i)`` with the same ``x``. Values ``≤ 0`` are replaced
        by a tiny positive number.
    prox
        ``prox(z, i, step)`` returns the proximal point of ``step·r_i`` at ``z`` (a projection when
        ``r_i`` is an indicator). It must return a new array.
    objective
        ``objective(x)`` returns ``F(x)`` at a feasible ``x``. It is called once right after each
        pass with that pass's blocks, so it may reuse products cached by ``grad``.
    solver
        ``"palm"``, ``"apalm"``, ``"abpl+"`` or ``"apalm+"`` (see the module docstring).
    step_factor
        ``c`` in the step ``1/(c L_i)``; ``c ≥ 1`` keeps every pass monotone. ``None``: 1.5 for
        ``"abpl+"``/``"apalm+"`` (the papers' ``r``) and 1 otherwise.
    feasible
        ``feasible(x)`` says whether the extrapolated point lies in the constraint set (used by
        ``"apalm+"``, whose test compares ``F`` at the extrapolated point). ``None``: the point is
        feasible when every block is a fixed point of its prox.
    max_iter, min_iter
        Iteration cap and the minimum number of iterations before the stopping rule may fire.
    tol
        Threshold of the stopping rule.
    stop
        ``"rel_objective"``: ``|F_k − F_{k−1}| ≤ tol·max(|F_{k−1}|, 1e-300)``;
        ``"abs_objective"``: ``|F_k − F_{k−1}| < tol``; ``"iterate"``: the SSNMF rule
        ``Σ_i ||Δx_i||/||x_i|| ≤ tol``.
    beta0, beta_growth, beta_max
        Initial momentum, its growth/shrink factor ``t`` and its cap (``"abpl+"``/``"apalm+"``).
    x_prev
        Previous iterate for the first extrapolation (warm starts); ``None``: ``x0``.

    Returns
    -------
    A :class:`PalmResult`.
    """
    check_solver(solver)
    if step_factor is None:
        step_factor = 1.5 if solver in ("abpl+", "apalm+") else 1.0
    step_factor = check_number(step_factor, "step_factor", min_value=0, min_inclusive=False)
    max_iter = check_int(max_iter, "max_iter", min_value=0)
    min_iter = check_int(min_iter, "min_iter", min_value=0)
    tol = check_number(tol, "tol", min_value=0)
    check_choice(stop, "stop", ("rel_objective", "abs_objective", "iterate"))
    check_number(beta0, "beta0", min_value=0, max_value=1, max_inclusive=False)
    check_number(beta_growth, "beta_growth", min_value=1)
    check_number(beta_max, "beta_max", min_value=0, max_value=1, max_inclusive=False)
    for name, fn in (
        ("grad", grad),
        ("lipschitz", lipschitz),
        ("prox", prox),
        ("objective", objective),
    ):
        if not callable(fn):
            raise ValueError(f"`{name}` must be a callable (got {type(fn).__name__}).")
    if feasible is not None and not callable(feasible):
        raise ValueError(f"`feasible` must be a callable or None (got {type(feasible).__name__}).")
    if isinstance(x0, np.ndarray) or not isinstance(x0, Sequence) or len(x0) == 0:
        raise ValueError("`x0` must be a non-empty list of arrays, one per block.")
    n_blocks = len(x0)
    x = list(x0)
    prev = list(x_prev) if x_prev is not None else list(x0)
    if len(prev) != n_blocks:
        raise ValueError(f"`x_prev` has {len(prev)} blocks but `x0` has {n_blocks}.")

    def one_pass(y: list, omega=None, lips_prev=None) -> tuple[list, list]:
        """One Gauss–Seidel prox-linear pass from ``y``; block-wise extrapolation if ``omega``."""
        y = list(y)
        lips = []
        for i in range(n_blocks):
            lip = float(lipschitz(y, i))
            lip = lip if lip > 0 and np.isfinite(lip) else _TINY
            lips.append(lip)
            if omega is not None:
                w = omega
                if lips_prev is not None:
                    w = min(omega, 0.5 * np.sqrt(lips_prev[i] / lip))
                if w > 0:
                    y[i] = y[i] + w * (y[i] - prev[i])
            step = 1.0 / (step_factor * lip)
            g = grad(y, i)
            y[i] = prox(y[i] - step * g, i, step)
        return y, lips

    def is_feasible(y: list) -> bool:
        if feasible is not None:
            return bool(feasible(y))
        return all(np.array_equal(prox(yi, i, 1.0), yi) for i, yi in enumerate(y))

    f_cur = float(objective(x))
    if not np.isfinite(f_cur):
        raise ValueError(
            f"`objective` is {f_cur} at `x0`; start from a point where the objective is finite."
        )
    history = [f_cur]
    beta = float(beta0) if solver in ("abpl+", "apalm+") else 0.0
    t_seq = 1.0
    lips_prev = None
    converged = False
    n_iter = 0
    for it in range(max_iter):
        n_iter = it + 1
        if solver == "palm":
            x_new, _ = one_pass(x)
            f_new = float(objective(x_new))
        elif solver == "apalm":
            t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t_seq**2))
            omega = (t_seq - 1.0) / t_next
            x_new, lips = one_pass(x, omega=omega, lips_prev=lips_prev)
            f_new = float(objective(x_new))
            if f_new > f_cur:  # restart: redo without extrapolation
                x_new, lips = one_pass(x)
                f_new = float(objective(x_new))
                t_next = 1.0
            t_seq, lips_prev = t_next, lips
        elif solver == "abpl+":
            if beta > 0:
                x_a, _ = one_pass(_extrapolate(x, prev, beta))
                f_a = float(objective(x_a))
            else:
                x_a, f_a = None, np.inf
            if f_a <= f_cur:
                x_new, f_new = x_a, f_a
                beta = min(beta * beta_growth, beta_max)
            else:
                x_b, _ = one_pass(x)
                f_b = float(objective(x_b))
                if beta > 0 and f_a < f_b:
                    x_new, f_new = x_a, f_a
                    beta = min(beta * beta_growth, beta_max)
                else:
                    x_new, f_new = x_b, f_b
                    beta = beta / beta_growth
        else:  # apalm+
            start = x
            if beta > 0:
                x_hat = _extrapolate(x, prev, beta)
                if is_feasible(x_hat) and float(objective(x_hat)) < f_cur:
                    start = x_hat
                    beta = min(beta * beta_growth, beta_max)
                else:
                    beta = beta / beta_growth
            x_new, _ = one_pass(start)
            f_new = float(objective(x_new))

        if stop == "iterate":
            crit = _rel_change(x_new, x)
            done = crit <= tol
        elif stop == "abs_objective":
            done = abs(f_new - f_cur) < tol
        else:
            done = abs(f_new - f_cur) <= tol * max(abs(f_cur), _TINY)
        prev, x, f_cur = x, x_new, f_new
        history.append(f_cur)
        if done and n_iter >= min_iter:
            converged = True
            break
    return PalmResult(x, np.asarray(history), n_iter, converged, float(beta))
