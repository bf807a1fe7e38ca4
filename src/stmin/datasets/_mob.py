"""Mouse olfactory bulb, original Spatial Transcriptomics replicate 11 (Ståhl et al. 2016)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import scanpy as sc
import scipy.sparse as sp
from anndata import AnnData

from ._paths import DataFile, fetch, reading

_FILE = DataFile(
    "mouse_olfactory_bulb_ST/MOB_Rep11_Stahl2016.h5ad",
    note=(
        "It is object `mOB` of data/mOB.rda in the R package MERINGUE (GitHub "
        "JEFworks-Lab/MERINGUE) converted to h5ad, with `obs['layer_meringue_cluster_annot']`."
    ),
)


def mouse_olfactory_bulb(path: str | os.PathLike | None = None) -> AnnData:
    """Mouse olfactory bulb, original Spatial Transcriptomics, replicate 11 (Ståhl et al. 2016).

    262 spots × 15,928 genes, as distributed with the R package MERINGUE (Miller et al. 2021).
    There is no direct public download of this file: it is only read from a data folder.

    Parameters
    ----------
    path
        Data folder holding ``mouse_olfactory_bulb_ST/MOB_Rep11_Stahl2016.h5ad``; defaults to
        ``$STMIN_DATA_DIR``, then to the same path under ``pooch.os_cache("stmin")``.

    Returns
    -------
    AnnData of spots × genes with

    - ``.X``: raw UMI counts (CSR, float32); ``var_names``: gene symbols (MGI).
    - ``obsm["spatial"]``: ST array coordinates (one unit = 200 µm spot pitch).
    - ``obs["layer"]``: layer name (categorical, NaN for 2 spots). These labels come from
      clustering the expression data (MERINGUE vignette), named after the anatomical layers;
      they are not a manual annotation, so do not use them as strict ground truth.

    Raises
    ------
    FileNotFoundError
        When the file is not found; the message says where to place it.
    """
    file = fetch(_FILE, path)
    with reading(file, "the mouse olfactory bulb section"):
        src = sc.read_h5ad(file)
        adata = AnnData(
            X=sp.csr_matrix(src.X, dtype=np.float32),
            obs=pd.DataFrame(
                {"layer": src.obs["layer_meringue_cluster_annot"]}, index=src.obs_names
            ),
            var=pd.DataFrame(index=src.var_names),
        )
        adata.obsm["spatial"] = np.asarray(src.obsm["spatial"], dtype=np.float64)
    return adata
