"""``sm.tl.macd_deconvolve``: cell-type proportions of every spot with MACD in one call."""

from __future__ import annotations

from typing import Literal

import numpy as np
from anndata import AnnData

from .._settings import log_added, set_seed
from .._validate import check_adata, get_layer, warn_if_exists
from ..train import loss_history
from ._record import method_record


def macd_deconvolve(
    adata_st: AnnData,
    adata_sc: AnnData,
    labels_key: str,
    *,
    layer: str | None = None,
    reference_layer: str | None = None,
    genes: list[str] | None = None,
    n_top_markers: int = 200,
    n_spots: int = 10_000,
    max_epochs: int = 200,
    batch_size: int = 2048,
    mask_domain: Literal["real", "simulated"] = "real",
    adversarial: Literal["grl", "released", "none"] = "grl",
    key_added: str = "macd",
    accelerator: str = "auto",
    devices: int | list[int] | str = "auto",
    random_state: int | None = 0,
    model_kwargs: dict | None = None,
    train_kwargs: dict | None = None,
    copy: bool = False,
) -> AnnData | None:
    """Estimate the cell-type proportions of each spot with MACD.

    Selects the reference's marker genes shared with the spots, simulates ``n_spots``
    pseudo-spots of known composition with the spots' library sizes, trains
    :class:`stmin.model.MACD` on pseudo-spots and real spots together, and predicts every spot.

    Parameters
    ----------
    adata_st
        Spots × genes, raw counts in ``.X`` (or ``layers[layer]``).
    adata_sc
        Annotated reference cells × genes, raw counts in ``.X`` (or
        ``layers[reference_layer]``); every cell type needs at least two cells.
    labels_key
        ``adata_sc.obs`` column of cell types.
    layer, reference_layer
        Count layers of ``adata_st`` and ``adata_sc``.
    genes
        Input genes instead of the markers.
    n_top_markers
        Markers per cell type (200; :func:`stmin.pp.marker_genes`).
    n_spots
        Pseudo-spots simulated from the reference (10,000).
    max_epochs, batch_size
        Training epochs (200) and mini-batch size (2,048).
    mask_domain, adversarial
        See :class:`stmin.model.MACD`.
    key_added
        ``obsm[f"{key_added}_proportions"]`` and ``uns[key_added]`` are written.
    accelerator, devices
        Passed to Lightning (``"cpu"``, ``"gpu"``, ``"auto"``).
    random_state
        Seed of the simulation and the training; ``None`` leaves the generators alone.
    model_kwargs, train_kwargs
        Further arguments of :class:`stmin.model.MACD` and :meth:`stmin.model.MACD.train`
        (e.g. ``enable_progress_bar=False``).
    copy
        Return a modified copy instead of writing into ``adata_st``.

    Returns
    -------
    ``None``, or a copy with ``copy=True``. Writes

    - ``obsm[f"{key_added}_proportions"]``: DataFrame, spots × cell types in sorted order, rows
      summing to 1, for every spot; spots without counts over the input genes get
      ``1 / n_types`` everywhere (with a warning);
    - ``uns[key_added]``: ``cell_types``, ``genes``, ``params``, ``simulation`` (the
      pseudo-spot parameters), ``n_empty_spots``, ``stmin_version`` and the per-epoch
      ``history`` of the losses.
    """
    from ..model import MACD

    check_adata(adata_st, "adata_st")
    set_seed(random_state)
    model = MACD.from_reference(
        adata_st,
        adata_sc,
        labels_key,
        layer=layer,
        reference_layer=reference_layer,
        genes=genes,
        n_top_markers=n_top_markers,
        n_spots=n_spots,
        random_state=random_state,
        mask_domain=mask_domain,
        adversarial=adversarial,
        **(model_kwargs or {}),
    )
    set_seed(random_state)
    model.train(
        max_epochs=max_epochs,
        batch_size=batch_size,
        accelerator=accelerator,
        devices=devices,
        **(train_kwargs or {}),
    )
    props = model.get_proportions(adata_st, layer=layer)
    counts = get_layer(adata_st, layer, "adata_st")
    counts = counts[:, adata_st.var_names.get_indexer(model.adata.var_names)]
    n_empty = int((np.asarray(counts.sum(1)).ravel() == 0).sum())

    adata_st = adata_st.copy() if copy else adata_st
    obsm_key = f"{key_added}_proportions"
    warn_if_exists(adata_st.obsm, obsm_key, "adata_st.obsm")
    adata_st.obsm[obsm_key] = props
    adata_st.uns[key_added] = method_record(
        {
            "labels_key": labels_key,
            "layer": layer,
            "reference_layer": reference_layer,
            "n_top_markers": n_top_markers,
            "n_spots": n_spots,
            "max_epochs": max_epochs,
            "batch_size": batch_size,
            "mask_domain": mask_domain,
            "adversarial": adversarial,
            "random_state": random_state,
            "model_kwargs": dict(model_kwargs or {}),
        },
        cell_types=list(model.cell_types),
        genes=list(model.adata.var_names),
        simulation=dict(model.adata.uns["macd_simulation"]),
        n_empty_spots=n_empty,
        history=loss_history(model.history),
    )
    log_added(f"obsm['{obsm_key}']", f"uns['{key_added}']")
    return adata_st if copy else None
