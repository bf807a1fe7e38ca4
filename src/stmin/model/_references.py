"""Checks shared by the models that learn from reference sections (H&E and labelled sections)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from anndata import AnnData

from .._constants import ARRAY_COORDS_KEYS
from .._validate import check_adata, check_finite


def image_input(adata: AnnData, image_key: str, name: str = "adata") -> np.ndarray:
    """Return ``obsm[image_key]``: 2-D finite features, or ``uint8`` patches ``(n, h, w, 3)``."""
    if not isinstance(image_key, str) or image_key not in adata.obsm:
        raise KeyError(
            f"`{name}.obsm[{image_key!r}]` not found. Compute image features with "
            f"`sm.pp.he_features({name})` (after `sm.pp.he_patches({name})`), or store features "
            "from another model there."
        )
    value = adata.obsm[image_key]
    value = value.to_numpy() if isinstance(value, pd.DataFrame) else np.asarray(value)
    if value.ndim == 4 and value.dtype == np.uint8 and value.shape[-1] == 3:
        return value
    if value.ndim != 2 or value.dtype.kind not in "biuf" or value.shape[1] == 0:
        raise ValueError(
            f"`{name}.obsm[{image_key!r}]` must be numeric features (n_obs × d) or uint8 patches "
            f"(n_obs, h, w, 3); got {value.dtype} {value.shape}."
        )
    check_finite(value, f"`{name}.obsm[{image_key!r}]`")
    return value.astype(np.float32, copy=False)


def array_coords(adata: AnnData, keys: Sequence[str] | None, name: str = "adata") -> tuple:
    """Return the two ``obs`` columns holding integer array coordinates (found or checked)."""
    if keys is None:
        keys = next((k for k in ARRAY_COORDS_KEYS if set(k) <= set(adata.obs)), None)
        if keys is None:
            raise KeyError(
                f"No array coordinates in `{name}.obs` (looked for {ARRAY_COORDS_KEYS}). Pass "
                "`array_coords_keys=` naming the two obs columns with the spots' grid positions."
            )
    if isinstance(keys, str) or len(keys) != 2:
        raise ValueError(f"`array_coords_keys` must name two obs columns (got {keys!r}).")
    keys = tuple(keys)
    for key in keys:
        if key not in adata.obs:
            raise KeyError(f"`{name}.obs[{key!r}]` not found (array coordinates).")
        values = pd.to_numeric(adata.obs[key], errors="coerce").to_numpy()
        if (
            not np.isfinite(values).all()
            or (values < 0).any()
            or (values != np.round(values)).any()
        ):
            raise ValueError(
                f"`{name}.obs[{key!r}]` must hold non-negative integer grid positions."
            )
    return keys


def as_references(reference) -> list[AnnData]:
    """One AnnData, a list or a dict of them as a checked list (gene names must be unique)."""
    if isinstance(reference, AnnData):
        refs = [reference]
    elif isinstance(reference, Mapping):
        refs = list(reference.values())
    elif isinstance(reference, Sequence) and not isinstance(reference, str):
        refs = list(reference)
    else:
        raise TypeError("`reference` must be an AnnData or a list (or dict) of AnnData.")
    if not refs:
        raise ValueError("`reference` is empty; pass at least one section with expression.")
    for i, ref in enumerate(refs):
        check_adata(ref, f"reference[{i}]", allow_view=True, unique_vars=True)
    return refs


def panel_genes(refs: list[AnnData], genes: Sequence[str] | None) -> list[str]:
    """The genes to predict: ``genes`` (checked to be in every reference) or all shared ones."""
    shared = refs[0].var_names
    for ref in refs[1:]:
        shared = shared.intersection(ref.var_names, sort=False)
    if genes is None:
        genes = list(shared)
    else:
        if isinstance(genes, str):
            genes = [genes]
        genes = list(dict.fromkeys(genes))
        missing = [g for g in genes if g not in shared]
        if missing:
            raise ValueError(
                f"{len(missing)} of `genes` are not measured in every reference section "
                f"(e.g. {missing[:5]}); drop them or pass `genes=None`."
            )
    if not genes:
        raise ValueError("The reference sections share no genes.")
    return genes
