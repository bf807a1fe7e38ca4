"""Scores of predicted against measured expression (per gene, then summarised)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _matrix(x, name: str) -> np.ndarray:
    if hasattr(x, "toarray"):
        x = x.toarray()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"`{name}` must be a 2-D spots × genes matrix (got shape {x.shape}).")
    if not np.isfinite(x).all():
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    return x


def gene_pcc(truth, pred) -> np.ndarray:
    """Pearson correlation across spots, one per gene; NaN where either side is constant.

    Parameters
    ----------
    truth, pred
        Spots × genes arrays (or DataFrames / sparse matrices) of the same shape.
    """
    truth, pred = _matrix(truth, "truth"), _matrix(pred, "pred")
    if truth.shape != pred.shape:
        raise ValueError(f"`truth` {truth.shape} and `pred` {pred.shape} differ in shape.")
    tc, pc = truth - truth.mean(0), pred - pred.mean(0)
    denom = np.sqrt((tc**2).sum(0) * (pc**2).sum(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (tc * pc).sum(0) / np.where(denom > 0, denom, 1), np.nan)


def expression_scores(truth, pred, n_top: int = 50) -> dict[str, float]:
    """The H&E-to-expression scores of the field for one held-out section.

    Parameters
    ----------
    truth, pred
        Spots × genes, measured and predicted, in the same (e.g. log) space.
    n_top
        Size of the highly expressed (HEG: largest mean of ``truth``) and highly variable (HVG:
        largest variance of ``truth``) gene sets, both chosen on the held-out section (50).

    Returns
    -------
    ``pcc_all`` (mean per-gene PCC over the genes where it is defined), ``pcc_heg``,
    ``pcc_hvg``, ``mse`` and ``mae`` (over the whole matrix) and ``n_genes_nan`` (genes with
    constant truth or prediction, left out of the means).
    """
    truth_m, pred_m = _matrix(truth, "truth"), _matrix(pred, "pred")
    r = gene_pcc(truth_m, pred_m)
    n = min(int(n_top), truth_m.shape[1])
    heg = np.argsort(-truth_m.mean(0), kind="stable")[:n]
    hvg = np.argsort(-truth_m.var(0), kind="stable")[:n]
    return {
        "pcc_all": float(np.nanmean(r)) if np.isfinite(r).any() else float("nan"),
        "pcc_heg": float(np.nanmean(r[heg])) if np.isfinite(r[heg]).any() else float("nan"),
        "pcc_hvg": float(np.nanmean(r[hvg])) if np.isfinite(r[hvg]).any() else float("nan"),
        "mse": float(np.mean((truth_m - pred_m) ** 2)),
        "mae": float(np.mean(np.abs(truth_m - pred_m))),
        "n_genes_nan": int(np.isnan(r).sum()),
    }


def gene_pcc_table(truth: pd.DataFrame, pred: pd.DataFrame) -> pd.Series:
    """Per-gene PCC of two spots × genes DataFrames aligned on index and columns."""
    genes = truth.columns.intersection(pred.columns)
    spots = truth.index.intersection(pred.index)
    if len(genes) == 0 or len(spots) == 0:
        raise ValueError("`truth` and `pred` share no genes or no spots.")
    r = gene_pcc(truth.loc[spots, genes].to_numpy(), pred.loc[spots, genes].to_numpy())
    return pd.Series(r, index=genes, name="pcc")
