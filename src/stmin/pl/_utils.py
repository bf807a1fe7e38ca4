"""Small plotting helpers shared by the ``sm.pl`` functions: argument checks and the finish."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
from anndata import AnnData
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.colors import Colormap
from matplotlib.figure import Figure

from .._validate import check_adata, check_bool, check_int, check_output_file


def check_plot_adata(adata: AnnData, *, need_vars: bool = False, unique_vars: bool = False):
    """A plot reads ``adata`` and writes nothing into it: views are fine, emptiness is not."""
    check_adata(adata, allow_view=True, need_vars=need_vars, unique_vars=unique_vars)


def check_save(save) -> Path | None:
    """Check ``save`` before drawing: a writable file path with a format matplotlib knows."""
    if save is None:
        return None
    path = check_output_file(save, "save")
    fmt = path.suffix.lstrip(".").lower()
    supported = FigureCanvasBase.get_supported_filetypes()
    if fmt and fmt not in supported:
        raise ValueError(
            f"`save` {str(path)!r} has the extension {path.suffix!r}, which matplotlib cannot "
            f"write; use one of {sorted(supported)} (e.g. '.png' or '.pdf')."
        )
    return path


def check_show_save(show, save) -> Path | None:
    """Check ``show`` (``True``, ``False`` or ``None``) and ``save``; return ``save`` as a path."""
    check_bool(show, "show", allow_none=True)
    return check_save(save)


def check_cmap(cmap, name: str = "cmap") -> Colormap:
    """A matplotlib colormap, given as one or by its registered name."""
    if isinstance(cmap, Colormap):
        return cmap
    if isinstance(cmap, str) and cmap in mpl.colormaps:
        return mpl.colormaps[cmap]
    raise ValueError(
        f"`{name}`={cmap!r} is not a matplotlib colormap; pass a colormap or its name "
        "(e.g. 'viridis', 'magma')."
    )


def check_ncols(ncols) -> int:
    """Panels per row: a positive integer."""
    return check_int(ncols, "ncols", min_value=1)


def check_titles(title, keys: Sequence[str]) -> list[str]:
    """One title per panel: ``None`` (the keys), a string (one panel) or a list of strings."""
    if title is None:
        return list(keys)
    titles = [title] if isinstance(title, str) else title
    if not isinstance(titles, Sequence) or not all(isinstance(t, str) for t in titles):
        raise ValueError(f"`title` must be a string or a list of strings (got {title!r}).")
    if len(titles) != len(keys):
        raise ValueError(
            f"`title` holds {len(titles)} titles for {len(keys)} panels; pass one per panel."
        )
    return list(titles)


def finish(fig: Figure, show: bool | None, save: str | Path | None) -> Figure | None:
    """Save and/or show a figure the way scanpy's plotting functions do."""
    if save is not None:
        fig.savefig(save, dpi=150, bbox_inches="tight")
    if show is None:
        show = save is None and plt.isinteractive()
    if show:
        plt.show()
        return None
    return fig
