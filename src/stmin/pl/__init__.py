"""Plotting: domains on the tissue, several slices side by side, UMAPs, training curves."""

from ._gene_maps import gene_maps
from ._history import training_history
from ._proportions import proportions
from ._slices import slices
from ._spatial import domains
from ._umap import embedding_umap

__all__ = ["domains", "embedding_umap", "gene_maps", "proportions", "slices", "training_history"]
