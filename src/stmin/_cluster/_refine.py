"""Spatial refinement of labels: a majority vote over each spot's nearest spots."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .._validate import as_coords, as_labels, check_int, check_n_neighbors


def _refine(labels: np.ndarray, coords: np.ndarray, n_neighbors: int) -> np.ndarray:
    check_n_neighbors(n_neighbors, labels.size, "n_neighbors")
    codes, uniques = pd.factorize(labels)
    _, idx = cKDTree(coords).query(coords, k=n_neighbors + 1)
    own = idx == np.arange(labels.size)[:, None]
    own[~own.any(axis=1), -1] = True  # duplicated spots: drop the farthest hit instead
    nb = idx[~own].reshape(labels.size, n_neighbors)
    nb_codes = codes[nb]
    counts = np.zeros((labels.size, uniques.size), dtype=np.int32)
    np.add.at(counts, (np.repeat(np.arange(labels.size), n_neighbors), nb_codes.ravel()), 1)
    votes = np.take_along_axis(counts, nb_codes, axis=1)
    winner = nb_codes[
        np.arange(labels.size), np.argmax(votes == votes.max(axis=1, keepdims=True), axis=1)
    ]
    return np.asarray(uniques)[winner]


def refine_labels(labels, coords: np.ndarray, n_neighbors: int = 30, groups=None) -> np.ndarray:
    """Relabel each spot with the most frequent label among its ``n_neighbors`` nearest spots.

    The spot itself is not counted. Ties go to the label of the nearest spot among the tied
    labels, as in the reference implementation.

    Parameters
    ----------
    labels
        One label per spot (no missing values).
    coords
        Spot coordinates (n × 2 or n × 3).
    n_neighbors
        Neighbours that vote (fewer than the spots of each section).
    groups
        Optional section of each spot: neighbours are then searched within the spot's own
        section only (several slices in one AnnData have unrelated coordinates).

    Returns
    -------
    The refined labels (same dtype as ``labels``).
    """
    labels = as_labels(labels, "labels")
    coords = as_coords(coords, "coords", labels.size, against="labels")
    n_neighbors = check_int(n_neighbors, "n_neighbors", min_value=1)
    if groups is None:
        return _refine(labels, coords, n_neighbors)
    groups = as_labels(groups, "groups", labels.size, against="labels")
    names, sizes = np.unique(groups.astype(str), return_counts=True)
    if sizes.min() <= n_neighbors:
        raise ValueError(
            f"Section {str(names[sizes.argmin()])!r} of `groups` has {sizes.min()} spots, too few for "
            f"`n_neighbors`={n_neighbors}; pass a smaller `n_neighbors` or drop that section."
        )
    out = labels.copy()
    for g in pd.unique(groups):
        idx = np.flatnonzero(groups == g)
        out[idx] = _refine(labels[idx], coords[idx], n_neighbors)
    return out
