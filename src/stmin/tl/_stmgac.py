"""``sm.tl.stmgac``: spatial domains with STMGAC in one call."""

from __future__ import annotations

from typing import Literal

import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from .._constants import CONNECTIVITIES_KEY, SPATIAL_KEY
from .._settings import set_seed
from .._validate import (
    check_adata,
    check_counts,
    check_n_clusters,
    get_graph,
    get_layer,
    get_rep,
    get_spatial,
)
from ..pp._stmgac import stmgac_input
from ..train import loss_history
from ._domains import ClusterMethod
from ._record import method_record, write_domains


def stmgac(
    adata: AnnData,
    n_clusters: int,
    *,
    use_rep: str | None = None,
    layer: str | None = None,
    connectivity_key: str = CONNECTIVITIES_KEY,
    spatial_key: str = SPATIAL_KEY,
    n_top_genes: int = 2000,
    input_mode: Literal["pca", "scaled"] = "pca",
    cluster_method: ClusterMethod = "gmm",
    refine: int | None = 30,
    key_added: str = "stmgac",
    max_epochs: int = 500,
    accelerator: str = "auto",
    devices: int | list[int] | str = "auto",
    random_state: int | None = 0,
    model_kwargs: dict | None = None,
    train_kwargs: dict | None = None,
    copy: bool = False,
) -> AnnData | None:
    """Find spatial domains with STMGAC (masked graph autoencoder, contrastive augmentation).

    Runs the paper's preprocessing (unless ``use_rep`` is given), trains
    :class:`stmin.model.STMGAC` on the whole spatial graph, embeds every spot and clusters the
    embedding.

    Parameters
    ----------
    adata
        Spots × genes AnnData with raw counts in ``.X`` (or ``layer``) and a spatial graph in
        ``obsp[connectivity_key]`` (:func:`stmin.pp.spatial_graph`; the paper uses 12 neighbours
        on Visium).
    n_clusters
        Number of domains.
    use_rep
        ``obsm`` key of a representation to use as input instead of the paper's preprocessing
        (e.g. ``"X_pca"``).
    layer
        Layer with the raw counts; ``None`` uses ``.X``.
    connectivity_key
        ``obsp`` key of the spatial graph.
    spatial_key
        ``obsm`` key of the coordinates (for the refinement).
    n_top_genes
        Highly variable genes kept by the preprocessing (2,000 in the paper for DLPFC).
    input_mode
        ``"pca"``: 200 principal components of the scaled HVGs (the paper's clustering mode);
        ``"scaled"``: the scaled HVGs themselves.
    cluster_method
        ``"gmm"`` (tied-covariance Gaussian mixture, mclust EEE analogue), ``"kmeans"`` or
        ``"leiden"``.
    refine
        Majority vote over this many nearest spots after clustering (30 in the paper for DLPFC);
        ``None`` skips it.
    key_added
        Stem of the keys written.
    max_epochs
        Training epochs (500 in the paper).
    accelerator, devices
        Passed to Lightning: ``"cpu"``, ``"gpu"``, ``"auto"``; device ids.
    random_state
        Seed of everything (``scvi.settings.seed``); ``None`` leaves the generators alone.
    model_kwargs
        Further arguments of :class:`stmin.model.STMGAC` (e.g. ``mask_rate``, ``loss_weights``).
    train_kwargs
        Further arguments of :meth:`stmin.model.STMGAC.train` (e.g. ``lr``,
        ``enable_progress_bar``).
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy with ``copy=True``. Writes

    - ``obsm[f"X_{key_added}"]``: the embedding (n_obs × 16),
    - ``obs[key_added]``: domain labels (categorical),
    - ``uns[key_added]``: ``params``, ``stmin_version`` and the per-epoch ``history`` of the
      losses.
    """
    from ..model import STMGAC

    check_adata(adata)
    n_clusters = check_n_clusters(n_clusters, adata.n_obs)
    graph = get_graph(adata, connectivity_key)
    coords = get_spatial(adata, spatial_key) if refine else None
    if use_rep is not None:
        x = get_rep(adata, use_rep)
    else:
        counts = get_layer(adata, layer)
        check_counts(counts, "`adata.X`" if layer is None else f"`adata.layers[{layer!r}]`")
        set_seed(random_state)
        x, _ = stmgac_input(counts, n_top_genes=n_top_genes, mode=input_mode)

    # train on a private AnnData so that the user's object only receives the results
    work = AnnData(
        X=x,
        obs=pd.DataFrame(index=adata.obs_names.copy()),
        obsm={SPATIAL_KEY: coords} if coords is not None else None,
        obsp={CONNECTIVITIES_KEY: sp.csr_matrix(graph)},
    )
    set_seed(random_state)
    STMGAC.setup_anndata(work, use_rep=None, connectivity_key=CONNECTIVITIES_KEY)
    model = STMGAC(work, n_clusters=n_clusters, **(model_kwargs or {}))
    model.train(
        max_epochs=max_epochs, accelerator=accelerator, devices=devices, **(train_kwargs or {})
    )
    z = model.get_latent_representation()
    labels = model.predict_domains(
        n_clusters=n_clusters,
        method=cluster_method,
        refine=refine,
        random_state=0 if random_state is None else random_state,
    )

    adata = adata.copy() if copy else adata
    record = method_record(
        {
            "n_clusters": n_clusters,
            "use_rep": use_rep,
            "layer": layer,
            "connectivity_key": connectivity_key,
            "n_top_genes": n_top_genes if use_rep is None else None,
            "input_mode": input_mode if use_rep is None else None,
            "cluster_method": cluster_method,
            "refine": refine,
            "max_epochs": max_epochs,
            "random_state": random_state,
            "model_kwargs": dict(model_kwargs or {}),
        },
        history=loss_history(model.history),
    )
    write_domains(adata, key_added, z, labels, record)
    return adata if copy else None
