"""Preprocessing: spatial and cell graphs and the methods' own input pipelines."""

from ._cell_graph import cell_graph, knn_graph
from ._concat import concat_slices
from ._graph import build_graph, grid_pitch, spatial_graph
from ._he import he_patches
from ._he_features import he_features
from ._markers import marker_genes
from ._pseudo_spots import pseudo_spots
from ._scasdc import scasdc_preprocess
from ._stmgac import stmgac_preprocess

__all__ = [
    "build_graph",
    "cell_graph",
    "concat_slices",
    "grid_pitch",
    "he_features",
    "he_patches",
    "knn_graph",
    "marker_genes",
    "pseudo_spots",
    "scasdc_preprocess",
    "spatial_graph",
    "stmgac_preprocess",
]
