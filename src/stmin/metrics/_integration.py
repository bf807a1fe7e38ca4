"""Batch mixing of an integrated embedding: LISI, its F1 summary, and batch ASW."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import silhouette_samples
from sklearn.neighbors import NearestNeighbors

from .._validate import as_labels, as_matrix, check_bool, check_number, check_optional_int

_N_STEPS = 50  # bisection steps on log(beta)
_LOG_SPAN = 40.0  # search log(beta) within ±40 of a per-cell scale


def _embedding(embedding) -> np.ndarray:
    x = as_matrix(embedding, "embedding")
    if x.shape[0] <= 3:
        raise ValueError(f"Too few cells: the embedding has {x.shape[0]} rows; at least 4 needed.")
    return x


def _codes(labels, n_obs: int, what: str) -> tuple[np.ndarray, int]:
    """Integer codes of one label per cell, checked for length and missing values."""
    arr = as_labels(labels, what, n_obs, against="embedding")
    codes, uniques = pd.factorize(arr.astype(object))
    return codes, len(uniques)


def _at_least_two(n: int, what: str) -> None:
    if n < 2:
        raise ValueError(f"`{what}` needs at least 2 distinct values; found {n}.")


def _kernel(x: np.ndarray, perplexity: float, n_neighbors: int | None):
    """Neighbour indices and perplexity-calibrated Gaussian weights (rows sum to one)."""
    perplexity = check_number(perplexity, "perplexity", min_value=1)
    n_neighbors = check_optional_int(n_neighbors, "n_neighbors", min_value=1)
    if n_neighbors is None:
        n_neighbors = int(np.ceil(3 * perplexity))
    k = int(min(n_neighbors, x.shape[0] - 1))
    # X=None: each cell is left out of its own neighbours (duplicates included correctly).
    dist, idx = NearestNeighbors(n_neighbors=k).fit(x).kneighbors()
    d2 = dist**2
    d2 -= d2[:, :1]  # shift per row: leaves normalised weights unchanged, avoids underflow
    scale = np.maximum(d2.mean(axis=1), np.finfo(float).tiny)
    target = np.log(perplexity)
    lo = np.full(x.shape[0], -_LOG_SPAN)
    hi = np.full(x.shape[0], _LOG_SPAN)
    for _ in range(_N_STEPS):
        mid = (lo + hi) / 2
        beta = np.exp(mid) / scale
        w = np.exp(-beta[:, None] * d2)
        total = w.sum(axis=1)
        entropy = np.log(total) + beta * (d2 * w).sum(axis=1) / total
        too_flat = entropy > target  # entropy falls as beta grows
        lo = np.where(too_flat, mid, lo)
        hi = np.where(too_flat, hi, mid)
    beta = np.exp((lo + hi) / 2) / scale
    w = np.exp(-beta[:, None] * d2)
    return idx, w / w.sum(axis=1, keepdims=True)


def _simpson_inverse(idx: np.ndarray, w: np.ndarray, codes: np.ndarray, n_codes: int):
    n_obs, k = idx.shape
    rows = np.repeat(np.arange(n_obs), k)
    share = np.bincount(
        rows * n_codes + codes[idx].ravel(), weights=w.ravel(), minlength=n_obs * n_codes
    ).reshape(n_obs, n_codes)
    return 1.0 / (share**2).sum(axis=1)


def lisi(embedding, labels, *, perplexity: float = 30, n_neighbors: int | None = None):
    """Local inverse Simpson's index of ``labels`` for each cell.

    Each cell's ``n_neighbors`` nearest cells in ``embedding`` (itself excluded) are
    weighted by a Gaussian kernel on their distances, ``exp(-β d²)``, whose per-cell
    bandwidth ``β`` is set by bisection so that the weights have perplexity
    ``perplexity``; LISI is ``1 / Σ_c p_c²``, with ``p_c`` the weight of the neighbours of
    label ``c`` (Korsunsky et al., 2019, Harmony). It is the effective number of labels
    around a cell: 1 to the number of labels.

    Parameters
    ----------
    embedding
        Cells × dimensions (e.g. an integrated latent space).
    labels
        One label per cell (batch for iLISI, domain or cell type for cLISI); missing
        values are not allowed.
    perplexity
        Effective number of neighbours (30); at least 1. When it reaches the number of
        neighbours, the weights are uniform.
    n_neighbors
        Neighbours per cell; ``None`` uses ``3 * perplexity``. Capped at ``n_cells - 1``.

    Returns
    -------
    LISI per cell, shape ``(n_cells,)``.
    """
    x = _embedding(embedding)
    codes, n_codes = _codes(labels, x.shape[0], "labels")
    idx, w = _kernel(x, perplexity, n_neighbors)
    return _simpson_inverse(idx, w, codes, n_codes)


def ilisi(
    embedding,
    batch,
    *,
    perplexity: float = 30,
    n_neighbors: int | None = None,
    scaled: bool = False,
) -> float:
    """Integration LISI: the median, over cells, of the :func:`lisi` of the batch labels.

    Higher is better mixed: about the number of batches when batches are well mixed, 1
    when each neighbourhood holds a single batch.

    Parameters
    ----------
    embedding
        Cells × dimensions.
    batch
        Batch of each cell; at least two batches.
    perplexity
        See :func:`lisi`.
    n_neighbors
        See :func:`lisi`.
    scaled
        Return ``(median - 1) / (n_batches - 1)``, in [0, 1], instead.
    """
    check_bool(scaled, "scaled")
    x = _embedding(embedding)
    codes, n_batches = _codes(batch, x.shape[0], "batch")
    _at_least_two(n_batches, "batch")
    idx, w = _kernel(x, perplexity, n_neighbors)
    median = float(np.median(_simpson_inverse(idx, w, codes, n_batches)))
    return (median - 1) / (n_batches - 1) if scaled else median


def f1_lisi(
    embedding, batch, labels, *, perplexity: float = 30, n_neighbors: int | None = None
) -> float:
    """F1 of batch mixing and domain separation, from median iLISI and cLISI.

    With ``b = (median iLISI - 1) / (n_batches - 1)`` and
    ``d = (median cLISI - 1) / (n_domains - 1)``, the harmonic mean of ``b`` and ``1 - d``:
    ``2 (1 - d) b / ((1 - d) + b)``, 0 when both are 0 (as in STG3Net). Higher is better:
    1 means fully mixed batches and pure domains.

    Parameters
    ----------
    embedding
        Cells × dimensions.
    batch
        Batch of each cell; at least two batches.
    labels
        Domain or cell type of each cell; at least two.
    perplexity
        See :func:`lisi`.
    n_neighbors
        See :func:`lisi`.
    """
    x = _embedding(embedding)
    batch_codes, n_batches = _codes(batch, x.shape[0], "batch")
    label_codes, n_labels = _codes(labels, x.shape[0], "labels")
    _at_least_two(n_batches, "batch")
    _at_least_two(n_labels, "labels")
    idx, w = _kernel(x, perplexity, n_neighbors)
    b = (np.median(_simpson_inverse(idx, w, batch_codes, n_batches)) - 1) / (n_batches - 1)
    d = (np.median(_simpson_inverse(idx, w, label_codes, n_labels)) - 1) / (n_labels - 1)
    denom = (1 - d) + b
    return float(2 * (1 - d) * b / denom) if denom > 0 else 0.0


def batch_asw(embedding, batch, labels) -> float:
    """Batch average silhouette width within labels (scib-style; 1 is perfectly mixed).

    For each label (domain or cell type) whose cells come from at least two batches (and
    not all from different batches), the silhouette ``s`` of the batch labels is computed
    among that label's cells alone, and ``1 - |s|`` averaged over them; the score is the
    mean over those labels. Labels from a single batch are skipped. The cost is quadratic
    in the size of the largest label.

    Parameters
    ----------
    embedding
        Cells × dimensions.
    batch
        Batch of each cell; at least two batches.
    labels
        Domain or cell type of each cell.
    """
    x = _embedding(embedding)
    batch_codes, n_batches = _codes(batch, x.shape[0], "batch")
    label_codes, n_labels = _codes(labels, x.shape[0], "labels")
    _at_least_two(n_batches, "batch")
    scores = []
    for code in range(n_labels):
        cells = np.flatnonzero(label_codes == code)
        n_here = np.unique(batch_codes[cells]).size
        if n_here < 2 or n_here >= cells.size:
            continue
        s = silhouette_samples(x[cells], batch_codes[cells])
        scores.append(np.mean(1 - np.abs(s)))
    if not scores:
        raise ValueError("No label has cells from at least 2 batches; batch ASW is undefined.")
    return float(np.mean(scores))
