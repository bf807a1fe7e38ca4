"""Group operators of the group-sparse SVD models (GL0, GL1, OGL0, OGL1).

Groups are given as a list of integer index arrays over ``p`` variables; they may overlap and
need not cover every variable (variables outside every group are never selected). All operators
take ``z`` of shape ``(p,)`` or ``(p, R)`` (then column by column).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._validate import check_bool, check_int, check_number
from ._projections import _check_k, _top_mask, _vector


@dataclass(frozen=True)
class Groups:
    """Encoded groups.

    Attributes
    ----------
    n_vars
        Number of variables ``p``.
    members
        Variable index of every (group, member) pair, groups one after another (length ``M``).
    group_of
        Group index of every pair (length ``M``).
    sizes
        Size of every group.
    copy
        ``M × p`` CSR matrix copying a variable vector onto the pairs.
    incidence
        ``p × G`` CSR 0/1 membership matrix.
    overlapping
        Whether some variable belongs to more than one group.
    """

    n_vars: int
    members: np.ndarray
    group_of: np.ndarray
    sizes: np.ndarray
    copy: sp.csr_matrix
    incidence: sp.csr_matrix
    overlapping: bool

    @property
    def n_groups(self) -> int:
        """Number of groups ``G``."""
        return len(self.sizes)

    def norms(self, z: np.ndarray) -> np.ndarray:
        """Group l2 norms ``‖z_g‖₂`` (``G`` or ``G × R``)."""
        return np.sqrt(np.maximum(self.incidence.T @ (np.asarray(z) ** 2), 0.0))


def make_groups(groups, n_vars: int) -> Groups:
    """Encode ``groups`` (a list of integer index arrays, or an existing :class:`Groups`)."""
    n_vars = check_int(n_vars, "n_vars", min_value=1)
    if isinstance(groups, Groups):
        if groups.n_vars != n_vars:
            raise ValueError(f"`groups` index {groups.n_vars} variables, the data has {n_vars}.")
        return groups
    if isinstance(groups, np.ndarray) and groups.ndim == 2:
        raise ValueError("`groups` must be a list of integer index arrays, not a 2-D array.")
    if isinstance(groups, str | bytes | dict) or not hasattr(groups, "__iter__"):
        raise ValueError(
            "`groups` must be a list of integer index arrays, one per group (got "
            f"{type(groups).__name__})."
        )
    groups = list(groups)
    if not groups:
        raise ValueError("`groups` is empty; give at least one group of variable indices.")
    members, group_of = [], []
    for g, idx in enumerate(groups):
        try:
            idx = np.asarray(idx)
        except ValueError:
            raise ValueError(
                f"group {g} must be a flat list of integer variable indices."
            ) from None
        if idx.ndim != 1:
            raise ValueError(
                f"group {g} must be a flat list of integer variable indices (got shape {idx.shape})."
            )
        if idx.size == 0:
            raise ValueError(f"group {g} is empty; drop empty groups first.")
        if idx.dtype.kind not in "iu":
            raise ValueError(f"group {g} must hold integer variable indices (got {idx.dtype}).")
        idx = np.unique(idx)
        if idx[0] < 0 or idx[-1] >= n_vars:
            raise ValueError(f"group {g} has indices outside [0, {n_vars}).")
        members.append(idx)
        group_of.append(np.full(idx.size, g))
    members = np.concatenate(members)
    group_of = np.concatenate(group_of)
    sizes = np.bincount(group_of, minlength=len(groups))
    M = members.size
    copy = sp.csr_matrix((np.ones(M), (np.arange(M), members)), shape=(M, n_vars))
    incidence = sp.csr_matrix((np.ones(M), (members, group_of)), shape=(n_vars, len(groups)))
    overlapping = bool(np.bincount(members, minlength=n_vars).max() > 1)
    return Groups(n_vars, members, group_of, sizes, copy, incidence, overlapping)


def _scatter_mask(G: Groups, active: np.ndarray) -> np.ndarray:
    """Variables covered by the ``active`` groups (``G`` or ``G × R`` boolean)."""
    return (G.incidence @ active.astype(float)) > 0


def _kth_threshold(score: np.ndarray, k: int) -> np.ndarray:
    """The (k+1)-th largest entry of ``score`` along axis 0 (0 when there are ≤ k entries)."""
    if k >= score.shape[0]:
        return np.zeros(score.shape[1:])
    return -np.partition(-score, k, axis=0)[k]


def group_topk(
    z: np.ndarray,
    groups,
    k: int,
    *,
    size_normalized: bool = False,
    return_active: bool = False,
):
    """Keep ``z`` on the ``k`` groups of largest norm (GL0), zero elsewhere.

    With ``size_normalized=True`` groups are ranked by ``‖z_g‖₂ / √|g|`` and the support is the
    union of the chosen groups (OGL0). Ties go to the lowest group index.

    Returns the projected ``z`` (not normalised) and, with ``return_active``, the boolean mask
    of the chosen groups.
    """
    z = _vector(z)
    check_bool(size_normalized, "size_normalized")
    check_bool(return_active, "return_active")
    G = make_groups(groups, z.shape[0])
    k = _check_k(k)
    score = G.norms(z)
    if size_normalized:
        score = score / np.sqrt(G.sizes).reshape((-1,) + (1,) * (z.ndim - 1))
    active = _top_mask(score, k)
    out = np.where(_scatter_mask(G, active), z, 0.0)
    return (out, active) if return_active else out


def group_soft(z: np.ndarray, groups, k: int | None = None, *, tau=None, weights=None):
    """Group soft-threshold ``u_g = (1 − τ w_g / ‖z_g‖₂)₊ z_g`` for non-overlapping groups.

    ``τ`` is given, or (with ``k``) set to the ``(k+1)``-th largest ``‖z_g‖₂ / w_g`` so that at
    most ``k`` groups survive (GL1). ``weights`` default to 1. Variables outside every group are
    zeroed.
    """
    z = _vector(z)
    G = make_groups(groups, z.shape[0])
    tau = _check_tau(tau, k)
    if G.overlapping:
        raise ValueError(
            "`group_soft` needs non-overlapping groups; use `overlapping_group_prox` (OGL1)."
        )
    w = _weights(G, weights)
    shape = (-1,) + (1,) * (z.ndim - 1)
    norms = G.norms(z)
    if tau is None:
        if k is None:
            raise ValueError("give either `k` (groups kept) or `tau` (threshold).")
        tau = _kth_threshold(norms / w.reshape(shape), _check_k(k))
    thr = np.asarray(tau) * w.reshape(shape)
    scale = np.maximum(1.0 - thr / np.where(norms > 0, norms, 1.0), 0.0)
    scale = np.where(norms > 0, scale, 0.0)
    return (G.incidence @ scale) * z


def _check_tau(tau, k):
    """``tau`` (a non-negative threshold, scalar or one per column) or ``k`` must be given."""
    if tau is None:
        if k is None:
            raise ValueError("give either `k` (groups kept) or `tau` (threshold).")
        return None
    try:
        values = np.asarray(tau, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"`tau` must be a non-negative number (got {tau!r}).") from None
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError(f"`tau` must be a finite, non-negative threshold (got {tau!r}).")
    return tau


def _weights(G: Groups, weights) -> np.ndarray:
    if weights is None:
        return np.ones(G.n_groups)
    if isinstance(weights, str):
        if weights != "sqrt_size":
            raise ValueError(f"`weights` must be None, 'sqrt_size' or an array (got {weights!r}).")
        return np.sqrt(G.sizes.astype(float))
    try:
        w = np.asarray(weights, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"`weights` must hold {G.n_groups} positive values.") from None
    if w.shape != (G.n_groups,) or not np.isfinite(w).all() or (w <= 0).any():
        raise ValueError(f"`weights` must hold {G.n_groups} positive values.")
    return w


def overlapping_group_prox(
    z: np.ndarray,
    groups,
    k: int | None = None,
    *,
    tau=None,
    weights=None,
    rho: float = 1.0,
    n_iter: int = 10,
    return_active: bool = False,
):
    """Prox of the overlapping group lasso ``τ Σ_g w_g ‖u_g‖₂`` by ADMM with per-group copies.

    Solves ``min_u ½‖u − z‖² + τ Σ_g w_g ‖y_g‖₂`` s.t. ``y_g = u_g`` (scaled ADMM, penalty
    ``rho``, ``n_iter`` iterations from ``y_g = z_g``, ``θ = 0``). ``τ`` is given, or set from
    ``k`` to the ``(k+1)``-th largest ``‖z_g‖₂ / w_g`` (OGL1). The result is ``u`` restricted to
    the union of the groups whose copy ``y_g`` is nonzero; for non-overlapping groups it
    converges to :func:`group_soft`.
    """
    z = _vector(z)
    check_number(rho, "rho", min_value=0, min_inclusive=False)
    check_int(n_iter, "n_iter", min_value=1)
    check_bool(return_active, "return_active")
    G = make_groups(groups, z.shape[0])
    w = _weights(G, weights)
    tau = _check_tau(tau, k)
    shape = (-1,) + (1,) * (z.ndim - 1)
    if tau is None:
        if k is None:
            raise ValueError("give either `k` (groups kept) or `tau` (threshold).")
        tau = _kth_threshold(G.norms(z) / w.reshape(shape), _check_k(k))
    thr = (np.asarray(tau) * w.reshape(shape)) / rho  # per group (G or G × R)
    thr_pairs = thr[G.group_of]
    count = np.asarray(G.copy.sum(0)).ravel().reshape(shape)  # groups per variable
    y = G.copy @ z
    theta = np.zeros_like(y)
    u = z
    pair_sum = sp.csr_matrix(
        (np.ones(G.members.size), (G.group_of, np.arange(G.members.size))),
        shape=(G.n_groups, G.members.size),
    )
    for _ in range(n_iter):
        u = (z + rho * (G.copy.T @ (y - theta))) / (1.0 + rho * count)
        a = G.copy @ u + theta
        norms = np.sqrt(pair_sum @ (a**2))[G.group_of]
        y = np.where(norms > thr_pairs, 1.0 - thr_pairs / np.where(norms > 0, norms, 1.0), 0.0)
        y = y * a
        theta = theta + (G.copy @ u) - y
    active = (pair_sum @ (y**2)) > 0
    out = np.where(_scatter_mask(G, active), u, 0.0)
    return (out, active) if return_active else out
