"""Training plan of MACD: per mini-batch, an alignment step then a proportion step."""

from __future__ import annotations

import torch
from scvi import REGISTRY_KEYS

from ...train import TrainingPlan
from ._module import DOMAIN_KEY, PROPORTIONS_KEY, MACDModule


class MACDTrainingPlan(TrainingPlan):
    """Two optimisers stepped in turn on every mini-batch (manual optimisation).

    Stage A (alignment): Adam over the encoder and decoder (``lr``), the gradient-reversed
    discriminator (``lr_discriminator``) and the domain classifier (``lr``) on the masked
    reconstruction plus domain losses. Stage B (proportions): Adam over the encoder and the
    predictor (``lr``) on the simulated spots' proportion error. The released code runs the
    two stages as two passes over the simulated spots per epoch; here they alternate per
    mini-batch, so each mini-batch is used for both.

    Parameters
    ----------
    module
        A :class:`MACDModule`.
    lr
        Learning rate of the encoder, decoder, classifier and predictor (0.001).
    lr_discriminator
        Learning rate of the discriminator (0.0005).
    weight_decay
        Adam weight decay (0).
    """

    def __init__(
        self,
        module: MACDModule,
        *,
        lr: float = 1e-3,
        lr_discriminator: float = 5e-4,
        weight_decay: float = 0.0,
        **kwargs,
    ):
        super().__init__(module, lr=lr, weight_decay=weight_decay, **kwargs)
        self.lr_discriminator = lr_discriminator
        self.automatic_optimization = False

    def configure_optimizers(self):
        """Adam for stage A (parameter groups) and Adam for stage B."""
        m = self.module
        groups = [{"params": [*m.encoder.parameters(), *m.decoder.parameters()]}]
        if m.adversarial != "none":
            groups += [
                {"params": m.discriminator.parameters(), "lr": self.lr_discriminator},
                {"params": m.classifier.parameters()},
            ]
        align = torch.optim.Adam(groups, lr=self.lr, weight_decay=self.weight_decay)
        predict = torch.optim.Adam(
            [*m.encoder.parameters(), *m.predictor.parameters()],
            lr=self.lr,
            weight_decay=self.weight_decay,
        )
        return [align, predict]

    def _log(self, name: str, value: torch.Tensor, n: int) -> None:
        self.log(f"{name}_train", value.detach(), on_step=False, on_epoch=True, batch_size=n)

    def training_step(self, batch, batch_idx):
        """Stage A then stage B on one mini-batch."""
        align, predict = self.optimizers()
        x, domain = batch[REGISTRY_KEYS.X_KEY], batch[DOMAIN_KEY]
        n = x.shape[0]
        stage_a = self.module.alignment_loss(x, domain)
        align.zero_grad()
        self.manual_backward(stage_a["loss"])
        align.step()
        stage_b = self.module.prediction_loss(x, domain, batch[PROPORTIONS_KEY])
        total = stage_a["loss"].detach()
        if stage_b is not None:
            predict.zero_grad()
            self.manual_backward(stage_b)
            predict.step()
            total = total + stage_b.detach()
            self._log("prediction", stage_b, n)
        for name in ("reconstruction", "discriminator", "classifier"):
            self._log(name, stage_a[name], n)
        self.log("train_loss", total, on_step=False, on_epoch=True, prog_bar=True, batch_size=n)
        return total

    def validation_step(self, batch, batch_idx):
        """No validation: MACD trains on every spot."""
