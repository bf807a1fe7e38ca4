"""mclSTExp: expression from H&E by contrastive spot/image alignment and retrieval."""

from ._model import MclSTExp
from ._module import MclSTExpModule, expression_transform

__all__ = ["MclSTExp", "MclSTExpModule", "expression_transform"]
