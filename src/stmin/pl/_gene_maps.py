"""Measured next to predicted expression, gene by gene, on the tissue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from anndata import AnnData
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from .._constants import SPATIAL_KEY, ToolKey
from .._docs import d
from .._validate import check_counts, check_keys, check_number, get_layer, where
from ..metrics._expression import _pcc
from ..pp._transform import expression_transform
from ._proportions import get_frame
from ._spatial import check_spot_args, draw_spots, spot_layout
from ._utils import check_cmap, check_plot_adata, check_show_save, finish


def _record(adata: AnnData, key: str) -> dict:
    """``uns[key]``, the record of the prediction (a dict; empty when absent)."""
    record = adata.uns.get(key, {})
    if not isinstance(record, Mapping):
        raise ValueError(
            f"`adata.uns[{key!r}]` must be the dict written with the prediction (got "
            f"{type(record).__name__}); delete it to plot the predictions alone."
        )
    space = record.get("expression_space") or {}
    if not isinstance(space, Mapping):
        raise ValueError(f"`adata.uns[{key!r}]['expression_space']` must be a dict.")
    for name in ("target_sum", "log_base"):
        if name in space:
            check_number(
                space[name],
                f"adata.uns[{key!r}]['expression_space'][{name!r}]",
                min_value=0,
                min_inclusive=False,
            )
    if "log_base" in space and float(space["log_base"]) == 1.0:
        raise ValueError(f"`adata.uns[{key!r}]['expression_space']['log_base']` cannot be 1.")
    return dict(record)


def measured_panel(adata: AnnData, genes: Sequence[str], layer: str | None, record: dict):
    """The query's measured expression in the prediction's space, or ``None`` without counts.

    The space is the one the prediction's record names (``record["expression_space"]``:
    ``target_sum`` and ``log_base``), so the two rows of :func:`gene_maps` always agree.
    """
    panel = [g for g in record.get("genes", []) if g in adata.var_names]
    if not panel or not set(genes) <= set(panel) or not adata.var_names.is_unique:
        return None
    space = dict(record.get("expression_space") or {})
    counts = get_layer(adata, layer)[:, adata.var_names.get_indexer(panel)]
    check_counts(counts, where("adata", layer), integer=False)
    counts = counts.toarray() if hasattr(counts, "toarray") else np.asarray(counts)
    values = expression_transform(
        torch.as_tensor(counts, dtype=torch.float64),
        **{k: float(v) for k, v in space.items() if k in ("target_sum", "log_base")},
    ).numpy()
    return pd.DataFrame(values, index=adata.obs_names, columns=panel)[list(genes)]


@d.dedent
def gene_maps(
    adata: AnnData,
    genes: str | Sequence[str],
    *,
    key: str = ToolKey.PREDICT_FROM_HE,
    layer: str | None = None,
    library_id: str | None = None,
    img_key: str | None = None,
    spatial_key: str = SPATIAL_KEY,
    spot_scale: float = 1.0,
    cmap: str = "viridis",
    show_image: bool = True,
    show: bool | None = None,
    save: str | Path | None = None,
) -> Figure | None:
    """Plot measured (top row) and predicted (bottom row) expression of genes on the tissue.

    Parameters
    ----------
    adata
        Section with predictions in ``obsm[key]`` (a spots × genes DataFrame, e.g. from
        :func:`stmin.tl.predict_from_he`) and, for the top row, raw counts in ``.X`` or
        ``layers[layer]``; the measured values are transformed like the prediction (panel
        library size, ``log10(1 + 1e4 x)``). Without measured counts only predictions are drawn.
    genes
        One gene or several (one column each).
    key
        ``obsm`` key of the predictions.
    layer
        Layer of the raw counts.
    %(image_spots)s
    cmap
        Colour map; each panel is scaled to its own range.
    %(show_save)s

    Returns
    -------
    %(returns_figure)s Column titles give the Pearson correlation of measured and predicted
    values.
    """
    check_plot_adata(adata, unique_vars=True)
    genes = check_keys(genes, "genes")
    colormap = check_cmap(cmap)
    check_spot_args(library_id, img_key, spot_scale, show_image)
    check_show_save(show, save)
    pred = get_frame(
        adata,
        key,
        "a DataFrame of predictions",
        "run `sm.tl.predict_from_he(adata, reference)` first, or pass `key=`.",
    )
    missing = [g for g in genes if g not in pred.columns]
    if missing:
        raise KeyError(f"Genes {missing} are not in `adata.obsm[{key!r}]`.")
    record = _record(adata, key)
    measured = None
    if adata.n_vars:
        measured = measured_panel(adata, genes, layer, record)
    rows = (
        [("predicted", pred[genes])]
        if measured is None
        else [
            ("measured", measured),
            ("predicted", pred[genes]),
        ]
    )
    image, xy, diameter = spot_layout(
        adata, library_id, img_key, spatial_key, spot_scale, show_image
    )
    fig, axes = plt.subplots(
        len(rows), len(genes), figsize=(4.2 * len(genes), 3.9 * len(rows)), squeeze=False
    )
    for j, gene in enumerate(genes):
        for i, (label, table) in enumerate(rows):
            values = table[gene].to_numpy(dtype=float)
            norm = Normalize(np.nanmin(values), np.nanmax(values))
            ax = axes[i, j]
            draw_spots(ax, image, xy, diameter, colormap(norm(values)))
            fig.colorbar(ScalarMappable(norm, colormap), ax=ax, shrink=0.7)
            title = f"{gene}, {label}"
            if measured is not None and label == "predicted":
                r = _pcc(measured[[gene]].to_numpy(dtype=float), values[:, None])[0]
                title += f" (r = {r:.2f})"
            ax.set_title(title)
    fig.tight_layout()
    return finish(fig, show, save)
