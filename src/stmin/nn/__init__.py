"""Shared neural-network pieces: sparse GCN layers, attention, masking, EMA teachers, losses."""

from ._adversarial import BatchDiscriminator, reverse_gradient
from ._anchors import kmeans_agreement, latent_knn, mine_triplets
from ._attention import CellAttention
from ._cross_attention import CrossAttention
from ._dec import soft_assignment, target_distribution
from ._densenet import DenseNet121
from ._edges import edge_aggregate, edge_dot, sampled_dot, segment_softmax
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
from ._he_stats import HEStats
from ._image_encoders import image_encoder
from ._losses import scaled_cosine_error
from ._masking import NodeMask, mask_nodes
from ._projection import ProjectionHead, clip_loss
from ._set_transformer import TransformerBlock
from ._triplet import Triplets, triplet_loss
from ._zinb import ZINBHeads, zinb_nll

__all__ = [
    "BatchDiscriminator",
    "CellAttention",
    "CrossAttention",
    "CrossSlicePairs",
    "DenseBlock",
    "DenseNet121",
    "FastDropout",
    "GCNConv",
    "GraphBlock",
    "GraphEncoder",
    "HEStats",
    "NodeMask",
    "ProjectionHead",
    "SparseGraph",
    "TransformerBlock",
    "Triplets",
    "ZINBHeads",
    "clip_loss",
    "cross_slice_pairs",
    "edge_aggregate",
    "edge_dot",
    "ema_update",
    "g2n_triplets",
    "image_encoder",
    "kmeans_agreement",
    "latent_knn",
    "make_teacher",
    "mask_nodes",
    "mine_triplets",
    "normalize_adjacency",
    "reverse_gradient",
    "sampled_dot",
    "scaled_cosine_error",
    "segment_softmax",
    "soft_assignment",
    "target_distribution",
    "to_torch_csr",
    "triplet_loss",
    "zinb_nll",
]
