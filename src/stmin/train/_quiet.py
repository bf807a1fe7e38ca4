"""Keep Lightning's start-up chatter (hardware lines, tips, known deprecations) out of the output."""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager

from .._settings import logger

_CHATTY = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero")
_NOISE = (
    ".*does not have many workers.*",
    ".*LeafSpec.*",
    ".*smaller than the logging interval.*",
    ".*`isinstance\\(treespec, LeafSpec\\)`.*",
)


@contextmanager
def quiet_lightning():
    """Silence Lightning's informational lines during the block, unless stmin logs at debug."""
    if logger.getEffectiveLevel() <= logging.DEBUG:
        yield
        return
    loggers = [logging.getLogger(name) for name in _CHATTY]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            for pattern in _NOISE:
                warnings.filterwarnings("ignore", message=pattern)
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
