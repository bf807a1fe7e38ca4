"""HER2-positive breast cancer, original Spatial Transcriptomics (Andersson et al. 2021)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from ._paths import DataFile, fetch, reading
from ._sections import check_section
from ._visium import downscaled_images, spatial_uns

_REPO = (
    "https://raw.githubusercontent.com/almaan/her2st/85df7411b987a7dec3feff9718b869a7a82091ec/data"
)
SOURCE = "GitHub almaan/her2st (Andersson et al. 2021)"
_SIX = ("C1", "C2", "D1", "D2", "E1", "E2")
# H&E file name per patient (repository folder data/ST-imgs/<patient>/<section>/), filled in with
# the slide position of sections 1, 2, ...
_IMAGE_NAMES = {
    "A": ("9769_{}_HE_small.jpg", _SIX),
    "B": ("BT10737_{}_HE.jpg", _SIX),
    "C": ("5714_HE_BT_{}.jpg", _SIX),
    "D": ("10426_HE_BT_{}.jpg", _SIX),
    "E": ("HE_BT23567_{}.jpg", ("D2", "E1", "E2")),
    "F": ("HE_BT23810_{}.jpg", ("D2", "E1", "E2")),
    "G": ("HE_BT23903_{}.jpg", ("C1a", "C2a", "D1a")),
    "H": ("HE_BT24044_{}.jpg", ("D2", "E1", "E2")),
}
_IMAGES = {
    f"{patient}{i}": pattern.format(position)
    for patient, (pattern, positions) in _IMAGE_NAMES.items()
    for i, position in enumerate(positions, 1)
}
HER2ST_SECTIONS = tuple(_IMAGES)
LABELLED_SECTIONS = ("A1", "B1", "C1", "D1", "E1", "F1", "G2", "H1")
# Spots are 100 µm across on a 200 µm centre-to-centre grid.
_SPOT_DIAMETER_PER_PITCH = 100 / 200
_IMAGE_SIDES = {"hires": 2000, "lowres": 600}


def _file(local: str, remote: str | None = None) -> DataFile:
    """Describe ``her2st/<local>`` of a data folder, ``data/<remote or local>`` of the repo."""
    return DataFile(f"her2st/{local}", f"{_REPO}/{remote or local}")


def _spot_ids(x, y) -> pd.Index:
    """Return the count-matrix spot ids ``"<x>x<y>"`` of (possibly fractional) array positions."""
    x, y = (np.rint(np.asarray(v, dtype=float)).astype(int).astype(str) for v in (x, y))
    return pd.Index(np.char.add(np.char.add(x, "x"), y))


def _pixels_per_pitch(spots: pd.DataFrame) -> float:
    """Return the pixel distance of neighbouring array positions (affine fit array → pixel)."""
    design = np.c_[spots["x"], spots["y"], np.ones(len(spots))]
    coef, *_ = np.linalg.lstsq(design, spots[["pixel_x", "pixel_y"]].to_numpy(), rcond=None)
    return float(np.sqrt(abs(np.linalg.det(coef[:2]))))


def her2st(section: str, path: str | os.PathLike | None = None) -> AnnData:
    """HER2-positive breast cancer, original Spatial Transcriptomics (Andersson et al. 2021).

    36 tissue sections of 8 patients (A1–A6, B1–B6, C1–C6, D1–D6, E1–E3, F1–F3, G1–G3, H1–H3);
    100 µm spots on a 200 µm grid.

    Parameters
    ----------
    section
        Section id, e.g. ``"A1"``.
    path
        Data folder laid out as ``<path>/her2st/ST-cnts/<section>.tsv.gz``,
        ``her2st/ST-spotfiles/<section>_selection.tsv``,
        ``her2st/ST-pat-lbl/<section>_labeled_coordinates.tsv`` and
        ``her2st/ST-imgs/<section>_<image name>.jpg``; defaults to ``$STMIN_DATA_DIR``. Without
        either, the files are downloaded from GitHub ``almaan/her2st`` into
        ``pooch.os_cache("stmin")``. In a data folder the H&E image is optional.

    Returns
    -------
    AnnData of spots × genes with

    - ``.X``: raw UMI counts (CSR, float32); ``var_names``: gene symbols; ``obs_names``: spot ids
      ``"<x>x<y>"``.
    - ``obs["array_x"]``, ``obs["array_y"]``: ST array coordinates.
    - ``obs["label"]``: pathologist region (categorical, NaN = no label), only for the labelled
      sections A1, B1, C1, D1, E1, F1, G2 and H1.
    - ``obsm["spatial"]``: spot centres in pixels of the full-resolution H&E image.
    - ``uns["spatial"][section]``, only when the H&E image is available: ``images["hires"]``
      (longest side 2,000 px) and ``images["lowres"]`` (600 px), ``scalefactors``
      (``tissue_hires_scalef``, ``tissue_lowres_scalef``, ``spot_diameter_fullres`` derived
      from the pixel pitch of the array) and ``metadata["image_path"]``, the full-resolution
      image file (read patches from there). Images of B4 and C2–C6 were checked against the spot
      coordinates; those of patient A are reduced in the source (``*_small.jpg``).

    Raises
    ------
    ValueError
        For an unknown section.
    FileNotFoundError
        When a file is missing from the data folder or cannot be downloaded; the message names
        the file, where to place it and its URL.
    """
    section = check_section(section, HER2ST_SECTIONS, "her2st")
    file = fetch(_file(f"ST-cnts/{section}.tsv.gz"), path)
    with reading(file, f"the counts of her2st section {section}"):
        counts = pd.read_csv(file, sep="\t", index_col=0)
        values = counts.to_numpy(dtype=np.float32)
    file = fetch(_file(f"ST-spotfiles/{section}_selection.tsv"), path)
    with reading(file, f"the spot file of her2st section {section}"):
        spots = pd.read_csv(file, sep="\t")
        spots.index = _spot_ids(spots["x"], spots["y"])
        spots[["pixel_x", "pixel_y"]].to_numpy(dtype=np.float64)
    missing = counts.index.astype(str).difference(spots.index)
    if len(missing):
        raise ValueError(
            f"{len(missing)} spots of the her2st {section} counts are not in "
            f"{section}_selection.tsv (e.g. {list(missing[:3])}); the files do not match."
        )
    on_counts = spots.loc[counts.index.astype(str)]

    adata = AnnData(
        X=sp.csr_matrix(values),
        obs=pd.DataFrame(
            {"array_x": on_counts["x"].to_numpy(), "array_y": on_counts["y"].to_numpy()},
            index=on_counts.index,
        ),
        var=pd.DataFrame(index=counts.columns.astype(str)),
    )
    adata.obsm["spatial"] = on_counts[["pixel_x", "pixel_y"]].to_numpy(dtype=np.float64)

    if section in LABELLED_SECTIONS:
        name = f"{section}_labeled_coordinates.tsv"
        file = fetch(_file(f"ST-pat-lbl/{name}", f"ST-pat/lbl/{name}"), path)
        with reading(file, f"the labels of her2st section {section}"):
            labels = pd.read_csv(file, sep="\t")
            labels = labels.dropna(subset=["x", "y"])  # a few labelled rows have no position
            labels.index = _spot_ids(labels["x"], labels["y"])
            adata.obs["label"] = pd.Categorical(labels["label"].reindex(adata.obs_names))

    name = _IMAGES[section]
    image_file = _file(f"ST-imgs/{section}_{name}", f"ST-imgs/{section[0]}/{section}/{name}")
    image = fetch(image_file, path, optional=True)
    if image is not None:
        with reading(image, f"the H&E image of her2st section {section}"):
            images, scalefactors = downscaled_images(image, _IMAGE_SIDES)
        scalefactors["spot_diameter_fullres"] = _pixels_per_pitch(spots) * _SPOT_DIAMETER_PER_PITCH
        adata.uns["spatial"] = spatial_uns(
            section, images, scalefactors, {"image_path": str(image), "source": SOURCE}
        )
    return adata
