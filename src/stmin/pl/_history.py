"""Loss curves of a trained model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .._docs import d
from .._validate import check_bool, check_keys
from ..train import loss_history
from ._utils import check_show_save, finish


def _curves(source) -> dict[str, np.ndarray]:
    history = getattr(source, "history", source)
    if isinstance(source, Mapping) and "history" in source:
        history = source["history"]
    if not isinstance(history, Mapping) or not history:
        raise ValueError(
            "No training history found: pass a trained model, its `.history`, or "
            "`adata.uns[key]` written by an `sm.tl` function."
        )
    for key, values in history.items():
        if not isinstance(key, str):
            raise ValueError(f"The training history has a curve named {key!r}; names are strings.")
        arr = values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)
        if arr.dtype.kind not in "biuf" or (arr.ndim > 1 and max(arr.shape) != arr.size):
            raise ValueError(
                f"The training-history curve {key!r} must be a sequence of numbers, one per "
                f"epoch (got {arr.dtype} of shape {arr.shape})."
            )
    return loss_history(history)


@d.dedent
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
        Logarithmic y axis (every value drawn must then be positive).
    %(show_save)s

    Returns
    -------
    %(returns_figure)s
    """
    check_bool(log_y, "log_y")
    check_show_save(show, save)
    curves = _curves(model_or_history)
    keys = list(curves) if keys is None else check_keys(keys, "keys")
    missing = [k for k in keys if k not in curves]
    if missing:
        raise KeyError(f"No curve named {missing}; available: {sorted(curves)}.")
    if log_y:
        bad = [k for k in keys if (curves[k][np.isfinite(curves[k])] <= 0).any()]
        if bad:
            raise ValueError(
                f"`log_y=True` needs positive values, but the curves {bad} have values ≤ 0; "
                "pass `log_y=False`."
            )
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 2.8), squeeze=False)
    for ax, key in zip(axes.ravel(), keys, strict=True):
        ax.plot(np.arange(1, curves[key].size + 1), curves[key], lw=1.2)
        ax.set_title(key.removesuffix("_train"))
        ax.set_xlabel("epoch")
        if log_y:
            ax.set_yscale("log")
    fig.tight_layout()
    return finish(fig, show, save)
