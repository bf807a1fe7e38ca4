"""Metrics: clustering agreement and spatial continuity."""

from ._clustering import ari, nmi
from ._domains import domain_scores
from ._spatial import chaos, pas

__all__ = ["ari", "chaos", "domain_scores", "nmi", "pas"]
