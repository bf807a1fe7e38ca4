"""Projection and proximal operators shared by the sparse solvers.

The vector projections (:func:`topk_sphere`, :func:`topk_box`, :func:`binary_topk`) also take a
2-D array and then act on each column separately, which lets the alternating solvers run all
their random restarts as one matrix product.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def _check_k(k: int, name: str = "k") -> int:
    """The number of entries (rows, groups, restarts) to keep: a positive integer."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"`{name}` must be a positive integer (got {k!r}).")
    return int(k)


def _vector(z, name: str = "z", ndims: tuple[int, ...] = (1, 2)) -> np.ndarray:
    """``z`` as a finite float vector (or matrix, one column per vector) of the allowed ranks."""
    if sp.issparse(z):
        raise ValueError(f"`{name}` must be a dense array (got a sparse matrix); use `.toarray()`.")
    try:
        z = np.asarray(z, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a numeric array (got {type(z).__name__}).") from None
    if z.ndim not in ndims:
        kinds = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"`{name}` must be {kinds} (got shape {z.shape}).")
    if z.size == 0:
        raise ValueError(f"`{name}` is empty.")
    if not np.isfinite(z).all():
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    return z


def _top_mask(score: np.ndarray, k: int) -> np.ndarray:
    """Mask of the ``k`` largest entries of ``score`` along axis 0 (ties: lowest index first)."""
    mask = np.zeros(score.shape, dtype=bool)
    if k >= score.shape[0]:
        mask[:] = True
        return mask
    order = np.argsort(-score, axis=0, kind="stable")[:k]
    if score.ndim == 1:
        mask[order] = True
    else:
        np.put_along_axis(mask, order, True, axis=0)
    return mask


def _unit(z: np.ndarray) -> np.ndarray:
    """Scale ``z`` (or each column) to unit l2 norm; zero vectors stay zero."""
    norm = np.linalg.norm(z, axis=0)
    return z / np.where(norm > 0, norm, 1.0)


def soft(z: np.ndarray, tau) -> np.ndarray:
    """Soft-threshold ``sign(z)·max(|z| − tau, 0)``; ``tau`` ≥ 0, a scalar or one per coordinate."""
    z = _vector(z)
    try:
        tau = np.asarray(tau, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"`tau` must be a non-negative number or array (got {tau!r}).") from None
    if not np.isfinite(tau).all() or (tau < 0).any():
        raise ValueError("`tau` must be finite and non-negative (a threshold).")
    try:
        np.broadcast_shapes(tau.shape, z.shape)
    except ValueError:
        raise ValueError(
            f"`tau` of shape {tau.shape} does not match `z` of shape {z.shape}; give a scalar "
            "or one threshold per coordinate."
        ) from None
    return _soft(z, tau)


def _soft(z: np.ndarray, tau) -> np.ndarray:
    return np.sign(z) * np.maximum(np.abs(z) - tau, 0.0)


def topk_sphere(z: np.ndarray, k: int) -> np.ndarray:
    """Keep the ``k`` entries of largest magnitude (signs kept), then scale to unit l2 norm.

    This is the Euclidean projection onto ``{‖u‖₂ = 1, ‖u‖₀ ≤ k}`` and the maximiser of ``uᵀz``
    over that set. A 2-D ``z`` is projected column by column; an all-zero input returns zeros.
    """
    return _topk_sphere(_vector(z), _check_k(k))


def _topk_sphere(z: np.ndarray, k: int) -> np.ndarray:
    z = np.asarray(z, dtype=float)
    return _unit(np.where(_top_mask(np.abs(z), k), z, 0.0))


def topk_rows_nonneg(W: np.ndarray, k: int) -> np.ndarray:
    """Clip at 0, then keep the ``k`` rows of largest l2 norm (the others are zeroed)."""
    return _topk_rows_nonneg(_vector(W, "W", (2,)), _check_k(k))


def _topk_rows_nonneg(W: np.ndarray, k: int) -> np.ndarray:
    W = np.maximum(np.asarray(W, dtype=float), 0.0)
    keep = _top_mask(np.einsum("ij,ij->i", W, W), k)
    W[~keep] = 0.0
    return W


def topk_box(z: np.ndarray, k: int) -> np.ndarray:
    """Euclidean projection onto ``{0 ≤ w ≤ 1, ‖w‖₀ ≤ k}``: keep the ``k`` largest entries, clip.

    Ranking by the unclipped value makes it exact (keeping ``z_i`` gains ``z_i²`` inside the box
    and ``2z_i − 1`` above it, both increasing in ``z_i``). Column-wise for a 2-D ``z``.
    """
    return _topk_box(_vector(z), _check_k(k))


def _topk_box(z: np.ndarray, k: int) -> np.ndarray:
    z = np.asarray(z, dtype=float)
    return np.where(_top_mask(z, k), np.clip(z, 0.0, 1.0), 0.0)


def binary_topk(z: np.ndarray, k: int) -> np.ndarray:
    """Euclidean projection onto ``{w ∈ {0, 1}ⁿ, ‖w‖₀ ≤ k}``: ones on the top ``k`` entries > ½."""
    return _binary_topk(_vector(z), _check_k(k))


def _binary_topk(z: np.ndarray, k: int) -> np.ndarray:
    z = np.asarray(z, dtype=float)
    return (_top_mask(z, k) & (z > 0.5)).astype(float)


def topk_nonneg(W: np.ndarray, a: int) -> np.ndarray:
    """Clip at 0, then keep the ``a`` largest entries of the whole array."""
    W = np.maximum(_vector(W, "W"), 0.0)
    keep = _top_mask(W.ravel(), _check_k(a, "a")).reshape(W.shape)
    return np.where(keep, W, 0.0)


def abs_graph_linearize(z: np.ndarray, W, x_old: np.ndarray, lam: float) -> np.ndarray:
    """``|z| + lam · W |x_old|``: the score of the absolute graph-penalised sparse projection."""
    W = W if sp.issparse(W) else np.asarray(W)
    out = np.asarray(W @ np.abs(x_old))
    return np.abs(z) + lam * (out.ravel() if np.ndim(x_old) == 1 else out)
