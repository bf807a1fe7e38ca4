"""stmin: spatial-transcriptomics and single-cell methods for the scverse."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("stmin")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

from . import datasets, metrics, model, nn, pl, pp, sparse, tl, train
from ._settings import Settings, settings

__all__ = [
    "Settings",
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
