"""Encoders shared by the graph models."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import nn

from ._gcn import DenseBlock, GraphBlock, SparseGraph


class GraphEncoder(nn.Module):
    """Dense blocks followed by two graph blocks (the SEDR / STMGAC / STG3Net backbone).

    ``n_input → n_hidden[0] → … → n_hidden[-1]`` with :class:`DenseBlock` (ELU), then
    ``→ n_gcn_hidden`` (GCN, ReLU) ``→ n_latent`` (GCN, linear).

    Parameters
    ----------
    n_input
        Input features.
    n_hidden
        Sizes of the dense blocks.
    n_gcn_hidden
        Size of the hidden graph block.
    n_latent
        Size of the embedding.
    dropout
        Dropout rate of every block.
    """

    def __init__(
        self,
        n_input: int,
        n_hidden: Sequence[int] = (64, 32),
        n_gcn_hidden: int = 64,
        n_latent: int = 16,
        dropout: float = 0.2,
    ):
        super().__init__()
        sizes = [n_input, *n_hidden]
        self.dense = nn.Sequential(*(DenseBlock(a, b, dropout=dropout) for a, b in pairwise(sizes)))
        self.gcn1 = GraphBlock(sizes[-1], n_gcn_hidden, act="relu", dropout=dropout)
        self.gcn2 = GraphBlock(n_gcn_hidden, n_latent, act="identity", dropout=dropout)

    def forward(self, x: torch.Tensor, graph: SparseGraph) -> torch.Tensor:
        """Embed node features ``x`` (n_nodes × n_input)."""
        return self.gcn2(self.gcn1(self.dense(x), graph), graph)
