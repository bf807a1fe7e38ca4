"""Spots over the tissue, coloured by domain."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from anndata import AnnData
from matplotlib.collections import EllipseCollection
from matplotlib.colors import is_color_like
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .._constants import SPATIAL_KEY
from .._docs import d
from .._validate import (
    as_rgb,
    check_bool,
    check_choice,
    check_keys,
    check_number,
    get_library,
    get_library_part,
    get_obs,
    get_scalefactor,
    get_spatial,
)
from ..pp import grid_pitch
from ._utils import check_ncols, check_plot_adata, check_show_save, check_titles, finish

_MISSING = "lightgray"
IMG_KEYS = ("hires", "lowres")


def _palette(adata: AnnData, key: str, categories: pd.Index) -> dict:
    stored = adata.uns.get(f"{key}_colors")
    if stored is not None and len(stored) == len(categories):
        colors = list(stored)
        bad = [c for c in colors if not is_color_like(c)]
        if bad:
            raise ValueError(
                f"`adata.uns[{f'{key}_colors'!r}]` holds values that are not colours "
                f"({bad[:3]}); fix or delete it (scanpy then picks default colours)."
            )
    else:
        from scanpy.plotting.palettes import default_20, default_102

        base = default_20 if len(categories) <= 20 else default_102
        colors = [base[i % len(base)] for i in range(len(categories))]
    return dict(zip(categories, colors, strict=True))


def check_spot_args(library_id, img_key, spot_scale, show_image) -> None:
    """Check the image and spot arguments shared by the tissue plots."""
    if library_id is not None and not isinstance(library_id, str):
        raise ValueError(f"`library_id` must be a string or None (got {library_id!r}).")
    if img_key is not None:
        check_choice(img_key, "img_key", IMG_KEYS)
    check_number(spot_scale, "spot_scale", min_value=0, min_inclusive=False)
    check_bool(show_image, "show_image")


def _image(adata: AnnData, library_id: str | None, img_key: str | None):
    if not adata.uns.get("spatial") and library_id is None and img_key is None:
        return None, 1.0, None, None
    library_id, lib = get_library(adata, library_id)
    images = get_library_part(lib, library_id, "images")
    scalefactors = get_library_part(lib, library_id, "scalefactors")
    keys = [img_key] if img_key is not None else [k for k in IMG_KEYS if k in images]
    for key in keys:
        if key in images and f"tissue_{key}_scalef" in scalefactors:
            scalef = get_scalefactor(lib, library_id, f"tissue_{key}_scalef")
            where = f"`adata.uns['spatial'][{library_id!r}]['images'][{key!r}]`"
            return as_rgb(images[key], where, gray=True), scalef, lib, library_id
    if img_key is not None:
        raise KeyError(
            f"No image {img_key!r} with its scale factor in `adata.uns['spatial'][{library_id!r}]` "
            f"(images: {list(images)}, scale factors: {list(scalefactors)}); pass another "
            "`img_key`, or `show_image=False`."
        )
    return None, 1.0, lib, library_id


def spot_layout(
    adata: AnnData,
    library_id: str | None,
    img_key: str | None,
    spatial_key: str,
    spot_scale: float,
    show_image: bool,
) -> tuple[np.ndarray | None, np.ndarray, float]:
    """Return the background image (or ``None``), spot centres in its pixels and spot diameter."""
    check_spot_args(library_id, img_key, spot_scale, show_image)
    coords = get_spatial(adata, spatial_key)[:, :2]
    image, scalef, lib, lib_id = (
        _image(adata, library_id, img_key) if show_image else (None, 1.0, None, None)
    )
    xy = coords * scalef
    diameter = None
    if lib is not None:
        diameter = get_scalefactor(lib, lib_id, "spot_diameter_fullres", required=False)
    if diameter is not None:
        diameter *= scalef
    else:
        diameter = grid_pitch(xy) if adata.n_obs > 1 else 1.0
    return image, xy, diameter * spot_scale


def draw_spots(ax, image: np.ndarray | None, xy: np.ndarray, diameter: float, colors) -> None:
    """Draw filled spots (one colour each) over ``image`` on ``ax``, tissue orientation kept."""
    if image is not None:
        ax.imshow(image)
    spots = EllipseCollection(
        widths=diameter,
        heights=diameter,
        angles=0,
        units="xy",
        offsets=xy,
        offset_transform=ax.transData,
        facecolors=colors,
        edgecolors="none",
    )
    ax.add_collection(spots)
    pad = diameter
    ax.set_xlim(xy[:, 0].min() - pad, xy[:, 0].max() + pad)
    ax.set_ylim(xy[:, 1].max() + pad, xy[:, 1].min() - pad)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def _categories(adata: AnnData, key: str) -> pd.Categorical:
    """``obs[key]`` as categories; a column of non-integer numbers is refused."""
    column = get_obs(adata, key, what="`obs` column(s) to colour by as `color=`")
    if pd.api.types.is_float_dtype(column) and not np.all(
        np.isnan(column) | (column == np.round(column))
    ):
        raise ValueError(
            f"`adata.obs[{key!r}]` holds continuous numbers; `sm.pl.domains` colours categories. "
            f"Convert labels with `adata.obs[{key!r}].astype('category')`, or plot numbers with "
            "`sm.pl.slices`."
        )
    return pd.Categorical(column)


@d.dedent
def domains(
    adata: AnnData,
    color: str | Sequence[str],
    *,
    library_id: str | None = None,
    img_key: str | None = None,
    spatial_key: str = SPATIAL_KEY,
    spot_scale: float = 1.0,
    ncols: int = 3,
    title: str | Sequence[str] | None = None,
    show_image: bool = True,
    show: bool | None = None,
    save: str | Path | None = None,
) -> Figure | None:
    """Plot spots coloured by categorical domains, over the H&E image where there is one.

    Parameters
    ----------
    adata
        Annotated data with ``obsm[spatial_key]`` and the ``obs`` column(s) to colour by; the
        image is read from ``uns["spatial"][library_id]`` (Visium layout) when present.
    color
        One ``obs`` column or several (one panel each), e.g. ``["layer_guess", "stmgac"]``;
        categories, strings or integer labels.
    %(image_spots)s
    ncols
        Panels per row.
    title
        Panel titles (one per panel); default: the column names.
    %(show_save)s

    Returns
    -------
    %(returns_figure)s
    """
    check_plot_adata(adata)
    keys = check_keys(color, "color")
    titles = check_titles(title, keys)
    ncols = check_ncols(ncols)
    check_show_save(show, save)
    columns = {key: _categories(adata, key) for key in keys}
    image, xy, diameter = spot_layout(
        adata, library_id, img_key, spatial_key, spot_scale, show_image
    )

    ncols = min(ncols, len(keys))
    nrows = int(np.ceil(len(keys) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 4.8 * nrows), squeeze=False)
    for ax, key, ttl in zip(axes.ravel(), keys, titles, strict=False):
        values = columns[key]
        lut = _palette(adata, key, values.categories)
        colors = [lut[v] if isinstance(v, str) or not pd.isna(v) else _MISSING for v in values]
        draw_spots(ax, image, xy, diameter, colors)
        ax.set_title(ttl)
        handles = [Patch(color=lut[c], label=str(c)) for c in values.categories]
        if values.isna().any():
            handles.append(Patch(color=_MISSING, label="NA"))
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    for ax in axes.ravel()[len(keys) :]:
        ax.axis("off")
    fig.tight_layout()
    return finish(fig, show, save)
