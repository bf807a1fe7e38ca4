"""Shared neural-network pieces: sparse GCN layers, masking, EMA teachers, losses, mining."""

from ._adversarial import BatchDiscriminator, reverse_gradient
from ._anchors import kmeans_agreement, latent_knn, mine_triplets
from ._ema import ema_update, make_teacher
from ._encoders import GraphEncoder
from ._g2n import CrossSlicePairs, cross_slice_pairs, g2n_triplets
from ._gcn import (
    DenseBlock,
    FastDropout,
    GCNConv,
    GraphBlock,
    SparseGraph,
    normalize_adjacency,
    to_torch_csr,
)
from ._losses import scaled_cosine_error
from ._masking import NodeMask, mask_nodes
from ._triplet import Triplets, triplet_loss

__all__ = [
    "BatchDiscriminator",
    "CrossSlicePairs",
    "DenseBlock",
    "FastDropout",
    "GCNConv",
    "GraphBlock",
    "GraphEncoder",
    "NodeMask",
    "SparseGraph",
    "Triplets",
    "cross_slice_pairs",
    "ema_update",
    "g2n_triplets",
    "kmeans_agreement",
    "latent_knn",
    "make_teacher",
    "mask_nodes",
    "mine_triplets",
    "normalize_adjacency",
    "reverse_gradient",
    "scaled_cosine_error",
    "to_torch_csr",
    "triplet_loss",
]
