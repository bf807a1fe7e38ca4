"""Human dorsolateral prefrontal cortex, 10x Visium (Maynard et al. 2021)."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import scanpy as sc
import scipy.sparse as sp
from anndata import AnnData

from ._paths import DataFile, fetch, locate, reading
from ._sections import check_section
from ._visium import read_rgb, spatial_uns

DLPFC_SECTIONS = (
    *("151507", "151508", "151509", "151510"),
    *("151669", "151670", "151671", "151672"),
    *("151673", "151674", "151675", "151676"),
)
LAYERS = ("L1", "L2", "L3", "L4", "L5", "L6", "WM")
SOURCE = "spatialLIBD / LieberInstitute HumanPilot (Maynard et al. 2021)"
CITATION = (
    "Maynard K.R. et al. Transcriptome-scale spatial gene expression in the human dorsolateral "
    "prefrontal cortex. Nature Neuroscience 24, 425-436 (2021). doi:10.1038/s41593-020-00787-0"
)

_HUMANPILOT = (
    "https://raw.githubusercontent.com/LieberInstitute/HumanPilot/"
    "044446d6bd8fc154aa74f7be62ec67effb1ec376/10X"
)
_COUNTS_URL = "https://spatial-dlpfc.s3.us-east-2.amazonaws.com/h5/{}_filtered_feature_bc_matrix.h5"
_POSITION_COLUMNS = [
    "in_tissue",
    "array_row",
    "array_col",
    "pxl_row_in_fullres",
    "pxl_col_in_fullres",
]


def _h5ad_file(section: str) -> DataFile:
    """Return the pre-made top-5000-HVG AnnData of the shared data folder (no public download)."""
    return DataFile(f"DLPFC/counts/DLPFC_{section}_top5000hvg.h5ad")


def _layer_categorical(values) -> pd.Categorical:
    """Layer labels as a categorical with the observed layers in the order L1…L6, WM."""
    present = set(pd.Series(values).dropna())
    return pd.Categorical(values, categories=[c for c in LAYERS if c in present])


def _assemble(
    section: str,
    counts,
    obs: pd.DataFrame,
    gene_ids,
    gene_symbols,
    spatial: np.ndarray,
    lowres: np.ndarray,
    scalefactors: dict,
) -> AnnData:
    """Build the returned AnnData from parts that either file layout provides."""
    adata = AnnData(
        X=sp.csr_matrix(counts, dtype=np.float32),
        obs=pd.DataFrame(
            {
                "layer_guess": _layer_categorical(obs["layer_guess"].to_numpy(dtype=object)),
                "array_row": obs["array_row"].to_numpy(dtype=np.int64),
                "array_col": obs["array_col"].to_numpy(dtype=np.int64),
            },
            index=obs.index.astype(str),
        ),
        var=pd.DataFrame({"gene_symbols": np.asarray(gene_symbols, dtype=str)}, index=gene_ids),
    )
    adata.obsm["spatial"] = np.asarray(spatial, dtype=np.float64)
    adata.uns["spatial"] = spatial_uns(
        section, {"lowres": lowres}, scalefactors, {"source": SOURCE}
    )
    return adata


def _from_h5ad(file, section: str) -> AnnData:
    """Read the shared data folder's ``DLPFC_<s>_top5000hvg.h5ad``."""
    with reading(file, f"DLPFC section {section}"):
        src = sc.read_h5ad(file)
        library = src.uns["spatial"][section]
        return _assemble(
            section,
            src.X,
            src.obs,
            src.var_names,
            src.var["gene_symbols"],
            src.obsm["spatial"],
            library["images"]["lowres"],
            dict(library["scalefactors"]),
        )


def _from_10x(section: str, path) -> AnnData:
    """Build the section from the public files: 10x h5 counts plus the HumanPilot spot files."""
    counts_file = DataFile(
        f"DLPFC/counts/{section}_filtered_feature_bc_matrix.h5",
        _COUNTS_URL.format(section),
        note=f"(A pre-made {_h5ad_file(section).relpath} is used instead when present.)",
    )

    def spot_file(name: str, remote_name: str | None = None):
        """Fetch a file of ``DLPFC/spatial/<section>/`` (HumanPilot ``10X/<section>/``)."""
        remote = f"{_HUMANPILOT}/{section}/{remote_name or name}"
        return fetch(DataFile(f"DLPFC/spatial/{section}/{name}", remote), path)

    file = fetch(counts_file, path)
    with reading(file, f"the counts of DLPFC section {section}"):
        counts = sc.read_10x_h5(file)
    file = spot_file("tissue_positions_list.csv", "tissue_positions_list.txt")
    with reading(file, "the spot positions"):
        positions = pd.read_csv(file, header=None, index_col=0, names=_POSITION_COLUMNS)
    layer_file = DataFile(
        "DLPFC/annotations/barcode_level_layer_map.tsv",
        f"{_HUMANPILOT}/barcode_level_layer_map.tsv",
    )
    file = fetch(layer_file, path)
    with reading(file, "the layer annotation"):
        layer_map = pd.read_csv(
            file, sep="\t", header=None, names=["barcode", "sample", "layer"], dtype=str
        )
        layers = layer_map[layer_map["sample"] == section].set_index("barcode")["layer"]
    file = spot_file("scalefactors_json.json")
    with reading(file, "the scale factors"):
        scalefactors = json.loads(file.read_text())
    file = spot_file("tissue_lowres_image.png")
    with reading(file, "the low-resolution image"):
        lowres = read_rgb(file)
    missing = counts.obs_names.difference(positions.index)
    if len(missing):
        raise ValueError(
            f"{len(missing)} spots of the DLPFC {section} counts have no position in "
            f"tissue_positions_list.csv (e.g. {list(missing[:3])}); the files do not match."
        )
    obs = positions.loc[counts.obs_names]
    obs = obs.assign(layer_guess=layers.reindex(obs.index))
    return _assemble(
        section,
        counts.X,
        obs,
        counts.var["gene_ids"].to_numpy(dtype=str),
        counts.var_names,
        obs[["pxl_col_in_fullres", "pxl_row_in_fullres"]].to_numpy(),
        lowres,
        scalefactors,
    )


def dlpfc(section: str | int, path: str | os.PathLike | None = None) -> AnnData:
    """Human dorsolateral prefrontal cortex, 10x Visium (Maynard et al. 2021).

    One of 12 sections from 3 donors, with the manual annotation of cortical layers L1–L6 and
    white matter. All in-tissue spots are kept, also the few that are not annotated.

    Parameters
    ----------
    section
        Sample id: ``151507``–``151510``, ``151669``–``151672`` or ``151673``–``151676``.
    path
        Data folder laid out as ``<path>/DLPFC/...``; defaults to ``$STMIN_DATA_DIR``. Without
        either, the public files are downloaded into ``pooch.os_cache("stmin")``. In a data
        folder, a pre-made ``DLPFC/counts/DLPFC_<section>_top5000hvg.h5ad`` (5,000 highly
        variable genes) is preferred; otherwise the full-gene Space Ranger matrix
        ``DLPFC/counts/<section>_filtered_feature_bc_matrix.h5`` (spatialLIBD) is read together
        with ``DLPFC/spatial/<section>/`` and ``DLPFC/annotations/barcode_level_layer_map.tsv``
        or ``.tsv.gz`` (LieberInstitute/HumanPilot).

    Returns
    -------
    AnnData of spots × genes with

    - ``.X``: raw UMI counts (CSR, float32); ``var_names``: Ensembl ids,
      ``var["gene_symbols"]``: gene symbols.
    - ``obs["layer_guess"]``: categorical, layers in the order L1…L6, WM (NaN = unannotated);
      ``obs["array_row"]``, ``obs["array_col"]``: Visium array coordinates.
    - ``obsm["spatial"]``: full-resolution pixel coordinates (x = column, y = row), as
      :func:`scanpy.read_visium`.
    - ``uns["spatial"][section]``: ``images["lowres"]``, ``scalefactors``, ``metadata``, so that
      ``sc.pl.spatial(adata, img_key="lowres")`` works.

    Raises
    ------
    ValueError
        For an unknown section.
    FileNotFoundError
        When a file is missing from the data folder or cannot be downloaded; the message names
        the file, where to place it and its URL.
    """
    section = check_section(section, DLPFC_SECTIONS, "DLPFC")
    h5ad = locate(_h5ad_file(section), path)
    return _from_h5ad(h5ad, section) if h5ad is not None else _from_10x(section, path)
