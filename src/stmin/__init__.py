"""stmin: spatial-transcriptomics and single-cell methods for the scverse."""

from . import datasets, metrics, model, nn, pl, pp, sparse, tl, train
from ._settings import Settings, settings
from ._version import __version__

__all__ = [
    "Settings",
    "__version__",
    "datasets",
    "metrics",
    "model",
    "nn",
    "pl",
    "pp",
    "settings",
    "sparse",
    "tl",
    "train",
]
