import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

import stmin as sm


def _reference_refine(labels, coords, n):
    """The reference algorithm, written out: full distance sort, first-seen tie-break."""
    out = []
    d = np.linalg.norm(coords[:, None] - coords[None], axis=2)
    for i in range(len(labels)):
        order = np.argsort(d[i], kind="stable")
        votes = [labels[j] for j in order if j != i][:n]
        out.append(max(votes, key=votes.count))
    return np.array(out)


def test_refine_matches_reference():
    rng = np.random.default_rng(0)
    coords = rng.uniform(size=(120, 2))
    labels = rng.integers(0, 4, 120).astype(str)
    np.testing.assert_array_equal(
        sm.tl.refine_labels(labels, coords, 9), _reference_refine(labels, coords, 9)
    )


@pytest.mark.parametrize("method", ["gmm", "kmeans", "leiden"])
def test_cluster_embedding_recovers_blobs(method):
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=10, size=(4, 5))
    truth = np.repeat(np.arange(4), 60)
    x = centers[truth] + rng.normal(size=(240, 5))
    labels = sm.tl.cluster_embedding(x, 4, method=method)
    assert adjusted_rand_score(truth, labels) > 0.95
    assert labels.max() == 3


def test_cluster_domains_writes_obs(small_section):
    rng = np.random.default_rng(0)
    small_section.obsm["X_emb"] = rng.normal(size=(small_section.n_obs, 4))
    sm.tl.cluster_domains(small_section, 3, use_rep="X_emb", refine=10, key_added="dom")
    assert small_section.obs["dom"].nunique() <= 3
    assert small_section.uns["dom"]["params"]["refine"] == 10
    with pytest.raises(ValueError, match="method"):
        sm.tl.cluster_domains(small_section, 3, use_rep="X_emb", cluster_method="mclust")
    with pytest.raises(KeyError, match="X_none"):
        sm.tl.cluster_domains(small_section, 3, use_rep="X_none")
    with pytest.raises(ValueError, match="n_neighbors"):
        sm.tl.refine_labels(np.zeros(5), np.zeros((5, 2)), 5)


def test_leiden_above_scanpy_approximate_threshold():
    # scanpy switches to PyNNDescent above 4,096 points, which fails with recent SciPy
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=10, size=(3, 8))
    x = np.concatenate([c + rng.normal(size=(1400, 8)) for c in centers])
    labels = sm.tl.cluster_embedding(x, 3, method="leiden")
    assert np.unique(labels).size == 3
