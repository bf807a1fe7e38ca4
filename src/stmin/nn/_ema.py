"""Exponential-moving-average teacher networks (BYOL / data2vec style)."""

from __future__ import annotations

import copy

import torch
from torch import nn


def make_teacher(online: nn.Module) -> nn.Module:
    """Return a frozen deep copy of ``online`` to be updated by :func:`ema_update`."""
    teacher = copy.deepcopy(online)
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


@torch.no_grad()
def ema_update(teacher: nn.Module, online: nn.Module, momentum: float) -> None:
    """``θ_teacher ← m · θ_teacher + (1 − m) · θ_online`` for every parameter."""
    for pt, po in zip(teacher.parameters(), online.parameters(), strict=True):
        pt.mul_(momentum).add_(po.detach(), alpha=1.0 - momentum)
