"""Loss curves of a trained model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..train import loss_history
from ._utils import finish


def _curves(source) -> dict[str, np.ndarray]:
    history = getattr(source, "history", source)
    if isinstance(source, Mapping) and "history" in source:
        history = source["history"]
    if not isinstance(history, Mapping) or not history:
        raise ValueError(
            "No training history found: pass a trained model, its `.history`, or "
            "`adata.uns[key]` written by an `sm.tl` function."
        )
    return loss_history(history)


def training_history(
    model_or_history,
    keys: Sequence[str] | None = None,
    *,
    log_y: bool = False,
    show: bool | None = None,
    save: str | Path | None = None,
) -> Figure | None:
    """Plot the per-epoch losses of a trained model.

    Parameters
    ----------
    model_or_history
        A trained stmin/scvi-tools model, its ``history`` dict, or ``adata.uns[key_added]``
        written by an ``sm.tl`` function (which stores the history).
    keys
        Curves to draw; default: every loss term (``train_loss`` and the method's own terms).
    log_y
        Logarithmic y axis.
    show
        Show the figure; default: when not saving, in interactive sessions.
    save
        Write the figure to this path.

    Returns
    -------
    The :class:`~matplotlib.figure.Figure`, unless it was shown.
    """
    curves = _curves(model_or_history)
    if keys is None:
        keys = list(curves)
    missing = [k for k in keys if k not in curves]
    if missing:
        raise KeyError(f"No curve named {missing}; available: {sorted(curves)}.")
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 2.8), squeeze=False)
    for ax, key in zip(axes.ravel(), keys, strict=True):
        ax.plot(np.arange(1, curves[key].size + 1), curves[key], lw=1.2)
        ax.set_title(key.removesuffix("_train"))
        ax.set_xlabel("epoch")
        if log_y:
            ax.set_yscale("log")
    fig.tight_layout()
    return finish(fig, show, save)
