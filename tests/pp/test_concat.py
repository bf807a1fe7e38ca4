import numpy as np
import pytest
import scipy.sparse as sp

import stmin as sm


@pytest.fixture
def pieces(bundled):
    """The bundled DLPFC section cut into 3 horizontal bands of spots."""
    row = bundled.obs["array_row"].to_numpy()
    cuts = [row < 25, (row >= 25) & (row < 50), row >= 50]
    return [bundled[cut].copy() for cut in cuts]


def test_list_of_pieces(pieces, bundled):
    out = sm.pp.concat_slices(pieces)
    assert out.shape == (bundled.n_obs, bundled.n_vars)
    assert out.var_names.equals(bundled.var_names)
    assert list(out.var.columns) == ["gene_symbols"]
    assert list(out.obs["slice"].cat.categories) == ["0", "1", "2"]
    assert out.obs["slice"].value_counts(sort=False).tolist() == [p.n_obs for p in pieces]
    assert set(out.obs.columns) == {"layer_guess", "array_row", "array_col", "slice"}
    # no collision: spot names kept; counts and coordinates unchanged
    order = np.concatenate([p.obs_names for p in pieces])
    assert out.obs_names.tolist() == order.tolist()
    ref = bundled[order]
    assert sp.issparse(out.X) and out.X.dtype == np.float32
    assert (out.X != ref.X).nnz == 0
    np.testing.assert_array_equal(out.obsm["spatial"], ref.obsm["spatial"])
    assert (
        out.obs["layer_guess"].astype(str).tolist() == ref.obs["layer_guess"].astype(str).tolist()
    )
    # the pieces share one library: kept once, other uns dropped
    assert list(out.uns) == ["spatial"]
    assert list(out.uns["spatial"]) == ["151673"]
    np.testing.assert_array_equal(
        out.uns["spatial"]["151673"]["images"]["lowres"],
        bundled.uns["spatial"]["151673"]["images"]["lowres"],
    )
    assert list(out.obsm) == ["spatial"] and len(out.obsp) == 0


def test_dict_with_different_genes_logs_and_intersects(pieces, stmin_logs):
    a, b, c = pieces
    b = b[:, 500:].copy()
    c = c[:, ::-1][:, 200:2800].copy()  # other order, other genes
    out = sm.pp.concat_slices({"top": a, "mid": b, "low": c}, batch_key="section")
    expected = a.var_names[500:2800]
    assert out.var_names.equals(expected)
    assert list(out.obs["section"].cat.categories) == ["top", "mid", "low"]
    assert (out[out.obs["section"] == "low"].X != c[:, expected].X).nnz == 0
    text = stmin_logs.text
    assert "'top': 3000, 'mid': 2500, 'low': 2600" in text
    assert "2300 shared by all" in text


def test_inputs_are_not_modified(pieces):
    before = [(p.shape, list(p.obs.columns), p.obs_names.copy(), p.X.copy()) for p in pieces]
    pieces[0].obsm["X_pca"] = np.zeros((pieces[0].n_obs, 3))
    out = sm.pp.concat_slices(pieces)
    out.obs["new"] = 1
    out.X.data[:] = 0
    for p, (shape, cols, names, x) in zip(pieces, before, strict=True):
        assert p.shape == shape and list(p.obs.columns) == cols
        assert p.obs_names.equals(names) and (p.X != x).nnz == 0
    assert "X_pca" not in out.obsm


def test_colliding_names_are_prefixed(pieces):
    piece = pieces[0]
    out = sm.pp.concat_slices({"r1": piece, "r2": piece})
    assert out.obs_names.is_unique
    assert out.obs_names[: piece.n_obs].tolist() == [f"r1-{n}" for n in piece.obs_names]
    assert out.obs_names[piece.n_obs :].tolist() == [f"r2-{n}" for n in piece.obs_names]


def test_only_shared_obs_columns_and_dense_x(pieces):
    a, b = pieces[0].copy(), pieces[1].copy()
    a.obs["only_a"] = 1.0
    a.X, b.X = a.X.toarray(), b.X.toarray()
    out = sm.pp.concat_slices([a, b])
    assert "only_a" not in out.obs
    assert isinstance(out.X, np.ndarray)
    np.testing.assert_array_equal(out.X, np.vstack([a.X, b.X]))


def test_spatial_uns_merged_by_library(pieces, stmin_logs):
    a, b, c = (p.copy() for p in pieces)
    b.uns["spatial"] = {"B": b.uns["spatial"]["151673"]}
    c.uns["spatial"]["151673"]["scalefactors"]["tissue_lowres_scalef"] = 1.0  # differs from a's
    del pieces[0].uns["spatial"]
    out = sm.pp.concat_slices({"a": a, "b": b, "c": c, "d": pieces[0]})
    assert list(out.uns["spatial"]) == ["151673", "B", "c-151673"]
    scalef = pieces[1].uns["spatial"]["151673"]["scalefactors"]["tissue_lowres_scalef"]
    assert out.uns["spatial"]["151673"]["scalefactors"]["tissue_lowres_scalef"] == scalef
    assert out.uns["spatial"]["c-151673"]["scalefactors"]["tissue_lowres_scalef"] == 1.0
    assert "stored as uns['spatial']['c-151673']" in stmin_logs.text


def test_without_spatial_uns(pieces):
    for p in pieces:
        del p.uns["spatial"]
    assert "spatial" not in sm.pp.concat_slices(pieces).uns


def test_stahl_four_sections(shared_data):
    bc = sm.datasets.stahl2016_breast_cancer(path=shared_data)
    sections = {s: bc[bc.obs["slice"] == s] for s in ["1", "2", "3", "4"]}
    with pytest.raises(ValueError, match=r"already has a column `obs\['slice'\]`"):
        sm.pp.concat_slices(sections)
    for s, adata in sections.items():
        sections[s] = adata.copy()
        del sections[s].obs["slice"]
    out = sm.pp.concat_slices(sections)
    assert out.shape == (1031, 13360)
    assert out.obs["slice"].value_counts(sort=False).tolist() == [254, 251, 264, 262]
    assert out.obs_names.equals(bc.obs_names)
    assert (out.X != bc.X).nnz == 0
    np.testing.assert_array_equal(out.obsm["spatial"], bc.obsm["spatial"])
    assert out.obs["slice"].equals(bc.obs["slice"])


# --- errors ------------------------------------------------------------------------------------


def test_fewer_than_two(pieces):
    with pytest.raises(ValueError, match="at least 2 slices, got 1"):
        sm.pp.concat_slices(pieces[:1])
    with pytest.raises(ValueError, match="at least 2 slices, got 0"):
        sm.pp.concat_slices({})


def test_not_a_collection(pieces):
    with pytest.raises(TypeError, match="list of AnnData or a dict"):
        sm.pp.concat_slices(pieces[0])
    with pytest.raises(TypeError, match=r"`adatas\['1'\]` must be an AnnData"):
        sm.pp.concat_slices([pieces[0], "nope"])


def test_empty_slice(pieces):
    with pytest.raises(ValueError, match=r"`adatas\['b'\]` is empty \(0 observations"):
        sm.pp.concat_slices({"a": pieces[0], "b": pieces[1][:0]})


def test_missing_spatial(pieces):
    del pieces[2].obsm["spatial"]
    with pytest.raises(ValueError, match=r"slice '2' has no `obsm\['spatial'\]`"):
        sm.pp.concat_slices(pieces)


def test_spatial_dimensions_differ(pieces):
    pieces[1].obsm["spatial"] = np.c_[pieces[1].obsm["spatial"], np.zeros(pieces[1].n_obs)]
    with pytest.raises(ValueError, match=r"different numbers of columns \(\[2, 3\]\)"):
        sm.pp.concat_slices(pieces)


def test_batch_key_exists(pieces):
    pieces[1].obs["batch"] = "x"
    with pytest.raises(ValueError, match=r"slice '1' already has a column `obs\['batch'\]`"):
        sm.pp.concat_slices(pieces, batch_key="batch")


def test_no_shared_gene(pieces):
    a, b = pieces[0], pieces[1].copy()
    b.var_names = b.var["gene_symbols"].astype(str) + "_sym"
    with pytest.raises(ValueError, match=r"no gene is shared by all slices \('x', 'y'\)") as err:
        sm.pp.concat_slices({"x": a, "y": b})
    assert "same gene identifiers" in str(err.value)


def test_duplicate_names(pieces):
    with pytest.raises(ValueError, match="two slices are named '1'"):
        sm.pp.concat_slices({1: pieces[0], "1": pieces[1]})
    dup = pieces[0].copy()
    dup.obs_names = ["s"] * dup.n_obs
    with pytest.raises(ValueError, match=r"`adatas\['0'\].obs_names` are not unique"):
        sm.pp.concat_slices([dup, pieces[1]])
    dup = pieces[1].copy()
    dup.var_names = ["g"] * dup.n_vars
    with pytest.raises(ValueError, match="slice '1' has duplicate `var_names`"):
        sm.pp.concat_slices([pieces[0], dup])


def test_outer_join_refused(pieces):
    with pytest.raises(ValueError, match="join='outer' is not supported"):
        sm.pp.concat_slices(pieces, join="outer")
