"""mclSTExp module: a spot Transformer and an image branch aligned by a CLIP loss."""

from __future__ import annotations

import torch
from scvi import REGISTRY_KEYS
from scvi.module.base import BaseModuleClass, LossOutput, auto_move_data
from torch import nn

from ...nn._image_encoders import patches_to_tensor
from ...nn._projection import ProjectionHead, clip_loss
from ...nn._set_transformer import TransformerBlock
from ...pp._transform import expression_transform

ARRAY_X, ARRAY_Y = "array_x", "array_y"
"""Registry keys of the spots' array coordinates."""
IMAGE_KEY = "image"
"""Registry key of the spots' image input (features or patches)."""


def augment(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random flips, 90° rotations and brightness/contrast/saturation jitter (factors 0.5–1.5)."""
    n = images.shape[0]

    def uniform(*shape):
        return torch.rand(*shape, generator=generator, device=images.device)

    flip = uniform(n) < 0.5
    images = torch.where(flip[:, None, None, None], images.flip(-1), images)
    turns = (uniform(n) * 4).long()
    rotated = images.clone()
    for k in (1, 2, 3):
        sel = turns == k
        if sel.any():
            rotated[sel] = torch.rot90(images[sel], k, dims=(-2, -1))
    images = rotated
    b, c, s = (0.5 + uniform(3, n, 1, 1, 1)).unbind(0)
    images = (images * b).clamp(0, 1)
    mean = images.mean((1, 2, 3), keepdim=True)
    images = ((images - mean) * c + mean).clamp(0, 1)
    grey = images.mean(1, keepdim=True)
    return ((images - grey) * s + grey).clamp(0, 1)


class MclSTExpModule(BaseModuleClass):
    """Spots as words in a Transformer, contrastively aligned with their H&E patches.

    Parameters
    ----------
    n_genes
        Panel size G (the token width).
    n_image_features
        Width of frozen image features; ``None`` when ``image_encoder`` turns patches into
        features (end-to-end training).
    n_positions
        Sizes of the two learned position tables (largest array coordinate + 1).
    image_encoder
        Network applied to patches; ``None`` when ``images`` are features.
    feature_mean, feature_std
        Standardisation of frozen features (ignored for patches).
    n_layers, n_heads, head_dim
        Transformer depth (2), heads (8) and head width (64).
    n_latent
        Embedding width (256).
    dropout
        Dropout of the Transformer and projection heads (0).
    temperature
        CLIP temperature (1.0).
    position
        Add the learned position embeddings (mclSTExp); ``False`` with ``n_layers=0`` gives a
        BLEEP-style expression encoder.
    target_sum, log_base
        The expression transform (see :func:`expression_transform`).
    """

    def __init__(
        self,
        n_genes: int,
        n_image_features: int | None,
        n_positions: tuple[int, int],
        *,
        image_encoder: nn.Module | None = None,
        feature_mean: torch.Tensor | None = None,
        feature_std: torch.Tensor | None = None,
        n_layers: int = 2,
        n_heads: int = 8,
        head_dim: int = 64,
        n_latent: int = 256,
        dropout: float = 0.0,
        temperature: float = 1.0,
        position: bool = True,
        target_sum: float = 1e4,
        log_base: float = 10.0,
        augment_images: bool = True,
    ):
        super().__init__()
        self.temperature, self.target_sum, self.log_base = temperature, target_sum, log_base
        self.augment_images = augment_images
        self.image_encoder = image_encoder
        image_dim = image_encoder.out_dim if image_encoder is not None else n_image_features
        if image_encoder is None:
            self.register_buffer("feature_mean", feature_mean.float())
            self.register_buffer("feature_std", feature_std.float())
        self.position = position
        if position:
            self.pos_x = nn.Embedding(n_positions[0], n_genes)
            self.pos_y = nn.Embedding(n_positions[1], n_genes)
        self.blocks = nn.ModuleList(
            TransformerBlock(n_genes, n_heads, head_dim, n_genes, dropout) for _ in range(n_layers)
        )
        self.spot_head = ProjectionHead(n_genes, n_latent, dropout)
        self.image_head = ProjectionHead(image_dim, n_latent, dropout)

    def transform(self, counts: torch.Tensor) -> torch.Tensor:
        """The expression targets of raw panel counts."""
        return expression_transform(counts, self.target_sum, self.log_base)

    def embed_spots(self, counts: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Embed one set of spots (one Transformer "sentence"): ``(n, G)`` counts → ``(n, d)``."""
        tokens = self.transform(counts)
        if self.position:
            tokens = tokens + self.pos_x(x.long().flatten()) + self.pos_y(y.long().flatten())
        for block in self.blocks:
            tokens = block(tokens)
        return self.spot_head(tokens)

    def embed_images(self, images: torch.Tensor) -> torch.Tensor:
        """Embed image input (features, or ``uint8`` patches ``(n, h, w, 3)``) → ``(n, d)``."""
        if self.image_encoder is None:
            features = (images.float() - self.feature_mean) / self.feature_std
        else:
            pixels = patches_to_tensor(images)
            if self.training and self.augment_images:
                pixels = augment(pixels)
            features = self.image_encoder(pixels)
        return self.image_head(features)

    def _get_inference_input(self, tensors):
        return {
            "counts": tensors[REGISTRY_KEYS.X_KEY],
            "x": tensors[ARRAY_X],
            "y": tensors[ARRAY_Y],
            "images": tensors[IMAGE_KEY],
        }

    @auto_move_data
    def inference(self, counts, x, y, images):
        """Spot and image embeddings of a mini-batch (the batch is one Transformer set)."""
        return {"spot": self.embed_spots(counts, x, y), "image": self.embed_images(images)}

    def _get_generative_input(self, tensors, inference_outputs):
        return {}

    def generative(self):
        """No generative part: prediction is retrieval (see ``MclSTExp.predict``)."""
        return {}

    def loss(self, tensors, inference_outputs, generative_outputs) -> LossOutput:
        """Symmetric CLIP loss between the batch's spot and image embeddings."""
        per_spot = clip_loss(
            inference_outputs["spot"], inference_outputs["image"], self.temperature
        )
        return LossOutput(loss=per_spot.mean(), reconstruction_loss=per_spot)
