"""Agreement between a clustering and reference labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score


def _paired(labels_true, labels_pred) -> tuple[np.ndarray, np.ndarray]:
    t = pd.Series(np.asarray(labels_true, dtype=object))
    p = pd.Series(np.asarray(labels_pred, dtype=object))
    if len(t) != len(p):
        raise ValueError(f"Label vectors differ in length: {len(t)} and {len(p)}.")
    keep = (t.notna() & p.notna()).to_numpy()
    if not keep.any():
        raise ValueError("No observation has both a reference and a predicted label.")
    return t[keep].astype(str).to_numpy(), p[keep].astype(str).to_numpy()


def ari(labels_true, labels_pred) -> float:
    """Adjusted Rand index; observations with a missing label on either side are ignored."""
    return float(adjusted_rand_score(*_paired(labels_true, labels_pred)))


def nmi(labels_true, labels_pred) -> float:
    """Normalised mutual information (arithmetic mean); missing labels are ignored."""
    return float(normalized_mutual_info_score(*_paired(labels_true, labels_pred)))
