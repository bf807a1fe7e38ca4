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


def write_domains(adata, key_added: str, z: np.ndarray, labels, record: dict) -> None:
    """Write an embedding, its domain labels and the method record into ``adata``.

    ``obsm[f"X_{key_added}"]`` = ``z``, ``obs[key_added]`` = ``labels`` (categorical, categories
    kept), ``uns[key_added]`` = ``record``; warns before replacing a key and logs what it added.
    """
    import pandas as pd

    from .._settings import log_added
    from .._validate import warn_if_exists

    emb_key = f"X_{key_added}"
    warn_if_exists(adata.obsm, emb_key, "adata.obsm")
    warn_if_exists(adata.obs, key_added, "adata.obs")
    adata.obsm[emb_key] = z
    adata.obs[key_added] = pd.Categorical(np.asarray(labels), categories=labels.categories)
    adata.uns[key_added] = record
    log_added(f"obsm['{emb_key}']", f"obs['{key_added}']", f"uns['{key_added}']")
