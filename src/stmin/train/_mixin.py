"""``train()`` of every stmin model: one signature, a pluggable data splitter and training plan."""

from __future__ import annotations

from lightning.pytorch.callbacks import EarlyStopping
from scvi.train import TrainRunner

from .._docs import d
from .._settings import settings
from .._validate import check_int, check_number, check_optional_int
from ._devices import check_device_args
from ._plan import TrainingPlan
from ._quiet import quiet_lightning
from ._splitters import FullDataSplitter


class TrainingMixin:
    """Adds :meth:`train` to a :class:`scvi.model.base.BaseModelClass`.

    A model chooses how rows reach its module with ``_data_splitter_cls`` (all rows on the
    device at once by default, :class:`~stmin.train.FullDataSplitter`) and how a step is taken
    with ``_training_plan_cls`` (:class:`~stmin.train.TrainingPlan` by default). Subclasses
    override :meth:`train` only to set their paper's defaults and pass everything else on.
    """

    _data_splitter_cls = FullDataSplitter
    _training_plan_cls = TrainingPlan

    @d.dedent
    def train(
        self,
        max_epochs: int = 500,
        *,
        batch_size: int | None = None,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        gradient_clip_val: float | None = None,
        accelerator: str = "auto",
        devices: int | list[int] | str = "auto",
        early_stopping: bool = False,
        early_stopping_patience: int = 50,
        early_stopping_min_delta: float = 0.0,
        datasplitter_kwargs: dict | None = None,
        plan_kwargs: dict | None = None,
        **trainer_kwargs,
    ):
        """Train the model.

        Runs with ``sm.settings.n_jobs`` PyTorch threads and without Lightning's start-up
        messages; the per-epoch losses end up in ``model.history``.

        Parameters
        ----------
        max_epochs
            Number of passes over the training rows.
        batch_size
            Rows per optimiser step; ``None``: every row in one step (whole-graph training).
        lr, weight_decay
            Adam settings.
        gradient_clip_val
            Clip the gradient norm to this value (``None``: no clipping).
        %(accelerator)s
        %(early_stopping)s
        %(datasplitter_kwargs)s
        %(plan_kwargs)s
        %(trainer_kwargs)s
        """
        max_epochs = check_int(max_epochs, "max_epochs", min_value=1)
        batch_size = check_optional_int(batch_size, "batch_size", min_value=1)
        lr = check_number(lr, "lr", min_value=0, min_inclusive=False)
        weight_decay = check_number(weight_decay, "weight_decay", min_value=0)
        if gradient_clip_val is not None:
            check_number(gradient_clip_val, "gradient_clip_val", min_value=0, min_inclusive=False)
        callbacks = list(trainer_kwargs.pop("callbacks", None) or [])
        if early_stopping:
            callbacks.append(
                EarlyStopping(
                    monitor="train_loss",
                    patience=check_int(
                        early_stopping_patience, "early_stopping_patience", min_value=1
                    ),
                    min_delta=check_number(
                        early_stopping_min_delta, "early_stopping_min_delta", min_value=0
                    ),
                    check_on_train_epoch_end=True,
                )
            )
        check_device_args(accelerator, devices)
        self._check_batch_size(batch_size)
        splitter = self._data_splitter_cls(
            self.adata_manager,
            batch_size=batch_size,
            accelerator=accelerator,
            devices=devices,
            **(datasplitter_kwargs or {}),
        )
        plan = self._training_plan_cls(
            self.module, lr=lr, weight_decay=weight_decay, **(plan_kwargs or {})
        )
        trainer_kwargs.setdefault("log_every_n_steps", 1)
        trainer_kwargs.setdefault("enable_model_summary", False)
        self.module.train()  # Lightning keeps the modes it finds
        with settings.threads(), quiet_lightning():
            runner = TrainRunner(
                self,
                training_plan=plan,
                data_splitter=splitter,
                max_epochs=max_epochs,
                accelerator=accelerator,
                devices=devices,
                gradient_clip_val=gradient_clip_val,
                callbacks=callbacks,
                early_stopping=False,
                **trainer_kwargs,
            )
            return runner()

    def _check_batch_size(self, batch_size: int | None) -> None:
        """Hook for models that cannot train on some batch sizes (e.g. whole-graph models)."""


def train_targets(model_cls) -> tuple:
    """The callables a model's ``train(**kwargs)`` hands keywords to (for :func:`check_kwargs`)."""
    from lightning.pytorch import Trainer as LightningTrainer
    from scvi.train import Trainer

    return (model_cls.train, TrainingMixin.train, Trainer.__init__, LightningTrainer.__init__)
