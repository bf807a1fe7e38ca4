import anndata as ad
import numpy as np
import pytest
import scipy.sparse as sp

import stmin as sm


def _tiny(n_per_type=(5, 3, 2), n_genes=6, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.repeat(["a", "b", "c"][: len(n_per_type)], n_per_type)
    counts = rng.poisson(3.0, (len(labels), n_genes)).astype(np.float32)
    adata = ad.AnnData(sp.csr_matrix(counts))
    adata.obs_names = [f"c{i}" for i in range(adata.n_obs)]
    adata.var_names = [f"g{j}" for j in range(n_genes)]
    adata.obs["cell_type"] = labels
    return adata


def test_pseudo_spots_are_sums_of_cells_of_their_types():
    ref = _tiny()
    spots = sm.pp.pseudo_spots(ref, "cell_type", 300, cells_per_spot=(3, 1, 1, 5), random_state=1)
    props = spots.obsm["proportions"]
    assert list(props.columns) == ["a", "b", "c"] and np.allclose(props.sum(1), 1)
    n_cells = spots.obs["n_cells"].to_numpy()
    assert n_cells.min() >= 1 and n_cells.max() <= 5
    assert np.allclose(props.to_numpy() * n_cells[:, None], np.rint(props * n_cells[:, None]))
    # a spot's library is the sum of n_cells reference cells
    lib, cell_lib = np.asarray(spots.X.sum(1)).ravel(), np.asarray(ref.X.sum(1)).ravel()
    assert (lib >= n_cells * cell_lib.min() - 1e-6).all()
    assert (lib <= n_cells * cell_lib.max() + 1e-6).all()
    assert set(spots.obs["mode"]) == {"unbalance", "sqrt", "balance"}


def test_modes_change_the_type_mix():
    ref = _tiny(n_per_type=(40, 4, 4))
    kw = {"cells_per_spot": (4, 1, 1, 6), "types_per_spot": (0.5, 0.01), "random_state": 0}
    unbalanced = sm.pp.pseudo_spots(ref, "cell_type", 600, modes=["unbalance"], **kw)
    balanced = sm.pp.pseudo_spots(ref, "cell_type", 600, modes=["balance"], **kw)
    assert unbalanced.obsm["proportions"]["a"].mean() > 0.7
    assert abs(balanced.obsm["proportions"]["a"].mean() - 1 / 3) < 0.08


def test_seeded_and_library_matched(hippocampus):
    ref, st = hippocampus
    a = sm.pp.pseudo_spots(ref, "cell_type", 200, library_sizes=st, random_state=3)
    b = sm.pp.pseudo_spots(ref, "cell_type", 200, library_sizes=st, random_state=3)
    assert (a.X != b.X).nnz == 0
    assert set(a.var_names) == set(ref.var_names) & set(st.var_names)
    real = np.asarray(st[:, a.var_names].X.sum(1)).ravel()
    sim = np.asarray(a.X.sum(1)).ravel()
    raw = sm.pp.pseudo_spots(ref, "cell_type", 200, genes=a.var_names, random_state=3)
    # down-sampling brings the pseudo-spots' median library size to the real spots' scale
    assert abs(np.log(np.median(sim) / np.median(real))) < abs(
        np.log(np.median(np.asarray(raw.X.sum(1))) / np.median(real))
    )
    assert np.all(a.X.data == np.round(a.X.data))
    assert a.obsm["proportions"].shape == (200, ref.obs["cell_type"].nunique())


def test_pseudo_spot_errors():
    ref = _tiny()
    with pytest.raises(KeyError, match="labels_key"):
        sm.pp.pseudo_spots(ref, "type", 10)
    one = ref.copy()
    one.obs["cell_type"] = "a"
    with pytest.raises(ValueError, match="single cell type"):
        sm.pp.pseudo_spots(one, "cell_type", 10)
    scaled = ref.copy()
    scaled.X = scaled.X * 0.5
    with pytest.raises(ValueError, match="raw counts"):
        sm.pp.pseudo_spots(scaled, "cell_type", 10)
    nan = ref.copy()
    nan.X = nan.X.toarray()
    nan.X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sm.pp.pseudo_spots(nan, "cell_type", 10)
    with pytest.raises(ValueError, match="empty"):
        sm.pp.pseudo_spots(ref[:0].copy(), "cell_type", 10)
    with pytest.raises(ValueError, match=r"not in `adata_sc\.var_names`"):
        sm.pp.pseudo_spots(ref, "cell_type", 10, genes=["g0", "nope"])
    with pytest.raises(ValueError, match="modes"):
        sm.pp.pseudo_spots(ref, "cell_type", 10, modes=["random"])
    other = ad.AnnData(sp.csr_matrix(np.ones((3, 2), dtype=np.float32)))
    other.var_names = ["x", "y"]
    with pytest.raises(ValueError, match="share no genes"):
        sm.pp.pseudo_spots(ref, "cell_type", 10, library_sizes=other)
