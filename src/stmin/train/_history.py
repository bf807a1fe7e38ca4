"""Per-epoch loss curves out of a scvi-tools training history."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

_ELBO_TERMS = ("elbo_", "kl_local_", "kl_global_", "reconstruction_loss_")


def loss_history(history: Mapping) -> dict[str, np.ndarray]:
    """The total loss and the method's own loss terms, one float array per curve.

    scvi-tools' ELBO bookkeeping (``elbo_*``, ``kl_*``, ``reconstruction_loss_*``) is dropped;
    non-ELBO models log their terms as extra metrics instead.

    Parameters
    ----------
    history
        ``model.history`` (a dict of one-column DataFrames) or a dict of arrays.
    """
    curves = {}
    for key, values in history.items():
        if key.startswith(_ELBO_TERMS):
            continue
        arr = values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)
        curves[key] = arr.ravel().astype(float)
    return curves
