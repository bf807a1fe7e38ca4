"""``sm.tl.macd_deconvolve``: cell-type proportions of every spot with MACD in one call."""

from __future__ import annotations

from typing import Literal

import numpy as np
from anndata import AnnData

from .._constants import PSEUDO_SPOTS_KEY, ToolKey
from .._docs import d
from .._random import seeded
from .._settings import settings
from .._validate import (
    check_adata,
    check_bool,
    check_choice,
    check_int,
    check_key,
    get_layer,
    get_obs,
)
from .._writer import call_params, write_result
from ..model import MACD
from ..model.macd._model import ADVERSARIAL, DOMAINS
from ..train import loss_history
from ._checks import check_training_args


@d.dedent
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
    key_added: str = ToolKey.MACD_DECONVOLVE,
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
        ``layers[reference_layer]``); every cell type needs at least two cells. It is not
        changed.
    labels_key
        ``adata_sc.obs`` column of cell types.
    layer, reference_layer
        Count layers of ``adata_st`` and ``adata_sc`` (``None``: ``.X``).
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
    %(key_added)s
    %(accelerator)s
    %(random_state)s
    %(model_kwargs)s
        :class:`stmin.model.MACD`, e.g. ``n_hidden``.
    %(train_kwargs)s
    copy
        Return a modified copy of ``adata_st`` instead of writing into it.

    Returns
    -------
    ``None``, or the modified copy of ``adata_st`` with ``copy=True``. Writes

    - ``obsm[key_added]``: DataFrame, spots × cell types in sorted order, rows summing to 1,
      for every spot; spots without counts over the input genes get ``1 / n_types``
      everywhere (with a warning);
    - ``uns[key_added]``: ``params``, ``stmin_version``, ``cell_types``, ``genes``,
      ``simulation`` (the pseudo-spot parameters), ``n_empty_spots`` and the per-epoch
      ``history`` of the losses.
    """
    params = call_params(locals())
    check_key(key_added)
    check_bool(copy, "copy")
    check_adata(adata_st, "adata_st", unique_vars=True)
    check_adata(adata_sc, "adata_sc", allow_view=True, unique_vars=True)
    get_obs(adata_sc, labels_key, "adata_sc", "column of cell-type labels as `labels_key=`")
    get_layer(adata_st, layer, "adata_st")
    get_layer(adata_sc, reference_layer, "adata_sc")
    check_int(n_top_markers, "n_top_markers", min_value=1)
    check_int(n_spots, "n_spots", min_value=2)
    check_int(batch_size, "batch_size", min_value=1)
    check_choice(mask_domain, "mask_domain", DOMAINS)
    check_choice(adversarial, "adversarial", ADVERSARIAL)
    random_state, model_kwargs, train_kwargs = check_training_args(
        MACD,
        max_epochs=max_epochs,
        random_state=random_state,
        accelerator=accelerator,
        devices=devices,
        model_kwargs=model_kwargs,
        train_kwargs=train_kwargs,
        model_reserved=("adata", "mask_domain", "adversarial"),
        train_reserved=("max_epochs", "batch_size", "accelerator", "devices"),
    )

    # seeded twice, so that training draws the same numbers whatever the simulation drew
    with seeded(random_state), settings.threads():
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
            **model_kwargs,
        )
    with seeded(random_state), settings.threads():
        model.train(
            max_epochs=max_epochs,
            batch_size=batch_size,
            accelerator=accelerator,
            devices=devices,
            **train_kwargs,
        )
        props = model.get_proportions(adata_st, layer=layer)
    counts = get_layer(adata_st, layer, "adata_st")
    counts = counts[:, adata_st.var_names.get_indexer(model.adata.var_names)]
    n_empty = int((np.asarray(counts.sum(1)).ravel() == 0).sum())

    adata_st = adata_st.copy() if copy else adata_st
    write_result(
        adata_st,
        key_added,
        params,
        obsm={key_added: props},
        record={
            "cell_types": list(model.cell_types),
            "genes": list(model.adata.var_names),
            "simulation": dict(model.adata.uns[PSEUDO_SPOTS_KEY]),
            "n_empty_spots": n_empty,
            "history": loss_history(model.history),
        },
        name="adata_st",
    )
    return adata_st if copy else None
