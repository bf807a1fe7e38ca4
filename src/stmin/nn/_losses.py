"""Losses shared by the self-supervised graph models."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def scaled_cosine_error(x: torch.Tensor, y: torch.Tensor, t: float = 2.0, reduce: bool = True):
    """Scaled cosine error ``−t · log((1 + cos(x, y)) / 2)`` per row (STMGAC's form).

    Zero when the rows point the same way; grows without bound as they become opposite.

    Parameters
    ----------
    x, y
        Matrices of the same shape; rows are compared.
    t
        Sharpening exponent.
    reduce
        Return the mean over rows instead of one value per row.
    """
    cos = (F.normalize(x, dim=-1) * F.normalize(y, dim=-1)).sum(dim=-1)
    # clamp keeps the log finite when two rows are exactly opposite
    loss = -t * torch.log(((1.0 + cos) * 0.5).clamp_min(1e-12))
    return loss.mean() if reduce else loss
