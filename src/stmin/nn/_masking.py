"""Node masking for masked graph autoencoders (GraphMAE-style)."""

from __future__ import annotations

from typing import NamedTuple

import torch


class NodeMask(NamedTuple):
    """Result of :func:`mask_nodes`."""

    x: torch.Tensor
    """Features with the masked nodes hidden."""
    masked: torch.Tensor
    """Indices of the masked nodes."""
    kept: torch.Tensor
    """Indices of the visible nodes."""


def mask_nodes(
    x: torch.Tensor,
    mask_rate: float,
    token: torch.Tensor,
    replace_rate: float = 0.0,
) -> NodeMask:
    """Hide a random subset of nodes.

    ``⌊mask_rate · n⌋`` nodes are masked. Of those, a fraction ``1 − replace_rate`` get their
    features replaced by the learnable ``token``; the other ``replace_rate`` get the features of
    uniformly drawn nodes (random replacement, as in BERT and GraphMAE).

    Parameters
    ----------
    x
        Node features (n × d).
    mask_rate
        Fraction of nodes to mask, in (0, 1).
    token
        Learnable mask token (1 × d).
    replace_rate
        Fraction of the masked nodes that get random features instead of the token.

    Returns
    -------
    The masked features and the masked/kept node indices.
    """
    n = x.shape[0]
    perm = torch.randperm(n, device=x.device)
    n_mask = int(mask_rate * n)
    masked, kept = perm[:n_mask], perm[n_mask:]
    n_noise = int(replace_rate * n_mask)
    order = torch.randperm(n_mask, device=x.device)
    token_nodes = masked[order[: n_mask - n_noise]]
    out = x.clone()
    if n_noise > 0:
        noise_nodes = masked[order[n_mask - n_noise :]]
        donors = torch.randperm(n, device=x.device)[:n_noise]
        out.index_copy_(0, noise_nodes, x.index_select(0, donors))
    out.index_copy_(0, token_nodes, token.to(x.dtype).expand(token_nodes.numel(), -1))
    return NodeMask(out, masked, kept)
