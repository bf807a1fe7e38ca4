"""Shared training machinery (scvi-tools training plans and runners)."""

from ._history import loss_history
from ._mixin import FullGraphTrainingMixin
from ._plan import FullGraphTrainingPlan
from ._rows import node_order

__all__ = ["FullGraphTrainingMixin", "FullGraphTrainingPlan", "loss_history", "node_order"]
