"""Shared training machinery: one ``train()``, pluggable data splitters, the training plan."""

from ._devices import check_device_args
from ._history import loss_history
from ._mixin import TrainingMixin, train_targets
from ._neighborhoods import NeighborhoodDataSplitter
from ._plan import TrainingPlan
from ._quiet import quiet_lightning
from ._rows import whole_graph
from ._splitters import FullDataSplitter, MiniBatchDataSplitter

__all__ = [
    "FullDataSplitter",
    "MiniBatchDataSplitter",
    "NeighborhoodDataSplitter",
    "TrainingMixin",
    "TrainingPlan",
    "check_device_args",
    "loss_history",
    "quiet_lightning",
    "train_targets",
    "whole_graph",
]
