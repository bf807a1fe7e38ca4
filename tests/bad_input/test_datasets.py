"""Bad paths, names and files given to sm.datasets end in a clear error naming what to fix."""

import shutil

import anndata as ad
import h5py
import numpy as np
import pytest

import stmin as sm
from stmin.datasets import _paths

D = sm.datasets

LOADERS = {
    "dlpfc": lambda path: D.dlpfc("151673", path=path),
    "her2st": lambda path: D.her2st("A1", path=path),
    "mouse_olfactory_bulb": lambda path: D.mouse_olfactory_bulb(path=path),
    "stahl2016_breast_cancer": lambda path: D.stahl2016_breast_cancer(path=path),
    "visium_with_reference": lambda path: D.visium_with_reference("hippocampus", path=path),
    "scrna_clustering": lambda path: D.scrna_clustering("pbmc_4k", path=path),
}
ANY_LOADER = pytest.mark.parametrize("load", LOADERS.values(), ids=LOADERS.keys())


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    """No test downloads anything or touches the user's cache."""

    def fail(url, dest):
        raise AssertionError(f"a bad input started a download of {url}")

    monkeypatch.setattr(_paths, "_download", fail)
    monkeypatch.setattr(_paths, "cache_dir", lambda: tmp_path / "cache")
    monkeypatch.delenv(_paths.ENV_VAR, raising=False)


# -- the data folder ---------------------------------------------------------------------------


@ANY_LOADER
def test_data_folder_that_does_not_exist(load, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"data folder .*missing.* does not exist"):
        load(tmp_path / "missing")


@ANY_LOADER
def test_data_folder_that_is_a_file(load, tmp_path):
    file = tmp_path / "data.txt"
    file.write_text("x")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        load(file)


@ANY_LOADER
@pytest.mark.parametrize("path", [3, "", ["a"]])
def test_data_folder_of_the_wrong_type(load, path):
    with pytest.raises(ValueError, match="`path` must be a non-empty path"):
        load(path)


@ANY_LOADER
def test_environment_variable_naming_a_missing_folder(load, monkeypatch, tmp_path):
    monkeypatch.setenv(_paths.ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="STMIN_DATA_DIR"):
        load(None)


def test_folder_in_place_of_a_file(tmp_path):
    (tmp_path / "DLPFC" / "counts" / "DLPFC_151673_top5000hvg.h5ad").mkdir(parents=True)
    with pytest.raises(ValueError, match="is a folder, but the data file"):
        D.dlpfc("151673", path=tmp_path)


# -- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("load", "match"),
    [
        (lambda: D.dlpfc("999", path="unused"), "unknown DLPFC section '999'"),
        (lambda: D.dlpfc(151673.0, path="unused"), "unknown DLPFC section"),
        (lambda: D.dlpfc(None, path="unused"), "unknown DLPFC section"),
        (lambda: D.her2st("a1", path="unused"), "unknown her2st section 'a1'"),
        (lambda: D.visium_with_reference("hipocampus"), "`tissue` must be one of"),
        (lambda: D.visium_with_reference(["x"]), "`tissue` must be one of"),
        (lambda: D.scrna_clustering("pbmc", path="unused"), "unknown scRNA-seq clustering"),
        (lambda: D.scrna_clustering(["pbmc_4k"], path="unused"), "unknown scRNA-seq clustering"),
    ],
)
def test_unknown_names(load, match):
    with pytest.raises(ValueError, match=match):
        load()


# -- corrupt and foreign files -------------------------------------------------------------------


def _place(tmp_path, relpath, content):
    file = tmp_path / relpath
    file.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        file.write_bytes(content)
    else:
        content(file)
    return file


def _empty_h5ad(file):
    ad.AnnData(np.zeros((3, 2), dtype=np.float32)).write_h5ad(file)


def _h5_without_x(file):
    with h5py.File(file, "w") as f:
        f["Y"] = np.zeros(3)


H5AD_FILES = {
    "dlpfc": ("DLPFC/counts/DLPFC_151673_top5000hvg.h5ad", LOADERS["dlpfc"]),
    "mouse_olfactory_bulb": (
        "mouse_olfactory_bulb_ST/MOB_Rep11_Stahl2016.h5ad",
        LOADERS["mouse_olfactory_bulb"],
    ),
    "stahl2016_breast_cancer": (
        "breast_cancer_ST_Stahl2016/BC_Stahl2016_layers1-4.h5ad",
        LOADERS["stahl2016_breast_cancer"],
    ),
    "visium_with_reference": (
        "rctd_toy_deconvolution/hippocampus_visium_downsampled.h5ad",
        LOADERS["visium_with_reference"],
    ),
    "scrna_clustering": (
        "scRNA_clustering/Zheng2017_10x_PBMC/10X_PBMC_top2000.h5",
        LOADERS["scrna_clustering"],
    ),
}


@pytest.mark.parametrize(("relpath", "load"), H5AD_FILES.values(), ids=H5AD_FILES.keys())
@pytest.mark.parametrize("content", [b"garbage", b""], ids=["corrupt", "empty-file"])
def test_corrupt_files(tmp_path, relpath, load, content):
    file = _place(tmp_path, relpath, content)
    # visium_with_reference needs both of its files before it reads either
    _place(
        tmp_path,
        "rctd_toy_deconvolution/hippocampus_scRNA_reference_downsampled.h5ad",
        b"garbage",
    )
    with pytest.raises(ValueError, match="cannot read .*" + str(file.name).replace(".", r"\.")):
        load(tmp_path)


@pytest.mark.parametrize(("relpath", "load"), H5AD_FILES.values(), ids=H5AD_FILES.keys())
def test_files_of_another_layout(tmp_path, relpath, load):
    make = _h5_without_x if relpath.endswith(".h5") else _empty_h5ad
    file = _place(tmp_path, relpath, make)
    _place(
        tmp_path,
        "rctd_toy_deconvolution/hippocampus_scRNA_reference_downsampled.h5ad",
        _empty_h5ad,
    )
    with pytest.raises(ValueError, match="not in the expected layout") as err:
        load(tmp_path)
    assert str(file) in str(err.value)


def test_her2st_corrupt_and_mismatched_files(tmp_path, shared_data):
    folder = tmp_path / "her2st"
    shutil.copytree(shared_data / "her2st" / "ST-cnts", folder / "ST-cnts")
    shutil.copytree(shared_data / "her2st" / "ST-spotfiles", folder / "ST-spotfiles")
    shutil.copytree(shared_data / "her2st" / "ST-pat-lbl", folder / "ST-pat-lbl")
    (folder / "ST-imgs").mkdir()
    (folder / "ST-imgs" / "B4_BT10737_D2_HE.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match="cannot read the H&E image of her2st section B4"):
        D.her2st("B4", path=tmp_path)
    (folder / "ST-spotfiles" / "A1_selection.tsv").write_text("a\tb\n1\t2\n")
    with pytest.raises(ValueError, match="cannot read the spot file of her2st section A1"):
        D.her2st("A1", path=tmp_path)
    (folder / "ST-cnts" / "A2.tsv.gz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="cannot read the counts of her2st section A2"):
        D.her2st("A2", path=tmp_path)


def test_baron_table_of_another_layout(tmp_path):
    import gzip

    relpath = "scRNA_clustering/Baron2016_mouse_pancreas/GSM2230761_mouse1_umifm_counts.csv.gz"
    file = tmp_path / relpath
    file.parent.mkdir(parents=True)
    with gzip.open(file, "wt") as handle:
        handle.write("cell,a,b\nc1,1,2\n")
    with pytest.raises(ValueError, match="cannot read the baron_mouse1 data set"):
        D.scrna_clustering("baron_mouse1", path=tmp_path)
