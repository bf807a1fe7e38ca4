"""Several slices side by side, each in its own coordinate frame, with shared colours."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from anndata import AnnData
from matplotlib.cm import ScalarMappable
from matplotlib.collections import EllipseCollection
from matplotlib.colors import Colormap, ListedColormap, Normalize, is_color_like, to_hex, to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .._constants import SPATIAL_KEY
from .._docs import d
from .._validate import check_batches, check_key, check_number, get_spatial
from ..pp import grid_pitch
from ._spatial import _MISSING, _palette
from ._utils import check_ncols, check_plot_adata, check_show_save, finish

Palette = str | Colormap | Sequence[str] | Mapping[str, str] | None


def _obs_column(adata: AnnData, key: str, arg: str) -> pd.Series:
    check_key(key, arg)
    if key not in adata.obs:
        raise KeyError(
            f"`adata.obs[{key!r}]` not found; available columns: {list(adata.obs)}. "
            f"Pass `{arg}=` naming one of them."
        )
    return adata.obs[key]


def _cmap(palette: str | Colormap | None) -> Colormap:
    if palette is None:
        return mpl.colormaps["viridis"]
    if isinstance(palette, Colormap):
        return palette
    if isinstance(palette, str) and palette in mpl.colormaps:
        return mpl.colormaps[palette]
    raise ValueError(
        f"`palette`={palette!r} is not a matplotlib colormap; for a numeric column pass a "
        "colormap or its name (e.g. 'viridis')."
    )


def _check_colors(colors, what: str) -> None:
    bad = [c for c in colors if not is_color_like(c)]
    if bad:
        raise ValueError(
            f"{what} holds values that are not matplotlib colours ({bad[:3]}); use names such as "
            "'red' or hex codes such as '#1f77b4'."
        )


def check_palette(palette) -> None:
    """Check the type of ``palette`` (and its colours) before anything is drawn."""
    if palette is None or isinstance(palette, Colormap):
        return
    if isinstance(palette, str):
        _cmap(palette)
    elif isinstance(palette, Mapping):
        _check_colors(list(palette.values()), "`palette`")
    elif isinstance(palette, Sequence):
        _check_colors(list(palette), "`palette`")
    else:
        raise ValueError(
            "`palette` must be a colormap (or its name), a list of colours or a mapping "
            f"category → colour (got {type(palette).__name__})."
        )


def _category_lut(adata: AnnData, key: str, categories: pd.Index, palette: Palette) -> dict:
    """Colour of each category: ``palette`` if given, else ``uns[f"{key}_colors"]`` or scanpy's."""
    if palette is None:
        return _palette(adata, key, categories)
    check_palette(palette)
    if isinstance(palette, Mapping):
        absent = [c for c in categories if c not in palette]
        if absent:
            raise ValueError(f"`palette` has no colour for the categories {absent} of {key!r}.")
        return {c: to_hex(palette[c], keep_alpha=True) for c in categories}
    if isinstance(palette, str | Colormap):
        cmap = _cmap(palette)
        if isinstance(cmap, ListedColormap) and cmap.N >= len(categories):
            colors = [cmap(i) for i in range(len(categories))]
        else:
            colors = list(cmap(np.linspace(0.0, 1.0, len(categories))))
    else:
        colors = list(palette)
        if len(colors) < len(categories):
            raise ValueError(
                f"`palette` holds {len(colors)} colours but {key!r} has {len(categories)} "
                "categories; pass at least one colour per category."
            )
    return {c: to_hex(col, keep_alpha=True) for c, col in zip(categories, colors, strict=False)}


@dataclass
class _Coloring:
    """Per-spot colours of one ``obs`` column, fixed once so that every panel agrees."""

    key: str
    rgba: np.ndarray
    missing: np.ndarray
    handles: list[Patch] | None = None
    mappable: ScalarMappable | None = None

    def order(self, index: np.ndarray) -> np.ndarray:
        """``index`` with the spots of missing value first, so that they are drawn underneath."""
        return index[np.argsort(~self.missing[index], kind="stable")]


def _coloring(adata: AnnData, key: str, palette: Palette = None, arg: str = "color") -> _Coloring:
    column = _obs_column(adata, key, arg)
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = ~np.isfinite(values)
        if missing.all():
            raise ValueError(f"`adata.obs[{key!r}]` has no finite value to colour by.")
        cmap = _cmap(palette)
        norm = Normalize(vmin=values[~missing].min(), vmax=values[~missing].max())
        rgba = cmap(norm(np.where(missing, norm.vmin, values)))
        rgba[missing] = to_rgba(_MISSING)
        return _Coloring(key, rgba, missing, mappable=ScalarMappable(norm=norm, cmap=cmap))
    values = pd.Categorical(column)
    lut = _category_lut(adata, key, values.categories, palette)
    codes = values.codes
    missing = codes < 0
    table = np.array([to_rgba(lut[c]) for c in values.categories] + [to_rgba(_MISSING)])
    rgba = table[np.where(missing, len(values.categories), codes)]
    present = set(np.unique(codes[~missing]).tolist())
    handles = [
        Patch(color=lut[c], label=str(c)) for i, c in enumerate(values.categories) if i in present
    ]
    if missing.any():
        handles.append(Patch(color=_MISSING, label="NA"))
    return _Coloring(key, rgba, missing, handles=handles)


def _grid(n_panels: int, ncols: int, width: float, height: float):
    ncols = min(check_ncols(ncols), n_panels)
    nrows = int(np.ceil(n_panels / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, layout="constrained"
    )
    axes = axes.ravel()
    for ax in axes[n_panels:]:
        fig.delaxes(ax)
    return fig, list(axes[:n_panels])


@d.dedent
def slices(
    adata: AnnData,
    batch_key: str,
    color: str,
    *,
    spatial_key: str = SPATIAL_KEY,
    ncols: int = 4,
    size: float | None = None,
    palette: Palette = None,
    title: str | None = None,
    show: bool | None = None,
    save: str | Path | None = None,
) -> Figure | None:
    """Plot several slices side by side, each in its own coordinates, with colours shared by all.

    One panel per slice (the categories of ``obs[batch_key]``, in order), titled by the slice
    name. A categorical ``color`` gets the same colour for a category in every panel and one
    legend for the figure; a numeric one gets one colour scale and one colourbar.

    Parameters
    ----------
    adata
        Annotated data of all slices, reading

        - ``obs[batch_key]``: the slice of each spot (no missing values);
        - ``obs[color]``: the values to colour by;
        - ``obsm[spatial_key]``: spot coordinates, each slice in its own frame;
        - ``uns[f"{color}_colors"]``: category colours, when ``palette`` is not given.
    batch_key
        ``obs`` column naming the slice of each spot.
    color
        ``obs`` column to colour by, categorical (e.g. ``"stg3net"``) or numeric.
    %(spatial_key)s
    ncols
        Panels per row.
    size
        Spot diameter, in the units of ``obsm[spatial_key]``; default: each slice's grid
        pitch (median distance from a spot to its nearest neighbour), so that spots touch.
    palette
        Categorical ``color``: a mapping category → colour, a list of colours or a matplotlib
        colormap (name); default: ``uns[f"{color}_colors"]`` when it has one colour per category,
        else scanpy's default palette. Numeric ``color``: a colormap (name), default ``"viridis"``.
    title
        Figure title above the panels; default: none.
    %(show_save)s

    Returns
    -------
    %(returns_figure)s
    """
    check_plot_adata(adata)
    check_key(batch_key, "batch_key")
    check_ncols(ncols)
    if size is not None:
        check_number(size, "size", min_value=0, min_inclusive=False)
    if title is not None and not isinstance(title, str):
        raise ValueError(f"`title` must be a string or None (got {title!r}).")
    check_palette(palette)
    check_show_save(show, save)
    batches = check_batches(adata, batch_key, min_batches=1)
    coloring = _coloring(adata, color, palette)
    coords = get_spatial(adata, spatial_key)[:, :2]

    fig, axes = _grid(len(batches.categories), ncols, 4.2, 4.0)
    for code, (ax, name) in enumerate(zip(axes, batches.categories, strict=True)):
        index = coloring.order(np.flatnonzero(batches.codes == code))
        xy = coords[index]
        if size is not None:
            diameter = float(size)
        else:
            diameter = grid_pitch(xy) if len(index) > 1 else 1.0
        ax.add_collection(
            EllipseCollection(
                widths=diameter,
                heights=diameter,
                angles=0,
                units="xy",
                offsets=xy,
                offset_transform=ax.transData,
                facecolors=coloring.rgba[index],
                edgecolors="none",
            )
        )
        pad = diameter
        ax.set_xlim(xy[:, 0].min() - pad, xy[:, 0].max() + pad)
        ax.set_ylim(xy[:, 1].max() + pad, xy[:, 1].min() - pad)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(str(name))
    if coloring.handles is not None:
        fig.legend(handles=coloring.handles, title=color, loc="outside right center", frameon=False)
    else:
        fig.colorbar(coloring.mappable, ax=axes, label=color, shrink=0.8)
    if title is not None:
        fig.suptitle(title)
    return finish(fig, show, save)
