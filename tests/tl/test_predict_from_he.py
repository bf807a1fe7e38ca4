import numpy as np
import pandas as pd
import pytest

import stmin as sm
from stmin.pl._gene_maps import measured_panel

TRAIN = {"enable_progress_bar": False}


@pytest.fixture(scope="module")
def her2st_c(shared_data):
    """Sections C3, C4 and C5 of HER2+ patient C with 32-px patches (each from 224 full-res px)."""
    sections = {}
    for s in ("C3", "C4", "C5"):
        adata = sm.datasets.her2st(s, path=shared_data)
        adata = adata[:, adata.X.getnnz(0) >= 100].copy()  # well-measured genes keep it quick
        sm.pp.he_patches(adata, size=32, patch_fullres=224)
        sections[s] = adata
    return sections


def test_predict_from_he_on_real_sections(her2st_c):
    refs = [her2st_c["C3"].copy(), her2st_c["C4"].copy()]
    query = her2st_c["C5"].copy()
    genes = list(refs[0].var_names.intersection(refs[1].var_names)[:200])
    sm.tl.predict_from_he(
        query, refs, genes=genes, max_epochs=15, accelerator="cpu", train_kwargs=TRAIN
    )
    pred = query.obsm["he_pred"]
    assert isinstance(pred, pd.DataFrame) and pred.shape == (query.n_obs, len(genes))
    assert list(pred.index) == list(query.obs_names)
    record = query.uns["he_pred"]
    assert record["genes"] == genes and record["n_reference_spots"] == sum(r.n_obs for r in refs)
    assert len(record["history"]["train_loss"]) == 15
    truth = measured_panel(query, [g for g in genes if g in query.var_names], None, record)
    scores = sm.metrics.expression_scores(truth, pred[truth.columns])
    assert scores["pcc_all"] > 0.05  # the held-out section's expression is predicted from H&E
    assert "X_he_stats" in refs[0].obsm and "X_he_stats" in query.obsm


def test_gene_maps(her2st_c):
    query = her2st_c["C5"].copy()
    genes = list(query.var_names[:3])
    query.obsm["he_pred"] = pd.DataFrame(
        np.random.default_rng(0).normal(size=(query.n_obs, 3)), index=query.obs_names, columns=genes
    )
    query.uns["he_pred"] = {"genes": genes}
    fig = sm.pl.gene_maps(query, genes[:2], show=False)
    assert len(fig.axes) == 2 * 2 + 4  # measured and predicted rows, with their colour bars
    with pytest.raises(KeyError, match="not in"):
        sm.pl.gene_maps(query, "NOT_A_GENE", show=False)
    with pytest.raises(KeyError, match="predict_from_he"):
        sm.pl.gene_maps(query, genes[0], key="missing", show=False)


def test_predict_from_he_errors(he_section):
    ref, query = he_section("ref"), he_section("query", seed=1)
    for adata in (ref, query):
        sm.pp.he_patches(adata, size=16)
        sm.pp.he_features(adata)
    with pytest.raises(ValueError, match="leaks"):
        sm.tl.predict_from_he(ref, ref)
    with pytest.raises(ValueError, match="leaks"):
        sm.tl.predict_from_he(ref.copy(), [query, ref])
    other = query.copy()
    other.var_names = [f"x{i}" for i in range(other.n_vars)]
    with pytest.raises(ValueError, match="share no genes"):
        sm.tl.predict_from_he(other, ref)
    with pytest.raises(ValueError, match="not measured in every reference"):
        sm.tl.predict_from_he(query, ref, genes=["g0", "nope"])
    empty = ref.copy()
    empty.X = empty.X * 0
    with pytest.raises(ValueError, match="no counts"):
        sm.tl.predict_from_he(query, empty)
    nan = query.copy()
    nan.obsm["X_he_stats"][0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sm.tl.predict_from_he(nan, ref, max_epochs=1, train_kwargs=TRAIN)
    no_image = query.copy()
    del no_image.obsm["X_he_stats"], no_image.obsm["he_patches"], no_image.uns["spatial"]
    with pytest.raises(KeyError, match="uns\\['spatial'\\]"):
        sm.tl.predict_from_he(no_image, ref)
    with pytest.raises(ValueError, match="Unknown method"):
        sm.tl.predict_from_he(query, ref, method="hist2st")


def test_predict_from_he_without_query_genes(he_section):
    ref, query = he_section("ref"), he_section("query", seed=1)
    query = query[:, []].copy()  # an H&E-only section
    out = sm.tl.predict_from_he(
        query, ref, max_epochs=2, accelerator="cpu", train_kwargs=TRAIN, copy=True
    )
    assert out.obsm["he_pred"].shape == (query.n_obs, ref.n_vars)
    assert "he_pred" not in query.obsm
