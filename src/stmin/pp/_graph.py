"""Spatial neighbour graphs built with a KD-tree (no dense N × N matrix)."""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData
from scipy.spatial import cKDTree

from .._constants import (
    SPATIAL_GRAPH_STEM,
    SPATIAL_KEY,
    connectivities_key,
    distances_key,
    neighbors_key,
)
from .._docs import d
from .._settings import logger
from .._validate import (
    as_coords,
    as_labels,
    check_adata,
    check_bool,
    check_choice,
    check_int,
    check_key,
    check_n_neighbors,
    check_number,
    get_obs,
    get_spatial,
)
from .._writer import call_params, write_result

GraphMethod = Literal["knn", "radius", "grid"]
GRAPH_METHODS = get_args(GraphMethod)

# lattice steps are matched within 25 %: ST arrays are visibly jittered in pixel space, and the
# next shells (square diagonal √2, hexagonal √3, third hexagonal ring √7/2 per ring) stay out
_GRID_TOLERANCE = 1.25


def _knn_edges(coords: np.ndarray, n_neighs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = coords.shape[0]
    check_n_neighbors(n_neighs, n)
    dist, idx = cKDTree(coords).query(coords, k=n_neighs + 1)
    keep = idx != np.arange(n)[:, None]
    # with many duplicated spots a spot's own index can fall outside its k + 1 hits
    keep[keep.all(axis=1), -1] = False
    rows = np.broadcast_to(np.arange(n)[:, None], idx.shape)
    return rows[keep], idx[keep], dist[keep]


def _radius_edges(coords: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if radius is None:
        raise ValueError("`radius` must be a positive number for method='radius' (got None).")
    check_number(radius, "radius", min_value=0, min_inclusive=False)
    tree = cKDTree(coords)
    pairs = tree.sparse_distance_matrix(tree, max_distance=radius, output_type="coo_matrix")
    keep = pairs.row != pairs.col
    # sparse_distance_matrix drops zero distances; duplicated spots are reported separately
    rows, cols, dist = pairs.row[keep], pairs.col[keep], pairs.data[keep]
    dup = tree.query_pairs(r=0.0, output_type="ndarray")
    if dup.size:
        rows = np.r_[rows, dup[:, 0], dup[:, 1]]
        cols = np.r_[cols, dup[:, 1], dup[:, 0]]
        dist = np.r_[dist, np.zeros(2 * len(dup))]
    return rows, cols, dist


def grid_pitch(coords: np.ndarray) -> float:
    """Lattice pitch of a spot array: the median distance from a spot to its nearest other spot."""
    coords = as_coords(coords, "coords")
    if coords.shape[0] < 2:
        raise ValueError("A grid graph needs at least 2 spots.")
    dist, _ = cKDTree(coords).query(coords, k=2)
    pitch = float(np.median(dist[:, 1]))
    if pitch <= 0:
        raise ValueError("Cannot infer a grid pitch: most spots share their coordinates.")
    return pitch


def _edges(
    coords: np.ndarray, method: GraphMethod, n_neighs: int, radius: float | None, n_rings: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if method == "knn":
        return _knn_edges(coords, n_neighs)
    if method == "radius":
        return _radius_edges(coords, radius)
    check_int(n_rings, "n_rings", min_value=1)
    return _radius_edges(coords, n_rings * grid_pitch(coords) * _GRID_TOLERANCE)


def _assemble(
    rows: np.ndarray, cols: np.ndarray, coords: np.ndarray, symmetric: bool
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    n = coords.shape[0]
    if symmetric:
        rows, cols = np.r_[rows, cols], np.r_[cols, rows]
    conn = sp.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(n, n))
    conn.sum_duplicates()
    conn.data[:] = 1.0
    dists = conn.astype(np.float64)
    src = np.repeat(np.arange(n), np.diff(conn.indptr))
    # explicit zeros are kept: duplicated spots are neighbours at distance 0
    dists.data = np.linalg.norm(coords[src] - coords[conn.indices], axis=1)
    return conn, dists


def build_graph(
    coords: np.ndarray,
    *,
    method: GraphMethod = "knn",
    n_neighs: int = 6,
    radius: float | None = None,
    n_rings: int = 1,
    symmetric: bool = True,
    libraries: np.ndarray | None = None,
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Build a spatial graph on an array of coordinates.

    The functional core of :func:`spatial_graph`; see there for the parameters. ``libraries``
    holds one section code per spot; edges are then built within each section only.

    Returns
    -------
    The binary connectivities and the matching Euclidean distances, both ``n × n`` CSR.
    """
    check_choice(method, "method", GRAPH_METHODS)
    check_bool(symmetric, "symmetric")
    coords = as_coords(coords, "coords")
    if method == "knn":
        check_n_neighbors(n_neighs, coords.shape[0])
    elif method == "radius":
        if radius is None:
            raise ValueError("`radius` must be a positive number for method='radius' (got None).")
        check_number(radius, "radius", min_value=0, min_inclusive=False)
    else:
        check_int(n_rings, "n_rings", min_value=1)
    if libraries is None:
        libraries = np.zeros(coords.shape[0], dtype=int)
    else:
        libraries = as_labels(libraries, "libraries", coords.shape[0], against="coords")
    sections, sizes = np.unique(libraries, return_counts=True)
    if method == "knn" and sizes.min() <= n_neighs:
        raise ValueError(
            f"Section {str(sections[sizes.argmin()])!r} of `libraries` has {sizes.min()} spots, too "
            f"few for `n_neighs`={n_neighs}; pass a smaller `n_neighs` or drop that section."
        )
    if method == "grid" and sizes.min() < 2:
        raise ValueError(
            f"Section {str(sections[sizes.argmin()])!r} of `libraries` has a single spot: a grid "
            "graph needs at least 2 spots per section to find the lattice pitch."
        )
    rows, cols = [], []
    for lib in sections:
        idx = np.flatnonzero(libraries == lib)
        r, c, _ = _edges(coords[idx], method, n_neighs, radius, n_rings)
        rows.append(idx[r])
        cols.append(idx[c])
    conn, dists = _assemble(np.concatenate(rows), np.concatenate(cols), coords, symmetric)
    if conn.nnz == 0:
        pitch = float(np.median(cKDTree(coords).query(coords, k=2)[0][:, 1]))
        raise ValueError(
            f"The {method!r} graph has no edges (the median distance from a spot to its nearest "
            f"spot is {pitch:.4g}); pass a larger `radius`, or use `method='knn'`."
        )
    isolated = int((np.diff(conn.indptr) == 0).sum())
    if isolated:
        logger.warning(f"{isolated} spots have no neighbour in the spatial graph.")
    return conn, dists


@d.dedent
def spatial_graph(
    adata: AnnData,
    n_neighs: int = 6,
    *,
    method: GraphMethod = "knn",
    radius: float | None = None,
    n_rings: int = 1,
    spatial_key: str = SPATIAL_KEY,
    library_key: str | None = None,
    symmetric: bool = True,
    key_added: str = SPATIAL_GRAPH_STEM,
    copy: bool = False,
) -> AnnData | None:
    """Build a spatial neighbour graph of the spots, in squidpy's layout.

    Neighbours are found with a KD-tree, so memory grows with the number of edges, never with
    ``n_obs²``.

    Parameters
    ----------
    adata
        Annotated data with spot coordinates in ``obsm[spatial_key]``.
    n_neighs
        Number of nearest neighbours of each spot (``method="knn"``).
    method
        ``"knn"``: the ``n_neighs`` nearest other spots. ``"radius"``: all spots within
        ``radius`` (coordinate units). ``"grid"``: all spots within ``n_rings`` lattice steps of a
        regular array (Visium hexagonal: 6 per ring, ST square: 4 at one ring), with the lattice
        pitch taken as the median nearest-spot distance and a 25 %% tolerance for jittered arrays.
    radius
        Distance cut-off for ``method="radius"``.
    n_rings
        Number of lattice rings for ``method="grid"``.
    %(spatial_key)s
    library_key
        ``obs`` column naming the section of each spot; edges are built within each section
        only (a block-diagonal graph for several slices in one AnnData).
    symmetric
        Make the graph undirected by union (``A ∨ Aᵀ``), as most graph models expect.
    key_added
        Stem of the keys written.
    %(copy)s

    Returns
    -------
    %(returns_copy)s Writes

    - ``obsp[f"{key_added}_connectivities"]``: binary adjacency (CSR, no self-loops),
    - ``obsp[f"{key_added}_distances"]``: Euclidean edge lengths (CSR),
    - ``uns[f"{key_added}_neighbors"]``: the keys and parameters, as squidpy does.
    """
    params = call_params(locals())
    check_adata(adata)
    check_choice(method, "method", GRAPH_METHODS)
    check_bool(symmetric, "symmetric")
    check_key(key_added)
    check_bool(copy, "copy")
    if method == "knn":
        check_n_neighbors(n_neighs, adata.n_obs)
    coords = get_spatial(adata, spatial_key)
    libraries = None
    if library_key is not None:
        sections = pd.Categorical(
            get_obs(adata, library_key, what="column naming each spot's section as `library_key=`")
        )
        libraries = sections.codes
        if (libraries < 0).any():
            raise ValueError(
                f"`adata.obs[{library_key!r}]` has missing values; every spot needs a section."
            )
        sizes = pd.Series(libraries).value_counts()
        if method == "knn" and sizes.min() <= n_neighs:
            small = sections.categories[sizes.idxmin()]
            raise ValueError(
                f"Section {small!r} of `adata.obs[{library_key!r}]` has {sizes.min()} spots, "
                f"too few for `n_neighs`={n_neighs}; pass a smaller `n_neighs` or drop it."
            )
    conn, dists = build_graph(
        coords,
        method=method,
        n_neighs=n_neighs,
        radius=radius,
        n_rings=n_rings,
        symmetric=symmetric,
        libraries=libraries,
    )

    ckey, dkey = connectivities_key(key_added), distances_key(key_added)
    # squidpy's own entries, for squidpy functions that read them
    params.update(coord_type="grid" if method == "grid" else "generic", transform=None)
    adata = adata.copy() if copy else adata
    write_result(
        adata,
        key_added,
        params,
        obsp={ckey: conn, dkey: dists},
        record={"connectivities_key": ckey, "distances_key": dkey},
        uns_key=neighbors_key(key_added),
    )
    return adata if copy else None
