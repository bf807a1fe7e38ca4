"""One small interface over the H&E patch encoders: a name (or a module) → a feature network."""

from __future__ import annotations

import os

import numpy as np
import torch
from torch import nn

from ._densenet import DenseNet121
from ._he_stats import HEStats

IMAGE_ENCODERS = ("stats", "densenet121")


def image_encoder(
    encoder: str | nn.Module = "stats", weights_path: str | os.PathLike | None = None
) -> nn.Module:
    """Return an image encoder: ``(batch, 3, h, w)`` floats in [0, 1] → ``(batch, out_dim)``.

    Parameters
    ----------
    encoder
        ``"stats"`` (stain, colour and texture statistics; no weights, the offline default),
        ``"densenet121"`` (mclSTExp's trunk; random initialisation unless ``weights_path``), or
        any :class:`torch.nn.Module` with an ``out_dim`` attribute (returned as is).
    weights_path
        DenseNet-121 state dict saved from torchvision (see :class:`~stmin.nn.DenseNet121`).
    """
    if isinstance(encoder, nn.Module):
        if not isinstance(getattr(encoder, "out_dim", None), int):
            raise ValueError("A custom image encoder needs an integer `out_dim` attribute.")
        return encoder
    if encoder == "stats":
        if weights_path is not None:
            raise ValueError("The 'stats' encoder has no weights; drop `weights_path`.")
        return HEStats()
    if encoder == "densenet121":
        return DenseNet121(weights_path)
    raise ValueError(f"Unknown image encoder {encoder!r}; choose one of {IMAGE_ENCODERS}.")


def patches_to_tensor(patches: np.ndarray | torch.Tensor) -> torch.Tensor:
    """``(n, h, w, 3)`` ``uint8`` patches → ``(n, 3, h, w)`` float32 in [0, 1]."""
    patches = torch.as_tensor(patches)
    return patches.permute(0, 3, 1, 2).float().div_(255)


@torch.no_grad()
def encode_patches(
    encoder: nn.Module, patches: np.ndarray, batch_size: int = 32, device: str = "cpu"
) -> np.ndarray:
    """Run ``encoder`` (in eval mode) over ``uint8`` patches in batches; return float32 features."""
    encoder = encoder.to(device).eval()
    out = [
        encoder(patches_to_tensor(patches[i : i + batch_size]).to(device)).float().cpu()
        for i in range(0, len(patches), batch_size)
    ]
    return torch.cat(out).numpy()
