"""Alternating rank-1 engine shared by the sparse SVD, group-sparse SVD and wsPLS/SWCCA solvers.

The data enter through :class:`LowRankUpdated`, ``X − A Bᵀ`` with ``X`` dense or sparse, so that
centring and deflation never densify a sparse matrix. :func:`alternate` runs block updates on
all restarts at once (one column per restart: a restart costs a matrix-matrix product, not a
pass of its own), stops each restart when no block moves by more than ``tol``, and returns the
restart with the best objective with its history. :func:`rank1` is the two-block ``(u, v)``
special case driven by two projection callables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, svds

from ._checks import rng as _rng
from ._projections import _unit


class LowRankUpdated:
    """The operator ``X − A Bᵀ`` (``X`` dense or sparse ``n × p``; ``A`` ``n × m``, ``B`` ``p × m``)."""

    def __init__(self, X, A: np.ndarray | None = None, B: np.ndarray | None = None):
        self.X = X
        n, p = X.shape
        self.A = np.zeros((n, 0)) if A is None else np.asarray(A, dtype=float).reshape(n, -1)
        self.B = np.zeros((p, 0)) if B is None else np.asarray(B, dtype=float).reshape(p, -1)
        self.shape = (n, p)

    def minus(self, a: np.ndarray, b: np.ndarray) -> LowRankUpdated:
        """A new operator with ``a bᵀ`` also subtracted."""
        return LowRankUpdated(self.X, np.column_stack([self.A, a]), np.column_stack([self.B, b]))

    def centered(self) -> LowRankUpdated:
        """The operator with every column centred (subtracts ``1 · meanᵀ``)."""
        n = self.shape[0]
        mean = (self.rmatvec(np.ones(n))) / n
        return self.minus(np.ones(n), mean)

    def matvec(self, V: np.ndarray) -> np.ndarray:
        """``(X − A Bᵀ) V`` for ``V`` of shape ``(p,)`` or ``(p, R)``."""
        out = np.asarray(self.X @ V)
        if self.A.shape[1]:
            out = out - self.A @ (self.B.T @ V)
        return out

    def rmatvec(self, U: np.ndarray) -> np.ndarray:
        """``(X − A Bᵀ)ᵀ U`` for ``U`` of shape ``(n,)`` or ``(n, R)``."""
        out = np.asarray(self.X.T @ U)
        if self.A.shape[1]:
            out = out - self.B @ (self.A.T @ U)
        return out

    def submatrix(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Dense ``(X − A Bᵀ)[rows][:, cols]`` (boolean or integer index arrays)."""
        rows = np.flatnonzero(rows) if rows.dtype == bool else rows
        cols = np.flatnonzero(cols) if cols.dtype == bool else cols
        Xs = self.X[rows][:, cols] if sp.issparse(self.X) else self.X[np.ix_(rows, cols)]
        Xs = Xs.toarray() if sp.issparse(Xs) else np.asarray(Xs, dtype=float)
        if self.A.shape[1]:
            Xs = Xs - self.A[rows] @ self.B[cols].T
        return Xs

    def toarray(self) -> np.ndarray:
        """The dense matrix."""
        X = self.X.toarray() if sp.issparse(self.X) else np.asarray(self.X, dtype=float)
        return X - self.A @ self.B.T

    def leading_pair(self, random_state=0) -> tuple[np.ndarray, float, np.ndarray]:
        """Leading singular triple ``(u, d, v)`` (exact SVD when small, else ARPACK)."""
        return leading_pair(self.matvec, self.rmatvec, self.shape, random_state)


def leading_pair(matvec, rmatvec, shape, random_state=0) -> tuple[np.ndarray, float, np.ndarray]:
    """Leading singular triple of the ``n × p`` operator given by ``matvec``/``rmatvec``.

    Small operators (``min(n, p) ≤ 50``) are densified through the smaller side and solved by
    LAPACK; larger ones by ARPACK (``scipy.sparse.linalg.svds``, seeded start).
    """
    n, p = shape
    if min(n, p) <= 50:
        A = matvec(np.eye(p)) if p <= n else rmatvec(np.eye(n)).T
        U, s, Vt = np.linalg.svd(np.asarray(A), full_matrices=False)
        return U[:, 0], float(s[0]), Vt[0]
    op = LinearOperator(
        (n, p), matvec=matvec, rmatvec=rmatvec, matmat=matvec, rmatmat=rmatvec, dtype=float
    )
    seed = int(_rng(random_state).integers(2**31 - 1))
    U, s, Vt = svds(op, k=1, random_state=seed)
    return U[:, 0], float(s[0]), Vt[0]


@dataclass
class BlockResult:
    """Best restart of :func:`alternate`.

    Attributes
    ----------
    blocks
        Final blocks (1-D arrays) of the best restart.
    objective
        Its final objective.
    history
        Its objective after every iteration (first entry: after the first sweep).
    n_iter
        Sweeps run.
    converged
        Whether that restart met the tolerance before ``max_iter``.
    restart
        Index of the best restart (0 is the deterministic start when one is used).
    restart_objectives
        Final objective of every restart.
    """

    blocks: list[np.ndarray]
    objective: float
    history: np.ndarray
    n_iter: int
    converged: bool
    restart: int
    restart_objectives: np.ndarray = field(default_factory=lambda: np.zeros(0))


def alternate(
    init: Sequence[np.ndarray],
    update: Callable[[int, list[np.ndarray]], np.ndarray],
    objective: Callable[[list[np.ndarray]], np.ndarray],
    *,
    tol: float = 1e-4,
    max_iter: int = 100,
    min_iter: int = 1,
    maximize: bool = True,
    polish: Callable[[list[np.ndarray], list[np.ndarray]], tuple] | None = None,
) -> BlockResult:
    """Gauss-Seidel block updates on ``R`` restarts at once.

    Parameters
    ----------
    init
        One array per block, shape ``(dim_b, R)``: column ``r`` is restart ``r``.
    update
        ``update(b, blocks)`` returns the new block ``b`` (``dim_b × R'``) given the current
        blocks restricted to the ``R'`` restarts still running (earlier blocks already updated).
    objective
        ``objective(blocks)`` returns one value per column.
    tol
        A restart stops once every block moved by at most ``tol`` (l2) in one sweep, after
        ``min_iter`` sweeps.
    max_iter
        Sweep cap.
    maximize
        Whether the best restart has the largest (else smallest) final objective.
    polish
        Optional ``polish(before, after) → (after, retire)`` run after every sweep (before the
        objective): may replace the blocks (e.g. an exact step on a fixed support) and returns a
        boolean mask of restarts to stop now (e.g. duplicates of another restart).
    """
    blocks = [np.array(b, dtype=float, copy=True) for b in init]
    R = blocks[0].shape[1]
    running = np.arange(R)
    done_at = np.full(R, max_iter)
    converged = np.zeros(R, dtype=bool)
    history = []
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        cur = [b[:, running] for b in blocks]
        before = list(cur)
        for b in range(len(cur)):
            cur[b] = update(b, cur)
        retire = np.zeros(running.size, dtype=bool)
        if polish is not None:
            cur, retire = polish(before, cur)
        moved = np.max(
            [np.linalg.norm(new - old, axis=0) for new, old in zip(cur, before, strict=True)],
            axis=0,
        )
        for b in range(len(cur)):
            blocks[b][:, running] = cur[b]
        row = history[-1].copy() if history else np.full(R, np.nan)
        row[running] = objective(cur)
        history.append(row)
        if it >= min_iter or retire.any():
            stop = retire | ((moved <= tol) & (it >= min_iter))
            done_at[running[stop]] = it
            converged[running[stop]] = True
            running = running[~stop]
        if running.size == 0:
            break
    history = np.array(history)
    final = history[-1]
    best = int(np.nanargmax(final) if maximize else np.nanargmin(final))
    n_best = min(int(done_at[best]), n_iter)
    return BlockResult(
        blocks=[b[:, best].copy() for b in blocks],
        objective=float(final[best]),
        history=history[:n_best, best],
        n_iter=n_iter,
        converged=bool(converged[best]),
        restart=best,
        restart_objectives=final,
    )


def random_unit(dim: int, n: int, random_state=0) -> np.ndarray:
    """``n`` random unit vectors (columns) of length ``dim``."""
    return _unit(_rng(random_state).standard_normal((dim, n)))


def rank1(
    op: LowRankUpdated,
    project_u: Callable[[np.ndarray, np.ndarray], np.ndarray],
    project_v: Callable[[np.ndarray, np.ndarray], np.ndarray],
    *,
    penalty: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    n_restarts: int = 5,
    svd_init: bool = True,
    tol: float = 1e-4,
    max_iter: int = 100,
    random_state=0,
    support_polish: bool = False,
) -> BlockResult:
    """Alternating rank-1 maximisation of ``uᵀ X v`` (plus a penalty) with restarts.

    Sweep: ``u ← project_u(X v, u)``, then ``v ← project_v(Xᵀ u, v)``. The projections act on
    columns (one per restart) and get the previous iterate (for linearised penalties).

    Parameters
    ----------
    op
        The data operator.
    project_u, project_v
        ``project(z, old) → new`` (each of shape ``dim × R``).
    penalty
        ``penalty(U, V)`` per column, added to ``uᵀ X v`` to form the recorded objective.
    n_restarts
        Number of starts; the first is the leading singular pair when ``svd_init``, the others
        random unit vectors.
    svd_init
        Start the first restart from the leading singular pair.
    tol, max_iter
        Stopping rule of :func:`alternate`.
    random_state
        Seed of the random starts.
    support_polish
        Only for projections that return ``z`` restricted to a support and normalised (plain
        L0, GL0, OGL0; no penalty): when a restart's supports did not change in a sweep, jump
        to the leading singular pair of ``X`` restricted to them (the limit of the remaining
        power iterations, and a higher objective), and stop restarts that became identical to
        an earlier one. The result is unchanged; the sweeps are far fewer.

    Returns
    -------
    :class:`BlockResult` with ``blocks = [u, v]``.
    """
    if isinstance(n_restarts, bool) or not isinstance(n_restarts, int | np.integer):
        raise ValueError(f"`n_restarts` must be a positive integer (got {n_restarts!r}).")
    if n_restarts < 1:
        raise ValueError(f"`n_restarts` must be a positive integer (got {n_restarts!r}).")
    n, p = op.shape
    gen = _rng(random_state)
    V0 = random_unit(p, n_restarts, gen)
    if svd_init:
        u1, _, v1 = op.leading_pair(gen)
        V0[:, 0] = v1
    U0 = np.zeros((n, n_restarts))
    if svd_init:
        U0[:, 0] = u1

    cache: dict = {"sigma": {}}
    if support_polish and penalty is not None:
        raise ValueError("`support_polish` needs projections without a penalty.")

    def polish(before, after):
        U0, V0 = before
        U, V = after
        U, V = U.copy(), V.copy()
        sigma = {}
        for r in range(U.shape[1]):
            su, sv = U[:, r] != 0, V[:, r] != 0
            if not (su.any() and sv.any()):
                continue
            step = max(np.linalg.norm(U[:, r] - U0[:, r]), np.linalg.norm(V[:, r] - V0[:, r]))
            if step <= tol:
                continue
            if np.array_equal(su, U0[:, r] != 0) and np.array_equal(sv, V0[:, r] != 0):
                a, d, b = _top_pair(op.submatrix(su, sv))
                sign = 1.0 if a @ U[su, r] >= 0 else -1.0
                U[:, r], V[:, r] = 0.0, 0.0
                U[su, r], V[sv, r] = sign * a, sign * b
                sigma[r] = d
        cache["sigma"] = sigma
        retire = np.zeros(U.shape[1], dtype=bool)
        for r in range(1, U.shape[1]):
            same = np.all(np.abs(U[:, :r] - U[:, [r]]) <= 1e-12, axis=0) & np.all(
                np.abs(V[:, :r] - V[:, [r]]) <= 1e-12, axis=0
            )
            retire[r] = same.any()
        return [U, V], retire

    def update(b, cur):
        U, V = cur
        if b == 0:
            return project_u(op.matvec(V), U)
        cache["XtU"] = op.rmatvec(U)
        return project_v(cache["XtU"], V)

    def objective(cur):
        U, V = cur
        d = np.einsum("ij,ij->j", cache["XtU"], V)  # uᵀ X v without another product
        for r, value in cache["sigma"].items():
            d[r] = value
        cache["sigma"] = {}
        return d if penalty is None else d + penalty(U, V)

    return alternate(
        [U0, V0],
        update,
        objective,
        tol=tol,
        max_iter=max_iter,
        polish=polish if support_polish else None,
    )


def _top_pair(S: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Leading singular triple of a dense matrix (Gram eigenproblem on the smaller side)."""
    import scipy.linalg as sla

    n, p = S.shape
    if min(n, p) > 600:
        return leading_pair(lambda V: S @ V, lambda U: S.T @ U, S.shape)
    if p <= n:
        _, vecs = sla.eigh(S.T @ S, subset_by_index=[p - 1, p - 1])
        v = vecs[:, 0]
        u = S @ v
    else:
        _, vecs = sla.eigh(S @ S.T, subset_by_index=[n - 1, n - 1])
        u = vecs[:, 0]
        v = S.T @ u
        v = v / max(np.linalg.norm(v), 1e-300)
        u = S @ v
    d = float(np.linalg.norm(u))
    return (u / d if d > 0 else u), d, v
