"""Tools: one function per method, writing its results into the AnnData."""

from .._cluster import cluster_embedding, mixture_threshold, refine_labels
from ._cancer_regions import detect_cancer_regions
from ._domains import cluster_domains
from ._he import predict_from_he
from ._macd import macd_deconvolve
from ._multilinear_logreg import multilinear_logreg
from ._network_logreg import network_logreg
from ._scasdc import scasdc_cluster
from ._sparse_nmf import graph_sparse_nmf, sparse_nmf
from ._sparse_svd import group_sparse_svd, sparse_svd
from ._stg3net import stg3net
from ._stmgac import stmgac
from ._wspls import swcca, wspls

__all__ = [
    "cluster_domains",
    "cluster_embedding",
    "detect_cancer_regions",
    "graph_sparse_nmf",
    "group_sparse_svd",
    "macd_deconvolve",
    "mixture_threshold",
    "multilinear_logreg",
    "network_logreg",
    "predict_from_he",
    "refine_labels",
    "scasdc_cluster",
    "sparse_nmf",
    "sparse_svd",
    "stg3net",
    "stmgac",
    "swcca",
    "wspls",
]
