"""Keep Lightning's start-up chatter (hardware lines, tips, known deprecations) out of the output."""

from __future__ import annotations

import warnings
from contextlib import contextmanager

from .._settings import quieted

_CHATTY = (
    "lightning.pytorch.utilities.rank_zero",
    "lightning.fabric.utilities.rank_zero",
    "scvi",
)
_NOISE = (
    ".*does not have many workers.*",
    ".*LeafSpec.*",
    ".*smaller than the logging interval.*",
    # neighbourhood batches hold more spots than centres; the epoch loss is weighted by spots
    ".*Trying to infer the `batch_size`.*",
    ".*`IterableDataset` has `__len__` defined.*",
)


@contextmanager
def quiet_lightning():
    """Silence Lightning's and scvi-tools' informational lines and known deprecation warnings."""
    with quieted(*_CHATTY), warnings.catch_warnings():
        for pattern in _NOISE:
            warnings.filterwarnings("ignore", message=pattern)
        yield
