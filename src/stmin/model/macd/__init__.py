"""MACD: masked adversarial cell-type deconvolution."""

from ._model import MACD
from ._module import MACDModule
from ._plan import MACDTrainingPlan

__all__ = ["MACD", "MACDModule", "MACDTrainingPlan"]
