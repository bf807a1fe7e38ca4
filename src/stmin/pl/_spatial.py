"""Spots over the tissue, coloured by domain."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from anndata import AnnData
from matplotlib.collections import EllipseCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .._constants import SPATIAL_KEY
from .._validate import get_library, get_spatial
from ..pp import grid_pitch
from ._utils import finish

_MISSING = "lightgray"


def _palette(adata: AnnData, key: str, categories: pd.Index) -> dict:
    stored = adata.uns.get(f"{key}_colors")
    if stored is not None and len(stored) == len(categories):
        colors = list(stored)
    else:
        from scanpy.plotting.palettes import default_20, default_102

        base = default_20 if len(categories) <= 20 else default_102
        colors = [base[i % len(base)] for i in range(len(categories))]
    return dict(zip(categories, colors, strict=True))


def _image(adata: AnnData, library_id: str | None, img_key: str | None):
    if not adata.uns.get("spatial"):
        return None, 1.0, None
    library_id, lib = get_library(adata, library_id)
    images, scalefactors = lib.get("images", {}), lib.get("scalefactors", {})
    keys = [img_key] if img_key is not None else [k for k in ("hires", "lowres") if k in images]
    for key in keys:
        if key in images and f"tissue_{key}_scalef" in scalefactors:
            return images[key], float(scalefactors[f"tissue_{key}_scalef"]), scalefactors
    if img_key is not None:
        raise KeyError(
            f"No image {img_key!r} with its scale factor in `adata.uns['spatial'][{library_id!r}]`."
        )
    return None, 1.0, scalefactors


def spot_layout(
    adata: AnnData,
    library_id: str | None,
    img_key: str | None,
    spatial_key: str,
    spot_scale: float,
    show_image: bool,
) -> tuple[np.ndarray | None, np.ndarray, float]:
    """Return the background image (or ``None``), spot centres in its pixels and spot diameter."""
    coords = get_spatial(adata, spatial_key)[:, :2]
    image, scalef, scalefactors = (
        _image(adata, library_id, img_key) if show_image else (None, 1.0, None)
    )
    xy = coords * scalef
    if scalefactors and "spot_diameter_fullres" in scalefactors:
        diameter = float(scalefactors["spot_diameter_fullres"]) * scalef
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
        One ``obs`` column or several (one panel each), e.g. ``["layer_guess", "stmgac"]``.
    library_id
        Library in ``uns["spatial"]``; needed only when there are several.
    img_key
        ``"hires"`` or ``"lowres"``; default: the best one available.
    spatial_key
        ``obsm`` key of the coordinates (full-resolution pixels when an image is shown).
    spot_scale
        Multiplier of the spot diameter (from the scale factors, else the grid pitch).
    ncols
        Panels per row.
    title
        Panel titles; default: the column names.
    show_image
        Draw the tissue image under the spots.
    show
        Show the figure; default: when not saving, in interactive sessions.
    save
        Write the figure to this path.

    Returns
    -------
    The :class:`~matplotlib.figure.Figure`, unless it was shown.
    """
    keys = [color] if isinstance(color, str) else list(color)
    for key in keys:
        if key not in adata.obs:
            raise KeyError(f"`adata.obs[{key!r}]` not found; available columns: {list(adata.obs)}.")
    titles = keys if title is None else ([title] if isinstance(title, str) else list(title))
    image, xy, diameter = spot_layout(
        adata, library_id, img_key, spatial_key, spot_scale, show_image
    )

    ncols = min(ncols, len(keys))
    nrows = int(np.ceil(len(keys) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 4.8 * nrows), squeeze=False)
    for ax, key, ttl in zip(axes.ravel(), keys, titles, strict=False):
        values = pd.Categorical(adata.obs[key])
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
