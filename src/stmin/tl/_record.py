"""The ``uns[key_added]`` record every ``sm.tl`` function writes."""

from __future__ import annotations

from typing import Any

import numpy as np


def _h5_safe(value: Any) -> Any:
    """Turn tuples into lists (recursively) so the record can be written to ``.h5ad``."""
    if isinstance(value, dict):
        return {str(k): _h5_safe(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_h5_safe(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def method_record(params: dict, **extra: Any) -> dict:
    """``{"params": params, "stmin_version": ..., **extra}`` in a form ``.h5ad`` can store."""
    from .. import __version__

    return _h5_safe({"params": params, "stmin_version": __version__, **extra})
