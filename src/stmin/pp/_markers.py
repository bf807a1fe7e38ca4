"""Cell-type marker genes of an annotated reference (the MACD/Spoint selection rule)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scanpy as sc
from anndata import AnnData

from .._settings import logger
from .._validate import (
    check_adata,
    check_counts,
    check_int,
    check_keys,
    check_number,
    get_layer,
    where,
)
from ._pseudo_spots import cell_type_labels, gene_columns
from ._transform import RAW_COUNTS


def marker_genes(
    adata_sc: AnnData,
    labels_key: str,
    *,
    layer: str | None = None,
    genes: Sequence[str] | None = None,
    n_top: int = 200,
    max_pval: float = 0.01,
    min_log2fc: float = 0.5,
    min_fraction: float = 0.1,
    min_markers: int = 100,
) -> list[str]:
    """Marker genes per cell type, by a Wilcoxon test of each type against the rest.

    The reference is log-normalised (``log1p`` of counts per 10⁴) and tested with
    :func:`scanpy.tl.rank_genes_groups` (``method="wilcoxon"``, Benjamini–Hochberg). A gene
    is a marker of a type when its adjusted p-value is below ``max_pval``, its log2 fold
    change above ``min_log2fc`` and the fraction of the type's cells expressing it above
    ``min_fraction``; the ``n_top`` markers of highest fold change are kept per type and the
    union is returned, in the reference's gene order.

    With few cells per type the test has little power: when fewer than ``min_markers`` genes
    pass, the p-value threshold is dropped (fold change and fraction thresholds kept) and a
    warning says so.

    Parameters
    ----------
    adata_sc
        Annotated reference, raw counts in ``.X`` or ``layers[layer]``.
    labels_key
        ``obs`` column of cell types (every type needs at least two cells).
    layer
        Layer with the counts.
    genes
        Genes to test (e.g. those shared with the spatial data; all must be in
        ``adata_sc.var_names``); default all.
    n_top
        Markers kept per type (200).
    max_pval, min_log2fc, min_fraction
        Thresholds (0.01, 0.5, 0.1).
    min_markers
        Fewest markers before the p-value threshold is dropped (100; 0 never drops it).

    Returns
    -------
    The marker genes (possibly empty when no gene passes the thresholds).
    """
    check_adata(adata_sc, "adata_sc", allow_view=True, unique_vars=True)
    check_int(n_top, "n_top", min_value=1)
    check_number(max_pval, "max_pval", min_value=0, max_value=1, min_inclusive=False)
    check_number(min_log2fc, "min_log2fc")
    check_number(min_fraction, "min_fraction", min_value=0, max_value=1, max_inclusive=False)
    check_int(min_markers, "min_markers", min_value=0)
    labels = cell_type_labels(adata_sc, labels_key, min_cells=2)
    counts = get_layer(adata_sc, layer, "adata_sc")
    check_counts(counts, where("adata_sc", layer), hint=RAW_COUNTS)
    var_names = adata_sc.var_names
    if genes is not None:
        cols = np.sort(gene_columns(var_names, check_keys(genes, "genes")))
        counts, var_names = counts[:, cols], var_names[cols]
    work = AnnData(
        counts.astype(np.float32),
        obs=pd.DataFrame({"label": labels}, index=adata_sc.obs_names.copy()),
        var=pd.DataFrame(index=var_names.copy()),
    )
    sc.pp.normalize_total(work, target_sum=1e4)
    sc.pp.log1p(work)
    sc.tl.rank_genes_groups(work, "label", method="wilcoxon", pts=True, use_raw=False)
    tables = [sc.get.rank_genes_groups_df(work, group=g) for g in labels.categories]

    def select(max_p: float) -> set[str]:
        chosen: set[str] = set()
        for table in tables:
            passed = table[
                (table["pvals_adj"] < max_p)
                & (table["logfoldchanges"] > min_log2fc)
                & (table["pct_nz_group"] > min_fraction)
            ]
            chosen.update(passed.nlargest(n_top, "logfoldchanges")["names"])
        return chosen

    chosen = select(max_pval)
    if len(chosen) < min_markers:
        relaxed = select(np.inf)
        logger.warning(
            f"Only {len(chosen)} genes pass adjusted p < {max_pval} (few cells per type); "
            f"selecting by fold change and expressing fraction alone: {len(relaxed)} genes."
        )
        chosen = relaxed
    return [g for g in var_names if g in chosen]
