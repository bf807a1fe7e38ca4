"""AnnData input and output shared by the sparse-method wrappers."""

from __future__ import annotations

from anndata import AnnData

from .._settings import log_added
from .._validate import check_adata, check_finite, get_layer, warn_if_exists


def sparse_input(adata: AnnData, layer: str | None = None, name: str = "adata"):
    """Return ``adata.X`` or ``adata.layers[layer]`` (dense or sparse), checked to be finite."""
    check_adata(adata, name, allow_view=True)
    X = get_layer(adata, layer, name)
    check_finite(X, f"`{name}.X`" if layer is None else f"`{name}.layers[{layer!r}]`")
    return X


def write_sparse_result(
    adata: AnnData,
    key_added: str,
    *,
    obsm: dict | None = None,
    varm: dict | None = None,
    obs: dict | None = None,
    var: dict | None = None,
    record: dict,
) -> None:
    """Write the given ``obsm``/``varm``/``obs``/``var`` entries and ``uns[key_added] = record``.

    Warns before replacing an existing key and logs every key written.
    """
    added = []
    for slot, entries in (("obsm", obsm), ("varm", varm), ("obs", obs), ("var", var)):
        store = getattr(adata, slot)
        for key, value in (entries or {}).items():
            warn_if_exists(store, key, f"adata.{slot}")
            store[key] = value
            added.append(f"{slot}['{key}']")
    warn_if_exists(adata.uns, key_added, "adata.uns")
    adata.uns[key_added] = record
    added.append(f"uns['{key_added}']")
    log_added(*added)
