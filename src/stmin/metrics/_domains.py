"""All domain-detection scores of one labelling at once."""

from __future__ import annotations

import numpy as np
from anndata import AnnData

from .._constants import SPATIAL_KEY
from .._validate import as_labels, check_adata, get_obs, get_spatial
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
        ``obs`` column of the predicted domains (no missing values).
    truth_key
        ``obs`` column of the reference labels (missing values are ignored); ``None`` gives
        only the spatial scores.
    spatial_key
        ``obsm`` key of the coordinates.

    Returns
    -------
    ``{"ari", "nmi", "chaos", "pas"}`` (the first two only with ``truth_key``).
    """
    check_adata(adata, allow_view=True, need_vars=False)
    column = get_obs(adata, pred_key, what="column of the predicted domains as `pred_key=`")
    truth = None
    if truth_key is not None:
        truth = get_obs(adata, truth_key, what="column of the reference labels as `truth_key=`")
    if column.isna().any():
        raise ValueError(
            f"`adata.obs[{pred_key!r}]` has {int(column.isna().sum())} missing predictions; "
            "every spot needs a domain (score the spots that have one: "
            f"`adata[adata.obs[{pred_key!r}].notna()]`)."
        )
    pred = as_labels(column.to_numpy(), f"adata.obs[{pred_key!r}]")
    coords = get_spatial(adata, spatial_key)
    scores = {}
    if truth is not None:
        scores["ari"] = ari(truth, pred)
        scores["nmi"] = nmi(truth, pred)
    scores["chaos"] = chaos(np.asarray(pred, dtype=str), coords)
    scores["pas"] = pas(np.asarray(pred, dtype=str), coords)
    return scores
