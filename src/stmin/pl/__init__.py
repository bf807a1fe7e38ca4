"""Plotting: domains and cancer regions on the tissue, several slices side by side, UMAPs, training curves."""

from ._cancer_regions import cancer_regions
from ._gene_maps import gene_maps
from ._history import training_history
from ._proportions import proportions
from ._slices import slices
from ._spatial import domains
from ._umap import embedding_umap

__all__ = [
    "cancer_regions",
    "domains",
    "embedding_umap",
    "gene_maps",
    "proportions",
    "slices",
    "training_history",
]
