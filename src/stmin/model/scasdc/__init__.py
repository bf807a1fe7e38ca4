"""scASDC: attention-enhanced structural deep clustering of single cells."""

from ._model import ScASDC
from ._module import ScASDCModule

__all__ = ["ScASDC", "ScASDCModule"]
