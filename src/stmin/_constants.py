"""Key names shared across stmin (squidpy's names where squidpy has one)."""

SPATIAL_KEY = "spatial"
"""Default ``obsm`` key of spot coordinates."""

SPATIAL_GRAPH_STEM = "spatial"
"""Default ``key_added`` stem of :func:`stmin.pp.spatial_graph`."""


def connectivities_key(stem: str = SPATIAL_GRAPH_STEM) -> str:
    """``obsp`` key of the binary adjacency written by :func:`stmin.pp.spatial_graph`."""
    return f"{stem}_connectivities"


def distances_key(stem: str = SPATIAL_GRAPH_STEM) -> str:
    """``obsp`` key of the edge lengths written by :func:`stmin.pp.spatial_graph`."""
    return f"{stem}_distances"


def neighbors_key(stem: str = SPATIAL_GRAPH_STEM) -> str:
    """``uns`` key of the graph parameters written by :func:`stmin.pp.spatial_graph`."""
    return f"{stem}_neighbors"


CONNECTIVITIES_KEY = connectivities_key()
DISTANCES_KEY = distances_key()
NEIGHBORS_KEY = neighbors_key()
