"""SpaCRD module: aligned spot encoders, neighbourhood cross-attention, a category-regularised VAE."""

from __future__ import annotations

import itertools
from typing import Literal

import torch
import torch.nn.functional as F
from scvi import REGISTRY_KEYS
from scvi.module.base import BaseModuleClass, LossOutput, auto_move_data
from torch import nn

from ...nn import CrossAttention, clip_loss
from ...train._neighborhoods import CENTERS_KEY, SETS_KEY

IMAGE_KEY = "image"
"""Registry key of the image features."""
LABELS_KEY = "labels"
"""Registry key of each row's class: 1 cancer, 0 not, -1 unlabelled (context only)."""

Stage = Literal["align", "detect"]


def _encoder(n_input: int, n_hidden: int, n_output: int, dropout: float) -> nn.Sequential:
    """``n_input → n_hidden → n_output → n_output`` (BatchNorm, ReLU and dropout between)."""
    return nn.Sequential(
        nn.Linear(n_input, n_hidden),
        nn.BatchNorm1d(n_hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(n_hidden, n_output),
        nn.BatchNorm1d(n_output),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(n_output, n_output),
    )


def _mlp(*widths: int) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(widths)):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class SpaCRDModule(BaseModuleClass):
    """Spot encoders, neighbourhood fusion, category-regularised VAE and cancer discriminator.

    Each row of a batch is a spot; ``tensors["sets"]`` gives every centre spot's set (itself
    and its nearest spots). Both encoders run once per spot of the batch.

    - ``stage="align"``: symmetric InfoNCE between the image and expression embeddings of the
      centre spots (image mode only).
    - ``stage="detect"``: the centre spot's expression tokens and image tokens read each other
      over the set (bidirectional cross-attention; with expression alone, the expression tokens
      attend over themselves); the centre tokens are fused to ``h``, a VAE encodes ``h`` with
      a class-dependent prior ``N(μ_y, I)`` and a discriminator scores ``[μ ‖ log σ²]``.
      The loss is ``L_fused = MSE(ĥ, h) + kl_weight · KL − prototype_weight · ‖μ₁ − μ₀‖``
      for the first ``warmup_epochs`` epochs (a loss argument) and ``BCE + fused_weight ·
      L_fused`` after.

    Parameters
    ----------
    n_genes
        Expression input width.
    n_image
        Image feature width; 0 for expression alone.
    n_hidden, n_embed, n_latent, n_heads, dropout, attention_dropout, temperature, kl_weight, prototype_weight, fused_weight
        As in :class:`stmin.model.SpaCRD`.
    """

    def __init__(
        self,
        n_genes: int,
        n_image: int = 0,
        *,
        n_hidden: int = 1024,
        n_embed: int = 512,
        n_latent: int = 64,
        n_heads: int = 8,
        dropout: float = 0.2,
        attention_dropout: float = 0.1,
        temperature: float = 0.07,
        kl_weight: float = 0.5,
        prototype_weight: float = 0.1,
        fused_weight: float = 0.1,
    ):
        super().__init__()
        self.n_image = n_image
        self.temperature = temperature
        self.kl_weight, self.prototype_weight = kl_weight, prototype_weight
        self.fused_weight = fused_weight
        self.gene_encoder = _encoder(n_genes, n_hidden, n_embed, dropout)
        self.gene_reads = CrossAttention(n_embed, n_heads, attention_dropout)
        if n_image:
            self.image_encoder = _encoder(n_image, n_hidden, n_embed, dropout)
            self.image_reads = CrossAttention(n_embed, n_heads, attention_dropout)
        n_fused = n_embed * (2 if n_image else 1)
        self.fuse = nn.Sequential(nn.Linear(n_fused, n_embed), nn.LayerNorm(n_embed))
        self.vae_encoder = nn.Sequential(_mlp(n_embed, 256, 128), nn.ReLU())
        self.mean = nn.Linear(128, n_latent)
        self.log_var = nn.Linear(128, n_latent)
        self.decoder = _mlp(n_latent, 128, 256, n_embed)
        self.prototypes = nn.Parameter(0.01 * torch.randn(2, n_latent))
        self.discriminator = _mlp(2 * n_latent, 64, 1)

    def _get_inference_input(self, tensors: dict) -> dict:
        return {
            "x": tensors[REGISTRY_KEYS.X_KEY],
            "image": tensors.get(IMAGE_KEY),
            "sets": tensors[SETS_KEY],
            "centers": tensors[CENTERS_KEY],
        }

    def _get_generative_input(self, tensors: dict, inference_outputs: dict) -> dict:
        return {"z": inference_outputs.get("z")}

    def embed(self, x: torch.Tensor, image: torch.Tensor | None):
        """L2-normalised expression and image embeddings of spots (image ``None`` if absent)."""
        g = F.normalize(self.gene_encoder(x), dim=-1)
        if not self.n_image:
            return g, None
        return g, F.normalize(self.image_encoder(image), dim=-1)

    def fused(self, g: torch.Tensor, i: torch.Tensor | None, sets: torch.Tensor) -> torch.Tensor:
        """Fused representation ``h`` of each set's centre from its set's tokens."""
        gs = g[sets]
        if i is None:
            return self.fuse(self.gene_reads(gs[:, :1], gs)[:, 0])
        is_ = i[sets]
        from_image = self.gene_reads(gs[:, :1], is_)[:, 0]  # expression asks the image
        from_genes = self.image_reads(is_[:, :1], gs)[:, 0]  # the image asks the expression
        return self.fuse(torch.cat([from_genes, from_image], dim=-1))

    @auto_move_data
    def inference(self, x, image, sets, centers, stage: Stage = "detect") -> dict:
        """Embed the batch's spots; in the detection stage also fuse and encode the centres."""
        g, i = self.embed(x, image)
        if stage == "align":
            return {"g": g[centers], "i": i[centers]}
        h = self.fused(g, i, sets)
        enc = self.vae_encoder(h)
        mean, log_var = self.mean(enc), self.log_var(enc).clamp(-20, 20)
        z = mean + torch.randn_like(mean) * (0.5 * log_var).exp() if self.training else mean
        logit = self.discriminator(torch.cat([mean, log_var], dim=-1)).squeeze(-1)
        return {"h": h, "mean": mean, "log_var": log_var, "z": z, "logit": logit}

    def generative(self, z, stage: Stage = "detect") -> dict:
        """Decode the latent sample back to ``h`` (detection stage)."""
        return {} if z is None else {"h_hat": self.decoder(z)}

    def loss(
        self,
        tensors: dict,
        inference_outputs: dict,
        generative_outputs: dict,
        stage: Stage = "detect",
        epoch: int = 0,
        warmup_epochs: int = 50,
    ) -> LossOutput:
        """InfoNCE (``align``) or the VAE and discriminator losses (``detect``)."""
        if stage == "align":
            g, i = inference_outputs["g"], inference_outputs["i"]
            total = clip_loss(i, g, self.temperature).mean()
            return LossOutput(
                loss=total, n_obs_minibatch=len(g), extra_metrics={"align": total.detach()}
            )
        out = inference_outputs
        y = tensors[LABELS_KEY].reshape(-1)[tensors[CENTERS_KEY]].long()
        recon = F.mse_loss(generative_outputs["h_hat"], out["h"])
        prior = self.prototypes[y]
        kl = 0.5 * (out["log_var"].exp() + (out["mean"] - prior) ** 2 - 1 - out["log_var"])
        kl = kl.sum(-1).mean()
        separation = (self.prototypes[1] - self.prototypes[0]).norm()
        fused = recon + self.kl_weight * kl - self.prototype_weight * separation
        bce = F.binary_cross_entropy_with_logits(out["logit"], y.float())
        total = fused if epoch < warmup_epochs else bce + self.fused_weight * fused
        metrics = {"reconstruction": recon.detach(), "kl": kl.detach(), "bce": bce.detach()}
        return LossOutput(loss=total, n_obs_minibatch=len(y), extra_metrics=metrics)
