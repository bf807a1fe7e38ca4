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

from .._constants import SPATIAL_KEY, ToolKey
from .._docs import d
from .._validate import check_bool, check_key
from ._spatial import check_spot_args, draw_spots, spot_layout
from ._utils import check_cmap, check_ncols, check_plot_adata, check_show_save, finish


def get_frame(adata: AnnData, key: str, what: str, hint: str) -> pd.DataFrame:
    """``adata.obsm[key]`` as a DataFrame of finite numbers (one column per cell type or gene)."""
    check_key(key, "key")
    if key not in adata.obsm:
        raise KeyError(f"`adata.obsm[{key!r}]` ({what}) not found; {hint}")
    frame = adata.obsm[key]
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(
            f"`adata.obsm[{key!r}]` must be {what}, got {type(frame).__name__}; "
            f"store it as `pd.DataFrame(values, index=adata.obs_names, columns=names)`."
        )
    if not frame.columns.is_unique:
        dup = frame.columns[frame.columns.duplicated()][:3].tolist()
        raise ValueError(f"`adata.obsm[{key!r}]` has repeated columns (e.g. {dup}).")
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise ValueError(f"`adata.obsm[{key!r}]` has non-numeric columns {bad[:3]}.")
    values = frame.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise ValueError(
            f"`adata.obsm[{key!r}]` contains {int((~np.isfinite(values)).sum())} NaN or infinite "
            "values; drop those spots first."
        )
    return frame


@d.dedent
def proportions(
    adata: AnnData,
    key: str = ToolKey.MACD_DECONVOLVE,
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
    %(image_spots)s
    cmap
        Colour map of the proportion panels (all on the common scale 0–max).
    %(show_save)s

    Returns
    -------
    %(returns_figure)s
    """
    check_plot_adata(adata)
    check_bool(dominant, "dominant")
    ncols = check_ncols(ncols)
    colormap = check_cmap(cmap)
    check_spot_args(library_id, img_key, spot_scale, show_image)
    check_show_save(show, save)
    props = get_frame(
        adata,
        key,
        "a DataFrame of proportions, one column per cell type",
        "pass `key=` naming it.",
    )
    if (props.to_numpy(dtype=float) < 0).any():
        raise ValueError(
            f"`adata.obsm[{key!r}]` has negative proportions; estimated proportions are ≥ 0."
        )
    if cell_types is None:
        types = list(props.columns)
    elif isinstance(cell_types, str):
        types = [cell_types]
    elif isinstance(cell_types, Sequence | pd.Index | np.ndarray):
        types = list(cell_types)
    else:
        raise ValueError(
            f"`cell_types` must be a cell type, a list of them or None (got {cell_types!r})."
        )
    if not types and not dominant:
        raise ValueError("`cell_types` is empty and `dominant=False`: there is nothing to plot.")
    missing = [t for t in types if t not in props.columns]
    if missing:
        raise KeyError(f"Cell types {missing} are not columns of `adata.obsm[{key!r}]`.")
    image, xy, diameter = spot_layout(
        adata, library_id, img_key, spatial_key, spot_scale, show_image
    )
    n_panels = len(types) + int(dominant)
    ncols = min(ncols, n_panels)
    nrows = int(np.ceil(n_panels / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.9 * nrows), squeeze=False)
    axes = axes.ravel()
    values = props[types].to_numpy(dtype=float)
    norm = Normalize(0, max(float(np.nanmax(values, initial=0.0)), 1e-12))
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
