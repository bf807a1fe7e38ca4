"""Input checks that run before any tensor is built.

Every check raises :class:`KeyError` or :class:`ValueError` with a message that names the
offending key or argument and says how to fix it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from anndata import AnnData

from ._constants import CONNECTIVITIES_KEY
from ._settings import logger


def _data(x) -> np.ndarray:
    return x.data if sp.issparse(x) else np.asarray(x)


def check_adata(
    adata: AnnData, name: str = "adata", *, allow_view: bool = False, need_vars: bool = True
) -> None:
    """Check that ``adata`` is a non-empty AnnData with unique ``obs_names``.

    ``need_vars=False`` accepts an AnnData without variables (e.g. an H&E-only section).
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


def check_finite(x, what: str) -> None:
    """Raise if ``x`` (dense or sparse) holds NaN or infinite values."""
    values = _data(x)
    if values.dtype.kind in "fc" and not np.isfinite(values).all():
        n_bad = int((~np.isfinite(values)).sum())
        raise ValueError(
            f"{what} contains {n_bad} NaN or infinite values; remove or impute them first."
        )


def check_counts(x, what: str) -> None:
    """Raise unless ``x`` looks like raw counts: finite, non-negative and integer-valued."""
    check_finite(x, what)
    values = _data(x)
    if values.size and values.min() < 0:
        raise ValueError(
            f"{what} contains negative values; raw counts are expected. "
            "Pass the raw counts (e.g. `layer='counts'`)."
        )
    if values.size and values.dtype.kind == "f" and not np.all(values == np.round(values)):
        raise ValueError(
            f"{what} is not integer-valued; raw counts are expected, not normalised data. "
            "Pass the raw counts (e.g. `layer='counts'`), or a representation with `use_rep=`."
        )


def get_layer(adata: AnnData, layer: str | None, name: str = "adata"):
    """Return ``adata.X`` or ``adata.layers[layer]``, raising a clear KeyError if missing."""
    if layer is None:
        return adata.X
    if layer not in adata.layers:
        raise KeyError(
            f"`{name}.layers[{layer!r}]` not found; available layers: {list(adata.layers)}. "
            "Pass `layer=None` to use `.X`."
        )
    return adata.layers[layer]


def get_rep(adata: AnnData, use_rep: str, name: str = "adata") -> np.ndarray:
    """Return ``adata.obsm[use_rep]`` as a finite 2-D float array."""
    if use_rep not in adata.obsm:
        raise KeyError(
            f"`{name}.obsm[{use_rep!r}]` not found; available keys: {list(adata.obsm)}. "
            "Compute it first (e.g. `sc.pp.pca(adata)` for 'X_pca') or pass `use_rep=None`."
        )
    rep = adata.obsm[use_rep]
    rep = rep.toarray() if sp.issparse(rep) else np.asarray(rep)
    if rep.ndim != 2:
        raise ValueError(f"`{name}.obsm[{use_rep!r}]` must be 2-D, got shape {rep.shape}.")
    check_finite(rep, f"`{name}.obsm[{use_rep!r}]`")
    return rep.astype(np.float32, copy=False)


def get_spatial(adata: AnnData, spatial_key: str = "spatial", name: str = "adata") -> np.ndarray:
    """Return the spot coordinates ``adata.obsm[spatial_key]`` as a finite (n, 2|3) array."""
    if spatial_key not in adata.obsm:
        raise KeyError(
            f"`{name}.obsm[{spatial_key!r}]` not found. Store the spot coordinates there "
            f"(an n_obs × 2 array), or pass `spatial_key=` naming the obsm key that holds them."
        )
    coords = np.asarray(adata.obsm[spatial_key], dtype=np.float64)
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
    spatial = adata.uns.get("spatial")
    if not isinstance(spatial, dict) or not spatial:
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
    if library_id not in spatial:
        raise KeyError(
            f"`adata.uns['spatial'][{library_id!r}]` not found; libraries: {list(spatial)}."
        )
    return library_id, spatial[library_id]


def get_graph(
    adata: AnnData, connectivity_key: str = CONNECTIVITIES_KEY, name: str = "adata"
) -> sp.csr_matrix:
    """Return the spatial graph ``adata.obsp[connectivity_key]`` as a square CSR matrix."""
    if connectivity_key not in adata.obsp:
        raise KeyError(
            f"`{name}.obsp[{connectivity_key!r}]` not found. Run `sm.pp.spatial_graph({name})` "
            "(or `squidpy.gr.spatial_neighbors`) first, or pass `connectivity_key=`."
        )
    graph = sp.csr_matrix(adata.obsp[connectivity_key])
    check_finite(graph, f"`{name}.obsp[{connectivity_key!r}]`")
    if graph.nnz and graph.data.min() < 0:
        raise ValueError(f"`{name}.obsp[{connectivity_key!r}]` has negative edge weights.")
    return graph


def check_n_clusters(n_clusters, n_obs: int) -> int:
    """Check 2 ≤ ``n_clusters`` ≤ ``n_obs``."""
    if (
        n_clusters is None
        or isinstance(n_clusters, bool)
        or not isinstance(n_clusters, int | np.integer)
    ):
        raise ValueError(
            f"`n_clusters` must be an integer between 2 and {n_obs} (got {n_clusters!r})."
        )
    if not 2 <= n_clusters <= n_obs:
        raise ValueError(
            f"`n_clusters` must be between 2 and adata.n_obs={n_obs} (got {n_clusters})."
        )
    return int(n_clusters)


def check_n_neighbors(n_neighbors: int, n_obs: int, what: str = "n_neighs") -> int:
    """Check 1 ≤ ``n_neighbors`` < ``n_obs``."""
    if (
        isinstance(n_neighbors, bool)
        or not isinstance(n_neighbors, int | np.integer)
        or n_neighbors < 1
    ):
        raise ValueError(f"`{what}` must be a positive integer (got {n_neighbors!r}).")
    if n_neighbors >= n_obs:
        raise ValueError(
            f"`{what}`={n_neighbors} needs more observations than the {n_obs} available; "
            f"pass `{what}` < {n_obs}."
        )
    return int(n_neighbors)


def warn_if_exists(mapping, key: str, where: str) -> None:
    """Log a warning when ``where[key]`` exists and is about to be replaced."""
    if key in mapping:
        logger.warning(f"overwriting existing `{where}[{key!r}]`; pass `key_added=` to keep it.")


def check_batches(adata: AnnData, batch_key: str, min_batches: int = 2):
    """Return ``obs[batch_key]`` as a categorical; raise if missing, NaN or too few batches."""
    import pandas as pd

    if batch_key not in adata.obs:
        raise KeyError(
            f"`adata.obs[{batch_key!r}]` not found; pass the obs column that names each spot's "
            "slice as `batch_key=` (e.g. the one written by `sm.pp.concat_slices`)."
        )
    batch = pd.Categorical(adata.obs[batch_key])
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


def check_masking(mask_rate: float, replace_rate: float, loss_weights, n_weights: int) -> None:
    """Check the node-masking rates and the number of loss weights of a masked graph model."""
    if not 0 < mask_rate < 1:
        raise ValueError(f"`mask_rate` must be in (0, 1) (got {mask_rate}).")
    if not 0 <= replace_rate < 1:
        raise ValueError(f"`replace_rate` must be in [0, 1) (got {replace_rate}).")
    if len(loss_weights) != n_weights:
        raise ValueError(f"`loss_weights` needs {n_weights} values (got {loss_weights!r}).")
