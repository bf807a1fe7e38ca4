import numpy as np
import pandas as pd
import pytest

import stmin as sm


def _props(n=40, k=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(k), n)


def test_perfect_estimate_scores_best():
    truth = _props()
    scores = sm.metrics.deconvolution_scores(truth, truth)
    assert np.isclose(scores["pcc"], 1) and np.isclose(scores["pcc_spot"], 1)
    assert np.isclose(scores["ssim"], 1)
    assert scores["rmse"] == 0 and abs(scores["jsd"]) < 1e-12 and abs(scores["jsd_type"]) < 1e-12


def test_scores_match_their_definitions():
    truth, pred = _props(seed=1), _props(seed=2)
    s = sm.metrics.deconvolution_scores(truth, pred)
    pcc = np.mean([np.corrcoef(truth[:, j], pred[:, j])[0, 1] for j in range(4)])
    rmse = np.mean(np.sqrt(((truth - pred) ** 2).mean(0)))
    m = (truth + pred) / 2
    kl = lambda a, b: (a * np.log2(a / b)).sum(1)  # noqa: E731
    jsd = np.mean(0.5 * kl(truth, m) + 0.5 * kl(pred, m))
    assert np.isclose(s["pcc"], pcc) and np.isclose(s["rmse"], rmse) and np.isclose(s["jsd"], jsd)
    assert 0 <= s["jsd"] <= 1 and s["ssim"] < 1


def test_dataframes_are_aligned_and_checked():
    truth = pd.DataFrame(_props(), columns=list("abcd"))
    shuffled = truth[list("dcba")].sample(frac=1, random_state=0)
    assert np.isclose(sm.metrics.deconvolution_scores(truth, shuffled)["pcc"], 1)
    with pytest.raises(ValueError, match="different cell types"):
        sm.metrics.deconvolution_scores(truth, truth.rename(columns={"a": "z"}))
    with pytest.raises(ValueError, match="must have the same shape"):
        sm.metrics.deconvolution_scores(np.ones((3, 2)), np.ones((3, 3)))


def test_accuracy_score_ranks_methods():
    table = pd.DataFrame(
        {"pcc": [0.9, 0.5, 0.7], "ssim": [0.8, 0.4, 0.6], "rmse": [0.1, 0.3, 0.2],
         "jsd": [0.05, 0.2, 0.1]},
        index=["best", "worst", "middle"],
    )  # fmt: skip
    score = sm.metrics.accuracy_score(table)
    assert score["best"] == 1 and score["worst"] == pytest.approx(1 / 3)
    assert score["best"] > score["middle"] > score["worst"]
    with pytest.raises(KeyError, match="not columns"):
        sm.metrics.accuracy_score(table[["pcc"]])
