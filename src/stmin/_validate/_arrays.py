"""Checks of plain arrays handed to stmin's array-level helpers (labels, coordinates, embeddings)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._values import check_finite


def _length_message(name: str, size: int, n: int, unit: str, against: str | None) -> str:
    if against is None:
        return f"`{name}` has {size} {unit} for {n} observations."
    return f"`{name}` has {size} {unit} but `{against}` has {n}; they must match one to one."


def as_labels(
    labels,
    name: str = "labels",
    n: int | None = None,
    *,
    against: str | None = None,
    allow_missing: bool = False,
) -> np.ndarray:
    """Return ``labels`` as a 1-D array with one entry per observation.

    ``np.matrix`` and single-row or single-column 2-D arrays are flattened. Missing values
    (``None``, ``NaN``) raise unless ``allow_missing``. ``against`` names what ``n`` counts
    (e.g. ``"coords"``) in the error of a length mismatch.
    """
    if sp.issparse(labels):
        raise ValueError(f"`{name}` must be a 1-D sequence of labels, not a sparse matrix.")
    if isinstance(labels, pd.DataFrame):
        labels = labels.to_numpy()
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
        raise ValueError(_length_message(name, values.size, n, "entries", against))
    if not allow_missing:
        missing = pd.isna(pd.Series(values, dtype=object)).to_numpy()
        if missing.any():
            raise ValueError(
                f"`{name}` has {int(missing.sum())} missing values (NaN or None); drop those "
                "observations first."
            )
    return values


def as_matrix(
    x,
    name: str = "x",
    n: int | None = None,
    min_rows: int = 1,
    *,
    against: str | None = None,
) -> np.ndarray:
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
        raise ValueError(_length_message(name, values.shape[0], n, "rows", against))
    check_finite(values, f"`{name}`")
    return values


def as_coords(
    coords, name: str = "coords", n: int | None = None, *, against: str | None = None
) -> np.ndarray:
    """Return ``coords`` as a finite ``(n, 2)`` or ``(n, 3)`` float array."""
    values = as_matrix(coords, name, n, against=against)
    if values.shape[1] not in (2, 3):
        raise ValueError(
            f"`{name}` must have 2 or 3 columns (x, y[, z]), got shape {values.shape}."
        )
    return values


def as_rgb(image, what: str, *, gray: bool = False) -> np.ndarray:
    """An RGB(A) image as ``uint8`` RGB, read as 0–1 when it is float with values ≤ 1.

    ``what`` names the image in errors (e.g. ``"`uns['spatial']['s1']['images']['hires']`"``).
    ``gray=True`` also accepts a ``(height, width)`` grayscale image (repeated into 3 channels).
    """
    kind = type(image).__name__
    try:
        image = np.asarray(image)
    except (TypeError, ValueError):
        image = np.asarray(None)
    if image.ndim == 0 or image.dtype.kind not in "buif":
        raise ValueError(f"{what} must be a numeric image array (got {kind}).")
    shapes = "(height, width, 3|4)" + (" or (height, width)" if gray else "")
    if gray and image.ndim == 2:
        image = image[..., None].repeat(3, axis=-1)
    if image.ndim != 3 or image.shape[-1] not in (3, 4) or image.dtype.kind not in "buif":
        raise ValueError(
            f"{what} must be an RGB or RGBA image of shape {shapes}; got {image.dtype} "
            f"{image.shape}. Convert it first (e.g. with PIL: `np.asarray(img.convert('RGB'))`)."
        )
    if min(image.shape[:2]) == 0:
        raise ValueError(f"{what} is empty (shape {image.shape}).")
    if image.dtype != np.uint8:
        if not np.isfinite(image).all():
            raise ValueError(
                f"{what} contains {int((~np.isfinite(image)).sum())} NaN or infinite pixels."
            )
        if image.min() < 0 or image.max() > 255:
            raise ValueError(
                f"{what} has values outside 0–255 (or 0–1 for a float image), got "
                f"{image.dtype} in [{image.min()}, {image.max()}]; a 16-bit image must be scaled "
                "to 8 bits first (e.g. `(image // 257).astype(np.uint8)`)."
            )
        scale = 255.0 if image.dtype.kind == "f" and image.max() <= 1 else 1.0  # scanpy's floats
        image = np.clip(np.rint(image * scale), 0, 255)
    return image[..., :3].astype(np.uint8)
