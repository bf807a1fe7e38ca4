"""Cancer score and call on the tissue, next to the pathologist's labels."""

from __future__ import annotations

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
from .._validate import check_key, get_obs
from ._spatial import _MISSING, _palette, draw_spots, spot_layout
from ._utils import check_cmap, check_plot_adata, check_show_save, finish

_CALL_COLORS = {True: "#d62728", False: "#c7c7c7"}


@d.dedent
def cancer_regions(
    adata: AnnData,
    key: str = ToolKey.DETECT_CANCER_REGIONS,
    labels_key: str | None = None,
    *,
    library_id: str | None = None,
    img_key: str | None = None,
    spatial_key: str = SPATIAL_KEY,
    spot_scale: float = 1.0,
    show_image: bool = True,
    cmap: str = "magma",
    show: bool | None = None,
    save: str | Path | None = None,
) -> Figure | None:
    """Plot the cancer score and call of :func:`stmin.tl.detect_cancer_regions` on the tissue.

    Parameters
    ----------
    adata
        A section scored by :func:`stmin.tl.detect_cancer_regions`: ``obs[f"{key}_score"]``
        and ``obs[key]``.
    key
        ``key_added`` of that call.
    labels_key
        ``obs`` column of reference labels (e.g. a pathologist's regions) drawn in a third
        panel; ``None``: score and call only.
    %(image_spots)s
    cmap
        Colour map of the score.
    %(show_save)s

    Returns
    -------
    %(returns_figure)s
    """
    check_plot_adata(adata)
    check_key(key, "key")
    score = get_obs(adata, f"{key}_score", what="score (run `sm.tl.detect_cancer_regions`)")
    call = get_obs(adata, key, what="call (run `sm.tl.detect_cancer_regions`)")
    score = pd.to_numeric(score, errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(score).all() or (score < 0).any() or (score > 1).any():
        raise ValueError(f"`adata.obs[{f'{key}_score'!r}]` must hold probabilities in [0, 1].")
    if call.dtype != bool:
        raise ValueError(f"`adata.obs[{key!r}]` must be boolean (the cancer call).")
    labels = None if labels_key is None else pd.Categorical(get_obs(adata, labels_key))
    colormap = check_cmap(cmap)
    check_show_save(show, save)
    image, xy, diameter = spot_layout(
        adata, library_id, img_key, spatial_key, spot_scale, show_image
    )

    n_panels = 2 if labels is None else 3
    fig, axes = plt.subplots(1, n_panels, figsize=(5.2 * n_panels, 4.8), squeeze=False)
    axes = axes.ravel()
    norm = Normalize(0.0, 1.0)
    draw_spots(axes[0], image, xy, diameter, colormap(norm(score)))
    axes[0].set_title("cancer score")
    fig.colorbar(ScalarMappable(norm, colormap), ax=axes[0], shrink=0.7)
    draw_spots(axes[1], image, xy, diameter, [_CALL_COLORS[bool(c)] for c in call])
    threshold = (adata.uns.get(key) or {}).get("threshold")
    axes[1].set_title("call" + ("" if threshold is None else f" (score > {threshold:.2f})"))
    axes[1].legend(
        handles=[
            Patch(color=_CALL_COLORS[True], label="cancer"),
            Patch(color=_CALL_COLORS[False], label="other"),
        ],
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        frameon=False,
    )
    if labels is not None:
        lut = _palette(adata, labels_key, labels.categories)
        colors = [_MISSING if pd.isna(v) else lut[v] for v in labels]
        draw_spots(axes[2], image, xy, diameter, colors)
        axes[2].set_title(labels_key)
        handles = [Patch(color=lut[c], label=str(c)) for c in labels.categories]
        axes[2].legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.tight_layout()
    return finish(fig, show, save)
