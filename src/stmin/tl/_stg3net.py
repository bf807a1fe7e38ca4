"""``sm.tl.stg3net``: joint spatial domains across slices with STG3Net in one call."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from .._cluster import ClusterMethod, check_cluster_method
from .._constants import CONNECTIVITIES_KEY, SPATIAL_KEY, ToolKey, embedding_key
from .._docs import d
from .._random import seeded
from .._settings import logger, settings
from .._validate import (
    check_adata,
    check_batches,
    check_bool,
    check_int,
    check_key,
    check_n_clusters,
    check_refine,
    get_graph,
    get_spatial,
)
from .._writer import call_params, write_result
from ..model import STG3Net
from ..pp._stmgac import stmgac_input
from ..train import loss_history
from ._checks import check_training_args
from ._graph_fit import fit_domains, model_input, training_adata

_SLICE = "slice"


def _check_shared_genes(counts, batch: pd.Categorical, batch_key: str) -> int:
    """Number of genes detected in every slice; raise if there is none."""
    counts = sp.csr_matrix(counts)
    detected = np.ones(counts.shape[1], dtype=bool)
    for code, name in enumerate(batch.categories):
        rows = np.flatnonzero(batch.codes == code)
        in_slice = np.asarray(counts[rows].sum(axis=0)).ravel() > 0
        if not in_slice.any():
            raise ValueError(
                f"Slice {name!r} of `adata.obs[{batch_key!r}]` has no counts in any gene of "
                "`adata`; concatenate the slices on their shared genes "
                "(`sm.pp.concat_slices`) or drop it."
            )
        detected &= in_slice
    if not detected.any():
        raise ValueError(
            f"No gene is detected in every slice of `adata.obs[{batch_key!r}]`; the slices share "
            "no genes. Concatenate them on their shared genes (`sm.pp.concat_slices`)."
        )
    return int(detected.sum())


@d.dedent
def stg3net(
    adata: AnnData,
    batch_key: str,
    n_clusters: int,
    *,
    use_rep: str | None = None,
    layer: str | None = None,
    connectivity_key: str = CONNECTIVITIES_KEY,
    spatial_key: str = SPATIAL_KEY,
    n_top_genes: int = 2000,
    cluster_method: ClusterMethod = "gmm",
    refine: int | None = None,
    key_added: str = ToolKey.STG3NET,
    max_epochs: int = 1000,
    accelerator: str = "auto",
    devices: int | list[int] | str = "auto",
    random_state: int | None = 0,
    model_kwargs: dict | None = None,
    train_kwargs: dict | None = None,
    copy: bool = False,
) -> AnnData | None:
    """Find spatial domains shared by several slices with STG3Net.

    Runs STMGAC's preprocessing on the concatenated counts (unless ``use_rep`` is given), trains
    :class:`stmin.model.STG3Net` on the block-diagonal graph of all slices, embeds every spot and
    clusters the joint embedding, so that a domain has one label in every slice.

    Parameters
    ----------
    adata
        Concatenated slices (:func:`stmin.pp.concat_slices`): raw counts in ``.X`` (or
        ``layer``), per-slice coordinates in ``obsm[spatial_key]``, the slice in
        ``obs[batch_key]`` and a per-slice spatial graph in ``obsp[connectivity_key]``
        (``sm.pp.spatial_graph(adata, n_neighs=12, library_key=batch_key)``).
    %(batch_key)s
    %(n_clusters)s
    %(use_rep)s
    %(layer)s
    %(connectivity_key)s
    %(spatial_key)s
        Used by ``refine``.
    n_top_genes
        Highly variable genes of the preprocessing (2,000 for DLPFC in the paper, 3,000 for
        mouse brain, 5,000 for Stereo-seq embryo).
    %(cluster_method)s
    %(refine)s
        ``None`` is the paper's setting.
    %(key_added)s
    %(max_epochs)s
    %(accelerator)s
    %(random_state)s
    %(model_kwargs)s
        :class:`stmin.model.STG3Net`, e.g. ``adversarial``, ``loss_weights``.
    %(train_kwargs)s
    %(copy)s

    Returns
    -------
    %(returns_copy)s Writes

    - ``obsm[f"X_{key_added}"]``: the joint embedding (n_obs × 16),
    - ``obs[key_added]``: joint domain labels (categorical),
    - ``uns[key_added]``: ``params``, ``stmin_version``, the per-epoch loss ``history`` and
      ``anchors`` (epoch, cross-slice pairs and anchors of every refresh).
    """
    params = call_params(locals())
    check_key(key_added)
    check_bool(copy, "copy")
    check_adata(adata)
    batch = check_batches(adata, batch_key)
    n_clusters = check_n_clusters(n_clusters, adata.n_obs)
    check_int(n_top_genes, "n_top_genes", min_value=2)
    check_cluster_method(cluster_method, "cluster_method")
    refine = check_refine(refine, int(pd.Series(batch).value_counts().min()))
    random_state, model_kwargs, train_kwargs = check_training_args(
        STG3Net,
        max_epochs=max_epochs,
        random_state=random_state,
        accelerator=accelerator,
        devices=devices,
        model_kwargs=model_kwargs,
        train_kwargs=train_kwargs,
        model_reserved=("adata", "n_clusters"),
    )
    graph = get_graph(adata, connectivity_key)
    coords = get_spatial(adata, spatial_key)

    def preprocess(counts):
        n_shared = _check_shared_genes(counts, batch, batch_key)
        logger.info(f"{n_shared} of {adata.n_vars} genes are detected in every slice")
        return stmgac_input(counts, n_top_genes=n_top_genes)[0]

    with seeded(random_state), settings.threads():
        x = model_input(adata, use_rep, layer, preprocess)
        model, z, labels = fit_domains(
            STG3Net,
            training_adata(adata, x, graph, coords=coords, obs={_SLICE: batch}),
            n_clusters,
            setup_kwargs={"batch_key": _SLICE},
            model_kwargs=model_kwargs,
            train_kwargs=train_kwargs,
            max_epochs=max_epochs,
            accelerator=accelerator,
            devices=devices,
            cluster_method=cluster_method,
            refine=refine,
            random_state=random_state,
        )

    anchors = pd.DataFrame(model.anchor_history_, columns=["epoch", "pairs", "anchors"])
    adata = adata.copy() if copy else adata
    write_result(
        adata,
        key_added,
        params,
        obsm={embedding_key(key_added): z},
        obs={key_added: labels},
        record={
            "history": loss_history(model.history),
            "anchors": {c: anchors[c].to_numpy() for c in anchors.columns},
        },
    )
    return adata if copy else None
