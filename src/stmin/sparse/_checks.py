"""Input checks of the sparse solvers: shapes, sizes, signs, labels, seeds and solver settings."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._random import check_random_state
from .._validate import as_labels, check_int, check_number


def check_matrix(X, name: str = "X"):
    """Return ``X`` as a finite 2-D float64 array (dense) or CSR matrix (sparse)."""
    if isinstance(X, pd.DataFrame):
        X = X.to_numpy()
    try:
        if sp.issparse(X):
            X = sp.csr_matrix(X, dtype=np.float64)
            values = X.data
        else:
            X = np.asarray(X, dtype=np.float64)
            values = X
    except (TypeError, ValueError):
        raise ValueError(
            f"`{name}` must be a numeric 2-D matrix (dense or scipy.sparse), got "
            f"{type(X).__name__}."
        ) from None
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


def check_labels(y, n: int, name: str = "y", against: str = "X") -> np.ndarray:
    """One label per sample (1-D, no missing value), with exactly two classes."""
    y = as_labels(y, name)
    if y.size != n:
        raise ValueError(
            f"`{name}` must hold one label per sample of `{against}` ({n} samples), got "
            f"{y.size} labels."
        )
    try:
        check_binary_labels(y, name)
    except TypeError:
        raise ValueError(f"`{name}` mixes label types that cannot be compared.") from None
    return y


def check_iterations(max_iter, tol, *, min_iter=None, max_name: str = "max_iter") -> None:
    """Check an iteration cap (≥ 1), a tolerance (≥ 0) and an optional minimum (≥ 0)."""
    check_int(max_iter, max_name, min_value=1)
    check_number(tol, "tol", min_value=0)
    if min_iter is not None:
        check_int(min_iter, "min_iter", min_value=0)


def check_momentum(momentum) -> dict:
    """The ABPL+/APALM+ momentum settings ``beta0``, ``beta_growth``, ``beta_max`` (a dict)."""
    if momentum is None:
        return {}
    if not isinstance(momentum, Mapping):
        raise ValueError(
            "`momentum` must be a dict with keys among 'beta0', 'beta_growth', 'beta_max' "
            f"(got {type(momentum).__name__})."
        )
    unknown = sorted(set(momentum) - {"beta0", "beta_growth", "beta_max"})
    if unknown:
        raise ValueError(
            f"`momentum` has unknown keys {unknown}; use 'beta0', 'beta_growth', 'beta_max'."
        )
    if "beta0" in momentum:
        check_number(momentum["beta0"], "momentum['beta0']", min_value=0, max_value=1,
                     max_inclusive=False)  # fmt: skip
    if "beta_growth" in momentum:
        check_number(momentum["beta_growth"], "momentum['beta_growth']", min_value=1)
    if "beta_max" in momentum:
        check_number(momentum["beta_max"], "momentum['beta_max']", min_value=0, max_value=1,
                     max_inclusive=False)  # fmt: skip
    return dict(momentum)


def rng(random_state) -> np.random.Generator:
    """A NumPy generator from a seed (an integer in [0, 2³² − 1] or ``None``) or a generator."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(check_random_state(random_state))
