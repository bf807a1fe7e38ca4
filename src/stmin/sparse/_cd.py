"""Cyclic coordinate descent for penalised quadratic models with coupled penalties.

The engine minimises, one coordinate at a time and exactly,

``F(w) = ½ wᵀBw − tᵀw + Σ_j λ_j |w_j| + η·P(w)``,

where ``P(w) = wᵀMw`` (signed coupling) or ``P(w) = |w|ᵀM|w|`` (absolute coupling) for a
symmetric ``M``. ``B`` is given either implicitly as ``AᵀA`` through a design ``A`` and the
residual ``e`` (then ``½wᵀBw − tᵀw = ½‖e‖² + const``; the "naive" mode, ``O(n)`` per coordinate)
or explicitly as a Gram matrix with the gradient ``g = Bw − t`` kept up to date ("covariance"
mode, ``O(p)`` per coordinate). Along coordinate ``j`` the model is
``½ a_j w_j² − ρ_j w_j + τ_j |w_j| + const`` with ``a_j = B_jj + 2ηM_jj`` and

- signed: ``ρ_j = r_j − 2η Σ_{k≠j} M_jk w_k``, ``τ_j = λ_j``;
- absolute: ``ρ_j = r_j``, ``τ_j = λ_j + 2η Σ_{k≠j} M_jk |w_k|``,

where ``r_j = t_j − Σ_{k≠j} B_jk w_k``; the minimiser is ``S(ρ_j, τ_j) / a_j`` with the
soft-threshold ``S``. A negative ``τ_j`` (possible when ``M`` has negative off-diagonal entries,
as a Laplacian has) makes the coordinate problem non-convex; ``S`` still returns its minimiser.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg.blas import daxpy, ddot

__all__ = ["cd_sweep", "coupling_vector", "penalty_value", "screen_coordinates"]


def _as_coupling(M, p: int):
    """``M`` as a symmetric CSR matrix (or ``None``) plus its diagonal."""
    if M is None:
        return None, np.zeros(p)
    M = sp.csr_matrix(M, dtype=np.float64)
    if M.shape != (p, p):
        raise ValueError(f"the coupling matrix must be {p} × {p}, got {M.shape}.")
    return M, M.diagonal().astype(np.float64)


def coupling_vector(w: np.ndarray, M, absolute: bool) -> np.ndarray:
    """``M @ w`` (signed) or ``M @ |w|`` (absolute); zeros when ``M`` is ``None``."""
    if M is None:
        return np.zeros_like(w)
    return np.asarray(M @ (np.abs(w) if absolute else w), dtype=np.float64).ravel()


def penalty_value(w: np.ndarray, lam, M, eta: float, absolute: bool) -> float:
    """``Σ λ_j |w_j| + η·P(w)`` for the current ``w``."""
    value = float(np.sum(np.asarray(lam) * np.abs(w)))
    if M is not None and eta:
        v = np.abs(w) if absolute else w
        value += eta * float(v @ (M @ v))
    return value


def screen_coordinates(
    r: np.ndarray, w: np.ndarray, lam, mv: np.ndarray, diag: np.ndarray, eta: float, absolute: bool
) -> np.ndarray:
    """Indices worth visiting: non-zero ``w_j`` plus zero ones whose update would be non-zero.

    ``r`` is ``t − Bw + diag(B)⊙w`` (for zero coordinates simply ``t − Bw``), ``mv`` the current
    :func:`coupling_vector`. A zero coordinate stays zero iff ``|ρ_j| ≤ τ_j`` (with ``τ_j ≥ 0``),
    so skipping it changes nothing at the state the screen was computed at.
    """
    lam = np.broadcast_to(np.asarray(lam, dtype=np.float64), w.shape)
    coupling = mv - diag * (np.abs(w) if absolute else w)
    if absolute:
        rho, tau = r, lam + 2.0 * eta * coupling
    else:
        rho, tau = r - 2.0 * eta * coupling, lam
    move = (np.abs(rho) > tau) | (tau < 0)
    return np.flatnonzero((w != 0) | move)


def cd_sweep(
    w: np.ndarray,
    lam,
    *,
    design: tuple[np.ndarray, np.ndarray] | None = None,
    gram: tuple[np.ndarray, np.ndarray] | None = None,
    coords: np.ndarray | None = None,
    M=None,
    eta: float = 0.0,
    absolute: bool = False,
    mv: np.ndarray | None = None,
) -> float:
    """One cyclic pass of exact coordinate minimisation, updating ``w`` in place.

    Parameters
    ----------
    w
        Coefficients (float64, length ``p``), updated in place.
    lam
        L1 weights ``λ_j`` (scalar or length ``p``; ``0`` leaves a coordinate unpenalised).
    design
        ``(A, e)``: ``A`` is ``n × len(coords)`` (column ``i`` belongs to coordinate
        ``coords[i]``; Fortran order is fastest) and ``e`` the residual, so that the smooth part
        is ``½‖e‖²`` and a step ``δ`` on coordinate ``coords[i]`` changes ``e`` by
        ``−δ·A[:, i]``. ``e`` is updated in place.
    gram
        ``(B, g)``: the full ``p × p`` matrix ``B`` and the gradient ``g = Bw − t``, updated in
        place. Exactly one of ``design`` and ``gram`` is needed.
    coords
        Coordinates to visit, in this order; all ``p`` by default.
    M, eta, absolute
        The coupling penalty ``η·wᵀMw`` (``absolute=False``) or ``η·|w|ᵀM|w|``; ``M`` symmetric
        (dense or sparse, ``None`` for none).
    mv
        The current :func:`coupling_vector` (length ``p``), updated in place; computed when
        ``None``.

    Returns
    -------
    The largest absolute coordinate change in the pass.
    """
    if (design is None) == (gram is None):
        raise ValueError("pass exactly one of `design=(A, e)` and `gram=(B, g)`.")
    p = w.shape[0]
    coords = np.arange(p) if coords is None else np.asarray(coords, dtype=np.intp)
    lam = np.broadcast_to(np.asarray(lam, dtype=np.float64), (p,))
    M, diag = _as_coupling(M, p)
    use_coupling = M is not None and eta != 0.0
    if use_coupling:
        if mv is None:
            mv = coupling_vector(w, M, absolute)
        indptr, indices, data = M.indptr, M.indices, M.data
    two_eta = 2.0 * eta
    if design is not None:
        A, e = design
        if A.shape[1] != coords.size:
            raise ValueError("`design[0]` needs one column per visited coordinate.")
        col_sq = np.einsum("ij,ij->j", A, A)
    else:
        B, g = gram
        b_diag = np.diagonal(B)
    max_change = 0.0
    for i, j in enumerate(coords.tolist()):
        wj = float(w[j])
        if design is not None:
            col = A[:, i]
            bjj = float(col_sq[i])
            r = ddot(col, e) + bjj * wj
        else:
            bjj = float(b_diag[j])
            r = bjj * wj - float(g[j])
        a = bjj
        tau = float(lam[j])
        if use_coupling:
            mjj = float(diag[j])
            a += two_eta * mjj
            if absolute:
                tau += two_eta * (float(mv[j]) - mjj * abs(wj))
            else:
                r -= two_eta * (float(mv[j]) - mjj * wj)
        if a <= 0.0:
            continue
        if tau >= 0.0:
            mag = abs(r) - tau
            new = 0.0 if mag <= 0.0 else (mag if r > 0 else -mag) / a
        else:  # non-convex coordinate problem: the minimiser moves away from 0
            sign = 1.0 if r > 0 or (r == 0 and wj >= 0) else -1.0
            new = sign * (abs(r) - tau) / a
        delta = new - wj
        if delta == 0.0:
            continue
        w[j] = new
        max_change = max(max_change, abs(delta))
        if design is not None:
            daxpy(col, e, a=-delta)
        else:
            g += B[:, j] * delta
        if use_coupling:
            step = (abs(new) - abs(wj)) if absolute else delta
            if step != 0.0:
                lo, hi = indptr[j], indptr[j + 1]
                mv[indices[lo:hi]] += data[lo:hi] * step
    return max_change
