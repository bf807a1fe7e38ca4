import numpy as np
import pytest
import scipy.sparse as sp

import stmin as sm


def test_pca_input_from_counts(small_section):
    x_before = small_section.X.copy()
    sm.pp.stmgac_preprocess(small_section, n_top_genes=500, n_comps=50)
    z = small_section.obsm["X_stmgac_input"]
    assert z.shape == (small_section.n_obs, 50) and z.dtype == np.float32
    assert np.isfinite(z).all()
    # input untouched, and the genes used are recorded
    assert (small_section.X != x_before).nnz == 0
    rec = small_section.uns["stmgac_input"]
    assert len(rec["genes"]) == 500 and rec["params"]["log1p"] is False


def test_scaled_mode_and_layer(small_section):
    small_section.layers["counts"] = small_section.X.copy()
    small_section.X = sp.csr_matrix(small_section.X.shape, dtype=np.float32)
    sm.pp.stmgac_preprocess(
        small_section, layer="counts", mode="scaled", n_top_genes=300, min_cells=5
    )
    x = small_section.obsm["X_stmgac_input"]
    assert x.shape == (small_section.n_obs, 300)
    np.testing.assert_allclose(x.mean(0), 0, atol=1e-4)


def test_seeded_pca_is_reproducible(small_section):
    a = sm.pp.stmgac_preprocess(small_section, n_comps=20, copy=True).obsm["X_stmgac_input"]
    b = sm.pp.stmgac_preprocess(small_section, n_comps=20, copy=True).obsm["X_stmgac_input"]
    np.testing.assert_array_equal(a, b)


def test_errors(small_section):
    with pytest.raises(KeyError, match="layers\\['raw'\\]"):
        sm.pp.stmgac_preprocess(small_section, layer="raw")
    with pytest.raises(ValueError, match="mode"):
        sm.pp.stmgac_preprocess(small_section, mode="log")
    neg = small_section.copy()
    neg.X = neg.X.copy()
    neg.X.data[0] = -1
    with pytest.raises(ValueError, match="negative"):
        sm.pp.stmgac_preprocess(neg)
    nan = small_section.copy()
    nan.X.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sm.pp.stmgac_preprocess(nan)
    normed = small_section.copy()
    normed.X.data = normed.X.data * 0.37
    with pytest.raises(ValueError, match="not integer-valued"):
        sm.pp.stmgac_preprocess(normed)
    with pytest.raises(ValueError, match="genes are detected"):
        sm.pp.stmgac_preprocess(small_section, min_counts=10**9)


def test_matches_the_scanpy_pipeline_of_the_original(small_section):
    """filter → normalize_total(1e6) → seurat_v3 HVGs on counts → subset → scale, as in scanpy."""
    import scanpy as sc

    ref = small_section.copy()
    ref.layers["count"] = ref.X.copy()
    sc.pp.filter_genes(ref, min_cells=50)
    sc.pp.filter_genes(ref, min_counts=10)
    sc.pp.normalize_total(ref, target_sum=1e6)
    sc.pp.highly_variable_genes(ref, flavor="seurat_v3", layer="count", n_top_genes=400)
    ref = ref[:, ref.var["highly_variable"]].copy()
    sc.pp.scale(ref)
    ours = sm.pp.stmgac_preprocess(small_section, n_top_genes=400, mode="scaled", copy=True)
    assert ours.uns["stmgac_input"]["genes"] == ref.var_names.tolist()
    np.testing.assert_allclose(ours.obsm["X_stmgac_input"], np.asarray(ref.X), rtol=1e-4, atol=1e-4)
