"""Sparse, interpretable factorisation and selection on plain arrays.

The class-free numpy core behind ``sm.tl.sparse_svd``, ``sm.tl.group_sparse_svd``,
``sm.tl.sparse_nmf``, ``sm.tl.wspls`` / ``sm.tl.swcca``, ``sm.tl.network_logreg`` and
``sm.tl.multilinear_logreg``: projection operators, an alternating rank-1 engine, a PALM engine
(plain, accelerated and ABPL+ momentum) and a cyclic coordinate-descent engine. Each function takes
arrays (dense or ``scipy.sparse``) and returns arrays; the ``sm.tl`` wrappers read and write AnnData.
"""

from ._groups import group_soft, group_topk, make_groups, overlapping_group_prox
from ._logreg import network_from_correlation, network_logreg
from ._mslr import multilinear_decision, multilinear_logreg
from ._nmf import nmf_objective, sparse_nmf
from ._palm import palm
from ._pls import swcca, wspls
from ._projections import soft, topk_box, topk_nonneg, topk_rows_nonneg, topk_sphere
from ._svd import group_sparse_svd, sparse_svd

__all__: list[str] = [
    "group_soft",
    "group_sparse_svd",
    "group_topk",
    "make_groups",
    "multilinear_decision",
    "multilinear_logreg",
    "network_from_correlation",
    "network_logreg",
    "nmf_objective",
    "overlapping_group_prox",
    "palm",
    "soft",
    "sparse_nmf",
    "sparse_svd",
    "swcca",
    "topk_box",
    "topk_nonneg",
    "topk_rows_nonneg",
    "topk_sphere",
    "wspls",
]
