"""Projection head of contrastive image/expression models (CLIP, BLEEP, mclSTExp)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ProjectionHead(nn.Module):
    """``p = W₁x``; ``LayerNorm(p + dropout(W₂ GELU(p)))``.

    Parameters
    ----------
    n_input
        Input width.
    n_output
        Embedding width (256 in mclSTExp).
    dropout
        Dropout before the residual sum.
    """

    def __init__(self, n_input: int, n_output: int = 256, dropout: float = 0.0):
        super().__init__()
        self.project = nn.Linear(n_input, n_output)
        self.fc = nn.Linear(n_output, n_output)
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(n_output)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the ``(batch, n_output)`` embedding."""
        p = self.project(x)
        return self.norm(p + self.dropout(self.fc(F.gelu(p))))


def clip_loss(a: torch.Tensor, b: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Per-pair symmetric contrastive loss with the diagonal as positives.

    ``logits = a bᵀ / temperature``; returns ``(CE(logits) + CE(logitsᵀ)) / 2`` for every row
    (shape ``(batch,)``), the row's own partner being the target.
    """
    logits = a @ b.T / temperature
    target = torch.arange(len(a), device=a.device)
    rows = F.cross_entropy(logits, target, reduction="none")
    cols = F.cross_entropy(logits.T, target, reduction="none")
    return 0.5 * (rows + cols)
