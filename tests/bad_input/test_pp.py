"""Bad input to sm.pp ends in a clear stmin error, raised before any work, leaving inputs alone."""

import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import stmin as sm

pytestmark = pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")

SMALL = {"min_cells": 1, "n_top_genes": 20, "n_comps": 5}  # stmgac_preprocess on 300 × 60
BAD_SEEDS = ["abc", [1, 2], -1, 1.5, True]
BAD_INTS = [0, -1, 1.5, "abc", True, None]

PP_CALLS = {
    "spatial_graph": lambda a: sm.pp.spatial_graph(a),
    "cell_graph": lambda a: sm.pp.cell_graph(a, 5),
    "stmgac_preprocess": lambda a: sm.pp.stmgac_preprocess(a, **SMALL),
    "scasdc_preprocess": lambda a: sm.pp.scasdc_preprocess(a, n_top_genes=20, n_neighbors=5),
    "he_patches": lambda a: sm.pp.he_patches(a, size=16),
    "he_features": lambda a: sm.pp.he_features(a),
}


def _same(a, b) -> bool:
    """Whether two AnnData hold the same keys and the same ``.X`` and coordinates."""
    x = a.X.toarray() if sp.issparse(a.X) else np.asarray(a.X)
    y = b.X.toarray() if sp.issparse(b.X) else np.asarray(b.X)
    return (
        a.shape == b.shape
        and np.array_equal(x, y, equal_nan=True)
        and list(a.obs.columns) == list(b.obs.columns)
        and set(a.obsm) == set(b.obsm)
        and set(a.obsp) == set(b.obsp)
        and set(a.uns) == set(b.uns)
        and set(a.var.columns) == set(b.var.columns)
        and np.array_equal(a.obsm["spatial"], b.obsm["spatial"], equal_nan=True)
    )


def _with_x(adata, change):
    x = adata.X.toarray()
    change(x)
    adata.X = sp.csr_matrix(x)
    return adata


# -- the AnnData itself ------------------------------------------------------------------------


@pytest.mark.parametrize("call", PP_CALLS.values(), ids=PP_CALLS.keys())
def test_not_an_anndata(grid_adata, call):
    with pytest.raises(TypeError, match="`adata` must be an AnnData"):
        call(grid_adata.X.toarray())


@pytest.mark.parametrize("call", PP_CALLS.values(), ids=PP_CALLS.keys())
def test_empty_anndata(grid_adata, call):
    with pytest.raises(ValueError, match="`adata` is empty"):
        call(grid_adata[:0].copy())


@pytest.mark.parametrize("call", PP_CALLS.values(), ids=PP_CALLS.keys())
def test_view_is_refused(grid_adata, call):
    with pytest.raises(ValueError, match="view"):
        call(grid_adata[:100])


@pytest.mark.parametrize("call", PP_CALLS.values(), ids=PP_CALLS.keys())
def test_duplicate_obs_names(grid_adata, call):
    grid_adata.obs_names = ["spot"] * grid_adata.n_obs
    with pytest.raises(ValueError, match="obs_names"):
        call(grid_adata)


# -- counts --------------------------------------------------------------------------------------

COUNT_CALLS = {
    "stmgac_preprocess": lambda a: sm.pp.stmgac_preprocess(a, **SMALL),
    "scasdc_preprocess": lambda a: sm.pp.scasdc_preprocess(a, n_top_genes=20, n_neighbors=5),
    "marker_genes": lambda a: sm.pp.marker_genes(a, "domain"),
    "pseudo_spots": lambda a: sm.pp.pseudo_spots(a, "domain", 10),
}
BAD_COUNTS = {
    "nan": (lambda x: x.__setitem__((0, 0), np.nan), "NaN"),
    "inf": (lambda x: x.__setitem__((0, 0), np.inf), "NaN or infinite"),
    "negative": (lambda x: x.__setitem__((0, 0), -1), "negative"),
    "normalised": (lambda x: x.__imul__(0.5), "integer-valued"),
}


@pytest.mark.parametrize("bad", BAD_COUNTS.values(), ids=BAD_COUNTS.keys())
@pytest.mark.parametrize("call", COUNT_CALLS.values(), ids=COUNT_CALLS.keys())
def test_bad_counts(grid_adata, call, bad):
    change, match = bad
    adata = _with_x(grid_adata, change)
    before = adata.copy()
    name = "adata_sc" if call in (COUNT_CALLS["marker_genes"], COUNT_CALLS["pseudo_spots"]) else ""
    with pytest.raises(ValueError, match=rf"`{name or 'adata'}\.X`.*{match}"):
        call(adata)
    assert _same(adata, before)


@pytest.mark.parametrize(
    "call",
    [
        lambda a: sm.pp.stmgac_preprocess(a, layer="counts"),
        lambda a: sm.pp.scasdc_preprocess(a, layer="counts"),
        lambda a: sm.pp.cell_graph(a, layer="counts"),
        lambda a: sm.pp.marker_genes(a, "domain", layer="counts"),
        lambda a: sm.pp.pseudo_spots(a, "domain", layer="counts"),
    ],
)
def test_missing_layer(grid_adata, call):
    with pytest.raises(KeyError, match=r"layers\['counts'\]"):
        call(grid_adata)


def test_empty_cell_leaves_scasdc_input_alone(grid_adata):
    adata = _with_x(grid_adata, lambda x: x.__setitem__(0, 0))
    before = adata.copy()
    with pytest.raises(ValueError, match="no counts"):
        sm.pp.scasdc_preprocess(adata, n_top_genes=20, n_neighbors=5)
    assert _same(adata, before)  # not subset, no key written


# -- integers, choices, seeds, booleans, keys --------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        *[({"n_comps": v}, "n_comps") for v in BAD_INTS],
        *[({"n_top_genes": v}, "n_top_genes") for v in (-10, 1, 2.5, "x", None)],
        *[({"random_state": v}, "random_state") for v in BAD_SEEDS],
        ({"mode": "scaledd"}, "mode"),
        ({"min_cells": -1}, "min_cells"),
        ({"min_counts": np.nan}, "min_counts"),
        ({"target_sum": 0}, "target_sum"),
        ({"log1p": "yes"}, "log1p"),
        ({"copy": "yes"}, "copy"),
        ({"key_added": 3}, "key_added"),
    ],
)
def test_stmgac_preprocess_options(grid_adata, kwargs, match):
    before = grid_adata.copy()
    with pytest.raises(ValueError, match=match):
        sm.pp.stmgac_preprocess(grid_adata, **{**SMALL, **kwargs})
    assert _same(grid_adata, before)


def test_numpy_integers_are_integers(grid_adata):
    args = {"n_top_genes": np.int64(20), "n_comps": np.int64(3), "min_cells": np.int32(1)}
    sm.pp.stmgac_preprocess(grid_adata, **args)
    assert grid_adata.obsm["X_stmgac_input"].shape == (grid_adata.n_obs, 3)
    sm.pp.spatial_graph(grid_adata, np.int64(4))
    sm.pp.cell_graph(grid_adata, np.int64(4))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        *[({"n_neighs": v}, "n_neighs") for v in (*BAD_INTS, 10**12)],
        ({"method": "knnn"}, "method"),
        ({"method": "radius"}, "radius"),
        ({"method": "radius", "radius": "1"}, "radius"),
        ({"method": "radius", "radius": -1.0}, "radius"),
        ({"method": "grid", "n_rings": 0}, "n_rings"),
        ({"symmetric": "no"}, "symmetric"),
        ({"copy": "yes"}, "copy"),
        ({"key_added": ""}, "key_added"),
    ],
)
def test_spatial_graph_options(grid_adata, kwargs, match):
    before = grid_adata.copy()
    with pytest.raises(ValueError, match=match):
        sm.pp.spatial_graph(grid_adata, **kwargs)
    assert _same(grid_adata, before)


def test_radius_graph_without_edges(grid_adata):
    with pytest.raises(ValueError, match=r"no edges .*larger `radius`"):
        sm.pp.spatial_graph(grid_adata, method="radius", radius=0.5)
    assert not grid_adata.obsp


@pytest.mark.parametrize(
    ("coords", "error", "match"),
    [
        (None, KeyError, r"obsm\['spatial'\]"),
        (lambda c: c[:, 0], ValueError, r"shape \(n_obs, 2\)"),
        (lambda c: np.c_[c, c], ValueError, r"shape \(n_obs, 2\)"),
        (lambda c: np.where(np.arange(len(c))[:, None] == 0, np.nan, c), ValueError, "NaN"),
        (lambda c: np.full(c.shape, "a"), ValueError, "numeric"),
    ],
)
def test_bad_coordinates(grid_adata, coords, error, match):
    if coords is None:
        del grid_adata.obsm["spatial"]
    else:
        grid_adata.obsm["spatial"] = coords(grid_adata.obsm["spatial"])
    with pytest.raises(error, match=match):
        sm.pp.spatial_graph(grid_adata)


@pytest.mark.parametrize(
    ("coords", "match"),
    [
        (np.zeros(10), "2-D"),
        (np.zeros((2, 5, 2)), "2-D"),
        ("abc", "numeric"),
        (np.r_[np.ones((9, 2)), [[np.nan, 0]]], "NaN"),
    ],
)
def test_build_graph_coordinates(coords, match):
    with pytest.raises(ValueError, match=rf"`coords`.*{match}"):
        sm.pp.build_graph(coords)


def test_build_graph_accepts_matrix_and_checks_libraries(grid_adata):
    coords = grid_adata.obsm["spatial"]
    conn, _ = sm.pp.build_graph(np.asmatrix(coords), n_neighs=4)
    assert conn.shape == (len(coords), len(coords))
    with pytest.raises(ValueError, match="`libraries` has 3 entries but `coords` has 300"):
        sm.pp.build_graph(coords, libraries=np.zeros(3))
    libraries = np.r_[["lonely"], ["main"] * (len(coords) - 1)]
    with pytest.raises(ValueError, match="Section 'lonely' of `libraries` has 1 spots"):
        sm.pp.build_graph(coords, libraries=libraries)


def test_library_key(grid_adata):
    with pytest.raises(KeyError, match=r"obs\['nope'\]"):
        sm.pp.spatial_graph(grid_adata, library_key="nope")
    grid_adata.obs["lib"] = pd.Categorical([None] + ["a"] * (grid_adata.n_obs - 1))
    with pytest.raises(ValueError, match="missing values"):
        sm.pp.spatial_graph(grid_adata, library_key="lib")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_neighbors": 1.5}, ValueError, "n_neighbors"),
        ({"n_neighbors": 300}, ValueError, "n_neighbors"),
        ({"metric": "cos"}, ValueError, "metric"),
        ({"use_rep": "X_pca"}, KeyError, r"obsm\['X_pca'\]"),
        ({"copy": 1}, ValueError, "copy"),
        ({"key_added": None}, ValueError, "key_added"),
    ],
)
def test_cell_graph_options(grid_adata, kwargs, error, match):
    with pytest.raises(error, match=match):
        sm.pp.cell_graph(grid_adata, **kwargs)


@pytest.mark.parametrize(
    ("x", "match"),
    [(np.arange(10.0), "2-D"), (np.zeros((4, 2, 2)), "2-D"), ("abc", "numeric")],
)
def test_knn_graph_arrays(x, match):
    with pytest.raises(ValueError, match=rf"`x`.*{match}"):
        sm.pp.knn_graph(x)


def test_knn_graph_nan_dense_and_sparse():
    x = np.random.default_rng(0).random((20, 4))
    x[3, 1] = np.nan
    for data in (x, sp.csr_matrix(x)):
        with pytest.raises(ValueError, match="`x` contains 1 NaN"):
            sm.pp.knn_graph(data, 3)
    assert sm.pp.knn_graph(np.asmatrix(np.nan_to_num(x)), 3).shape == (20, 20)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_top_genes": -10}, "n_top_genes"),
        ({"n_top_genes": 1}, "n_top_genes"),
        ({"n_neighbors": 0}, "n_neighbors"),
        ({"n_neighbors": 10**12}, "n_neighbors"),
        ({"subset": "yes"}, "subset"),
    ],
)
def test_scasdc_preprocess_options(grid_adata, kwargs, match):
    with pytest.raises(ValueError, match=match):
        sm.pp.scasdc_preprocess(grid_adata, **kwargs)


# -- H&E images --------------------------------------------------------------------------------

HIRES = "`uns['spatial']['s1']['images']['hires']`"


def _image(adata):
    return adata.uns["spatial"]["s1"]["images"]["hires"]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda img: img[..., 0], r"RGB or RGBA image .* got uint8 \(120, 120\)"),
        (lambda img: img[..., :2], r"RGB or RGBA image .* got uint8 \(120, 120, 2\)"),
        (lambda img: object(), "numeric image array"),
        (lambda img: "image.png", "numeric image array"),
        (lambda img: img.astype(np.uint16) * 257, "16-bit"),
        (
            lambda img: np.where(np.arange(img.size).reshape(img.shape) == 0, np.nan, img / 255),
            "NaN",
        ),
    ],
    ids=["grayscale", "two-channel", "object", "string", "uint16", "nan-in-float"],
)
def test_he_patches_bad_images(he_section, make, match):
    adata = he_section()
    adata.uns["spatial"]["s1"]["images"]["hires"] = make(_image(adata))
    with pytest.raises(ValueError, match=re.escape(HIRES) + ".*" + match):
        sm.pp.he_patches(adata, size=16, image_key="hires")
    assert "he_patches" not in adata.obsm


def test_he_patches_float_image_in_unit_range_is_read(he_section):
    adata = he_section()
    reference = adata.copy()
    adata.uns["spatial"]["s1"]["images"]["hires"] = _image(adata) / 255.0
    sm.pp.he_patches(adata, size=16, image_key="hires")
    sm.pp.he_patches(reference, size=16, image_key="hires")
    assert np.array_equal(adata.obsm["he_patches"], reference.obsm["he_patches"])


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (
            lambda e, p: e.__setitem__("metadata", "x"),
            ValueError,
            r"\['metadata'\]` must be a dict",
        ),
        (lambda e, p: e.__setitem__("images", "x"), ValueError, r"\['images'\]` must be a dict"),
        (
            lambda e, p: e["scalefactors"].__setitem__("tissue_hires_scalef", "0.5"),
            ValueError,
            "tissue_hires_scalef",
        ),
        (
            lambda e, p: e["metadata"].__setitem__("image_path", str(p)),
            FileNotFoundError,
            "is a folder",
        ),
        (
            lambda e, p: (
                (p / "bad.png").write_bytes(b"nope"),
                e["metadata"].__setitem__("image_path", str(p / "bad.png")),
            ),
            ValueError,
            "Cannot read the image file",
        ),
    ],
    ids=["metadata", "images", "scalefactor", "path-is-folder", "corrupt-file"],
)
def test_he_patches_bad_library(he_section, tmp_path, change, error, match):
    adata = he_section()
    change(adata.uns["spatial"]["s1"], tmp_path)
    key = "hires" if "scalef" in match or "images" in match else "fullres"
    with pytest.raises(error, match=match):
        sm.pp.he_patches(adata, size=16, image_key=key)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"size": 10**6}, ValueError, "size"),
        ({"size": 16.0}, ValueError, "size"),
        ({"size": 16, "patch_fullres": 10_000}, ValueError, "patch_fullres"),
        ({"image_key": "hi-res"}, ValueError, "image_key"),
        ({"library_id": "zz"}, KeyError, "zz"),
        ({"key_added": 3}, ValueError, "key_added"),
    ],
)
def test_he_patches_options(he_section, kwargs, error, match):
    with pytest.raises(error, match=match):
        sm.pp.he_patches(he_section(), **kwargs)


def test_he_patches_without_image(grid_adata):
    with pytest.raises(KeyError, match=r"uns\['spatial'\]"):
        sm.pp.he_patches(grid_adata, size=16)


@pytest.fixture
def with_patches(he_section):
    adata = he_section(n_side=2)
    sm.pp.he_patches(adata, size=16)
    return adata


def test_he_features_weights(with_patches, tmp_path):
    corrupt = tmp_path / "weights.pt"
    corrupt.write_bytes(b"not a state dict")
    with pytest.raises(FileNotFoundError, match="weights_path"):
        sm.pp.he_features(with_patches, "densenet121", weights_path=tmp_path / "missing.pt")
    with pytest.raises(ValueError, match=r"weights_path.*is a folder"):
        sm.pp.he_features(with_patches, "densenet121", weights_path=tmp_path)
    with pytest.raises(ValueError, match="Cannot load the weights file"):
        sm.pp.he_features(with_patches, "densenet121", weights_path=corrupt)
    assert "X_he_densenet121" not in with_patches.obsm


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"encoder": "vit"}, ValueError, "image encoder"),
        ({"encoder": 3}, ValueError, "image encoder"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"device": "gpu0"}, ValueError, "device"),
        ({"patch_key": "nope"}, KeyError, "nope"),
        ({"copy": "no"}, ValueError, "copy"),
    ],
)
def test_he_features_options(with_patches, kwargs, error, match):
    with pytest.raises(error, match=match):
        sm.pp.he_features(with_patches, **kwargs)


# -- references: marker genes and pseudo-spots ---------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"labels_key": "nope"}, KeyError, "nope"),
        ({"genes": []}, ValueError, "genes"),
        ({"genes": ["nope"]}, ValueError, "genes"),
        ({"genes": 3}, ValueError, "genes"),
        ({"n_top": 0}, ValueError, "n_top"),
        ({"n_top": 1.5}, ValueError, "n_top"),
        ({"max_pval": 2}, ValueError, "max_pval"),
        ({"min_log2fc": "x"}, ValueError, "min_log2fc"),
        ({"min_fraction": -1}, ValueError, "min_fraction"),
        ({"min_markers": -1}, ValueError, "min_markers"),
    ],
)
def test_marker_genes_options(grid_adata, kwargs, error, match):
    with pytest.raises(error, match=match):
        sm.pp.marker_genes(grid_adata, **{"labels_key": "domain", **kwargs})


def test_duplicate_gene_names_of_a_reference(grid_adata):
    grid_adata.var_names = ["g"] * grid_adata.n_vars
    for call in (sm.pp.marker_genes, lambda a, k: sm.pp.pseudo_spots(a, k, 10)):
        with pytest.raises(ValueError, match="var_names"):
            call(grid_adata, "domain")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        *[({"n_spots": v}, "n_spots") for v in BAD_INTS],
        *[({"random_state": v}, "random_state") for v in BAD_SEEDS],
        ({"modes": ["bal"]}, "modes"),
        ({"modes": []}, "modes"),
        ({"cells_per_spot": (10,)}, "cells_per_spot"),
        ({"cells_per_spot": (10, -5, 1, 20)}, r"cells_per_spot\[1\]"),
        ({"cells_per_spot": (np.nan, 5, 1, 20)}, r"cells_per_spot\[0\]"),
        ({"cells_per_spot": (10, 5, 5, 2)}, "cells_per_spot"),
        ({"types_per_spot": (5,)}, "types_per_spot"),
        ({"types_per_spot": (np.nan, 1)}, r"types_per_spot\[0\]"),
        ({"library_sizes": np.array([-1.0, 5, 6])}, "library_sizes"),
        ({"library_sizes": np.array([np.nan, 5, 6])}, "library_sizes"),
        ({"library_sizes": np.ones((3, 3))}, "library_sizes"),
        ({"library_sizes": "x"}, "library_sizes"),
        ({"genes": ["nope"]}, "genes"),
    ],
)
def test_pseudo_spots_options(grid_adata, kwargs, match):
    before = grid_adata.copy()
    with pytest.raises(ValueError, match=match):
        sm.pp.pseudo_spots(grid_adata, "domain", **{"n_spots": 10, **kwargs})
    assert _same(grid_adata, before)


def test_pseudo_spots_checks_the_real_spots(grid_adata):
    real = _with_x(grid_adata.copy(), lambda x: x.__setitem__((0, 0), np.nan))
    with pytest.raises(ValueError, match=r"`library_sizes.X` contains 1 NaN"):
        sm.pp.pseudo_spots(grid_adata, "domain", 10, library_sizes=real)
    real = _with_x(grid_adata.copy(), lambda x: x.__setitem__((0, 0), -3))
    with pytest.raises(ValueError, match=r"`library_sizes.X` contains negative"):
        sm.pp.pseudo_spots(grid_adata, "domain", 10, library_sizes=real)


def test_reference_is_left_alone(grid_adata):
    before = grid_adata.copy()
    sm.pp.marker_genes(grid_adata, "domain", min_markers=0)
    sm.pp.pseudo_spots(grid_adata, "domain", 10, library_sizes=grid_adata)
    assert _same(grid_adata, before)


# -- concatenation ---------------------------------------------------------------------------


def test_concat_slices_coordinates_and_keys(grid_adata):
    a, b = grid_adata[:150].copy(), grid_adata[150:].copy()
    bad = b.copy()
    bad.obsm["spatial"] = bad.obsm["spatial"].copy()
    bad.obsm["spatial"][0, 0] = np.nan
    with pytest.raises(ValueError, match=r"`adatas\['1'\].obsm\['spatial'\]` contains NaN"):
        sm.pp.concat_slices([a, bad])
    bad.obsm["spatial"] = b.obsm["spatial"][:, :1]
    with pytest.raises(ValueError, match=r"adatas\['1'\].obsm\['spatial'\]` must have shape"):
        sm.pp.concat_slices([a, bad])
    with pytest.raises(ValueError, match="batch_key"):
        sm.pp.concat_slices([a, b], batch_key=3)
    with pytest.raises(TypeError, match="adatas"):
        sm.pp.concat_slices(x for x in (a, b))
    before = a.copy()
    sm.pp.concat_slices([a, b])
    assert _same(a, before)
