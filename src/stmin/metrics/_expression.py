"""Scores of predicted against measured expression (per gene, then summarised)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validate import as_matrix, check_int


def _frame_pair(truth, pred, what: str = "genes") -> tuple:
    """Align two DataFrames on their labels (rows: spots, columns: ``what``); others as given."""
    if not (isinstance(truth, pd.DataFrame) and isinstance(pred, pd.DataFrame)):
        return truth, pred
    for name, frame in (("truth", truth), ("pred", pred)):
        for axis, labels in (("index", frame.index), ("columns", frame.columns)):
            if not labels.is_unique:
                dup = labels[labels.duplicated()][:3].tolist()
                raise ValueError(f"`{name}.{axis}` has repeated labels (e.g. {dup}).")
    if set(truth.columns) != set(pred.columns):
        diff = sorted(map(str, set(truth.columns) ^ set(pred.columns)))[:5]
        raise ValueError(f"`truth` and `pred` have different {what} (e.g. {diff}).")
    if set(truth.index) != set(pred.index):
        diff = sorted(map(str, set(truth.index) ^ set(pred.index)))[:5]
        raise ValueError(
            f"`truth` and `pred` have different spots in their index (e.g. {diff}); align them "
            "first (e.g. `pred.loc[truth.index]`)."
        )
    return truth, pred.loc[truth.index, truth.columns]


def _pair(truth, pred, what: str = "genes") -> tuple[np.ndarray, np.ndarray]:
    """Two finite spots × ``what`` float matrices of the same shape (DataFrames aligned)."""
    truth, pred = _frame_pair(truth, pred, what)
    truth = as_matrix(truth, "truth", min_rows=2)
    pred = as_matrix(pred, "pred", min_rows=2)
    if truth.shape != pred.shape:
        raise ValueError(f"`truth` {truth.shape} and `pred` {pred.shape} differ in shape.")
    return truth, pred


def _pcc(truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    tc, pc = truth - truth.mean(0), pred - pred.mean(0)
    denom = np.sqrt((tc**2).sum(0) * (pc**2).sum(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (tc * pc).sum(0) / np.where(denom > 0, denom, 1), np.nan)


def gene_pcc(truth, pred) -> np.ndarray:
    """Pearson correlation across spots, one per gene; NaN where either side is constant.

    Parameters
    ----------
    truth, pred
        Spots × genes arrays (or sparse matrices) of the same shape, at least 2 spots; two
        DataFrames are aligned on their index and columns first.
    """
    return _pcc(*_pair(truth, pred))


def expression_scores(truth, pred, n_top: int = 50) -> dict[str, float]:
    """The H&E-to-expression scores of the field for one held-out section.

    Parameters
    ----------
    truth, pred
        Spots × genes, measured and predicted, in the same (e.g. log) space (see
        :func:`gene_pcc`).
    n_top
        Size of the highly expressed (HEG: largest mean of ``truth``) and highly variable (HVG:
        largest variance of ``truth``) gene sets, both chosen on the held-out section (50;
        capped at the number of genes).

    Returns
    -------
    ``pcc_all`` (mean per-gene PCC over the genes where it is defined), ``pcc_heg``,
    ``pcc_hvg``, ``mse`` and ``mae`` (over the whole matrix) and ``n_genes_nan`` (genes with
    constant truth or prediction, left out of the means).
    """
    n_top = check_int(n_top, "n_top", min_value=1)
    truth_m, pred_m = _pair(truth, pred)
    r = _pcc(truth_m, pred_m)
    n = min(n_top, truth_m.shape[1])
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
    """Per-gene PCC of two spots × genes DataFrames aligned on index and columns.

    Only the spots and genes found in both are compared.
    """
    for name, frame in (("truth", truth), ("pred", pred)):
        if not isinstance(frame, pd.DataFrame):
            raise ValueError(
                f"`{name}` must be a spots × genes DataFrame (got {type(frame).__name__}); use "
                "`gene_pcc` for arrays."
            )
        for axis, labels in (("index", frame.index), ("columns", frame.columns)):
            if not labels.is_unique:
                dup = labels[labels.duplicated()][:3].tolist()
                raise ValueError(f"`{name}.{axis}` has repeated labels (e.g. {dup}).")
    genes = truth.columns.intersection(pred.columns)
    spots = truth.index.intersection(pred.index)
    if len(genes) == 0 or len(spots) == 0:
        raise ValueError("`truth` and `pred` share no genes or no spots.")
    r = gene_pcc(truth.loc[spots, genes].to_numpy(), pred.loc[spots, genes].to_numpy())
    return pd.Series(r, index=genes, name="pcc")
