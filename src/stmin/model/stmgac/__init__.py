"""STMGAC: masked graph autoencoder with contrastive augmentation."""

from ._model import STMGAC
from ._module import STMGACModule

__all__ = ["STMGAC", "STMGACModule"]
