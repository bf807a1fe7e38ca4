"""``train()`` for whole-graph models, through scvi-tools' data splitter and runner."""

from __future__ import annotations

from lightning.pytorch.callbacks import EarlyStopping
from scvi.dataloaders import DeviceBackedDataSplitter
from scvi.train import TrainRunner

from ._plan import FullGraphTrainingPlan


class FullGraphTrainingMixin:
    """Adds :meth:`train` to a :class:`scvi.model.base.BaseModelClass` that trains full-batch.

    Every step sees all nodes: the data are put on the device once
    (:class:`scvi.dataloaders.DeviceBackedDataSplitter`, ``batch_size=None``), so one epoch is
    one optimiser step. Rows reach the module with their ``_indices`` so it can order them as
    the graph's nodes.
    """

    _training_plan_cls = FullGraphTrainingPlan

    def train(
        self,
        max_epochs: int = 500,
        *,
        accelerator: str = "auto",
        devices: int | list[int] | str = "auto",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        gradient_clip_val: float | None = None,
        early_stopping: bool = False,
        early_stopping_patience: int = 50,
        early_stopping_min_delta: float = 0.0,
        plan_kwargs: dict | None = None,
        **trainer_kwargs,
    ):
        """Train the model on the whole graph.

        Parameters
        ----------
        max_epochs
            Number of epochs (= optimiser steps).
        accelerator, devices
            Passed to Lightning (``"cpu"``, ``"gpu"``, ``"auto"``; device ids or counts).
        lr, weight_decay
            Adam settings.
        gradient_clip_val
            Clip the gradient norm to this value (``None``: no clipping).
        early_stopping
            Stop when the training loss has not improved by ``early_stopping_min_delta`` for
            ``early_stopping_patience`` epochs.
        early_stopping_patience, early_stopping_min_delta
            Early-stopping settings.
        plan_kwargs
            Further arguments of the training plan.
        **trainer_kwargs
            Further arguments of :class:`scvi.train.Trainer` (e.g. ``enable_progress_bar``).
        """
        return self._fit(
            max_epochs,
            accelerator=accelerator,
            devices=devices,
            lr=lr,
            weight_decay=weight_decay,
            gradient_clip_val=gradient_clip_val,
            early_stopping=early_stopping,
            early_stopping_patience=early_stopping_patience,
            early_stopping_min_delta=early_stopping_min_delta,
            plan_kwargs=plan_kwargs,
            **trainer_kwargs,
        )

    def _fit(
        self,
        max_epochs: int,
        *,
        batch_size: int | None = None,
        accelerator: str = "auto",
        devices: int | list[int] | str = "auto",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        gradient_clip_val: float | None = None,
        early_stopping: bool = False,
        early_stopping_patience: int = 50,
        early_stopping_min_delta: float = 0.0,
        plan_kwargs: dict | None = None,
        **trainer_kwargs,
    ):
        """Run one training stage; ``batch_size=None`` is full-batch, an integer shuffles rows."""
        if not isinstance(max_epochs, int) or max_epochs < 1:
            raise ValueError(f"`max_epochs` must be a positive integer (got {max_epochs!r}).")
        splitter = DeviceBackedDataSplitter(
            self.adata_manager,
            train_size=1.0,
            batch_size=batch_size,
            shuffle=batch_size is not None,
            accelerator=accelerator,
            device=devices,
        )
        plan = self._training_plan_cls(
            self.module, lr=lr, weight_decay=weight_decay, **(plan_kwargs or {})
        )
        callbacks = list(trainer_kwargs.pop("callbacks", []))
        if early_stopping:
            callbacks.append(
                EarlyStopping(
                    monitor="train_loss",
                    patience=early_stopping_patience,
                    min_delta=early_stopping_min_delta,
                    check_on_train_epoch_end=True,
                )
            )
        trainer_kwargs.setdefault("log_every_n_steps", 1)
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
