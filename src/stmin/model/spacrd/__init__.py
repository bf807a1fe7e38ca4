"""SpaCRD: cancer regions from expression and H&E, learnt on labelled sections."""

from ._model import SpaCRD
from ._module import SpaCRDModule

__all__ = ["SpaCRD", "SpaCRDModule"]
