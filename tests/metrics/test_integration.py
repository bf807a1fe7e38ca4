import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq
from scipy.spatial.distance import cdist

import stmin as sm


def _mixed(n=300, seed=0):
    """Two batches drawn at random on one Gaussian blob."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 5)), rng.integers(0, 2, n)


def _four_blobs(batch_apart: bool, n_per=60, seed=0):
    """Two domains, far apart; batches mixed within each domain or split into far blobs."""
    rng = np.random.default_rng(seed)
    domain = np.repeat([0, 1], 2 * n_per)
    if batch_apart:
        batch = np.tile(np.repeat([0, 1], n_per), 2)
    else:
        batch = rng.integers(0, 2, 4 * n_per)
    centre = np.zeros((4 * n_per, 5))
    centre[:, 0] = 50.0 * domain
    centre[:, 1] = 50.0 * batch * batch_apart
    return centre + rng.normal(size=centre.shape), batch, domain


def _lisi_reference(x, labels, perplexity, k):
    d = cdist(x, x) ** 2
    out = []
    for i in range(len(x)):
        di = np.delete(d[i], i)
        li = np.delete(labels, i)
        order = np.argsort(di)[:k]
        di, li = di[order], li[order]

        def gap(log_beta, di=di):
            p = np.exp(-np.exp(log_beta) * (di - di.min()))
            p /= p.sum()
            return -np.sum(p[p > 0] * np.log(p[p > 0])) - np.log(perplexity)

        p = np.exp(-np.exp(brentq(gap, -30, 30, xtol=1e-12)) * (di - di.min()))
        p /= p.sum()
        out.append(1 / sum(p[li == c].sum() ** 2 for c in np.unique(labels)))
    return np.array(out)


def test_lisi_matches_brute_force():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3))
    labels = rng.integers(0, 3, 40)
    got = sm.metrics.lisi(x, labels, perplexity=5)
    np.testing.assert_allclose(got, _lisi_reference(x, labels, 5, 15), atol=1e-4)
    got = sm.metrics.lisi(x, labels, perplexity=4, n_neighbors=10)
    np.testing.assert_allclose(got, _lisi_reference(x, labels, 4, 10), atol=1e-4)
    assert got.shape == (40,) and np.all((got >= 1 - 1e-9) & (got <= 3 + 1e-9))


def test_lisi_label_types_agree():
    x, batch = _mixed(n=80)
    names = np.array(["a", "b"])[batch]
    ref = sm.metrics.lisi(x, batch, perplexity=10)
    for labels in (names, pd.Categorical(names), pd.Series(names, index=np.arange(80) + 7)):
        np.testing.assert_allclose(sm.metrics.lisi(x, labels, perplexity=10), ref)
    np.testing.assert_allclose(sm.metrics.lisi(x, np.zeros(80), perplexity=10), 1.0)


def test_lisi_small_n_and_large_perplexity():
    x, batch = _mixed(n=20)
    # perplexity beyond the 19 available neighbours: uniform weights
    got = sm.metrics.lisi(x, batch, perplexity=30)
    n1 = np.array([np.delete(batch, i).mean() for i in range(20)])
    np.testing.assert_allclose(got, 1 / (n1**2 + (1 - n1) ** 2))


def test_ilisi_mixed_and_separated():
    x, batch = _mixed()
    assert sm.metrics.ilisi(x, batch, scaled=True) > 0.8
    assert sm.metrics.ilisi(x, batch) == pytest.approx(1 + sm.metrics.ilisi(x, batch, scaled=True))
    x[batch == 1] += 100.0
    assert sm.metrics.ilisi(x, batch) == pytest.approx(1.0, abs=1e-6)
    assert sm.metrics.ilisi(x, batch, scaled=True) == pytest.approx(0.0, abs=1e-6)


def test_f1_lisi():
    x, batch, domain = _four_blobs(batch_apart=False)
    assert sm.metrics.f1_lisi(x, batch, domain) > 0.85
    x, batch, domain = _four_blobs(batch_apart=True)
    assert sm.metrics.f1_lisi(x, batch, domain) < 0.05


def test_batch_asw():
    x, batch, domain = _four_blobs(batch_apart=False)
    assert sm.metrics.batch_asw(x, batch, domain) > 0.9
    x, batch, domain = _four_blobs(batch_apart=True)
    assert sm.metrics.batch_asw(x, batch, domain) < 0.1
    # a label seen in a single batch is skipped
    domain = domain.copy()
    domain[:5] = 2
    batch[:5] = 0
    assert sm.metrics.batch_asw(x, batch, domain) < 0.1


@pytest.mark.parametrize("fn", ["lisi", "ilisi", "f1_lisi", "batch_asw"])
def test_input_errors(fn):
    x, batch = _mixed(n=30)
    f = getattr(sm.metrics, fn)

    def call(x, b):
        return f(x, b) if fn in ("lisi", "ilisi") else f(x, b, b)

    with pytest.raises(ValueError, match=r"29 entries.*has 30"):
        call(x, batch[:29])
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        call(bad, batch)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        call(bad, batch)
    with pytest.raises(ValueError, match=r"[Tt]oo few cells"):
        call(x[:3], batch[:3])
    missing = pd.Categorical(np.where(batch == 0, "a", None))
    with pytest.raises(ValueError, match=r"missing.*drop"):
        call(x, missing)
    if fn != "lisi":
        with pytest.raises(ValueError, match="at least 2"):
            call(x, np.zeros(30))


def test_parameter_errors():
    x, batch = _mixed(n=30)
    with pytest.raises(ValueError, match="perplexity"):
        sm.metrics.lisi(x, batch, perplexity=0.5)
    with pytest.raises(ValueError, match="n_neighbors"):
        sm.metrics.ilisi(x, batch, n_neighbors=0)
    with pytest.raises(ValueError, match=r"labels.*at least 2"):
        sm.metrics.f1_lisi(x, batch, np.zeros(30))
    with pytest.raises(ValueError, match="at least 2 batches"):
        sm.metrics.batch_asw(x, batch, batch)  # every label holds one batch
