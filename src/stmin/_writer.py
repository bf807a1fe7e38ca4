"""The one way stmin writes results into an AnnData, and the record of the call in ``uns``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from anndata import AnnData

from ._settings import log_added, logger
from ._version import __version__

_SLOTS = ("obs", "obsm", "obsp", "var", "varm", "varp", "layers")
_MAX_STORED = 10_000  # larger array arguments are recorded by their shape only
_NOT_RECORDED = ("adata", "copy", "self", "cls")


def warn_if_exists(mapping, key: str, where: str) -> None:
    """Log a warning when ``where[key]`` exists and is about to be replaced."""
    if key in mapping:
        logger.warning(f"overwriting existing `{where}[{key!r}]`; pass `key_added=` to keep it.")


def _storable(value: Any) -> Any:
    """``value`` in a form ``.h5ad`` can store (recursively); ``_SKIP`` for what it cannot."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, AnnData) or (
        isinstance(value, list | tuple | Mapping)
        and any(
            isinstance(v, AnnData)
            for v in (value.values() if isinstance(value, Mapping) else value)
        )
    ):
        return _SKIP
    if isinstance(value, Mapping):
        out = {str(k): _storable(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not _SKIP}
    if isinstance(value, list | tuple | pd.Index):
        items = [_storable(v) for v in value]
        if any(v is _SKIP or isinstance(v, dict | list) or v is None for v in items):
            return [str(v) for v in value]
        kinds = {type(v) for v in items}
        return items if len(kinds) <= 1 or kinds <= {int, float} else [str(v) for v in items]
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufU" and value.size <= _MAX_STORED:
        return value
    if isinstance(value, pd.Series | pd.DataFrame | np.ndarray):
        return f"<{type(value).__name__} of shape {value.shape}>"
    if callable(value) or hasattr(value, "__dict__"):
        return f"<{getattr(value, '__name__', type(value).__name__)}>"
    return str(value)


_SKIP = object()


def call_params(values: Mapping[str, Any]) -> dict:
    """The arguments of a call, for ``uns[key_added]["params"]``.

    Pass ``locals()`` as the first statement of the function: it then holds exactly the call's
    arguments, defaults included. AnnData objects and ``copy`` are left out; paths become
    strings, modules and functions their names.
    """
    out = {}
    for name, value in values.items():
        if name in _NOT_RECORDED:
            continue
        stored = _storable(value)
        if stored is not _SKIP:
            out[name] = stored
    return out


def method_record(params: Mapping[str, Any], **extra: Any) -> dict:
    """``{"params": params, "stmin_version": ..., **extra}`` in a form ``.h5ad`` can store."""
    record = {"params": dict(params), "stmin_version": __version__, **extra}
    return {k: v for k, v in ((k, _storable(v)) for k, v in record.items()) if v is not _SKIP}


def write_result(
    adata: AnnData,
    key_added: str,
    params: Mapping[str, Any],
    *,
    obs: Mapping | None = None,
    obsm: Mapping | None = None,
    obsp: Mapping | None = None,
    var: Mapping | None = None,
    varm: Mapping | None = None,
    varp: Mapping | None = None,
    layers: Mapping | None = None,
    record: Mapping[str, Any] | None = None,
    uns_key: str | None = None,
    name: str = "adata",
) -> None:
    """Write results into ``adata`` and the record of the call into ``uns``.

    Every entry of ``obs``/``obsm``/``obsp``/``var``/``varm``/``varp``/``layers`` is written under its key;
    ``uns[uns_key or key_added]`` gets ``{"params": params, "stmin_version": ..., **record}``.
    A warning is logged before any existing key is replaced, and the keys written are logged
    at the ``info`` level.
    """
    entries = {
        "obs": obs,
        "obsm": obsm,
        "obsp": obsp,
        "var": var,
        "varm": varm,
        "varp": varp,
        "layers": layers,
    }
    uns_key = key_added if uns_key is None else uns_key
    for slot in _SLOTS:
        for key in entries[slot] or {}:
            warn_if_exists(getattr(adata, slot), key, f"{name}.{slot}")
    warn_if_exists(adata.uns, uns_key, f"{name}.uns")
    added = []
    for slot in _SLOTS:
        store = getattr(adata, slot)
        for key, value in (entries[slot] or {}).items():
            store[key] = value
            added.append(f"{slot}['{key}']")
    adata.uns[uns_key] = method_record(params, **(record or {}))
    added.append(f"uns['{uns_key}']")
    log_added(*added)
