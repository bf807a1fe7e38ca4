"""Model classes, one per method (scvi-tools style)."""

from ._graph_base import GraphModelBase
from .stmgac import STMGAC, STMGACModule

__all__ = ["STMGAC", "GraphModelBase", "STMGACModule"]
