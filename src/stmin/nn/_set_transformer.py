"""Pre-norm Transformer blocks over a set of tokens (every token attends to every other)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TransformerBlock(nn.Module):
    """``x + MHA(LN(x))`` then ``x + MLP(LN(x))``, with an attention width of its own.

    Parameters
    ----------
    dim
        Token width.
    n_heads, head_dim
        Attention heads and their width (inner width ``n_heads × head_dim``).
    mlp_dim
        Hidden width of the GELU MLP.
    dropout
        Dropout on the attention and MLP outputs.
    """

    def __init__(self, dim: int, n_heads: int, head_dim: int, mlp_dim: int, dropout: float = 0.0):
        super().__init__()
        inner = n_heads * head_dim
        self.n_heads = n_heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * inner, bias=False)
        self.out = nn.Linear(inner, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Linear(mlp_dim, dim))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(n_tokens, dim)``, one set; returns the same shape."""
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
        q, k, v = (t.unflatten(-1, (self.n_heads, -1)).transpose(0, 1) for t in (q, k, v))
        attended = F.scaled_dot_product_attention(q, k, v).transpose(0, 1).flatten(1)
        x = x + self.dropout(self.out(attended))
        return x + self.dropout(self.mlp(self.norm2(x)))
