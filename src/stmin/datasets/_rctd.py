"""Visium spots with an annotated scRNA-seq reference of the same tissue (RCTD vignettes)."""

from __future__ import annotations

import os

import anndata as ad
from anndata import AnnData

from .._validate import check_choice
from ._paths import DataFile, fetch, reading

_FOLDER = "rctd_toy_deconvolution"
_NOTE = (
    "The .h5ad files are conversions of the spacexr vignette data (GitHub dmcable/spacexr, "
    "inst/extdata; RDS/CSV, GPL-3) with values unchanged."
)
TISSUES = ("hippocampus", "lymph_node")


def visium_with_reference(
    tissue: str, path: str | os.PathLike | None = None
) -> tuple[AnnData, AnnData]:
    """Down-sampled Visium spots and a labelled scRNA-seq reference of the same tissue.

    The small real data sets of the RCTD vignettes (Cable et al., Nature Biotechnology 2022),
    for cell-type deconvolution. No ground-truth proportions exist for these spots.

    ================  ===========================  =========================================
    ``tissue``        spots × genes                reference cells × genes (cell types)
    ================  ===========================  =========================================
    ``hippocampus``   313 × 276, mouse Visium      510 × 307 (17 × 30 cells), DropViz
    ``lymph_node``    1,000 × 2,000, human Visium  330 × 10,237 (11 × 30 cells)
    ================  ===========================  =========================================

    Parameters
    ----------
    tissue
        ``"hippocampus"`` or ``"lymph_node"``.
    path
        Data folder holding ``rctd_toy_deconvolution/<tissue>_visium_downsampled.h5ad`` and
        ``<tissue>_scRNA_reference_downsampled.h5ad``; defaults to ``$STMIN_DATA_DIR``. There
        is no public download of the ``.h5ad`` files.

    Returns
    -------
    ``(adata_st, adata_sc)``: spots with raw counts in ``.X`` and pixel coordinates in
    ``obsm["spatial"]``; cells with raw counts and ``obs["cell_type"]``.
    """
    check_choice(tissue, "tissue", TISSUES)
    files = [
        fetch(DataFile(f"{_FOLDER}/{tissue}_{kind}_downsampled.h5ad", note=_NOTE), path)
        for kind in ("visium", "scRNA_reference")
    ]
    with reading(files[0], f"the {tissue} Visium spots"):
        adata_st = ad.read_h5ad(files[0])
        if "spatial" not in adata_st.obsm:
            raise KeyError("obsm['spatial']")
    with reading(files[1], f"the {tissue} reference"):
        adata_sc = ad.read_h5ad(files[1])
        adata_sc.obs["cell_type"] = adata_sc.obs["cell_type"].astype("category")
    return adata_st, adata_sc
