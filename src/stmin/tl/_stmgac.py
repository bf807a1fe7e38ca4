"""``sm.tl.stmgac``: spatial domains with STMGAC in one call."""

from __future__ import annotations

from typing import Literal

from anndata import AnnData

from .._cluster import ClusterMethod, check_cluster_method
from .._constants import CONNECTIVITIES_KEY, SPATIAL_KEY, ToolKey, embedding_key
from .._docs import d
from .._random import seeded
from .._settings import settings
from .._validate import (
    check_adata,
    check_bool,
    check_choice,
    check_int,
    check_key,
    check_n_clusters,
    check_refine,
    get_graph,
    get_spatial,
)
from .._writer import call_params, write_result
from ..model import STMGAC
from ..pp._stmgac import INPUT_MODES, stmgac_input
from ..train import loss_history
from ._checks import check_training_args
from ._graph_fit import fit_domains, model_input, training_adata


@d.dedent
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
    key_added: str = ToolKey.STMGAC,
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
    %(n_clusters)s
    %(use_rep)s
    %(layer)s
    %(connectivity_key)s
    %(spatial_key)s
        Used by the refinement.
    n_top_genes
        Highly variable genes kept by the preprocessing (2,000 in the paper for DLPFC).
    input_mode
        ``"pca"``: 200 principal components of the scaled HVGs (the paper's clustering mode);
        ``"scaled"``: the scaled HVGs themselves.
    %(cluster_method)s
    %(refine)s
        30 in the paper for DLPFC.
    %(key_added)s
    %(max_epochs)s
    %(accelerator)s
    %(random_state)s
    %(model_kwargs)s
        :class:`stmin.model.STMGAC`, e.g. ``mask_rate``, ``loss_weights``.
    %(train_kwargs)s
    %(copy)s

    Returns
    -------
    %(returns_copy)s Writes

    - ``obsm[f"X_{key_added}"]``: the embedding (n_obs × 16),
    - ``obs[key_added]``: domain labels (categorical),
    - ``uns[key_added]``: ``params``, ``stmin_version`` and the per-epoch ``history`` of the
      losses.
    """
    params = call_params(locals())
    check_key(key_added)
    check_bool(copy, "copy")
    check_adata(adata)
    n_clusters = check_n_clusters(n_clusters, adata.n_obs)
    check_choice(input_mode, "input_mode", INPUT_MODES)
    check_int(n_top_genes, "n_top_genes", min_value=2)
    check_cluster_method(cluster_method, "cluster_method")
    refine = check_refine(refine, adata.n_obs)
    random_state, model_kwargs, train_kwargs = check_training_args(
        STMGAC,
        max_epochs=max_epochs,
        random_state=random_state,
        accelerator=accelerator,
        devices=devices,
        model_kwargs=model_kwargs,
        train_kwargs=train_kwargs,
        model_reserved=("adata", "n_clusters"),
    )
    graph = get_graph(adata, connectivity_key)
    coords = get_spatial(adata, spatial_key) if refine else None

    with seeded(random_state), settings.threads():
        x = model_input(
            adata,
            use_rep,
            layer,
            lambda counts: stmgac_input(counts, n_top_genes=n_top_genes, mode=input_mode)[0],
        )
        model, z, labels = fit_domains(
            STMGAC,
            training_adata(adata, x, graph, coords=coords),
            n_clusters,
            setup_kwargs={},
            model_kwargs=model_kwargs,
            train_kwargs=train_kwargs,
            max_epochs=max_epochs,
            accelerator=accelerator,
            devices=devices,
            cluster_method=cluster_method,
            refine=refine,
            random_state=random_state,
        )

    adata = adata.copy() if copy else adata
    write_result(
        adata,
        key_added,
        params,
        obsm={embedding_key(key_added): z},
        obs={key_added: labels},
        record={"history": loss_history(model.history)},
    )
    return adata if copy else None
