"""The checks every training wrapper runs on its training arguments, before any work."""

from __future__ import annotations

from collections.abc import Collection

from .._random import check_random_state
from .._validate import check_int, check_kwargs
from ..train import check_device_args, train_targets


def check_training_args(
    model_cls,
    *,
    max_epochs,
    random_state,
    accelerator,
    devices,
    model_kwargs,
    train_kwargs,
    model_reserved: Collection[str] = ("adata",),
    train_reserved: Collection[str] = ("max_epochs", "accelerator", "devices"),
) -> tuple[int | None, dict, dict]:
    """Check epochs, seed, device and the keyword dictionaries of a wrapper's model.

    Returns
    -------
    The seed as an ``int`` (or ``None``) and the two keyword dictionaries (``None`` → ``{}``),
    whose keys are checked against the model's constructor and its ``train`` (and Lightning's
    ``Trainer``), less the keys the wrapper sets itself.
    """
    check_int(max_epochs, "max_epochs", min_value=1)
    random_state = check_random_state(random_state)
    check_device_args(accelerator, devices)
    model_kwargs = check_kwargs(
        model_kwargs, "model_kwargs", model_cls.__init__, reserved=model_reserved
    )
    train_kwargs = check_kwargs(
        train_kwargs, "train_kwargs", *train_targets(model_cls), reserved=train_reserved
    )
    return random_state, model_kwargs, train_kwargs
