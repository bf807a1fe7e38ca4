import anndata as ad
import numpy as np
import pytest
import scipy.sparse as sp

import stmin as sm

FAST = {
    "n_spots": 300,
    "max_epochs": 2,
    "batch_size": 256,
    "model_kwargs": {"n_hidden": 32, "n_latent": 16},
    "train_kwargs": {"enable_progress_bar": False},
}


def test_writes_proportions_for_every_spot(hippocampus, tmp_path, caplog):
    ref, st = hippocampus
    counts = st.X.toarray()
    counts[:2] = 0  # two spots without counts
    st.X = sp.csr_matrix(counts)
    with caplog.at_level("WARNING", logger="stmin"):
        sm.tl.macd_deconvolve(st, ref, "cell_type", **FAST)
    assert "2 spots have no counts" in caplog.text
    props = st.obsm["macd_deconvolve"]
    types = sorted(ref.obs["cell_type"].unique())
    assert list(props.index) == list(st.obs_names) and list(props.columns) == types
    assert np.allclose(props.sum(1), 1)
    assert np.allclose(props.iloc[:2], 1 / len(types))
    record = st.uns["macd_deconvolve"]
    assert record["cell_types"] == types and record["n_empty_spots"] == 2
    assert set(record["genes"]) <= set(st.var_names) & set(ref.var_names)
    assert record["simulation"]["n_spots"] == 300 and "prediction_train" in record["history"]
    st.write_h5ad(tmp_path / "st.h5ad")
    assert ad.read_h5ad(tmp_path / "st.h5ad").obsm["macd_deconvolve"].shape == props.shape


def test_seeded(hippocampus):
    ref, st = hippocampus
    a = sm.tl.macd_deconvolve(st, ref, "cell_type", copy=True, **FAST)
    b = sm.tl.macd_deconvolve(st, ref, "cell_type", copy=True, **FAST)
    assert np.allclose(a.obsm["macd_deconvolve"], b.obsm["macd_deconvolve"], atol=1e-5)
    assert "macd_deconvolve" not in st.obsm


def _ref_with(ref, **obs):
    ref = ref.copy()
    for key, value in obs.items():
        ref.obs[key] = value
    return ref


def test_errors(hippocampus):
    ref, st = hippocampus
    run = sm.tl.macd_deconvolve
    renamed = ref.copy()
    renamed.var_names = [f"x{i}" for i in range(ref.n_vars)]
    with pytest.raises(ValueError, match="share no genes"):
        run(st.copy(), renamed, "cell_type", **FAST)
    with pytest.raises(KeyError, match="celltype"):
        run(st.copy(), ref, "celltype", **FAST)
    with pytest.raises(ValueError, match="single cell type"):
        run(st.copy(), _ref_with(ref, one="T"), "one", **FAST)
    lonely = ref.obs["cell_type"].astype(str).to_numpy().copy()
    lonely[0] = "Unique"
    with pytest.raises(ValueError, match="Unique"):
        run(st.copy(), _ref_with(ref, ct=lonely), "ct", **FAST)
    normalised = st.copy()
    normalised.X = normalised.X.multiply(1 / normalised.X.sum(1)).tocsr()
    with pytest.raises(ValueError, match="raw counts"):
        run(normalised, ref, "cell_type", **FAST)
    nan = ref.copy()
    nan.X = nan.X.toarray()
    nan.X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        run(st.copy(), nan, "cell_type", **FAST)
    with pytest.raises(ValueError, match="empty"):
        run(st[:0].copy(), ref, "cell_type", **FAST)
    with pytest.raises(ValueError, match="view"):
        run(st[:10], ref, "cell_type", **FAST)
