"""Concatenate several tissue sections into one AnnData for multi-slice methods."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import anndata as ad
import numpy as np
import pandas as pd
from anndata import AnnData

from .._settings import logger
from .._validate import check_adata, check_key, get_spatial


def _named_slices(adatas) -> dict[str, AnnData]:
    """Return ``{name: slice}``: dict keys as strings, or ``"0"``, ``"1"``, … for a list."""
    if isinstance(adatas, AnnData | str) or not isinstance(adatas, Mapping | Sequence):
        raise TypeError(
            "`adatas` must be a list of AnnData or a dict name → AnnData, "
            f"got {type(adatas).__name__}."
        )
    items = adatas.items() if isinstance(adatas, Mapping) else enumerate(adatas)
    named = {}
    for key, adata in items:
        name = str(key)
        if name in named:
            raise ValueError(f"two slices are named {name!r}; give the slices distinct names.")
        named[name] = adata
    return named


def _same(a: Any, b: Any) -> bool:
    """Deep equality of ``uns`` entries (dicts, arrays, scalars)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _merge_spatial_uns(slices: dict[str, AnnData]) -> dict[str, Any]:
    """Merge the slices' ``uns['spatial']`` into one dict library_id → entry.

    A library id seen in several slices is kept once when the entries are equal; otherwise the
    later one is stored as ``"<slice name>-<library id>"``.
    """
    merged: dict[str, Any] = {}
    for name, adata in slices.items():
        spatial = adata.uns.get("spatial")
        if not isinstance(spatial, Mapping):
            continue
        for library_id, entry in spatial.items():
            key = str(library_id)
            if key in merged:
                if _same(merged[key], entry):
                    continue
                new_key = f"{name}-{key}"
                logger.warning(
                    f"concat_slices: uns['spatial'][{key!r}] of slice {name!r} differs from an "
                    f"earlier slice's; stored as uns['spatial'][{new_key!r}]."
                )
                key = new_key
            merged[key] = copy.deepcopy(entry)
    return merged


def concat_slices(
    adatas: Sequence[AnnData] | Mapping[str, AnnData],
    batch_key: str = "slice",
    *,
    join: Literal["inner"] = "inner",
) -> AnnData:
    """Concatenate tissue sections into one AnnData for multi-slice methods.

    The sections are stacked along the spots; they are not aligned spatially: each keeps its
    own coordinates, so distances are only meaningful within a section (build spatial graphs
    per section).

    Parameters
    ----------
    adatas
        Two or more sections, as a list (named ``"0"``, ``"1"``, …) or a dict name → AnnData.
        Each is read, never modified: ``.X``, ``.layers``, ``.obs``, ``.var``,
        ``.obsm["spatial"]`` (required) and ``.uns["spatial"]``.
    batch_key
        Column of ``.obs`` to write the section names into; must not already exist in any
        section.
    join
        How genes are combined: ``"inner"`` keeps the genes (``var_names``) found in every
        section, in the order of the first one. It is the only choice: a gene missing from a
        section was not measured there, which is not the same as zero counts.

    Returns
    -------
    A new AnnData of all spots (in the given order) × shared genes with

    - ``.X`` and the layers present in every section, as they are (sparse stays sparse).
    - ``.obs``: the columns shared by all sections, plus ``obs[batch_key]``, the section name
      (categorical, categories in the given order). ``obs_names`` are kept, unless they collide
      across sections: then every spot is renamed ``"<section name>-<obs name>"``.
    - ``.var``: the columns equal in all sections (e.g. gene symbols).
    - ``.obsm["spatial"]``: each section's coordinates, unchanged. Other ``obsm`` entries,
      ``obsp`` graphs and ``uns`` are dropped, except ``uns["spatial"]``: the sections' entries
      merged into one dict library id → entry (``"<section name>-<library id>"`` for a library id
      already taken by a different entry).

    Raises
    ------
    TypeError
        When ``adatas`` is not a list or dict of AnnData.
    ValueError
        With fewer than 2 sections, an empty section, a section without ``obsm["spatial"]``,
        ``batch_key`` already in a section's ``.obs``, duplicate ``obs_names`` or
        ``var_names`` within a section, no gene shared by all sections, or ``join`` other than
        ``"inner"``.
    """
    check_key(batch_key, "batch_key")
    if join != "inner":
        raise ValueError(
            f"join={join!r} is not supported; only join='inner' (genes found in every slice) is: "
            "a gene missing from a slice was not measured there, which is not zero counts."
        )
    slices = _named_slices(adatas)
    if len(slices) < 2:
        raise ValueError(
            f"concat_slices needs at least 2 slices, got {len(slices)}; a single section "
            "needs no concatenation."
        )
    n_dims = set()
    for name, adata in slices.items():
        check_adata(adata, f"adatas[{name!r}]", allow_view=True)
        if "spatial" not in adata.obsm:
            raise ValueError(
                f"slice {name!r} has no `obsm['spatial']`; every slice needs spot coordinates."
            )
        n_dims.add(get_spatial(adata, "spatial", f"adatas[{name!r}]").shape[1])
        if batch_key in adata.obs:
            raise ValueError(
                f"slice {name!r} already has a column `obs[{batch_key!r}]`; pass another "
                "`batch_key=` or drop that column."
            )
        if not adata.var_names.is_unique:
            raise ValueError(
                f"slice {name!r} has duplicate `var_names`; run `.var_names_make_unique()` first."
            )
    if len(n_dims) > 1:
        raise ValueError(
            f"the slices' `obsm['spatial']` have different numbers of columns ({sorted(n_dims)})."
        )

    first = next(iter(slices.values())).var_names
    shared = first
    for adata in slices.values():
        shared = shared[shared.isin(adata.var_names)]
    counts = ", ".join(f"{name!r}: {a.n_vars}" for name, a in slices.items())
    logger.info(f"concat_slices: genes per slice {counts}; {len(shared)} shared by all.")
    if len(shared) == 0:
        raise ValueError(
            f"no gene is shared by all slices ({', '.join(map(repr, slices))}); check that they "
            "use the same gene identifiers (e.g. all Ensembl ids or all symbols) and species."
        )

    light = {
        name: AnnData(
            X=adata.X,
            obs=adata.obs,
            var=adata.var,
            layers=dict(adata.layers),
            obsm={"spatial": adata.obsm["spatial"]},
        )[:, shared]
        for name, adata in slices.items()
    }
    with warnings.catch_warnings():  # colliding spot names are made unique just below
        warnings.filterwarnings("ignore", "Observation names are not unique", UserWarning)
        result = ad.concat(light, join="inner", label=batch_key, merge="same")
    if not result.obs_names.is_unique:
        result.obs_names = pd.Index(
            [f"{name}-{obs}" for name, adata in slices.items() for obs in adata.obs_names]
        )
    spatial = _merge_spatial_uns(slices)
    if spatial:
        result.uns["spatial"] = spatial
    return result
