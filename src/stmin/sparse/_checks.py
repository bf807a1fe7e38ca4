"""Input checks of the sparse solvers: shapes, sizes, signs and labels."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def check_matrix(X, name: str = "X"):
    """Return ``X`` as a finite 2-D float64 array (dense) or CSR matrix (sparse)."""
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float64)
        values = X.data
    else:
        X = np.asarray(X, dtype=np.float64)
        values = X
    if X.ndim != 2:
        raise ValueError(f"`{name}` must be a 2-D matrix (got shape {X.shape}).")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"`{name}` is empty (shape {X.shape}).")
    if not np.isfinite(values).all():
        raise ValueError(f"`{name}` contains NaN or infinite values; remove or impute them first.")
    return X


def check_k(k, dim: int, name: str = "k") -> int:
    """Return ``k`` as an int, checking ``1 ≤ k ≤ dim``."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise ValueError(f"`{name}` must be an integer between 1 and {dim} (got {k!r}).")
    if not 1 <= k <= dim:
        raise ValueError(f"`{name}` must be between 1 and {dim} (got {k}).")
    return int(k)


def check_nonneg(X, name: str = "X") -> None:
    """Raise if ``X`` (dense or sparse) has a negative entry."""
    values = X.data if sp.issparse(X) else np.asarray(X)
    if values.size and values.min() < 0:
        raise ValueError(
            f"`{name}` has negative entries; non-negative factorisation needs non-negative "
            "data (e.g. counts or log1p-normalised counts, not scaled data)."
        )


def check_binary_labels(y, name: str = "y") -> np.ndarray:
    """Return the two classes of ``y``, raising unless there are exactly two."""
    classes = np.unique(np.asarray(y))
    if len(classes) != 2:
        raise ValueError(
            f"`{name}` must hold exactly two classes (got {len(classes)}: {classes[:5].tolist()})."
        )
    return classes


def rng(random_state) -> np.random.Generator:
    """A NumPy generator from a seed, a generator, or ``None``."""
    return np.random.default_rng(random_state)
