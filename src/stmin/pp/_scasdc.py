"""scASDC's input pipeline: size factors, highly variable genes, scaled log-expression, cell graph."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scanpy as sc
import scipy.sparse as sp
from anndata import AnnData

from .._constants import (
    CELL_CONNECTIVITIES_KEY,
    CELL_GRAPH_STEM,
    SIZE_FACTORS_KEY,
    neighbors_key,
)
from .._docs import d
from .._settings import torch_threads_kept
from .._validate import (
    check_adata,
    check_bool,
    check_counts,
    check_int,
    check_n_neighbors,
    get_layer,
    where,
)
from .._writer import call_params, write_result
from ._cell_graph import knn_graph
from ._transform import RAW_COUNTS, zscore


@dataclass(frozen=True)
class ScASDCInput:
    """Output of :func:`scasdc_input`.

    Attributes
    ----------
    counts
        Raw counts of the selected genes (CSR float32).
    size_factors
        Per-cell library size over all genes divided by its median.
    scaled
        Z-scored ``log1p(counts / size_factor)`` of the selected genes (dense float32).
    genes
        Integer positions of the selected genes in the input.
    """

    counts: sp.csr_matrix
    size_factors: np.ndarray
    scaled: np.ndarray
    genes: np.ndarray


def size_factors(counts) -> np.ndarray:
    """Library sizes divided by their median (cells with no counts raise a ``ValueError``)."""
    totals = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
    if (totals <= 0).any():
        raise ValueError(
            f"{int((totals <= 0).sum())} cells have no counts; remove them first "
            "(`sc.pp.filter_cells(adata, min_counts=1)`)."
        )
    return (totals / np.median(totals)).astype(np.float32)


def log_normalized(counts, sf: np.ndarray) -> np.ndarray:
    """``log1p(counts / size_factor)``: counts scaled to the median library size, dense."""
    x = sp.csr_matrix(counts, dtype=np.float32)
    x = sp.diags(1.0 / np.ravel(sf)) @ x
    return np.log1p(x.toarray()).astype(np.float32)


def scasdc_input(counts, n_top_genes: int = 2000) -> ScASDCInput:
    """Functional core of :func:`scasdc_preprocess` on a cells × genes count matrix.

    Genes with no counts are dropped; size factors use all genes; the ``n_top_genes`` most
    variable genes (scanpy's ``"seurat"`` flavour on log-normalised data) are kept when there
    are more.
    """
    check_int(n_top_genes, "n_top_genes", min_value=2)
    counts = sp.csr_matrix(counts, dtype=np.float32)
    sf = size_factors(counts)
    expressed = np.flatnonzero(np.asarray(counts.sum(axis=0)).ravel() > 0)
    if expressed.size < 2:
        raise ValueError(
            f"Only {expressed.size} genes have any counts; scASDC needs expressed genes."
        )
    genes = expressed
    if n_top_genes < expressed.size:
        tmp = AnnData(sp.diags(1.0 / sf) @ counts[:, expressed])
        sc.pp.log1p(tmp)
        with torch_threads_kept():
            hvg = sc.pp.highly_variable_genes(
                tmp, flavor="seurat", n_top_genes=n_top_genes, inplace=False
            )["highly_variable"].to_numpy()
        genes = expressed[hvg]
    counts = counts[:, genes]
    return ScASDCInput(counts, sf, zscore(log_normalized(counts, sf)), genes)


@d.dedent
def scasdc_preprocess(
    adata: AnnData,
    *,
    layer: str | None = None,
    n_top_genes: int = 2000,
    n_neighbors: int = 10,
    subset: bool = True,
) -> None:
    """Prepare raw counts for :class:`stmin.model.ScASDC` as the paper does.

    Size factors from all genes, the ``n_top_genes`` most variable genes, and the cell graph:
    ``n_neighbors`` nearest cells by the ``"ncos"`` similarity of the z-scored log-expression
    (see :func:`stmin.pp.knn_graph`). The counts themselves are left unchanged: the model
    normalises them internally and fits its ZINB likelihood to them.

    Parameters
    ----------
    adata
        Cells × genes AnnData with raw counts in ``.X`` or ``layer``.
    %(layer)s
    n_top_genes
        Highly variable genes kept (2,000).
    n_neighbors
        Neighbours per cell in the graph (10).
    subset
        Keep only the selected genes in ``adata`` (as ``sc.pp.highly_variable_genes(...,
        subset=True)``); otherwise mark them in ``var["highly_variable"]``.

    Returns
    -------
    ``None``. Writes ``obs["size_factors"]``, ``var["highly_variable"]``,
    ``obsp["cell_connectivities"]`` and ``uns["cell_neighbors"]``; subsets the genes with
    ``subset=True``.
    """
    params = call_params(locals())
    check_adata(adata)
    check_int(n_top_genes, "n_top_genes", min_value=2)
    check_n_neighbors(n_neighbors, adata.n_obs, "n_neighbors")
    check_bool(subset, "subset")
    counts = get_layer(adata, layer)
    check_counts(counts, where("adata", layer), hint=RAW_COUNTS)
    prep = scasdc_input(counts, n_top_genes)
    graph = knn_graph(prep.scaled, n_neighbors, "ncos")
    hvg = np.zeros(adata.n_vars, dtype=bool)
    hvg[prep.genes] = True
    write_result(
        adata,
        CELL_GRAPH_STEM,
        params,
        obs={SIZE_FACTORS_KEY: prep.size_factors},
        var={"highly_variable": hvg},
        obsp={CELL_CONNECTIVITIES_KEY: graph},
        record={"connectivities_key": CELL_CONNECTIVITIES_KEY, "metric": "ncos"},
        uns_key=neighbors_key(CELL_GRAPH_STEM),
    )
    if subset:
        adata._inplace_subset_var(hvg)
