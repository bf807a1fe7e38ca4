"""``sm.tl.stg3net``: joint spatial domains across slices with STG3Net in one call."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from .._constants import CONNECTIVITIES_KEY, SPATIAL_KEY
from .._settings import logger, set_seed
from .._validate import (
    check_adata,
    check_batches,
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
    key_added: str = "stg3net",
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
    batch_key
        ``obs`` column naming each spot's slice.
    n_clusters
        Number of domains.
    use_rep
        ``obsm`` key of a representation to use as input instead of the preprocessing.
    layer
        Layer with the raw counts; ``None`` uses ``.X``.
    connectivity_key
        ``obsp`` key of the spatial graph.
    spatial_key
        ``obsm`` key of the coordinates (for ``refine``).
    n_top_genes
        Highly variable genes of the preprocessing (2,000 for DLPFC in the paper, 3,000 for
        mouse brain, 5,000 for Stereo-seq embryo).
    cluster_method
        ``"gmm"`` (tied-covariance Gaussian mixture, mclust EEE analogue), ``"kmeans"`` or
        ``"leiden"``.
    refine
        Majority vote over this many nearest spots of the same slice; ``None`` (the paper's
        setting) skips it.
    key_added
        Stem of the keys written.
    max_epochs
        Training epochs (1,000 in the paper).
    accelerator, devices
        Passed to Lightning: ``"cpu"``, ``"gpu"``, ``"auto"``; device ids.
    random_state
        Seed of everything (``scvi.settings.seed``); ``None`` leaves the generators alone.
    model_kwargs
        Further arguments of :class:`stmin.model.STG3Net` (e.g. ``adversarial``,
        ``loss_weights``).
    train_kwargs
        Further arguments of :meth:`stmin.model.STG3Net.train`.
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy with ``copy=True``. Writes

    - ``obsm[f"X_{key_added}"]``: the joint embedding (n_obs × 16),
    - ``obs[key_added]``: joint domain labels (categorical),
    - ``uns[key_added]``: ``params``, ``stmin_version``, the per-epoch loss ``history`` and
      ``anchors`` (epoch, cross-slice pairs and anchors of every refresh).
    """
    from ..model import STG3Net

    check_adata(adata)
    batch = check_batches(adata, batch_key)
    n_clusters = check_n_clusters(n_clusters, adata.n_obs)
    graph = get_graph(adata, connectivity_key)
    coords = get_spatial(adata, spatial_key)
    if use_rep is not None:
        x = get_rep(adata, use_rep)
    else:
        counts = get_layer(adata, layer)
        check_counts(counts, "`adata.X`" if layer is None else f"`adata.layers[{layer!r}]`")
        n_shared = _check_shared_genes(counts, batch, batch_key)
        logger.info(f"{n_shared} of {adata.n_vars} genes are detected in every slice")
        set_seed(random_state)
        x, _ = stmgac_input(counts, n_top_genes=n_top_genes)

    # train on a private AnnData so that the user's object only receives the results
    work = AnnData(
        X=x,
        obs=pd.DataFrame({"slice": batch}, index=adata.obs_names.copy()),
        obsm={SPATIAL_KEY: coords},
        obsp={CONNECTIVITIES_KEY: sp.csr_matrix(graph)},
    )
    set_seed(random_state)
    STG3Net.setup_anndata(work, batch_key="slice", use_rep=None)
    model = STG3Net(work, n_clusters=n_clusters, **(model_kwargs or {}))
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
    anchors = pd.DataFrame(model.anchor_history_, columns=["epoch", "pairs", "anchors"])
    record = method_record(
        {
            "batch_key": batch_key,
            "n_clusters": n_clusters,
            "use_rep": use_rep,
            "layer": layer,
            "connectivity_key": connectivity_key,
            "n_top_genes": n_top_genes if use_rep is None else None,
            "cluster_method": cluster_method,
            "refine": refine,
            "max_epochs": max_epochs,
            "random_state": random_state,
            "model_kwargs": dict(model_kwargs or {}),
        },
        history=loss_history(model.history),
        anchors={c: anchors[c].to_numpy() for c in anchors.columns},
    )
    write_domains(adata, key_added, z, labels, record)
    return adata if copy else None
