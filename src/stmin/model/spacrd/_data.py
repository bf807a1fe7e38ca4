"""SpaCRD's inputs of one section: scaled expression, scaled image features, neighbour sets."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scanpy as sc
import scipy.sparse as sp
from anndata import AnnData
from scipy.spatial import cKDTree

from ..._settings import torch_threads_kept
from ..._validate import check_counts, check_finite, get_layer, get_spatial, where
from .._references import image_input


def minmax(x: np.ndarray) -> np.ndarray:
    """Scale every column to [0, 1] (a constant column becomes 0)."""
    low, high = x.min(0), x.max(0)
    span = np.where(high > low, high - low, 1.0)
    return ((x - low) / span).astype(np.float32)


def section_counts(adata: AnnData, layer: str | None, name: str):
    """The section's raw counts (checked), as CSR."""
    counts = get_layer(adata, layer, name)
    check_counts(
        counts,
        where(name, layer),
        hint="Pass the raw counts (e.g. `layer='counts'`): SpaCRD normalises them itself.",
    )
    return sp.csr_matrix(counts, dtype=np.float32)


def scaled_expression(counts, var_names: pd.Index, genes: Sequence[str]) -> np.ndarray:
    """``log1p(10⁴ · counts / library size)`` of ``genes``, each scaled to [0, 1] in the section.

    Library sizes are taken over all of the section's genes (as ``sc.pp.normalize_total``).
    """
    lib = np.asarray(counts.sum(1)).ravel()
    scale = np.divide(1e4, lib, out=np.zeros_like(lib, dtype=np.float64), where=lib > 0)
    x = counts[:, var_names.get_indexer(genes)].toarray() * scale[:, None].astype(np.float32)
    return minmax(np.log1p(x))


def scaled_image(adata: AnnData, image_key: str, name: str) -> np.ndarray:
    """The section's image features, each scaled to [0, 1] in the section."""
    features = image_input(adata, image_key, name)
    if features.ndim != 2:
        raise ValueError(
            f"`{name}.obsm[{image_key!r}]` holds patches; SpaCRD reads image features "
            f"(n_obs × d). Compute them with `sm.pp.he_features({name})`."
        )
    return minmax(features)


def neighbor_sets(adata: AnnData, spatial_key: str, n_neighbors: int, name: str) -> np.ndarray:
    """Each spot and its ``n_neighbors - 1`` nearest spots (KD-tree), the spot itself first."""
    coords = get_spatial(adata, spatial_key, name)
    check_finite(coords, f"`{name}.obsm[{spatial_key!r}]`")
    if adata.n_obs < n_neighbors:
        raise ValueError(
            f"`{name}` has {adata.n_obs} spots, fewer than `n_neighbors`={n_neighbors}; lower "
            "`n_neighbors` or leave the section out."
        )
    _, idx = cKDTree(coords).query(coords, k=n_neighbors)
    idx = np.asarray(idx, dtype=np.int64).reshape(adata.n_obs, n_neighbors)
    # a spot on top of another may come first: put the spot itself first
    own = np.arange(adata.n_obs)[:, None]
    missing = ~(idx == own).any(1)
    idx[missing, -1] = own[missing, 0]
    order = np.argsort(idx != own, axis=1, kind="stable")
    return np.take_along_axis(idx, order, axis=1)


def variable_genes(
    counts: list, var_names: list[pd.Index], genes: Sequence[str], n_top_genes: int | None
) -> list[str]:
    """The ``n_top_genes`` most variable of ``genes`` (seurat_v3 on the raw counts per section)."""
    genes = list(genes)
    if n_top_genes is None or n_top_genes >= len(genes):
        return genes
    blocks = [c[:, v.get_indexer(genes)] for c, v in zip(counts, var_names, strict=True)]
    pooled = AnnData(sp.vstack(blocks).tocsr(), var=pd.DataFrame(index=genes))
    pooled.obs["section"] = np.repeat(
        [str(i) for i in range(len(blocks))], [b.shape[0] for b in blocks]
    )
    keep = np.asarray(pooled.X.sum(0)).ravel() > 0
    pooled = pooled[:, keep].copy()
    n_top = min(n_top_genes, pooled.n_vars)
    with torch_threads_kept():
        hvg = sc.pp.highly_variable_genes(
            pooled,
            flavor="seurat_v3",
            n_top_genes=n_top,
            batch_key="section" if len(blocks) > 1 else None,
            inplace=False,
        )
    return list(pooled.var_names[np.asarray(hvg["highly_variable"], dtype=bool)])


def check_section(
    adata: AnnData,
    name: str,
    *,
    layer: str | None,
    spatial_key: str,
    image_key: str | None,
    n_neighbors: int,
) -> int | None:
    """Check a section's counts, coordinates and image features; return the features' width."""
    section_counts(adata, layer, name)
    neighbor_sets(adata, spatial_key, n_neighbors, name)
    return None if image_key is None else scaled_image(adata, image_key, name).shape[1]
