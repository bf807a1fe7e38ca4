"""Plotting: domains on the tissue, training curves."""

from ._history import training_history
from ._spatial import domains

__all__ = ["domains", "training_history"]
