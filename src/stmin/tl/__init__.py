"""Tools: one function per method, writing its results into the AnnData."""

from ._domains import cluster_domains, cluster_embedding, refine_labels
from ._scasdc import scasdc_cluster
from ._stg3net import stg3net
from ._stmgac import stmgac

__all__ = [
    "cluster_domains",
    "cluster_embedding",
    "refine_labels",
    "scasdc_cluster",
    "stg3net",
    "stmgac",
]
