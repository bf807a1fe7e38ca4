"""Metrics: clustering agreement, spatial continuity and batch mixing."""

from ._clustering import ari, nmi
from ._deconvolution import accuracy_score, deconvolution_scores
from ._domains import domain_scores
from ._expression import expression_scores, gene_pcc, gene_pcc_table
from ._integration import batch_asw, f1_lisi, ilisi, lisi
from ._spatial import chaos, pas

__all__ = [
    "accuracy_score",
    "ari",
    "batch_asw",
    "chaos",
    "deconvolution_scores",
    "domain_scores",
    "expression_scores",
    "f1_lisi",
    "gene_pcc",
    "gene_pcc_table",
    "ilisi",
    "lisi",
    "nmi",
    "pas",
]
