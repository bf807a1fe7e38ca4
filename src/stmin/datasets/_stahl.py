"""Human breast cancer, 4 consecutive Spatial Transcriptomics sections (Ståhl et al. 2016)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scanpy as sc
import scipy.sparse as sp
from anndata import AnnData

from . import _paths
from ._paths import ENV_VAR, DataFile, data_root, fetch, locate, reading

_MERINGUE = "JEFworks-Lab/MERINGUE"
_COMMIT = "ca9e2ccabd95680d9ca0b323a8a507c038f2ea13"
RDA_URL = f"https://raw.githubusercontent.com/{_MERINGUE}/{_COMMIT}/data/BCL.rda"
_FILE = DataFile(
    "breast_cancer_ST_Stahl2016/BC_Stahl2016_layers1-4.h5ad",
    url=RDA_URL,
    note=(
        f"That URL serves object `BCL` of data/BCL.rda in the R package MERINGUE (GitHub "
        f"{_MERINGUE}); without a data folder stmin downloads it and converts it (this needs "
        "the optional package `rdata`: pip install rdata)."
    ),
)
# The source file, downloaded into the cache when no data folder is set.
_RDA = DataFile("breast_cancer_ST_Stahl2016/BCL.rda", url=RDA_URL)
SLICES = ("1", "2", "3", "4")


def stahl2016_breast_cancer(path: str | os.PathLike | None = None) -> AnnData:
    """Human breast cancer biopsy, 4 consecutive ST sections ("layers 1–4", Ståhl et al. 2016).

    1,031 spots (254, 251, 264 and 262 per section) × 13,360 genes, as distributed with the R
    package MERINGUE (Miller et al. 2021) and used by PASTE (Zeira et al. 2022) for aligning
    slices. The sections are not registered to each other: a test case for multi-slice
    integration and alignment.

    Parameters
    ----------
    path
        Data folder holding ``breast_cancer_ST_Stahl2016/BC_Stahl2016_layers1-4.h5ad``; defaults
        to ``$STMIN_DATA_DIR``. Without either, the same file is looked for under
        ``pooch.os_cache("stmin")``; if absent, ``data/BCL.rda`` of GitHub
        ``JEFworks-Lab/MERINGUE`` (commit ``ca9e2cc``) is downloaded there and converted, which
        needs the optional package ``rdata`` (``pip install rdata``).

    Returns
    -------
    AnnData of spots × genes with

    - ``.X``: raw UMI counts (CSR, float32); ``var_names``: gene symbols (HGNC);
      ``obs_names``: ``"L<slice>-<ST barcode>"``.
    - ``obs["slice"]``: section ``"1"``…``"4"`` (categorical, in that order).
    - ``obsm["spatial"]``: ST array coordinates (one unit = 200 µm spot pitch), centred per
      section by MERINGUE; sections are not aligned to each other.

    Raises
    ------
    FileNotFoundError
        When the file is missing from the data folder, or cannot be downloaded; the message
        names the file, where to place it and its URL.
    ImportError
        When the file must be converted from the download but ``rdata`` is not installed.
    """
    local = locate(_FILE, path)
    if local is not None:
        return _from_h5ad(local)
    if data_root(path) is not None:
        fetch(_FILE, path)  # raises: the file is not in the data folder
    rdata = _import_rdata()
    return _from_rda(fetch(_RDA, None), rdata)


def _import_rdata():
    """Import the optional package ``rdata``, or say how to do without it."""
    try:
        import rdata
    except ImportError as err:
        dest = _paths.cache_dir() / _FILE.relpath
        raise ImportError(
            "stahl2016_breast_cancer() converts MERINGUE's data/BCL.rda, which needs the "
            f"optional package `rdata`: pip install rdata. Or place {Path(_FILE.relpath).name} "
            f"at {dest}, or pass `path=` / set ${ENV_VAR} to a folder holding it at "
            f"<folder>/{_FILE.relpath}."
        ) from err
    return rdata


def _assemble(counts, spots, genes, slices, xy) -> AnnData:
    """Build the returned AnnData from spots × genes counts, names, section and coordinates."""
    slices = pd.Categorical(np.asarray(slices).astype(str), categories=list(SLICES))
    if slices.isna().any():
        raise ValueError(f"unexpected slice ids; expected {', '.join(SLICES)}")
    adata = AnnData(
        X=sp.csr_matrix(counts, dtype=np.float32),
        obs=pd.DataFrame({"slice": slices}, index=pd.Index(np.asarray(spots).astype(str))),
        var=pd.DataFrame(index=pd.Index(np.asarray(genes).astype(str))),
    )
    adata.obsm["spatial"] = np.asarray(xy, dtype=np.float64)
    return adata


def _from_h5ad(file: Path) -> AnnData:
    with reading(file, "the Ståhl 2016 breast cancer sections"):
        src = sc.read_h5ad(file)
        return _assemble(src.X, src.obs_names, src.var_names, src.obs["slice"], src.obsm["spatial"])


def _dgcmatrix(obj: Any, attrs: Mapping[str, Any]) -> tuple[sp.csc_matrix, list[np.ndarray]]:
    """``rdata`` constructor of the R class ``dgCMatrix``: the matrix and its dimnames."""
    n_rows, n_cols = (int(n) for n in attrs["Dim"])
    matrix = sp.csc_matrix(
        (np.asarray(attrs["x"]), np.asarray(attrs["i"]), np.asarray(attrs["p"])),
        shape=(n_rows, n_cols),
    )
    return matrix, [np.asarray(names).astype(str) for names in attrs["Dimnames"]]


def _bcl_to_anndata(counts: sp.csc_matrix, dimnames, pos: pd.DataFrame) -> AnnData:
    """Convert MERINGUE's ``BCL`` (genes × spots counts, ``pos`` x, y, slice) to AnnData."""
    genes, spots = dimnames
    if counts.shape != (len(genes), len(spots)) or len(pos) != len(spots):
        raise ValueError(
            f"BCL.rda: counts {counts.shape}, {len(genes)} gene and {len(spots)} spot names, "
            f"{len(pos)} positions do not match"
        )
    index = pd.Index(pos.index.astype(str))
    if set(spots) <= set(index):
        pos = pos.loc[spots]  # positions are named after the spots: align by name
    slices = pd.to_numeric(pos["slice"]).astype(int).astype(str).to_numpy()
    names = [
        spot if spot.startswith(f"L{s}-") else f"L{s}-{spot}"
        for s, spot in zip(slices, spots, strict=True)
    ]
    xy = pos[["x", "y"]].to_numpy(dtype=np.float64)
    return _assemble(counts.T.tocsr(), names, genes, slices, xy)


def _from_rda(file: Path, rdata) -> AnnData:
    """Read ``BCL`` from MERINGUE's data/BCL.rda with ``rdata``."""
    constructors = {**rdata.conversion.DEFAULT_CLASS_MAP, "dgCMatrix": _dgcmatrix}
    with reading(file, "MERINGUE's BCL data"):
        parsed = rdata.parser.parse_file(file)
        bcl = rdata.conversion.convert(parsed, constructors)["BCL"]
        counts, dimnames = bcl["counts"]
    return _bcl_to_anndata(counts, dimnames, bcl["pos"])
