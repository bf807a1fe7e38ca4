"""Cell-type proportions on the tissue: one map per type and the dominant type."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from anndata import AnnData
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .._constants import SPATIAL_KEY
from ._spatial import draw_spots, spot_layout
from ._utils import finish


def proportions(
    adata: AnnData,
    key: str = "macd_proportions",
    cell_types: str | Sequence[str] | None = None,
    *,
    dominant: bool = True,
    ncols: int = 4,
    library_id: str | None = None,
    img_key: str | None = None,
    spatial_key: str = SPATIAL_KEY,
    spot_scale: float = 1.0,
    cmap: str = "magma",
    show_image: bool = True,
    show: bool | None = None,
    save: str | Path | None = None,
) -> Figure | None:
    """Plot estimated cell-type proportions over the tissue.

    Parameters
    ----------
    adata
        Spots with proportions in ``obsm[key]`` (a DataFrame, one column per cell type, e.g.
        from a deconvolution method) and coordinates in ``obsm[spatial_key]``.
    key
        ``obsm`` key of the proportions.
    cell_types
        Types to map (default: all).
    dominant
        Add a panel coloured by each spot's most abundant type.
    ncols
        Panels per row.
    library_id, img_key, spatial_key, spot_scale, show_image
        Image and spots, as in :func:`stmin.pl.domains`.
    cmap
        Colour map of the proportion panels (all on the common scale 0–max).
    show, save
        Show and/or write the figure.

    Returns
    -------
    The :class:`~matplotlib.figure.Figure`, unless it was shown.
    """
    if key not in adata.obsm or not isinstance(adata.obsm[key], pd.DataFrame):
        raise KeyError(
            f"`adata.obsm[{key!r}]` (a DataFrame of proportions, one column per cell type) not "
            "found; pass `key=` naming it."
        )
    props = adata.obsm[key]
    types = list(props.columns) if cell_types is None else (
        [cell_types] if isinstance(cell_types, str) else list(cell_types)
    )  # fmt: skip
    missing = [t for t in types if t not in props.columns]
    if missing:
        raise KeyError(f"Cell types {missing} are not columns of `adata.obsm[{key!r}]`.")
    image, xy, diameter = spot_layout(
        adata, library_id, img_key, spatial_key, spot_scale, show_image
    )
    n_panels = len(types) + int(dominant)
    ncols = max(1, min(ncols, n_panels))
    nrows = int(np.ceil(n_panels / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.9 * nrows), squeeze=False)
    axes = axes.ravel()
    values = props[types].to_numpy(dtype=float)
    norm = Normalize(0, max(float(np.nanmax(values)), 1e-12))
    colormap = plt.get_cmap(cmap)
    for ax, cell_type, column in zip(axes, types, values.T, strict=False):
        draw_spots(ax, image, xy, diameter, colormap(norm(column)))
        ax.set_title(str(cell_type))
    if len(types):
        fig.colorbar(ScalarMappable(norm, colormap), ax=list(axes[: len(types)]), shrink=0.6)
    if dominant:
        from scanpy.plotting.palettes import default_20, default_102

        ax = axes[len(types)]
        all_types = list(props.columns)
        palette = default_20 if len(all_types) <= 20 else default_102
        lut = {t: palette[i % len(palette)] for i, t in enumerate(all_types)}
        top = props.to_numpy(dtype=float).argmax(1)
        draw_spots(ax, image, xy, diameter, [lut[all_types[i]] for i in top])
        ax.set_title("dominant type")
        present = [all_types[i] for i in np.unique(top)]
        handles = [Patch(color=lut[t], label=str(t)) for t in present]
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    for ax in axes[n_panels:]:
        ax.axis("off")
    return finish(fig, show, save)
