"""``sm.tl.scasdc_cluster``: single-cell clusters with scASDC in one call."""

from __future__ import annotations

import numpy as np
import pandas as pd
from anndata import AnnData
from sklearn.decomposition import PCA

from .._knn import leiden_codes, scanpy_neighbors
from .._settings import logger, set_seed
from .._validate import check_adata, check_counts, check_n_clusters, get_layer
from ..pp._cell_graph import knn_graph
from ..pp._scasdc import SIZE_FACTOR_KEY, scasdc_input
from ..train import loss_history
from ._record import method_record, write_domains


def _leiden_k(scaled: np.ndarray, random_state: int) -> int:
    """Number of Leiden clusters (resolution 1) on 15 neighbours of 50 principal components."""
    n_comps = min(50, scaled.shape[0] - 1, scaled.shape[1])
    pcs = PCA(n_comps, random_state=random_state).fit_transform(scaled)
    tmp = scanpy_neighbors(pcs, min(15, scaled.shape[0] - 1), random_state)
    return int(np.unique(leiden_codes(tmp, 1.0, random_state)).size)


def scasdc_cluster(
    adata: AnnData,
    n_clusters: int | None = None,
    *,
    layer: str | None = None,
    n_top_genes: int = 2000,
    n_neighbors: int = 10,
    key_added: str = "scasdc",
    max_epochs: int = 200,
    pretrain_epochs: int = 30,
    accelerator: str = "auto",
    devices: int | list[int] | str = "auto",
    random_state: int | None = 0,
    model_kwargs: dict | None = None,
    train_kwargs: dict | None = None,
    copy: bool = False,
) -> AnnData | None:
    """Cluster cells with scASDC (ZINB autoencoder, attention-fused GCN, self-supervised DEC).

    Runs the paper's preprocessing on a private copy (size factors, 2,000 highly variable
    genes, z-scored log-expression, a 10-nearest-neighbour cell graph), pretrains the
    autoencoder, trains the whole model and labels each cell by the argmax of the GCN branch.

    Parameters
    ----------
    adata
        Cells × genes AnnData with raw counts in ``.X`` or ``layer``.
    n_clusters
        Number of clusters. ``None``: the number of Leiden clusters at resolution 1 on the
        15-nearest-neighbour graph of 50 principal components of the preprocessed data
        (scanpy's default workflow).
    layer
        Layer with the raw counts; ``None`` uses ``.X``.
    n_top_genes
        Highly variable genes used (2,000).
    n_neighbors
        Neighbours per cell in the cell graph (10).
    key_added
        Stem of the keys written.
    max_epochs, pretrain_epochs
        Joint epochs (200) and autoencoder pretraining epochs (30).
    accelerator, devices
        Passed to Lightning: ``"cpu"``, ``"gpu"``, ``"auto"``; device ids.
    random_state
        Seed of everything (``scvi.settings.seed``); ``None`` leaves the generators alone.
    model_kwargs
        Further arguments of :class:`stmin.model.ScASDC` (e.g. ``n_hidden``, ``attention``).
    train_kwargs
        Further arguments of :meth:`stmin.model.ScASDC.train` (e.g. ``lr``,
        ``enable_progress_bar``).
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy with ``copy=True``. Writes

    - ``obsm[f"X_{key_added}"]``: the autoencoder embedding (n_obs × 10),
    - ``obsm[f"{key_added}_proba"]``: the cluster probabilities of the GCN branch,
    - ``obs[key_added]``: cluster labels (categorical),
    - ``uns[key_added]``: ``params``, ``stmin_version``, ``n_clusters`` and the per-epoch
      ``history`` of the losses (``pretrain_history`` for the first stage).
    """
    from ..model import ScASDC

    check_adata(adata)
    counts = get_layer(adata, layer)
    check_counts(counts, "`adata.X`" if layer is None else f"`adata.layers[{layer!r}]`")
    if n_clusters is not None:
        n_clusters = check_n_clusters(n_clusters, adata.n_obs)
    prep = scasdc_input(counts, n_top_genes)
    seed = 0 if random_state is None else random_state
    if n_clusters is None:
        n_clusters = check_n_clusters(_leiden_k(prep.scaled, seed), adata.n_obs)
        logger.info(f"scasdc_cluster: {n_clusters} clusters chosen by Leiden (resolution 1).")

    # train on a private AnnData so that the user's object only receives the results
    work = AnnData(
        X=prep.counts,
        obs=pd.DataFrame({SIZE_FACTOR_KEY: prep.size_factors}, index=adata.obs_names.copy()),
        obsp={"cell_connectivities": knn_graph(prep.scaled, n_neighbors, "ncos")},
    )
    set_seed(random_state)
    ScASDC.setup_anndata(work)
    model = ScASDC(work, n_clusters=n_clusters, **(model_kwargs or {}))
    model.train(
        max_epochs=max_epochs,
        pretrain_epochs=pretrain_epochs,
        accelerator=accelerator,
        devices=devices,
        random_state=seed,
        **(train_kwargs or {}),
    )
    z = model.get_latent_representation()
    proba = model.predict(soft=True)
    labels = pd.Categorical(
        proba.argmax(1).astype(str), categories=[str(i) for i in range(n_clusters)]
    )

    adata = adata.copy() if copy else adata
    record = method_record(
        {
            "n_clusters": n_clusters,
            "layer": layer,
            "n_top_genes": n_top_genes,
            "n_neighbors": n_neighbors,
            "max_epochs": max_epochs,
            "pretrain_epochs": pretrain_epochs,
            "random_state": random_state,
            "model_kwargs": dict(model_kwargs or {}),
        },
        n_clusters=n_clusters,
        n_genes=int(prep.genes.size),
        history=loss_history(model.history),
        pretrain_history=loss_history(model.pretrain_history_ or {}),
    )
    write_domains(adata, key_added, z, labels, record)
    adata.obsm[f"{key_added}_proba"] = proba
    return adata if copy else None
