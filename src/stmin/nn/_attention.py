"""Multi-head self-attention across cells: over graph neighbours (linear) or over all cells."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._edges import edge_aggregate, edge_dot, segment_softmax


class CellAttention(nn.Module):
    """Multi-head self-attention in which the sequence is the set of cells.

    Each cell attends either to its neighbours in a graph (``edges`` given: memory and time
    linear in the number of edges) or to every cell (``edges=None``: PyTorch's fused
    scaled-dot-product attention, quadratic time). Queries and keys are scaled by
    ``1/√head_dim``; the heads are concatenated and mapped back to ``n_features`` with a linear
    layer with bias.

    Parameters
    ----------
    n_features
        Width of the node features (input and output).
    n_heads
        Number of heads.
    head_dim
        Width of each head; ``None`` splits ``n_features`` across the heads (at least 1 each).
    """

    def __init__(self, n_features: int, n_heads: int = 8, head_dim: int | None = None):
        super().__init__()
        if n_heads < 1:
            raise ValueError(f"`n_heads` must be ≥ 1 (got {n_heads}).")
        self.n_heads = n_heads
        self.head_dim = head_dim or max(1, n_features // n_heads)
        inner = n_heads * self.head_dim
        self.query = nn.Linear(n_features, inner, bias=False)
        self.key = nn.Linear(n_features, inner, bias=False)
        self.value = nn.Linear(n_features, inner, bias=False)
        self.out = nn.Linear(inner, n_features)

    def forward(
        self, x: torch.Tensor, edges: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> torch.Tensor:
        """Attend over ``edges`` (row-sorted ``(rows, cols)``, self-loops included) or all cells."""
        n = x.shape[0]
        shape = (n, self.n_heads, self.head_dim)
        q = self.query(x).view(shape) * self.head_dim**-0.5
        k = self.key(x).view(shape)
        v = self.value(x).view(shape)
        if edges is None:
            # (heads, cells, dim): one sequence of all cells per head
            out = F.scaled_dot_product_attention(
                q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), scale=1.0
            ).transpose(0, 1)
        else:
            rows, cols = edges
            weights = segment_softmax(edge_dot(q, k, rows, cols), rows, n)
            out = edge_aggregate(weights, v, rows, cols, n)
        return self.out(out.reshape(n, -1))
