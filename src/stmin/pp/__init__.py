"""Preprocessing: spatial graphs and the methods' own input pipelines."""

from ._concat import concat_slices
from ._graph import build_graph, grid_pitch, spatial_graph
from ._stmgac import stmgac_preprocess

__all__ = ["build_graph", "concat_slices", "grid_pitch", "spatial_graph", "stmgac_preprocess"]
