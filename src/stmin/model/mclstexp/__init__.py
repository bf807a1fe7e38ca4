"""mclSTExp: expression from H&E by contrastive spot/image alignment and retrieval."""

from ...pp._transform import expression_transform
from ._model import MclSTExp
from ._module import MclSTExpModule

__all__ = ["MclSTExp", "MclSTExpModule", "expression_transform"]
