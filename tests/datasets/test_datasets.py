import re
import shutil

import h5py
import matplotlib
import numpy as np
import pytest
import scanpy as sc
import scipy.sparse as sp

from stmin import datasets
from stmin._validate import check_counts
from stmin.datasets import _paths
from stmin.datasets._bundled import BUNDLED_FILE

matplotlib.use("Agg")

HER2ST_REPO = (
    "https://raw.githubusercontent.com/almaan/her2st/85df7411b987a7dec3feff9718b869a7a82091ec/data"
)


@pytest.fixture(scope="module")
def dlpfc_673(shared_data):
    return datasets.dlpfc(151673, path=shared_data)


@pytest.fixture(scope="module")
def her2st_b4(shared_data):
    return datasets.her2st("B4", path=shared_data)


def _assert_counts(adata):
    assert sp.isspmatrix_csr(adata.X) or isinstance(adata.X, sp.csr_array)
    assert adata.X.dtype == np.float32
    check_counts(adata.X, "X")


def _assert_inside_image(adata, library_id, img_key):
    library = adata.uns["spatial"][library_id]
    image = library["images"][img_key]
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    xy = adata.obsm["spatial"] * library["scalefactors"][f"tissue_{img_key}_scalef"]
    assert (xy >= 0).all()
    assert (xy[:, 0] < image.shape[1]).all() and (xy[:, 1] < image.shape[0]).all()


# --- DLPFC -------------------------------------------------------------------------------------


def test_dlpfc_shared(dlpfc_673):
    adata = dlpfc_673
    assert adata.shape == (3639, 5000)
    _assert_counts(adata)
    assert adata.var_names[0].startswith("ENSG") and "gene_symbols" in adata.var
    labels = adata.obs["layer_guess"]
    assert list(labels.cat.categories) == ["L1", "L2", "L3", "L4", "L5", "L6", "WM"]
    assert labels.value_counts()["L1"] == 273 and labels.isna().sum() == 28
    assert {"array_row", "array_col"} <= set(adata.obs)
    assert adata.obsm["spatial"].shape == (3639, 2)
    assert set(adata.uns["spatial"]["151673"]) == {"images", "scalefactors", "metadata"}
    assert adata.uns["spatial"]["151673"]["images"]["lowres"].shape == (600, 600, 3)
    assert "spot_diameter_fullres" in adata.uns["spatial"]["151673"]["scalefactors"]
    _assert_inside_image(adata, "151673", "lowres")


def test_dlpfc_plots(dlpfc_673):
    """The loader's layout is what scanpy's spatial plot reads (image, scale factors, spots)."""
    axes = sc.pl.spatial(dlpfc_673, img_key="lowres", color="layer_guess", show=False)
    assert len(axes) == 1 and axes[0].get_images()  # the tissue image is drawn
    matplotlib.pyplot.close("all")


def _write_10x_h5(adata, file):
    """Write counts as a Space Ranger ``filtered_feature_bc_matrix.h5`` (format v3)."""
    x = sp.csr_matrix(adata.X).astype(np.int32)  # cells × genes CSR = genes × cells CSC
    with h5py.File(file, "w") as f:
        matrix = f.create_group("matrix")
        matrix["barcodes"] = adata.obs_names.to_numpy(dtype="S")
        matrix["data"], matrix["indices"], matrix["indptr"] = x.data, x.indices, x.indptr
        matrix["shape"] = np.array([adata.n_vars, adata.n_obs])
        features = matrix.create_group("features")
        features["id"] = adata.var_names.to_numpy(dtype="S")
        features["name"] = adata.var["gene_symbols"].to_numpy(dtype="S")
        features["feature_type"] = np.full(adata.n_vars, b"Gene Expression")
        features["genome"] = np.full(adata.n_vars, b"GRCh38")


def test_dlpfc_space_ranger_layout_matches_h5ad(dlpfc_673, shared_data, tmp_path):
    root = tmp_path / "data"
    (root / "DLPFC" / "counts").mkdir(parents=True)
    for sub in ("spatial", "annotations"):
        (root / "DLPFC" / sub).symlink_to(shared_data / "DLPFC" / sub)
    _write_10x_h5(dlpfc_673, root / "DLPFC" / "counts" / "151673_filtered_feature_bc_matrix.h5")

    adata = datasets.dlpfc("151673", path=root)
    _assert_counts(adata)
    assert (adata.X != dlpfc_673.X).nnz == 0
    assert adata.var.equals(dlpfc_673.var)
    assert adata.obs.equals(dlpfc_673.obs)
    np.testing.assert_array_equal(adata.obsm["spatial"], dlpfc_673.obsm["spatial"])
    np.testing.assert_array_equal(
        adata.uns["spatial"]["151673"]["images"]["lowres"],
        dlpfc_673.uns["spatial"]["151673"]["images"]["lowres"],
    )


def test_dlpfc_section_without_counts(shared_data):
    expected = shared_data / "DLPFC" / "counts" / "151507_filtered_feature_bc_matrix.h5"
    with pytest.raises(FileNotFoundError, match=re.escape(str(expected))) as err:
        datasets.dlpfc("151507", path=shared_data)
    assert "https://spatial-dlpfc.s3.us-east-2.amazonaws.com/h5/" in str(err.value)


def test_dlpfc_download_fails_offline(tmp_path):
    with pytest.raises(FileNotFoundError, match="could not download") as err:
        datasets.dlpfc("151507")
    message = str(err.value)
    assert "151507_filtered_feature_bc_matrix.h5 from https://spatial-dlpfc.s3" in message
    assert str(tmp_path / "cache" / "DLPFC" / "counts" / "151507_filtered") in message


@pytest.mark.parametrize(
    ("loader", "section"), [(datasets.dlpfc, "151999"), (datasets.her2st, "Z9")]
)
def test_unknown_section(loader, section):
    with pytest.raises(ValueError, match=f"unknown .* section '{section}'; valid sections are: "):
        loader(section, path="unused")


# --- her2st ------------------------------------------------------------------------------------


def test_her2st_labelled(shared_data):
    adata = datasets.her2st("A1", path=shared_data)
    assert adata.shape == (346, 15045)
    _assert_counts(adata)
    assert adata.var_names[:3].tolist() == ["FO538757.1", "SAMD11", "NOC2L"]
    assert adata.obs["label"].notna().sum() == 346
    assert set(adata.obs["label"].cat.categories) == {
        "invasive cancer",
        "connective tissue",
        "cancer in situ",
        "adipose tissue",
        "undetermined",
        "immune infiltrate",
    }
    assert {"array_x", "array_y"} <= set(adata.obs)
    assert adata.obsm["spatial"].shape == (346, 2)
    assert "spatial" not in adata.uns  # no image of A1 in the shared folder


def test_her2st_unlabelled_has_no_label(shared_data):
    assert "label" not in datasets.her2st("A2", path=shared_data).obs


def test_her2st_image(her2st_b4, shared_data):
    adata = her2st_b4
    assert adata.shape == (283, 15289)
    _assert_counts(adata)
    library = adata.uns["spatial"]["B4"]
    assert max(library["images"]["hires"].shape[:2]) == 2000
    assert max(library["images"]["lowres"].shape[:2]) == 600
    for key in ("hires", "lowres"):
        _assert_inside_image(adata, "B4", key)
    # 100 µm spots on a 200 µm grid: the diameter is half the distance of neighbouring spots
    ordered = adata[np.lexsort((adata.obs["array_x"], adata.obs["array_y"]))]
    steps = np.diff(ordered.obsm["spatial"][:, 0])[np.diff(ordered.obs["array_x"]) == 1]
    np.testing.assert_allclose(
        library["scalefactors"]["spot_diameter_fullres"], np.median(steps) / 2, rtol=0.05
    )
    assert library["metadata"]["image_path"] == str(
        shared_data / "her2st" / "ST-imgs" / "B4_BT10737_D2_HE.jpg"
    )


def test_her2st_downloads_into_cache(her2st_b4, shared_data, monkeypatch, tmp_path):
    local = shared_data / "her2st"
    served = {
        f"{HER2ST_REPO}/ST-cnts/B4.tsv.gz": local / "ST-cnts" / "B4.tsv.gz",
        f"{HER2ST_REPO}/ST-spotfiles/B4_selection.tsv": local / "ST-spotfiles" / "B4_selection.tsv",
        f"{HER2ST_REPO}/ST-imgs/B/B4/BT10737_D2_HE.jpg": local / "ST-imgs" / "B4_BT10737_D2_HE.jpg",
    }

    def serve(url, dest):
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(served[url], dest)

    monkeypatch.setattr(_paths, "_download", serve)
    adata = datasets.her2st("B4")
    cached = tmp_path / "cache" / "her2st" / "ST-imgs" / "B4_BT10737_D2_HE.jpg"
    assert adata.uns["spatial"]["B4"]["metadata"]["image_path"] == str(cached)
    assert (adata.X != her2st_b4.X).nnz == 0
    np.testing.assert_array_equal(adata.obsm["spatial"], her2st_b4.obsm["spatial"])


def test_her2st_missing_file_under_path(tmp_path):
    expected = tmp_path / "her2st" / "ST-cnts" / "A1.tsv.gz"
    with pytest.raises(FileNotFoundError, match=re.escape(f"Expected it at {expected}")) as err:
        datasets.her2st("A1", path=tmp_path)
    assert f"{HER2ST_REPO}/ST-cnts/A1.tsv.gz" in str(err.value)


# --- mouse olfactory bulb ----------------------------------------------------------------------


def test_mouse_olfactory_bulb_from_env(shared_data, monkeypatch):
    monkeypatch.setenv("STMIN_DATA_DIR", str(shared_data))
    adata = datasets.mouse_olfactory_bulb()
    assert adata.shape == (262, 15928)
    _assert_counts(adata)
    assert adata.obsm["spatial"].shape == (262, 2)
    assert adata.obs["layer"].notna().sum() == 260
    assert adata.obs["layer"].cat.categories.size == 5


def test_mouse_olfactory_bulb_missing_under_env(monkeypatch, tmp_path):
    monkeypatch.setenv("STMIN_DATA_DIR", str(tmp_path))
    expected = tmp_path / "mouse_olfactory_bulb_ST" / "MOB_Rep11_Stahl2016.h5ad"
    with pytest.raises(
        FileNotFoundError, match=re.escape(f"STMIN_DATA_DIR). Expected it at {expected}")
    ):
        datasets.mouse_olfactory_bulb()


def test_mouse_olfactory_bulb_has_no_download(tmp_path):
    expected = tmp_path / "cache" / "mouse_olfactory_bulb_ST" / "MOB_Rep11_Stahl2016.h5ad"
    with pytest.raises(FileNotFoundError, match="has no public download") as err:
        datasets.mouse_olfactory_bulb()
    assert f"Place it at {expected}" in str(err.value)
    assert "MERINGUE" in str(err.value)


# --- bundled -----------------------------------------------------------------------------------


def test_bundled_dlpfc_151673():
    assert BUNDLED_FILE.stat().st_size <= 5 * 2**20
    adata = datasets.dlpfc_151673()
    assert adata.n_obs == 3639 and adata.n_vars <= 3000
    _assert_counts(adata)
    assert "gene_symbols" in adata.var
    assert adata.obs["layer_guess"].value_counts()["WM"] == 513
    assert adata.obsm["spatial"].shape == (3639, 2)
    _assert_inside_image(adata, "151673", "lowres")
    assert {"source", "citation", "license", "reduction"} <= set(adata.uns["dataset"])


def test_bundled_is_a_subset_of_dlpfc(dlpfc_673):
    bundled = datasets.dlpfc_151673()
    full = dlpfc_673[:, bundled.var_names]
    assert (full.X != bundled.X).nnz == 0
    assert full.obs.equals(bundled.obs)
