"""Agreement between a clustering and reference labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from .._validate import as_labels


def _paired(labels_true, labels_pred) -> tuple[np.ndarray, np.ndarray]:
    t = as_labels(labels_true, "labels_true", allow_missing=True)
    p = as_labels(labels_pred, "labels_pred", t.size, against="labels_true", allow_missing=True)
    t, p = pd.Series(t, dtype=object), pd.Series(p, dtype=object)
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
