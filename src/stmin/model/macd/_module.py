"""MACD module: a masked autoencoder with domain heads and a cell-type proportion head."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from scvi import REGISTRY_KEYS
from scvi.module.base import BaseModuleClass, LossOutput, auto_move_data
from torch import nn

from ...nn._adversarial import reverse_gradient

DOMAIN_KEY = "domain"
"""Registry key of each row's domain (a categorical: ``"simulated"`` or ``"real"``)."""
PROPORTIONS_KEY = "proportions"
"""Registry key of the known proportions of the simulated rows."""
# label smoothing of the domain labels (ε = 0.01): simulated 0.995, real 0.005
_SMOOTH_TARGETS = (0.995, 0.005)


def log_normalize(counts: torch.Tensor, target_sum: float = 1e4) -> torch.Tensor:
    """``log1p(target_sum · counts / Σ counts)`` per row; rows without counts map to zeros."""
    total = counts.sum(-1, keepdim=True)
    return torch.log1p(counts * (target_sum / total.clamp_min(1e-12)))


def _block(n_in: int, n_out: int, slope: float = 0.2) -> list[nn.Module]:
    return [nn.Linear(n_in, n_out), nn.LeakyReLU(slope), nn.LayerNorm(n_out)]


def _domain_head(n_in: int, n_hidden: int, released: bool) -> nn.Sequential:
    """``n_in → n_hidden → 1`` domain logit; ``released`` ends in the released LayerNorm(1)."""
    layers = _block(n_in, n_hidden)
    if released:
        return nn.Sequential(*layers, *_block(n_hidden, 1))
    return nn.Sequential(*layers, nn.Linear(n_hidden, 1))


class MACDModule(BaseModuleClass):
    """Encoder, masked-reconstruction decoder, domain heads and proportion predictor of MACD.

    Parameters
    ----------
    n_input
        Input features per spot (marker genes, or the width of a given representation).
    n_labels
        Number of cell types.
    counts_input
        Inputs are raw counts, log-normalised in the module (``log1p`` of counts per 10⁴);
        ``False``: inputs are used as they are (e.g. a scVI latent).
    n_hidden, n_latent
        Encoder widths (1,024 and 512); the embedding's first half is the "noise" part, the
        second the "biological" part.
    mask_rate
        Fraction of input entries set to zero before encoding the masked domain (0.3).
    mask_domain
        Domain whose spots are masked and reconstructed: ``"real"`` (the paper) or
        ``"simulated"`` (the released code).
    adversarial
        ``"grl"``: a working domain discriminator behind gradient reversal on the biological
        part, and a plain domain classifier on the noise part, so that domain information is
        pushed out of the part the proportions are read from. ``"released"``: the released
        code's heads — gradient reversal on the noise part, plain classifier on the biological
        part, both ending in ``LayerNorm`` over one unit, which outputs a learned constant and
        passes no gradient to the encoder. ``"none"``: no domain heads.
    simulated_code
        The domain code of the simulated rows in the registered categorical (the other code is
        the real rows').
    """

    def __init__(
        self,
        n_input: int,
        n_labels: int,
        *,
        counts_input: bool = True,
        n_hidden: int = 1024,
        n_latent: int = 512,
        mask_rate: float = 0.3,
        mask_domain: Literal["real", "simulated"] = "real",
        adversarial: Literal["grl", "released", "none"] = "grl",
        simulated_code: int = 0,
    ):
        super().__init__()
        self.counts_input = counts_input
        self.mask_rate = mask_rate
        self.mask_real = mask_domain == "real"
        self.simulated_code = simulated_code
        self.adversarial = adversarial
        self.n_split = n_latent // 2
        self.encoder = nn.Sequential(*_block(n_input, n_hidden), *_block(n_hidden, n_latent))
        self.decoder = nn.Sequential(
            *_block(n_latent, n_hidden), *_block(n_hidden, n_hidden), nn.Linear(n_hidden, n_input)
        )
        self.predictor = nn.Sequential(*_block(n_latent, 256, 0.01), nn.Linear(256, n_labels))
        if adversarial != "none":
            released = adversarial == "released"
            n_noise, n_bio = self.n_split, n_latent - self.n_split
            # the head behind gradient reversal and the plain one
            self.discriminator = _domain_head(n_noise if released else n_bio, 64, released)
            self.classifier = _domain_head(n_bio if released else n_noise, 128, released)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)

    # -- pieces ---------------------------------------------------------------------------------

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Network input of raw rows (log-normalised counts, or the given representation)."""
        return log_normalize(x) if self.counts_input else x

    def mask(self, features: torch.Tensor) -> torch.Tensor:
        """Set a random ``mask_rate`` of the entries to zero."""
        keep = torch.rand_like(features) >= self.mask_rate
        return features * keep

    def proportions(self, features: torch.Tensor) -> torch.Tensor:
        """Softmax cell-type proportions of (unmasked) input features."""
        return F.softmax(self.predictor(self.encoder(features)), dim=-1)

    def domain_logits(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits of the head behind gradient reversal and of the plain head."""
        noise, bio = h[:, : self.n_split], h[:, self.n_split :]
        if self.adversarial == "released":
            return self.discriminator(reverse_gradient(noise)), self.classifier(bio)
        return self.discriminator(reverse_gradient(bio)), self.classifier(noise)

    # -- the two losses of an epoch ---------------------------------------------------------------

    def alignment_loss(self, x: torch.Tensor, domain: torch.Tensor) -> dict[str, torch.Tensor]:
        """Stage A: masked reconstruction of one domain plus the domain-head losses.

        ``domain`` holds the domain code of each row (``simulated_code`` for pseudo-spots,
        anything else for real spots). The reconstruction error is the
        mean squared error over all entries of the masked domain's unmasked features; each
        domain head's binary cross-entropy is averaged within each domain and the two domain
        means are summed (targets 0.995 simulated, 0.005 real).
        """
        features = self.features(x)
        real = domain.reshape(-1).long() != self.simulated_code
        masked_rows = real if self.mask_real else ~real
        inputs = torch.where(masked_rows[:, None], self.mask(features), features)
        h = self.encoder(inputs)
        zero = features.new_zeros(())
        out = {"reconstruction": zero, "discriminator": zero, "classifier": zero}
        if masked_rows.any():
            recon = self.decoder(h[masked_rows])
            out["reconstruction"] = F.mse_loss(recon, features[masked_rows])
        if self.adversarial != "none":
            target = torch.where(~real, *_SMOOTH_TARGETS).to(features.dtype)
            for name, logits in zip(
                ("discriminator", "classifier"), self.domain_logits(h), strict=True
            ):
                bce = F.binary_cross_entropy_with_logits(
                    logits.squeeze(-1), target, reduction="none"
                )
                out[name] = sum(bce[rows].mean() for rows in (~real, real) if rows.any())
        out["loss"] = out["reconstruction"] + out["discriminator"] + out["classifier"]
        return out

    def prediction_loss(
        self, x: torch.Tensor, domain: torch.Tensor, proportions: torch.Tensor
    ) -> torch.Tensor | None:
        """Stage B: mean squared error of the predicted proportions of the simulated rows."""
        simulated = domain.reshape(-1).long() == self.simulated_code
        if not simulated.any():
            return None
        pred = self.proportions(self.features(x[simulated]))
        return F.mse_loss(pred, proportions[simulated])

    # -- scvi-tools module interface --------------------------------------------------------------

    def _get_inference_input(self, tensors):
        return {"x": tensors[REGISTRY_KEYS.X_KEY]}

    @auto_move_data
    def inference(self, x):
        """Embedding and proportions of unmasked rows."""
        features = self.features(x)
        h = self.encoder(features)
        return {"h": h, "proportions": F.softmax(self.predictor(h), dim=-1)}

    def _get_generative_input(self, tensors, inference_outputs):
        return {}

    def generative(self):
        """No generative model: MACD predicts proportions directly."""
        return {}

    def loss(self, tensors, inference_outputs, generative_outputs) -> LossOutput:
        """Both stages' losses summed (for evaluation; training steps the stages separately)."""
        x, domain = tensors[REGISTRY_KEYS.X_KEY], tensors[DOMAIN_KEY]
        stage_a = self.alignment_loss(x, domain)
        stage_b = self.prediction_loss(x, domain, tensors[PROPORTIONS_KEY])
        total = stage_a["loss"] + (0 if stage_b is None else stage_b)
        return LossOutput(loss=total, n_obs_minibatch=x.shape[0])
