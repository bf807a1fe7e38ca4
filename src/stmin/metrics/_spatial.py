"""Spatial continuity of a labelling: CHAOS and PAS."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .._validate import as_coords, as_labels, check_int


def _labels_coords(labels, coords) -> tuple[np.ndarray, np.ndarray]:
    """One label and one finite (x, y[, z]) position per spot, at least 2 spots."""
    labels = as_labels(labels, "labels")
    coords = as_coords(coords, "coords", labels.size, against="labels")
    if labels.size < 2:
        raise ValueError(f"`labels` has {labels.size} spot; a spatial score needs at least 2.")
    return labels, coords


def chaos(labels, coords: np.ndarray) -> float:
    """CHAOS score (lower is more spatially continuous).

    The mean, over all spots, of the distance to the nearest spot of the same label, on
    coordinates standardised per axis; labels with two spots or fewer contribute nothing
    (Shang & Zhou, 2022, as in the STMGAC benchmark).

    Parameters
    ----------
    labels
        One label per spot (no missing values).
    coords
        Spot coordinates (n × 2 or n × 3, finite).
    """
    labels, coords = _labels_coords(labels, coords)
    std = coords.std(axis=0)
    z = (coords - coords.mean(axis=0)) / np.where(std > 0, std, 1.0)
    total = 0.0
    for code in pd.unique(labels):
        pts = z[labels == code]
        if len(pts) <= 2:
            continue
        dist, _ = cKDTree(pts).query(pts, k=2)
        total += dist[:, 1].sum()
    return float(total / labels.size)


def pas(labels, coords: np.ndarray, n_neighbors: int = 10) -> float:
    """PAS score (lower is more spatially continuous).

    The fraction of spots whose label differs from that of more than half of their
    ``n_neighbors`` nearest spots.

    Parameters
    ----------
    labels
        One label per spot (no missing values).
    coords
        Spot coordinates (n × 2 or n × 3, finite).
    n_neighbors
        Neighbours compared (10); capped at the number of spots minus one.
    """
    labels, coords = _labels_coords(labels, coords)
    n_neighbors = check_int(n_neighbors, "n_neighbors", min_value=1)
    k = min(n_neighbors, labels.size - 1)
    _, idx = cKDTree(coords).query(coords, k=k + 1)
    own = idx == np.arange(labels.size)[:, None]
    own[~own.any(axis=1), -1] = True
    nb = idx[~own].reshape(labels.size, k)
    differ = (labels[nb] != labels[:, None]).sum(axis=1)
    return float(np.mean(differ > k / 2))
