"""Clustering the rows of an embedding: Gaussian mixture, k-means or Leiden at a fixed k."""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from .._random import check_random_state
from .._settings import logger
from .._validate import as_matrix, check_choice, check_n_clusters
from ._leiden import leiden_codes, scanpy_neighbors

ClusterMethod = Literal["gmm", "kmeans", "leiden"]
CLUSTER_METHODS = get_args(ClusterMethod)


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
        Embedding (n × d), finite.
    n_clusters
        Number of clusters (2 ≤ ``n_clusters`` ≤ n).
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
    check_cluster_method(method)
    x = as_matrix(x, "x")
    n_clusters = check_n_clusters(n_clusters, x.shape[0])
    random_state = check_random_state(random_state) or 0
    n_distinct = np.unique(x, axis=0).shape[0]
    if n_distinct < n_clusters:
        raise ValueError(
            f"`x` has {n_distinct} distinct rows, fewer than `n_clusters`={n_clusters}: the "
            "embedding cannot be split into that many clusters (is it constant, e.g. from a "
            "collapsed model?). Pass a smaller `n_clusters` or check the embedding."
        )
    if method == "gmm":
        labels = GaussianMixture(
            n_clusters, covariance_type="tied", random_state=random_state
        ).fit_predict(x)
    elif method == "kmeans":
        labels = KMeans(n_clusters, n_init=10, random_state=random_state).fit_predict(x)
    else:
        labels = _leiden_n_clusters(x, n_clusters, random_state)
    # renumber by size so that label names do not depend on the backend's ordering
    sizes = np.bincount(labels)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[labels]


def as_categories(labels: np.ndarray) -> pd.Categorical:
    """Integer labels as a categorical of strings ``"0" … "k-1"`` (in numeric order)."""
    return pd.Categorical(labels.astype(str), categories=[str(c) for c in np.unique(labels)])


def check_cluster_method(method, name: str = "method") -> None:
    """Raise unless ``method`` is one of :data:`CLUSTER_METHODS`."""
    check_choice(method, name, CLUSTER_METHODS)
