"""``sm.tl.scasdc_cluster``: single-cell clusters with scASDC in one call."""

from __future__ import annotations

import numpy as np
import pandas as pd
from anndata import AnnData
from sklearn.decomposition import PCA

from .._cluster import leiden_codes, scanpy_neighbors
from .._constants import CELL_CONNECTIVITIES_KEY, SIZE_FACTORS_KEY, ToolKey, embedding_key
from .._docs import d
from .._random import seeded
from .._settings import logger, settings
from .._validate import (
    check_adata,
    check_bool,
    check_counts,
    check_int,
    check_key,
    check_n_clusters,
    get_layer,
    where,
)
from .._writer import call_params, write_result
from ..model import ScASDC
from ..pp._cell_graph import knn_graph
from ..pp._scasdc import scasdc_input
from ..train import loss_history
from ._checks import check_training_args


def _leiden_k(scaled: np.ndarray, random_state: int) -> int:
    """Number of Leiden clusters (resolution 1) on 15 neighbours of 50 principal components."""
    n_comps = min(50, scaled.shape[0] - 1, scaled.shape[1])
    pcs = PCA(n_comps, random_state=random_state).fit_transform(scaled)
    tmp = scanpy_neighbors(pcs, min(15, scaled.shape[0] - 1), random_state)
    return int(np.unique(leiden_codes(tmp, 1.0, random_state)).size)


@d.dedent
def scasdc_cluster(
    adata: AnnData,
    n_clusters: int | None = None,
    *,
    layer: str | None = None,
    n_top_genes: int = 2000,
    n_neighbors: int = 10,
    key_added: str = ToolKey.SCASDC_CLUSTER,
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
    %(layer)s
    n_top_genes
        Highly variable genes used (2,000).
    n_neighbors
        Neighbours per cell in the cell graph (10).
    %(key_added)s
    max_epochs, pretrain_epochs
        Joint epochs (200) and autoencoder pretraining epochs (30).
    %(accelerator)s
    %(random_state)s
    %(model_kwargs)s
        :class:`stmin.model.ScASDC`, e.g. ``n_hidden``, ``attention``.
    %(train_kwargs)s
    %(copy)s

    Returns
    -------
    %(returns_copy)s Writes

    - ``obsm[f"X_{key_added}"]``: the autoencoder embedding (n_obs × 10),
    - ``obsm[f"{key_added}_proba"]``: the cluster probabilities of the GCN branch,
    - ``obs[key_added]``: cluster labels (categorical),
    - ``uns[key_added]``: ``params``, ``stmin_version``, ``n_clusters``, ``n_genes`` and the
      per-epoch ``history`` of the losses (``pretrain_history`` for the first stage).
    """
    params = call_params(locals())
    check_key(key_added)
    check_bool(copy, "copy")
    check_adata(adata)
    counts = get_layer(adata, layer)
    check_counts(counts, where("adata", layer))
    if n_clusters is not None:
        n_clusters = check_n_clusters(n_clusters, adata.n_obs)
    check_int(n_top_genes, "n_top_genes", min_value=2)
    check_int(n_neighbors, "n_neighbors", min_value=1, max_value=adata.n_obs - 1)
    check_int(pretrain_epochs, "pretrain_epochs", min_value=0)
    random_state, model_kwargs, train_kwargs = check_training_args(
        ScASDC,
        max_epochs=max_epochs,
        random_state=random_state,
        accelerator=accelerator,
        devices=devices,
        model_kwargs=model_kwargs,
        train_kwargs=train_kwargs,
        model_reserved=("adata", "n_clusters"),
        train_reserved=("max_epochs", "pretrain_epochs", "accelerator", "devices", "random_state"),
    )
    seed = 0 if random_state is None else random_state

    with seeded(random_state), settings.threads():
        prep = scasdc_input(counts, n_top_genes)
        if n_clusters is None:
            n_clusters = check_n_clusters(_leiden_k(prep.scaled, seed), adata.n_obs)
            logger.info(f"scasdc_cluster: {n_clusters} clusters chosen by Leiden (resolution 1).")
        work = AnnData(
            X=prep.counts,
            obs=pd.DataFrame({SIZE_FACTORS_KEY: prep.size_factors}, index=adata.obs_names.copy()),
            obsp={CELL_CONNECTIVITIES_KEY: knn_graph(prep.scaled, n_neighbors, "ncos")},
        )
        ScASDC.setup_anndata(work)
        model = ScASDC(work, n_clusters=n_clusters, **model_kwargs)
        model.train(
            max_epochs=max_epochs,
            pretrain_epochs=pretrain_epochs,
            accelerator=accelerator,
            devices=devices,
            random_state=seed,
            **train_kwargs,
        )
        z = model.get_latent_representation()
        proba = model.get_labels(soft=True)
    labels = pd.Categorical(
        proba.argmax(1).astype(str), categories=[str(i) for i in range(n_clusters)]
    )

    adata = adata.copy() if copy else adata
    write_result(
        adata,
        key_added,
        params,
        obsm={embedding_key(key_added): z, f"{key_added}_proba": proba},
        obs={key_added: labels},
        record={
            "n_clusters": n_clusters,
            "n_genes": int(prep.genes.size),
            "history": loss_history(model.history),
            "pretrain_history": loss_history(model.pretrain_history_ or {}),
        },
    )
    return adata if copy else None
