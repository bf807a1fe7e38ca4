"""MACD against non-negative least squares on spots of known composition (real hippocampus cells)."""

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import nnls

import stmin as sm

LABELS = "cell_type"


def _held_out_spots(ref: ad.AnnData, st: ad.AnnData, n_spots: int):
    """Half of each cell type for training, pseudo-spots of the other half as test spots."""
    rng = np.random.default_rng(0)
    labels = ref.obs[LABELS].astype(str).to_numpy()
    train = np.zeros(ref.n_obs, dtype=bool)
    for t in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == t))
        train[idx[: idx.size // 2]] = True
    genes = list(ref.var_names.intersection(st.var_names, sort=False))
    spots = sm.pp.pseudo_spots(
        ref[~train].copy(), LABELS, n_spots, genes=genes, library_sizes=st, random_state=1
    )
    test = ad.AnnData(spots.X, obs=pd.DataFrame(index=spots.obs_names), var=spots.var)
    return ref[train].copy(), test, spots.obsm["proportions"]


def _nnls(ref: ad.AnnData, test: ad.AnnData) -> pd.DataFrame:
    """Per-type mean library-normalised profiles; each spot fitted by NNLS, normalised to 1."""
    x = ref[:, test.var_names].X.toarray()
    x = x / np.clip(x.sum(1, keepdims=True), 1, None)
    labels = ref.obs[LABELS].astype(str).to_numpy()
    types = sorted(np.unique(labels))
    profiles = np.stack([x[labels == t].mean(0) for t in types], 1)
    y = test.X.toarray()
    y = y / np.clip(y.sum(1, keepdims=True), 1, None)
    coef = np.array([nnls(profiles, row)[0] for row in y])
    return pd.DataFrame(coef / coef.sum(1, keepdims=True), index=test.obs_names, columns=types)


def _scores(pred: pd.DataFrame, truth: pd.DataFrame) -> dict:
    return sm.metrics.deconvolution_scores(truth, pred[truth.columns])


def test_macd_is_close_to_nnls_on_a_short_schedule(hippocampus):
    """3,000 pseudo-spots and 40 epochs of batches of 256 (about 35 s on one core).

    Over seeds 0–3 this schedule gave PCC 0.738, 0.742, 0.719 and 0.676 against NNLS's 0.718,
    so the check allows 0.05 below NNLS; the full schedule is compared in the slow test below
    and in ``benchmarks/deconvolution.py``.
    """
    ref, st = hippocampus
    train, test, truth = _held_out_spots(ref, st, 300)
    baseline = _scores(_nnls(train, test), truth)
    out = sm.tl.macd_deconvolve(
        test,
        train,
        LABELS,
        n_spots=3000,
        max_epochs=40,
        batch_size=256,
        copy=True,
        train_kwargs={"enable_progress_bar": False},
    )
    macd = _scores(out.obsm["macd_deconvolve"], truth)
    assert baseline["pcc"] > 0.6  # the test spots are informative
    assert macd["pcc"] >= baseline["pcc"] - 0.05, (macd, baseline)
    # a model that learnt nothing predicts the average composition for every spot
    average = pd.DataFrame(
        np.tile(truth.mean().to_numpy(), (len(truth), 1)), index=truth.index, columns=truth.columns
    )
    assert macd["jsd"] < _scores(average, truth)["jsd"] - 0.1


@pytest.mark.slow
def test_macd_matches_nnls_at_the_paper_schedule(hippocampus):
    ref, st = hippocampus
    train, test, truth = _held_out_spots(ref, st, 1000)
    baseline = _scores(_nnls(train, test), truth)["pcc"]
    out = sm.tl.macd_deconvolve(
        test, train, LABELS, copy=True, train_kwargs={"enable_progress_bar": False}
    )
    assert _scores(out.obsm["macd_deconvolve"], truth)["pcc"] >= baseline - 0.02
