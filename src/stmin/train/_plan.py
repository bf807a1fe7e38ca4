"""The training plan of stmin's models: their own loss terms, epochs and stages."""

from __future__ import annotations

from scvi.module.base import BaseModuleClass
from scvi.train import TrainingPlan as _ScviTrainingPlan


class TrainingPlan(_ScviTrainingPlan):
    """:class:`scvi.train.TrainingPlan` for stmin's (non-variational) models.

    Differences from the parent: Adam's ``eps`` defaults to PyTorch's ``1e-8``; there is no KL
    warm-up and no ELBO metric (the module's ``extra_metrics`` are logged per epoch as
    ``<name>_train``); the current epoch is passed to ``module.loss`` when it takes an ``epoch``
    argument (for schedules such as periodic anchor mining); ``module.on_train_step_end()`` is
    called after every optimiser step when the module defines it (e.g. EMA teachers); and a
    training ``stage`` is passed to the module's ``inference``, ``generative`` and ``loss``.

    Parameters
    ----------
    module
        The module to train.
    lr, weight_decay, eps
        Adam settings.
    stage
        Name of the training stage (e.g. ``"pretrain"``), given to the module as ``stage=``;
        ``None`` passes nothing.
    **kwargs
        Passed to :class:`scvi.train.TrainingPlan`.
    """

    def __init__(
        self,
        module: BaseModuleClass,
        *,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        eps: float = 1e-8,
        stage: str | None = None,
        **kwargs,
    ):
        kwargs.setdefault("n_epochs_kl_warmup", None)
        super().__init__(module, lr=lr, weight_decay=weight_decay, eps=eps, **kwargs)
        self.stage = stage
        self._pass_epoch = "epoch" in self._loss_args

    def forward(self, *args, **kwargs):
        """The module's forward pass, with the stage added to its keyword arguments."""
        if self.stage is not None:
            for key in ("inference_kwargs", "generative_kwargs", "loss_kwargs"):
                kwargs[key] = {**(kwargs.get(key) or {}), "stage": self.stage}
        return super().forward(*args, **kwargs)

    def compute_and_log_metrics(self, loss_output, metrics, mode):
        """Log the module's loss terms per epoch (no ELBO bookkeeping: these are not VAEs)."""
        n_obs = loss_output.n_obs_minibatch
        for key, value in loss_output.extra_metrics.items():
            self.log(f"{key}_{mode}", value, on_step=False, on_epoch=True, batch_size=n_obs)

    def training_step(self, batch, batch_idx):
        """Run one optimisation step, telling the loss the current epoch if it asks."""
        if self._pass_epoch:
            self.loss_kwargs["epoch"] = self.current_epoch
        return super().training_step(batch, batch_idx)

    def on_train_batch_end(self, outputs, batch, batch_idx):
        """Call the module's post-step hook (EMA updates and the like)."""
        hook = getattr(self.module, "on_train_step_end", None)
        if hook is not None:
            hook()
