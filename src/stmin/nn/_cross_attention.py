"""Cross-attention from one sequence of tokens onto another (bidirectional fusion of modalities)."""

from __future__ import annotations

import torch
from torch import nn


class CrossAttention(nn.Module):
    """``LayerNorm(Linear(dropout(softmax(Q Kᵀ/√d) V)))``: queries of one modality read another.

    Multi-head attention without a residual path, as SpaCRD's fusion blocks: the output is
    a new representation of the query tokens made of the other modality's values.

    Parameters
    ----------
    dim
        Token width of both sequences.
    n_heads
        Attention heads (``dim`` must be a multiple).
    dropout
        Dropout on the attention weights.
    """

    def __init__(self, dim: int, n_heads: int = 8, dropout: float = 0.1):
        super().__init__()
        self.attention = nn.MultiheadAttention(dim, n_heads, dropout=dropout, batch_first=True)
        self.norm = nn.LayerNorm(dim)

    def forward(self, queries: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """``queries`` ``(batch, n, dim)`` attend over ``context`` ``(batch, m, dim)``."""
        out, _ = self.attention(queries, context, context, need_weights=False)
        return self.norm(out)
