"""The private AnnData a graph-model wrapper trains on, so the user's object only gets results."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from .._constants import CONNECTIVITIES_KEY, SPATIAL_KEY
from .._validate import check_counts, get_layer, get_rep, where


def model_input(
    adata: AnnData,
    use_rep: str | None,
    layer: str | None,
    preprocess: Callable[[sp.spmatrix | np.ndarray], np.ndarray],
) -> np.ndarray:
    """``obsm[use_rep]``, or the method's ``preprocess`` of the raw counts in ``.X``/``layer``."""
    if use_rep is not None:
        if layer is not None:
            raise ValueError("Pass either `use_rep` or `layer`, not both.")
        return get_rep(adata, use_rep)
    counts = get_layer(adata, layer)
    check_counts(counts, where("adata", layer))
    return preprocess(counts)


def training_adata(
    adata: AnnData,
    x: np.ndarray,
    graph: sp.spmatrix,
    *,
    coords: np.ndarray | None = None,
    obs: dict | None = None,
) -> AnnData:
    """An AnnData holding only the model input (``X``), the graph, coordinates and ``obs``."""
    return AnnData(
        X=x,
        obs=pd.DataFrame(obs or {}, index=adata.obs_names.copy()),
        obsm={SPATIAL_KEY: coords} if coords is not None else None,
        obsp={CONNECTIVITIES_KEY: sp.csr_matrix(graph)},
    )
