"""Checks of AnnData objects and of the keys stmin reads from them."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from .._constants import CONNECTIVITIES_KEY, SPATIAL_KEY
from ._values import check_finite, check_int


def check_adata(
    adata: AnnData,
    name: str = "adata",
    *,
    allow_view: bool = False,
    need_vars: bool = True,
    unique_vars: bool = False,
) -> None:
    """Check that ``adata`` is a non-empty AnnData with unique ``obs_names``.

    ``need_vars=False`` accepts an AnnData without variables (e.g. an H&E-only section);
    ``unique_vars=True`` also requires unique ``var_names`` (for functions that select genes by
    name).
    """
    if not isinstance(adata, AnnData):
        raise TypeError(f"`{name}` must be an AnnData, got {type(adata).__name__}.")
    if adata.n_obs == 0 or (need_vars and adata.n_vars == 0):
        raise ValueError(
            f"`{name}` is empty ({adata.n_obs} observations × {adata.n_vars} variables)."
        )
    if adata.is_view and not allow_view:
        raise ValueError(
            f"`{name}` is a view of another AnnData; results cannot be written into a view. "
            f"Pass `{name}.copy()` instead."
        )
    if not adata.obs_names.is_unique:
        dup = adata.obs_names[adata.obs_names.duplicated()][:3].tolist()
        raise ValueError(
            f"`{name}.obs_names` are not unique (e.g. {dup}). Run `{name}.obs_names_make_unique()` first."
        )
    if unique_vars and not adata.var_names.is_unique:
        dup = adata.var_names[adata.var_names.duplicated()][:3].tolist()
        raise ValueError(
            f"`{name}.var_names` are not unique (e.g. {dup}); genes are matched by name here. "
            f"Run `{name}.var_names_make_unique()` first."
        )


def where(name: str, layer: str | None) -> str:
    """How an error names a matrix: ``"`adata.X`"`` or ``"`adata.layers['counts']`"``."""
    return f"`{name}.X`" if layer is None else f"`{name}.layers[{layer!r}]`"


def get_layer(adata: AnnData, layer: str | None, name: str = "adata"):
    """Return ``adata.X`` or ``adata.layers[layer]``, raising a clear KeyError if missing."""
    if layer is None:
        if adata.X is None:
            raise ValueError(f"`{name}.X` is empty (None); pass `layer=` naming the counts.")
        return adata.X
    if not isinstance(layer, str) or layer not in adata.layers:
        raise KeyError(
            f"`{name}.layers[{layer!r}]` not found; available layers: {list(adata.layers)}. "
            "Pass `layer=None` to use `.X`."
        )
    return adata.layers[layer]


def get_obs(adata: AnnData, key: str, name: str = "adata", what: str = "column") -> pd.Series:
    """Return ``adata.obs[key]``, raising a KeyError that lists the columns if it is missing."""
    if not isinstance(key, str) or key not in adata.obs:
        raise KeyError(
            f"`{name}.obs[{key!r}]` not found; pass the {what} (available columns: "
            f"{list(adata.obs.columns)})."
        )
    return adata.obs[key]


def get_rep(
    adata: AnnData, use_rep: str, name: str = "adata", *, hint: str | None = None
) -> np.ndarray:
    """Return ``adata.obsm[use_rep]`` as a finite 2-D float array.

    ``hint`` replaces the advice of the error raised when the key is missing.
    """
    if not isinstance(use_rep, str) or use_rep not in adata.obsm:
        if hint is None:
            hint = "Compute it first (e.g. `sc.pp.pca(adata)` for 'X_pca') or pass `use_rep=None`."
        raise KeyError(
            f"`{name}.obsm[{use_rep!r}]` not found; available keys: {list(adata.obsm)}. {hint}"
        )
    rep = adata.obsm[use_rep]
    rep = rep.toarray() if sp.issparse(rep) else np.asarray(rep)
    if rep.ndim != 2 or rep.shape[1] == 0 or rep.dtype.kind not in "biuf":
        raise ValueError(
            f"`{name}.obsm[{use_rep!r}]` must be a numeric 2-D array with at least one column, "
            f"got {rep.dtype} {rep.shape}."
        )
    check_finite(rep, f"`{name}.obsm[{use_rep!r}]`")
    return rep.astype(np.float32, copy=False)


def get_spatial(adata: AnnData, spatial_key: str = SPATIAL_KEY, name: str = "adata") -> np.ndarray:
    """Return the spot coordinates ``adata.obsm[spatial_key]`` as a finite (n, 2|3) array."""
    if not isinstance(spatial_key, str) or spatial_key not in adata.obsm:
        raise KeyError(
            f"`{name}.obsm[{spatial_key!r}]` not found. Store the spot coordinates there "
            f"(an n_obs × 2 array), or pass `spatial_key=` naming the obsm key that holds them."
        )
    try:
        coords = np.asarray(adata.obsm[spatial_key], dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}.obsm[{spatial_key!r}]` must hold numeric coordinates.") from None
    if coords.ndim != 2 or coords.shape[1] not in (2, 3):
        raise ValueError(
            f"`{name}.obsm[{spatial_key!r}]` must have shape (n_obs, 2) or (n_obs, 3), got {coords.shape}."
        )
    if not np.isfinite(coords).all():
        raise ValueError(f"`{name}.obsm[{spatial_key!r}]` contains NaN or infinite coordinates.")
    return coords


def get_library(adata: AnnData, library_id: str | None = None) -> tuple[str, dict]:
    """Return a library id and its ``adata.uns["spatial"]`` entry (Visium layout).

    ``library_id=None`` picks the only library; several libraries, none, or an unknown id raise.
    """
    spatial = adata.uns.get(SPATIAL_KEY)
    if not isinstance(spatial, Mapping) or not spatial:
        raise KeyError(
            "`adata.uns['spatial']` not found: the H&E image and its scale factors are needed. "
            "Load the section with its image (e.g. `sm.datasets.her2st(section)` or "
            "`sc.read_visium(path)`)."
        )
    if library_id is None:
        if len(spatial) > 1:
            raise ValueError(
                f"`adata.uns['spatial']` holds several libraries {list(spatial)}; pass `library_id=`."
            )
        library_id = next(iter(spatial))
    if not isinstance(library_id, str) or library_id not in spatial:
        raise KeyError(
            f"`adata.uns['spatial'][{library_id!r}]` not found; libraries: {list(spatial)}. "
            "Pass `library_id=` naming one of them."
        )
    if not isinstance(spatial[library_id], Mapping):
        raise ValueError(
            f"`adata.uns['spatial'][{library_id!r}]` must be a dict with 'images' and "
            f"'scalefactors' (Visium layout), got {type(spatial[library_id]).__name__}."
        )
    return library_id, spatial[library_id]


def get_library_part(entry: Mapping, library_id: str, part: str, name: str = "adata") -> Mapping:
    """``entry[part]`` of ``uns['spatial'][library_id]`` (``images``, ``scalefactors``, …), a dict.

    A missing part is an empty dict; a part that is not a dict raises a ``ValueError``.
    """
    value = entry.get(part, {})
    if not isinstance(value, Mapping):
        raise ValueError(
            f"`{name}.uns['spatial'][{library_id!r}][{part!r}]` must be a dict (Visium layout, as "
            f"`sc.read_visium` writes it), got {type(value).__name__}."
        )
    return value


def get_scalefactor(
    entry: Mapping, library_id: str, key: str, name: str = "adata", *, required: bool = True
) -> float | None:
    """The positive scale factor ``uns['spatial'][library_id]['scalefactors'][key]``.

    A missing factor raises a ``KeyError`` (or gives ``None`` with ``required=False``); one that
    is not a positive finite number raises a ``ValueError``.
    """
    where = f"`{name}.uns['spatial'][{library_id!r}]['scalefactors'][{key!r}]`"
    factors = get_library_part(entry, library_id, "scalefactors", name)
    if key not in factors:
        if not required:
            return None
        raise KeyError(
            f"{where} not found: the image's scale factor is needed to place the spots on it."
        )
    value = factors[key]
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{where} must be a positive number (got {value!r}).")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{where} must be a positive number (got {value!r}).")
    return float(value)


def get_graph(
    adata: AnnData, connectivity_key: str = CONNECTIVITIES_KEY, name: str = "adata"
) -> sp.csr_matrix:
    """Return the graph ``adata.obsp[connectivity_key]`` as a square CSR matrix with edges."""
    if not isinstance(connectivity_key, str) or connectivity_key not in adata.obsp:
        raise KeyError(
            f"`{name}.obsp[{connectivity_key!r}]` not found. Run `sm.pp.spatial_graph({name})` "
            "(or `squidpy.gr.spatial_neighbors`) first, or pass `connectivity_key=`."
        )
    graph = sp.csr_matrix(adata.obsp[connectivity_key])
    check_finite(graph, f"`{name}.obsp[{connectivity_key!r}]`")
    if graph.nnz and graph.data.min() < 0:
        raise ValueError(f"`{name}.obsp[{connectivity_key!r}]` has negative edge weights.")
    if graph.nnz == 0 or graph.count_nonzero() == 0:
        raise ValueError(
            f"`{name}.obsp[{connectivity_key!r}]` has no edges. Rebuild it with "
            f"`sm.pp.spatial_graph({name})` (more neighbours or a larger radius)."
        )
    return graph


def check_n_clusters(n_clusters, n_obs: int) -> int:
    """Check 2 ≤ ``n_clusters`` ≤ ``n_obs``."""
    return check_int(n_clusters, "n_clusters", min_value=2, max_value=n_obs)


def check_n_neighbors(n_neighbors, n_obs: int, what: str = "n_neighs") -> int:
    """Check 1 ≤ ``n_neighbors`` < ``n_obs``."""
    n_neighbors = check_int(n_neighbors, what, min_value=1)
    if n_neighbors >= n_obs:
        raise ValueError(
            f"`{what}`={n_neighbors} needs more observations than the {n_obs} available; "
            f"pass `{what}` < {n_obs}."
        )
    return n_neighbors


def check_refine(refine, n_obs: int) -> int | None:
    """Check a refinement neighbourhood: ``None``/0 (off) or 1 ≤ ``refine`` < ``n_obs``."""
    if refine is None or (not isinstance(refine, bool) and refine == 0):
        return None
    return check_n_neighbors(refine, n_obs, "refine")


def check_batches(adata: AnnData, batch_key: str, min_batches: int = 2) -> pd.Categorical:
    """Return ``obs[batch_key]`` as a categorical; raise if missing, NaN or too few batches."""
    batch = pd.Categorical(
        get_obs(adata, batch_key, what="column naming each spot's slice as `batch_key=`")
    )
    if (batch.codes < 0).any():
        raise ValueError(
            f"`adata.obs[{batch_key!r}]` has {(batch.codes < 0).sum()} missing values; every "
            "spot needs a slice."
        )
    present = pd.unique(batch.codes)
    if present.size < min_batches:
        raise ValueError(
            f"`adata.obs[{batch_key!r}]` holds {present.size} slice(s); at least {min_batches} "
            "are needed to integrate. For a single slice use a single-slice method "
            "(e.g. `sm.tl.stmgac`)."
        )
    return batch.remove_unused_categories()


def get_matrix(adata: AnnData, layer: str | None = None, name: str = "adata"):
    """``adata.X`` or ``adata.layers[layer]`` (dense or sparse), checked to be finite."""
    x = get_layer(adata, layer, name)
    check_finite(x, where(name, layer))
    return x
