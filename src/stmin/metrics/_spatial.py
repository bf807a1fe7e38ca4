"""Spatial continuity of a labelling: CHAOS and PAS."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree


def chaos(labels, coords: np.ndarray) -> float:
    """CHAOS score (lower is more spatially continuous).

    The mean, over all spots, of the distance to the nearest spot of the same label, on
    coordinates standardised per axis; labels with two spots or fewer contribute nothing
    (Shang & Zhou, 2022, as in the STMGAC benchmark).

    Parameters
    ----------
    labels
        One label per spot.
    coords
        Spot coordinates (n × 2).
    """
    labels = np.asarray(labels)
    coords = np.asarray(coords, dtype=float)
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
        One label per spot.
    coords
        Spot coordinates (n × 2).
    n_neighbors
        Neighbours compared (10).
    """
    labels = np.asarray(labels)
    k = min(n_neighbors, labels.size - 1)
    _, idx = cKDTree(np.asarray(coords, dtype=float)).query(coords, k=k + 1)
    own = idx == np.arange(labels.size)[:, None]
    own[~own.any(axis=1), -1] = True
    nb = idx[~own].reshape(labels.size, k)
    differ = (labels[nb] != labels[:, None]).sum(axis=1)
    return float(np.mean(differ > k / 2))
