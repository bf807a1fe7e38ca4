"""DenseNet-121 image trunk (Huang et al. 2017), state-dict compatible with torchvision."""

from __future__ import annotations

import os
import re
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

# torchvision's DenseNet-121: growth 32, blocks of 6, 12, 24 and 16 layers, 64 stem channels.
_GROWTH, _BLOCKS, _STEM, _BOTTLENECK = 32, (6, 12, 24, 16), 64, 4
# Checkpoints saved before torchvision 0.3 name layers "norm.1" instead of "norm1".
_OLD_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.([12]\.(?:weight|bias|running_mean|running_var))$"
)


class _DenseLayer(nn.Module):
    def __init__(self, n_in: int):
        super().__init__()
        width = _BOTTLENECK * _GROWTH
        self.norm1 = nn.BatchNorm2d(n_in)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(n_in, width, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(width)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, _GROWTH, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(self.relu1(self.norm1(x)))
        return torch.cat([x, self.conv2(self.relu2(self.norm2(h)))], 1)


class _Transition(nn.Sequential):
    def __init__(self, n_in: int, n_out: int):
        super().__init__(
            OrderedDict(
                norm=nn.BatchNorm2d(n_in),
                relu=nn.ReLU(inplace=True),
                conv=nn.Conv2d(n_in, n_out, 1, bias=False),
                pool=nn.AvgPool2d(2, 2),
            )
        )


class DenseNet121(nn.Module):
    """DenseNet-121 feature trunk with global average pooling: images → 1,024-d features.

    Parameter names match ``torchvision.models.densenet121`` (``features.*``), so a torchvision
    state dict (e.g. the ImageNet weights saved on a machine that can download them) loads with
    :meth:`load_weights`; its ``classifier.*`` entries are ignored.

    Parameters
    ----------
    weights_path
        A ``.pth`` file holding a torchvision DenseNet-121 state dict; ``None`` keeps the random
        (Kaiming) initialisation.

    Notes
    -----
    Input: ``(batch, 3, height, width)`` floats in [0, 1]. Like mclSTExp the images are not
    normalised by the ImageNet mean and standard deviation. Unlike mclSTExp's code, the final
    ReLU that torchvision applies before pooling is kept, as the ImageNet weights were trained
    with it.
    """

    out_dim = 1024

    def __init__(self, weights_path: str | os.PathLike | None = None):
        super().__init__()
        layers: OrderedDict[str, nn.Module] = OrderedDict(
            conv0=nn.Conv2d(3, _STEM, 7, stride=2, padding=3, bias=False),
            norm0=nn.BatchNorm2d(_STEM),
            relu0=nn.ReLU(inplace=True),
            pool0=nn.MaxPool2d(3, stride=2, padding=1),
        )
        width = _STEM
        for b, n_layers in enumerate(_BLOCKS, 1):
            block = nn.Sequential(
                OrderedDict(
                    (f"denselayer{i + 1}", _DenseLayer(width + i * _GROWTH))
                    for i in range(n_layers)
                )
            )
            layers[f"denseblock{b}"] = block
            width += n_layers * _GROWTH
            if b < len(_BLOCKS):
                layers[f"transition{b}"] = _Transition(width, width // 2)
                width //= 2
        layers["norm5"] = nn.BatchNorm2d(width)
        self.features = nn.Sequential(layers)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
        if weights_path is not None:
            self.load_weights(weights_path)

    def load_weights(self, weights_path: str | os.PathLike) -> None:
        """Load a torchvision DenseNet-121 state dict (``classifier.*`` entries are skipped)."""
        if not os.path.isfile(weights_path):
            raise FileNotFoundError(f"`weights_path` {str(weights_path)!r} does not exist.")
        state = torch.load(weights_path, map_location="cpu", weights_only=True)
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
        state = {
            _OLD_KEY.sub(r"\1\2", k): v for k, v in state.items() if not k.startswith("classifier.")
        }
        missing, unexpected = self.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(
                f"`weights_path` is not a DenseNet-121 state dict: {len(missing)} missing keys "
                f"(e.g. {missing[:2]}), {len(unexpected)} unexpected (e.g. {unexpected[:2]})."
            )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Return ``(batch, 1024)`` pooled features."""
        return F.adaptive_avg_pool2d(F.relu(self.features(images)), 1).flatten(1)
