"""Checks of plain arrays handed to stmin's array-level helpers (labels, coordinates, embeddings)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._values import check_finite


def as_labels(labels, name: str = "labels", n: int | None = None) -> np.ndarray:
    """Return ``labels`` as a 1-D array with one entry per observation and no missing value."""
    if sp.issparse(labels):
        raise ValueError(f"`{name}` must be a 1-D sequence of labels, not a sparse matrix.")
    values = np.asarray(labels)
    if values.ndim == 2 and 1 in values.shape:
        values = values.ravel()
    if values.ndim != 1:
        raise ValueError(
            f"`{name}` must be 1-D (one label per observation), got shape {values.shape}."
        )
    if values.size == 0:
        raise ValueError(f"`{name}` is empty.")
    if n is not None and values.size != n:
        raise ValueError(f"`{name}` has {values.size} entries for {n} observations.")
    missing = pd.isna(pd.Series(values, dtype=object)).to_numpy()
    if missing.any():
        raise ValueError(
            f"`{name}` has {int(missing.sum())} missing values; drop those observations first."
        )
    return values


def as_matrix(x, name: str = "x", n: int | None = None, min_rows: int = 1) -> np.ndarray:
    """Return ``x`` as a finite 2-D float array (dense; ``np.matrix`` and sparse accepted)."""
    if sp.issparse(x):
        x = x.toarray()
    if isinstance(x, pd.DataFrame):
        x = x.to_numpy()
    try:
        values = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"`{name}` must be a numeric 2-D array (got {type(x).__name__})."
        ) from None
    if values.ndim != 2:
        raise ValueError(
            f"`{name}` must be 2-D (observations × features), got shape {values.shape}; reshape "
            "a single feature with `x.reshape(-1, 1)`."
        )
    if values.shape[0] < min_rows or values.shape[1] == 0:
        raise ValueError(
            f"`{name}` must have at least {min_rows} rows and one column, got {values.shape}."
        )
    if n is not None and values.shape[0] != n:
        raise ValueError(f"`{name}` has {values.shape[0]} rows for {n} observations.")
    check_finite(values, f"`{name}`")
    return values


def as_coords(coords, name: str = "coords", n: int | None = None) -> np.ndarray:
    """Return ``coords`` as a finite ``(n, 2)`` or ``(n, 3)`` float array."""
    values = as_matrix(coords, name, n)
    if values.shape[1] not in (2, 3):
        raise ValueError(
            f"`{name}` must have 2 or 3 columns (x, y[, z]), got shape {values.shape}."
        )
    return values
