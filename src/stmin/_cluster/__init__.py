"""Array-level clustering shared by the models and the tools: arrays in, labels out."""

from ._embedding import (
    CLUSTER_METHODS,
    ClusterMethod,
    as_categories,
    check_cluster_method,
    cluster_embedding,
)
from ._leiden import leiden_codes, scanpy_neighbors
from ._refine import refine_labels
from ._threshold import mixture_threshold

__all__ = [
    "CLUSTER_METHODS",
    "ClusterMethod",
    "as_categories",
    "check_cluster_method",
    "cluster_embedding",
    "leiden_codes",
    "mixture_threshold",
    "refine_labels",
    "scanpy_neighbors",
]
