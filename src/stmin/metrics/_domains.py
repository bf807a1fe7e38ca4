"""All domain-detection scores of one labelling at once."""

from __future__ import annotations

import numpy as np
from anndata import AnnData

from .._constants import SPATIAL_KEY
from .._validate import get_spatial
from ._clustering import ari, nmi
from ._spatial import chaos, pas


def domain_scores(
    adata: AnnData, pred_key: str, truth_key: str | None = None, spatial_key: str = SPATIAL_KEY
) -> dict[str, float]:
    """ARI and NMI against reference labels, and CHAOS and PAS of the prediction.

    Parameters
    ----------
    adata
        Annotated data.
    pred_key
        ``obs`` column of the predicted domains.
    truth_key
        ``obs`` column of the reference labels (missing values are ignored); ``None`` gives
        only the spatial scores.
    spatial_key
        ``obsm`` key of the coordinates.

    Returns
    -------
    ``{"ari", "nmi", "chaos", "pas"}`` (the first two only with ``truth_key``).
    """
    for key in (pred_key, truth_key):
        if key is not None and key not in adata.obs:
            raise KeyError(f"`adata.obs[{key!r}]` not found; available columns: {list(adata.obs)}.")
    pred = adata.obs[pred_key].to_numpy()
    coords = get_spatial(adata, spatial_key)
    scores = {}
    if truth_key is not None:
        scores["ari"] = ari(adata.obs[truth_key], pred)
        scores["nmi"] = nmi(adata.obs[truth_key], pred)
    scores["chaos"] = chaos(np.asarray(pred, dtype=str), coords)
    scores["pas"] = pas(np.asarray(pred, dtype=str), coords)
    return scores
