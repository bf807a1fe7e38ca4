"""Adversarial pieces: gradient reversal and a batch (slice) discriminator."""

from __future__ import annotations

import torch
from torch import nn


class _ReverseGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return -ctx.scale * grad, None


def reverse_gradient(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """Identity in the forward pass; multiplies the gradient by ``−scale`` in the backward pass.

    With it a discriminator and the encoder feeding it train in one step: the discriminator
    minimises its loss while the encoder receives the negated gradient and maximises it
    (Ganin & Lempitsky, 2015).
    """
    return _ReverseGrad.apply(x, scale)


class BatchDiscriminator(nn.Module):
    """MLP predicting the batch (slice) of each embedded node.

    ``n_input → n_hidden → n_hidden → n_batches`` with batch norm, LeakyReLU and dropout after
    each hidden layer; returns logits.

    Parameters
    ----------
    n_input
        Embedding size.
    n_batches
        Number of batches.
    n_hidden
        Hidden width.
    dropout
        Dropout rate of the hidden layers.
    """

    def __init__(self, n_input: int, n_batches: int, n_hidden: int = 64, dropout: float = 0.2):
        super().__init__()
        layers: list[nn.Module] = []
        for n_in in (n_input, n_hidden):
            layers += [
                nn.Linear(n_in, n_hidden),
                nn.BatchNorm1d(n_hidden),
                nn.LeakyReLU(0.2),
                nn.Dropout(dropout),
            ]
        self.net = nn.Sequential(*layers, nn.Linear(n_hidden, n_batches))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Batch logits of each row of ``z``."""
        return self.net(z)
