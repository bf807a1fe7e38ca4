"""Deep-embedded-clustering pieces: Student-t soft assignment and its sharpened target."""

from __future__ import annotations

import torch


def soft_assignment(z: torch.Tensor, centers: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Student-t similarity of embeddings to cluster centres, normalised per row (DEC's ``q``).

    ``q_ij ∝ (1 + ‖z_i − μ_j‖² / α)^(−(α + 1) / 2)``.

    Parameters
    ----------
    z
        Embeddings (cells × latent).
    centers
        Cluster centres (clusters × latent).
    alpha
        Degrees of freedom of the Student-t kernel (1).
    """
    dist2 = torch.cdist(z, centers).pow(2)
    q = (1.0 + dist2 / alpha).pow(-(alpha + 1.0) / 2.0)
    return q / q.sum(dim=1, keepdim=True)


def target_distribution(q: torch.Tensor) -> torch.Tensor:
    """DEC's auxiliary target ``p_ij ∝ q_ij² / Σ_i q_ij``: sharpens ``q``, balances clusters."""
    weight = q.pow(2) / q.sum(dim=0, keepdim=True)
    return weight / weight.sum(dim=1, keepdim=True)
