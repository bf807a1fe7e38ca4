"""Scores of estimated against true cell-type proportions (spots × cell types)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validate import as_matrix, check_keys
from ._expression import _frame_pair, _pcc

# the SSIM constants of the deconvolution benchmarks (values in [0, 1])
_C1, _C2 = 0.01**2, 0.03**2
HIGHER_IS_BETTER = {"pcc": True, "ssim": True, "rmse": False, "jsd": False}


_NEGATIVE_TOLERANCE = 1e-8  # rounding noise of solvers that return proportions


def _aligned(truth, pred) -> tuple[np.ndarray, np.ndarray]:
    truth, pred = _frame_pair(truth, pred, "cell types")
    truth = as_matrix(truth, "truth", min_rows=2)
    pred = as_matrix(pred, "pred", min_rows=2)
    if truth.shape != pred.shape:
        raise ValueError(
            f"`truth` {truth.shape} and `pred` {pred.shape} must have the same shape "
            "(spots × cell types)."
        )
    if truth.shape[1] < 2:
        raise ValueError(
            f"`truth` has {truth.shape[1]} cell type; proportions need at least 2 columns."
        )
    for name, values in (("truth", truth), ("pred", pred)):
        if values.min() < -_NEGATIVE_TOLERANCE:
            raise ValueError(
                f"`{name}` has negative proportions (min {values.min():.3g}); proportions are ≥ 0."
            )
    return np.maximum(truth, 0.0), np.maximum(pred, 0.0)


def _jsd_rows(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen–Shannon divergence (base 2, in [0, 1]) between matching rows of ``p`` and ``q``."""
    p = p / np.clip(p.sum(1, keepdims=True), 1e-300, None)
    q = q / np.clip(q.sum(1, keepdims=True), 1e-300, None)
    m = 0.5 * (p + q)

    def kl(a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(a > 0, a * np.log2(a / np.where(b > 0, b, 1)), 0.0).sum(1)

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def _ssim_columns(truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Global SSIM per column, each column scaled by its maximum."""
    t = truth / np.clip(truth.max(0), 1e-300, None)
    p = pred / np.clip(pred.max(0), 1e-300, None)
    mt, mp = t.mean(0), p.mean(0)
    vt, vp = t.var(0), p.var(0)
    cov = ((t - mt) * (p - mp)).mean(0)
    return ((2 * mt * mp + _C1) * (2 * cov + _C2)) / ((mt**2 + mp**2 + _C1) * (vt + vp + _C2))


def deconvolution_scores(truth, pred) -> dict[str, float]:
    """The deconvolution scores of the field, for one data set.

    Parameters
    ----------
    truth, pred
        Spots × cell types proportions (arrays, or two DataFrames, aligned on their index and
        columns first), finite and non-negative.

    Returns
    -------
    - ``pcc``: Pearson correlation across spots, per cell type, averaged over types;
    - ``pcc_spot``: Pearson correlation across cell types, per spot, averaged;
    - ``ssim``: structural similarity per cell type (each column scaled to its maximum),
      averaged;
    - ``rmse``: root mean squared error per cell type, averaged;
    - ``jsd``: Jensen–Shannon divergence (base 2) between each spot's true and estimated
      composition, averaged over spots; ``jsd_type``: the same between the cell types'
      distributions over spots.

    NaN correlations (a constant column or row) are left out of the means.
    """
    truth, pred = _aligned(truth, pred)
    with np.errstate(invalid="ignore"):
        pcc_type = _pcc(truth, pred)
        pcc_spot = _pcc(truth.T, pred.T)
    return {
        "pcc": float(np.nanmean(pcc_type)) if np.isfinite(pcc_type).any() else float("nan"),
        "pcc_spot": float(np.nanmean(pcc_spot)) if np.isfinite(pcc_spot).any() else float("nan"),
        "ssim": float(np.mean(_ssim_columns(truth, pred))),
        "rmse": float(np.mean(np.sqrt(((truth - pred) ** 2).mean(0)))),
        "jsd": float(np.mean(_jsd_rows(truth, pred))),
        "jsd_type": float(np.mean(_jsd_rows(truth.T, pred.T))),
    }


def accuracy_score(table: pd.DataFrame, metrics=("pcc", "ssim", "rmse", "jsd")) -> pd.Series:
    """Rank-aggregated accuracy score (AS) of several methods on one data set.

    Each metric ranks the methods from worst (1) to best (number of methods; ties share the
    mean rank), using PCC and SSIM higher-is-better and RMSE and JSD lower-is-better; AS is
    the mean rank over ``metrics`` divided by the number of methods, so the method best on
    every metric scores 1 (the rank aggregation of Li et al., Nature Methods 2022).

    Parameters
    ----------
    table
        Methods (rows) × metrics (columns), e.g. rows of :func:`deconvolution_scores`.
    metrics
        Columns to aggregate.
    """
    if not isinstance(table, pd.DataFrame):
        raise ValueError(
            f"`table` must be a DataFrame of methods × metrics (got {type(table).__name__})."
        )
    if len(table) == 0:
        raise ValueError("`table` is empty; it needs one row per method.")
    if not table.index.is_unique:
        dup = table.index[table.index.duplicated()][:3].tolist()
        raise ValueError(f"`table` lists some methods twice (e.g. {dup}).")
    metrics = check_keys(metrics, "metrics")
    missing = [m for m in metrics if m not in table.columns]
    if missing:
        raise KeyError(f"Metrics {missing} are not columns of `table` ({list(table.columns)}).")
    unknown = [m for m in metrics if m not in HIGHER_IS_BETTER]
    if unknown:
        raise ValueError(f"No direction known for {unknown}; use {list(HIGHER_IS_BETTER)}.")
    for m in metrics:
        if not pd.api.types.is_numeric_dtype(table[m]):
            raise ValueError(f"`table[{m!r}]` must hold numbers (got {table[m].dtype}).")
        if not np.isfinite(table[m].to_numpy(dtype=float)).all():
            bad = table.index[~np.isfinite(table[m].to_numpy(dtype=float))].tolist()[:3]
            raise ValueError(
                f"`table[{m!r}]` is NaN or infinite for {bad}; ranks would silently skip those "
                "methods. Drop the methods or the metric first."
            )
    ranks = pd.concat(
        [table[m].rank(ascending=HIGHER_IS_BETTER[m], method="average") for m in metrics], axis=1
    )
    return (ranks.mean(1) / len(table)).rename("accuracy_score")
