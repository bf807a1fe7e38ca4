import anndata as ad
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import cdist

import stmin as sm


def _brute_knn(coords, k):
    d = cdist(coords, coords)
    np.fill_diagonal(d, np.inf)
    a = np.zeros_like(d, dtype=bool)
    nn = np.argsort(d, axis=1, kind="stable")[:, :k]
    a[np.repeat(np.arange(len(d)), k), nn.ravel()] = True
    return a | a.T


def _adata(coords):
    a = ad.AnnData(np.zeros((len(coords), 1), dtype=np.float32))
    a.obsm["spatial"] = coords
    return a


def test_knn_matches_brute_force():
    coords = np.random.default_rng(0).uniform(size=(150, 2))
    adata = _adata(coords)
    sm.pp.spatial_graph(adata, n_neighs=7)
    conn = adata.obsp["spatial_connectivities"]
    np.testing.assert_array_equal(conn.toarray() > 0, _brute_knn(coords, 7))
    assert set(np.unique(conn.data)) == {1.0}
    assert conn.diagonal().sum() == 0
    dist = adata.obsp["spatial_distances"].toarray()
    full = cdist(coords, coords)
    np.testing.assert_allclose(dist[conn.toarray() > 0], full[conn.toarray() > 0])
    assert adata.uns["spatial_neighbors"]["connectivities_key"] == "spatial_connectivities"
    assert adata.uns["spatial_neighbors"]["params"]["n_neighs"] == 7


def test_knn_directed_matches_squidpy():
    sq = pytest.importorskip("squidpy")
    coords = np.random.default_rng(1).uniform(size=(120, 2))
    ours, theirs = _adata(coords), _adata(coords)
    sm.pp.spatial_graph(ours, n_neighs=6, symmetric=False)
    sq.gr.spatial_neighbors(theirs, n_neighs=6, coord_type="generic")
    assert (
        ours.obsp["spatial_connectivities"] != (theirs.obsp["spatial_connectivities"] > 0)
    ).nnz == 0


def test_radius_matches_brute_force():
    coords = np.random.default_rng(2).uniform(size=(100, 2))
    adata = _adata(coords)
    sm.pp.spatial_graph(adata, method="radius", radius=0.15)
    d = cdist(coords, coords)
    expected = (d <= 0.15) & ~np.eye(len(d), dtype=bool)
    np.testing.assert_array_equal(adata.obsp["spatial_connectivities"].toarray() > 0, expected)


def test_grid_hex_and_square():
    # Visium-like hexagonal lattice: 6 neighbours inside, 18 within two rings
    rows, cols = np.meshgrid(np.arange(12), np.arange(12), indexing="ij")
    hex_xy = np.c_[cols.ravel() + 0.5 * (rows.ravel() % 2), rows.ravel() * np.sqrt(3) / 2]
    adata = _adata(hex_xy * 100.0)
    sm.pp.spatial_graph(adata, method="grid")
    deg = np.asarray(adata.obsp["spatial_connectivities"].sum(1)).ravel()
    interior = (rows.ravel() > 2) & (rows.ravel() < 9) & (cols.ravel() > 2) & (cols.ravel() < 9)
    assert set(deg[interior]) == {6}
    sm.pp.spatial_graph(adata, method="grid", n_rings=2)
    deg = np.asarray(adata.obsp["spatial_connectivities"].sum(1)).ravel()
    assert set(deg[interior]) == {18}
    # ST-like square lattice: 4 neighbours
    sq = _adata(np.c_[cols.ravel(), rows.ravel()].astype(float))
    sm.pp.spatial_graph(sq, method="grid")
    deg = np.asarray(sq.obsp["spatial_connectivities"].sum(1)).ravel()
    assert set(deg[interior]) == {4}


def test_library_key_block_diagonal():
    rng = np.random.default_rng(3)
    coords = rng.uniform(size=(80, 2))
    adata = _adata(np.r_[coords, coords])
    adata.obs["slice"] = ["a"] * 80 + ["b"] * 80
    sm.pp.spatial_graph(adata, n_neighs=5, library_key="slice")
    conn = adata.obsp["spatial_connectivities"].toarray()
    assert conn[:80, 80:].sum() == 0 and conn[80:, :80].sum() == 0
    np.testing.assert_array_equal(conn[:80, :80], conn[80:, 80:])
    np.testing.assert_array_equal(conn[:80, :80] > 0, _brute_knn(coords, 5))


def test_duplicated_spots_keep_k_neighbours():
    coords = np.r_[np.zeros((4, 2)), np.random.default_rng(4).uniform(size=(20, 2))]
    adata = _adata(coords)
    sm.pp.spatial_graph(adata, n_neighs=3, symmetric=False)
    assert (np.asarray(adata.obsp["spatial_connectivities"].sum(1)).ravel() == 3).all()
    assert adata.obsp["spatial_connectivities"].diagonal().sum() == 0


def test_real_section_graph(small_section):
    sm.pp.spatial_graph(small_section, n_neighs=12)
    conn = small_section.obsp["spatial_connectivities"]
    assert sp.issparse(conn) and conn.shape == (small_section.n_obs,) * 2
    assert (conn != conn.T).nnz == 0
    assert np.asarray(conn.sum(1)).min() >= 12


def test_copy_leaves_input_untouched():
    adata = _adata(np.random.default_rng(5).uniform(size=(30, 2)))
    out = sm.pp.spatial_graph(adata, copy=True)
    assert "spatial_connectivities" not in adata.obsp
    assert "spatial_connectivities" in out.obsp


def test_errors():
    adata = _adata(np.random.default_rng(6).uniform(size=(10, 2)))
    with pytest.raises(KeyError, match=r"obsm\['coords'\]"):
        sm.pp.spatial_graph(adata, spatial_key="coords")
    with pytest.raises(ValueError, match="n_neighs"):
        sm.pp.spatial_graph(adata, n_neighs=10)
    with pytest.raises(ValueError, match="radius"):
        sm.pp.spatial_graph(adata, method="radius")
    with pytest.raises(ValueError, match="method"):
        sm.pp.spatial_graph(adata, method="delaunay")
    with pytest.raises(KeyError, match=r"obs\['batch'\]"):
        sm.pp.spatial_graph(adata, library_key="batch")
    bad = adata.copy()
    bad.obsm["spatial"][0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sm.pp.spatial_graph(bad)
    bad = adata.copy()
    bad.obsm["spatial"] = np.zeros((10, 4))
    with pytest.raises(ValueError, match="shape"):
        sm.pp.spatial_graph(bad)
    with pytest.raises(ValueError, match="view"):
        sm.pp.spatial_graph(adata[:5])
    dup = adata.copy()
    dup.obs_names = ["a"] * 10
    with pytest.raises(ValueError, match="obs_names_make_unique"):
        sm.pp.spatial_graph(dup)


def test_grid_on_jittered_st_array(shared_data):
    """Spot centres of an original-ST section in image pixels are jittered around a square lattice."""
    adata = sm.datasets.her2st("H1", path=shared_data)
    sm.pp.spatial_graph(adata, method="grid")
    deg = np.asarray(adata.obsp["spatial_connectivities"].sum(1)).ravel()
    assert deg.max() <= 5 and (deg == 0).sum() == 0
    assert np.mean(deg == 4) > 0.75
