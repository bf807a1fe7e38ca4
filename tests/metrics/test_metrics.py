import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.preprocessing import StandardScaler

import stmin as sm


def test_ari_nmi_ignore_missing():
    truth = np.array(["a", "a", "b", "b", None, "c"], dtype=object)
    pred = np.array([0, 0, 1, 1, 1, 2])
    keep = [0, 1, 2, 3, 5]
    assert sm.metrics.ari(truth, pred) == pytest.approx(
        adjusted_rand_score(truth[keep], pred[keep])
    )
    assert sm.metrics.nmi(truth, pred) == pytest.approx(
        normalized_mutual_info_score(truth[keep], pred[keep])
    )
    with pytest.raises(ValueError, match=r"1 entries.*has 2"):
        sm.metrics.ari([1, 2], [1])


def _chaos_reference(labels, coords):
    z = StandardScaler().fit_transform(coords)
    total = 0.0
    for k in np.unique(labels):
        pts = z[labels == k]
        if len(pts) <= 2:
            continue
        d = cdist(pts, pts)
        np.fill_diagonal(d, np.inf)
        total += d.min(1).sum()
    return total / len(labels)


def _pas_reference(labels, coords, k=10):
    d = cdist(coords, coords)
    np.fill_diagonal(d, np.inf)
    bad = [np.sum(labels[np.argsort(d[i])[:k]] != labels[i]) > k / 2 for i in range(len(labels))]
    return np.mean(bad)


def test_chaos_pas_match_reference():
    rng = np.random.default_rng(0)
    coords = rng.uniform(size=(150, 2)) * [100, 50]
    labels = (coords[:, 0] > 50).astype(int) + 2 * (rng.uniform(size=150) < 0.1)
    assert sm.metrics.chaos(labels, coords) == pytest.approx(_chaos_reference(labels, coords))
    assert sm.metrics.pas(labels, coords) == pytest.approx(_pas_reference(labels, coords))


def test_domain_scores_on_real_labels(small_section):
    small_section.obs["copy"] = small_section.obs["layer_guess"]
    scores = sm.metrics.domain_scores(small_section, "copy", "layer_guess")
    assert scores["ari"] == pytest.approx(1.0) and scores["nmi"] == pytest.approx(1.0)
    assert 0 <= scores["pas"] < 0.2
    only_spatial = sm.metrics.domain_scores(small_section, "copy")
    assert set(only_spatial) == {"chaos", "pas"}
    with pytest.raises(KeyError, match="nope"):
        sm.metrics.domain_scores(small_section, "nope")
