"""UMAP of a representation, computed on the fly without touching the user's AnnData."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from anndata import AnnData
from matplotlib.figure import Figure

from .._cluster import scanpy_neighbors
from .._docs import d
from .._random import check_random_state
from .._validate import check_int, check_key, check_keys, check_n_neighbors, check_number, get_rep
from ._slices import Palette, _coloring, _grid, check_palette
from ._utils import check_ncols, check_plot_adata, check_show_save, check_titles, finish


def _umap_coords(
    rep: np.ndarray, n_neighbors: int, min_dist: float, random_state: int
) -> np.ndarray:
    """2-D UMAP of ``rep``, computed with scanpy on a private AnnData."""
    import scanpy as sc

    tmp = scanpy_neighbors(rep, n_neighbors, random_state)
    sc.tl.umap(tmp, min_dist=min_dist, random_state=random_state)
    return np.asarray(tmp.obsm["X_umap"])


@d.dedent
def embedding_umap(
    adata: AnnData,
    color: str | Sequence[str],
    *,
    use_rep: str,
    n_neighbors: int = 15,
    min_dist: float = 0.5,
    random_state: int = 0,
    ncols: int = 3,
    size: float | None = None,
    palette: Palette = None,
    title: str | Sequence[str] | None = None,
    show: bool | None = None,
    save: str | Path | None = None,
) -> Figure | None:
    """Compute a UMAP of a representation and plot it coloured by one or more ``obs`` columns.

    The UMAP is computed with :func:`scanpy.pp.neighbors` and :func:`scanpy.tl.umap` on a
    private AnnData holding only ``obsm[use_rep]``: ``adata`` is left unchanged (no key is
    added), and the coordinates are not kept. Typical use after integrating slices:
    ``color=[batch_key, "stg3net"]`` shows whether slices mix and domains separate.

    Parameters
    ----------
    adata
        Annotated data, reading

        - ``obsm[use_rep]``: the representation to embed (e.g. an integrated latent space);
        - ``obs[key]`` for each ``key`` in ``color``: the values to colour by;
        - ``uns[f"{key}_colors"]``: category colours, when ``palette`` is not given.
    color
        One ``obs`` column or several (one panel each), categorical or numeric.
    use_rep
        ``obsm`` key of the representation.
    n_neighbors
        Neighbours of the kNN graph (:func:`scanpy.pp.neighbors`), at least 2.
    min_dist
        Minimum distance between embedded points (:func:`scanpy.tl.umap`), between 0 and 1
        (UMAP's ``spread``).
    random_state
        Seed of the neighbour search and of the layout (an integer, or ``None``).
    ncols
        Panels per row.
    size
        Marker area in points²; default ``120000 / n_obs`` (scanpy's default).
    palette
        Colours of the categorical columns: a mapping category → colour, a list of colours or a
        matplotlib colormap (name); default: ``uns[f"{key}_colors"]`` when it has one colour per
        category, else scanpy's default palette. For numeric columns: a colormap (name), default
        ``"viridis"``.
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
    check_key(use_rep, "use_rep")
    check_int(n_neighbors, "n_neighbors", min_value=2)
    n_neighbors = check_n_neighbors(n_neighbors, adata.n_obs, "n_neighbors")
    check_number(min_dist, "min_dist", min_value=0, max_value=1)
    random_state = check_random_state(random_state)
    check_ncols(ncols)
    if size is not None:
        check_number(size, "size", min_value=0, min_inclusive=False)
    check_palette(palette)
    check_show_save(show, save)
    colorings = [_coloring(adata, key, palette) for key in keys]
    rep = get_rep(
        adata,
        use_rep,
        hint="Pass `use_rep=` naming an `obsm` representation (e.g. an integrated embedding).",
    )
    xy = _umap_coords(rep, n_neighbors, min_dist, random_state)
    size = 120_000 / adata.n_obs if size is None else float(size)

    fig, axes = _grid(len(keys), ncols, 5.2, 4.2)
    for ax, coloring, ttl in zip(axes, colorings, titles, strict=True):
        index = coloring.order(np.arange(adata.n_obs))
        ax.scatter(
            xy[index, 0], xy[index, 1], s=size, c=coloring.rgba[index], linewidths=0, marker="."
        )
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("UMAP1")
        ax.set_ylabel("UMAP2")
        ax.set_title(ttl)
        if coloring.handles is not None:
            ax.legend(
                handles=coloring.handles,
                loc="center left",
                bbox_to_anchor=(1.0, 0.5),
                frameon=False,
            )
        else:
            fig.colorbar(coloring.mappable, ax=ax, shrink=0.8)
    return finish(fig, show, save)
