import numpy as np
import pandas as pd
import pytest

import stmin as sm


def test_gene_pcc_matches_numpy():
    rng = np.random.default_rng(0)
    truth, pred = rng.normal(size=(50, 6)), rng.normal(size=(50, 6))
    pred[:, 0] = truth[:, 0] * 2 + 1
    r = sm.metrics.gene_pcc(truth, pred)
    expected = [np.corrcoef(truth[:, j], pred[:, j])[0, 1] for j in range(6)]
    assert np.allclose(r, expected) and np.isclose(r[0], 1.0)


def test_expression_scores():
    rng = np.random.default_rng(1)
    truth = rng.gamma(2.0, size=(80, 100))
    truth[:, :10] += 50  # the ten most expressed genes
    pred = truth + rng.normal(scale=5.0, size=truth.shape)
    pred[:, 99] = 1.0  # constant prediction: no correlation, left out of the means
    scores = sm.metrics.expression_scores(truth, pred, n_top=10)
    r = sm.metrics.gene_pcc(truth, pred)
    assert scores["n_genes_nan"] == 1
    assert np.isclose(scores["pcc_all"], np.nanmean(r))
    assert np.isclose(scores["pcc_heg"], r[:10].mean())
    assert np.isclose(scores["mse"], np.mean((truth - pred) ** 2))
    assert np.isclose(scores["mae"], np.mean(np.abs(truth - pred)))


def test_expression_score_errors():
    with pytest.raises(ValueError, match="differ in shape"):
        sm.metrics.gene_pcc(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        sm.metrics.expression_scores(np.full((3, 2), np.nan), np.zeros((3, 2)))
    a = pd.DataFrame(np.eye(3), columns=["a", "b", "c"])
    with pytest.raises(ValueError, match="share no genes"):
        sm.metrics.gene_pcc_table(a, a.rename(columns=str.upper))
