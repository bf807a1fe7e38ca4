"""Clustering an embedding into spatial domains, and spatial label refinement."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from anndata import AnnData
from scipy.spatial import cKDTree
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from .._constants import SPATIAL_KEY
from .._knn import leiden_codes, scanpy_neighbors
from .._settings import log_added, logger
from .._validate import (
    check_adata,
    check_n_clusters,
    check_n_neighbors,
    get_rep,
    get_spatial,
    warn_if_exists,
)

ClusterMethod = Literal["gmm", "kmeans", "leiden"]


def _leiden_n_clusters(
    x: np.ndarray, n_clusters: int, random_state: int, n_iter: int = 30
) -> np.ndarray:
    """Leiden on a kNN graph of ``x``, bisecting the resolution to get ``n_clusters`` clusters."""
    tmp = scanpy_neighbors(x, min(15, x.shape[0] - 1), random_state)
    lo, hi = 0.01, 3.0
    best = None
    for _ in range(n_iter):
        res = (lo + hi) / 2
        labels = leiden_codes(tmp, res, random_state)
        k = labels.max() + 1
        if best is None or abs(k - n_clusters) < abs(best.max() + 1 - n_clusters):
            best = labels
        if k == n_clusters:
            break
        lo, hi = (res, hi) if k < n_clusters else (lo, res)
    if best.max() + 1 != n_clusters:
        logger.warning(
            f"Leiden found {best.max() + 1} clusters, not {n_clusters}, at any resolution tried."
        )
    return best


def cluster_embedding(
    x: np.ndarray, n_clusters: int, *, method: ClusterMethod = "gmm", random_state: int = 0
) -> np.ndarray:
    """Cluster the rows of an embedding.

    Parameters
    ----------
    x
        Embedding (n × d).
    n_clusters
        Number of clusters.
    method
        ``"gmm"``: Gaussian mixture with one covariance shared by all components (the analogue
        of mclust's EEE model used by most spatial-domain papers). ``"kmeans"``: k-means
        (10 starts). ``"leiden"``: Leiden on a 15-NN graph of ``x`` with the resolution bisected
        to give ``n_clusters``.
    random_state
        Seed.

    Returns
    -------
    Integer labels ``0 … n_clusters − 1``, numbered by decreasing cluster size.
    """
    check_n_clusters(n_clusters, x.shape[0])
    if method == "gmm":
        labels = GaussianMixture(
            n_clusters, covariance_type="tied", random_state=random_state
        ).fit_predict(x)
    elif method == "kmeans":
        labels = KMeans(n_clusters, n_init=10, random_state=random_state).fit_predict(x)
    elif method == "leiden":
        labels = _leiden_n_clusters(x, n_clusters, random_state)
    else:
        raise ValueError(f"`method` must be one of 'gmm', 'kmeans', 'leiden' (got {method!r}).")
    # renumber by size so that label names do not depend on the backend's ordering
    sizes = np.bincount(labels)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[labels]


def refine_labels(
    labels: np.ndarray, coords: np.ndarray, n_neighbors: int = 30, groups=None
) -> np.ndarray:
    """Relabel each spot with the most frequent label among its ``n_neighbors`` nearest spots.

    The spot itself is not counted. Ties go to the label of the nearest spot among the tied
    labels, as in the reference implementation.

    Parameters
    ----------
    labels
        One label per spot.
    coords
        Spot coordinates (n × 2).
    n_neighbors
        Neighbours that vote.
    groups
        Optional section of each spot: neighbours are then searched within the spot's own
        section only (several slices in one AnnData have unrelated coordinates).

    Returns
    -------
    The refined labels (same dtype as ``labels``).
    """
    labels = np.asarray(labels)
    if groups is not None:
        groups = np.asarray(groups)
        out = labels.copy()
        for g in pd.unique(groups):
            idx = np.flatnonzero(groups == g)
            out[idx] = refine_labels(labels[idx], coords[idx], n_neighbors)
        return out
    check_n_neighbors(n_neighbors, labels.size, "refine")
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


def cluster_domains(
    adata: AnnData,
    n_clusters: int,
    *,
    use_rep: str,
    method: ClusterMethod = "gmm",
    refine: int | None = None,
    spatial_key: str = SPATIAL_KEY,
    random_state: int = 0,
    key_added: str = "domain",
    copy: bool = False,
) -> AnnData | None:
    """Cluster an embedding in ``obsm`` into spatial domains, optionally refined spatially.

    Parameters
    ----------
    adata
        Annotated data.
    n_clusters
        Number of domains.
    use_rep
        ``obsm`` key of the embedding (e.g. ``"X_stmgac"``).
    method
        See :func:`cluster_embedding`.
    refine
        Majority vote over this many nearest spots (:func:`refine_labels`); ``None`` skips it.
    spatial_key
        ``obsm`` key of the coordinates (for ``refine``).
    random_state
        Seed.
    key_added
        ``obs`` column written.
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy with ``copy=True``. Writes ``obs[key_added]`` (categorical).
    """
    check_adata(adata)
    x = get_rep(adata, use_rep)
    coords = get_spatial(adata, spatial_key) if refine else None
    adata = adata.copy() if copy else adata
    labels = cluster_embedding(x, n_clusters, method=method, random_state=random_state)
    if refine:
        labels = refine_labels(labels, coords, refine)
    warn_if_exists(adata.obs, key_added, "adata.obs")
    adata.obs[key_added] = pd.Categorical(
        labels.astype(str), categories=[str(c) for c in np.unique(labels)]
    )
    log_added(f"obs['{key_added}']")
    return adata if copy else None
