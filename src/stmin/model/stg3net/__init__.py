"""STG3Net: multi-slice integration with a masked graph autoencoder."""

from ._model import STG3Net
from ._module import STG3NetModule

__all__ = ["STG3Net", "STG3NetModule"]
