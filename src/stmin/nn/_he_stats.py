"""Parameter-free H&E patch descriptor: stain, colour and texture statistics."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# Haematoxylin, eosin and DAB optical-density vectors (Ruifrok & Johnston 2001), one per row.
_STAINS = torch.tensor([[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]])
_QUANTILES = torch.tensor([0.1, 0.25, 0.5, 0.75, 0.9])
_SCALES = (1, 2, 4)  # texture at 1, 2 and 4 px
_WHITE = 0.85  # grey level above which a pixel is background or fat
_DENSE = 0.15  # stain optical density above which a pixel counts as stained


class HEStats(nn.Module):
    """Describe an H&E patch by stain, colour and texture statistics (no weights to learn).

    For the whole patch and for its central half (the spot itself), per channel of RGB, grey,
    haematoxylin and eosin density (colour deconvolution): mean, standard deviation and the
    10/25/50/75/90 % quantiles; the mean gradient magnitude of grey and haematoxylin at 1, 2
    and 4 px; and the fractions of white, haematoxylin-rich and eosin-rich pixels.

    Notes
    -----
    It is stmin's offline default image encoder for :func:`stmin.tl.predict_from_he`: it needs
    no downloaded weights and runs at thousands of patches per second on a CPU. Nuclear
    density, stroma and fat, which these statistics capture, drive much of what H&E predicts
    about expression; ``benchmarks/results/he_expression.md`` compares it with a frozen
    random-initialised DenseNet-121.
    """

    out_dim = 2 * (6 * (2 + len(_QUANTILES)) + 2 * len(_SCALES) + 3)

    def __init__(self):
        super().__init__()
        stains = _STAINS / _STAINS.norm(dim=1, keepdim=True)
        self.register_buffer("unmix", torch.linalg.inv(stains), persistent=False)
        self.register_buffer("quantiles", _QUANTILES.clone(), persistent=False)

    def _describe(self, rgb: torch.Tensor) -> torch.Tensor:
        batch = rgb.shape[0]
        grey = rgb.mean(1, keepdim=True)
        density = -torch.log10((rgb * 255 + 1) / 256)  # optical density per RGB channel
        hed = torch.einsum("bchw,cs->bshw", density, self.unmix)[:, :2]
        channels = torch.cat([rgb, grey, hed], 1).flatten(2)  # (b, 6, pixels)
        stats = [channels.mean(2), channels.std(2)]
        stats.append(torch.quantile(channels, self.quantiles, dim=2).permute(1, 2, 0).flatten(1))
        for image in (grey, hed[:, :1]):
            for s in _SCALES:
                smooth = F.avg_pool2d(image, s) if s > 1 else image
                dx = smooth[..., :, 1:] - smooth[..., :, :-1]
                dy = smooth[..., 1:, :] - smooth[..., :-1, :]
                stats.append((dx.abs().mean((1, 2, 3)) + dy.abs().mean((1, 2, 3)))[:, None])
        stats.append((grey.flatten(1) > _WHITE).float().mean(1, keepdim=True))
        stats.append((hed.flatten(2) > _DENSE).float().mean(2))
        return torch.cat(stats, 1).reshape(batch, -1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Return ``(batch, out_dim)`` features of ``(batch, 3, h, w)`` images in [0, 1]."""
        h, w = images.shape[-2:]
        centre = images[..., h // 4 : h - h // 4, w // 4 : w - w // 4]
        return torch.cat([self._describe(images), self._describe(centre)], 1)
