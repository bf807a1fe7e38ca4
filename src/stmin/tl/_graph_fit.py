"""What the domain wrappers share: the private AnnData they train on, and fitting a model on it."""

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


def fit_domains(
    model_cls,
    work: AnnData,
    n_clusters: int,
    *,
    setup_kwargs: dict,
    model_kwargs: dict,
    train_kwargs: dict,
    max_epochs: int,
    accelerator: str,
    devices,
    cluster_method: str,
    refine: int | None,
    random_state: int | None,
):
    """Set up, train and cluster a domain model on ``work``: the model, embedding and labels.

    Run inside the wrapper's ``seeded`` and ``threads`` blocks.
    """
    model_cls.setup_anndata(work, use_rep=None, **setup_kwargs)
    model = model_cls(work, n_clusters=n_clusters, **model_kwargs)
    model.train(max_epochs=max_epochs, accelerator=accelerator, devices=devices, **train_kwargs)
    z = model.get_latent_representation()
    labels = model.get_labels(
        cluster_method=cluster_method, refine=refine, random_state=random_state or 0
    )
    return model, z, labels
