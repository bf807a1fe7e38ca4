"""Projection and proximal operators shared by the sparse solvers.

The vector projections (:func:`topk_sphere`, :func:`topk_box`, :func:`binary_topk`) also take a
2-D array and then act on each column separately, which lets the alternating solvers run all
their random restarts as one matrix product.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"The number of entries to keep must be a positive integer (got {k!r}).")
    return int(k)


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
    """Soft-threshold ``sign(z)·max(|z| − tau, 0)``; ``tau`` a scalar or one per coordinate."""
    z = np.asarray(z, dtype=float)
    return np.sign(z) * np.maximum(np.abs(z) - tau, 0.0)


def topk_sphere(z: np.ndarray, k: int) -> np.ndarray:
    """Keep the ``k`` entries of largest magnitude (signs kept), then scale to unit l2 norm.

    This is the Euclidean projection onto ``{‖u‖₂ = 1, ‖u‖₀ ≤ k}`` and the maximiser of ``uᵀz``
    over that set. A 2-D ``z`` is projected column by column; an all-zero input returns zeros.
    """
    z = np.asarray(z, dtype=float)
    return _unit(np.where(_top_mask(np.abs(z), _check_k(k)), z, 0.0))


def topk_rows_nonneg(W: np.ndarray, k: int) -> np.ndarray:
    """Clip at 0, then keep the ``k`` rows of largest l2 norm (the others are zeroed)."""
    W = np.maximum(np.asarray(W, dtype=float), 0.0)
    keep = _top_mask(np.einsum("ij,ij->i", W, W), _check_k(k))
    W[~keep] = 0.0
    return W


def topk_box(z: np.ndarray, k: int) -> np.ndarray:
    """Euclidean projection onto ``{0 ≤ w ≤ 1, ‖w‖₀ ≤ k}``: keep the ``k`` largest entries, clip.

    Ranking by the unclipped value makes it exact (keeping ``z_i`` gains ``z_i²`` inside the box
    and ``2z_i − 1`` above it, both increasing in ``z_i``). Column-wise for a 2-D ``z``.
    """
    z = np.asarray(z, dtype=float)
    return np.where(_top_mask(z, _check_k(k)), np.clip(z, 0.0, 1.0), 0.0)


def binary_topk(z: np.ndarray, k: int) -> np.ndarray:
    """Euclidean projection onto ``{w ∈ {0, 1}ⁿ, ‖w‖₀ ≤ k}``: ones on the top ``k`` entries > ½."""
    z = np.asarray(z, dtype=float)
    return (_top_mask(z, _check_k(k)) & (z > 0.5)).astype(float)


def topk_nonneg(W: np.ndarray, a: int) -> np.ndarray:
    """Clip at 0, then keep the ``a`` largest entries of the whole array."""
    W = np.maximum(np.asarray(W, dtype=float), 0.0)
    keep = _top_mask(W.ravel(), _check_k(a)).reshape(W.shape)
    return np.where(keep, W, 0.0)


def abs_graph_linearize(z: np.ndarray, W, x_old: np.ndarray, lam: float) -> np.ndarray:
    """``|z| + lam · W |x_old|``: the score of the absolute graph-penalised sparse projection."""
    W = W if sp.issparse(W) else np.asarray(W)
    out = np.asarray(W @ np.abs(x_old))
    return np.abs(z) + lam * (out.ravel() if np.ndim(x_old) == 1 else out)
