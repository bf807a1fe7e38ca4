"""The cut between two groups of scores: where two fitted Gaussians are equally likely."""

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import norm

from stmin._cluster import mixture_threshold


def _quantiles(n: int, mean: float, sd: float) -> np.ndarray:
    """``n`` evenly spread quantiles of N(mean, sd²): a sample without sampling noise."""
    return mean + sd * norm.ppf((np.arange(n) + 0.5) / n)


def test_equal_components_cut_at_the_midpoint():
    scores = np.r_[_quantiles(2000, -1.0, 1.0), _quantiles(2000, 3.0, 1.0)]
    assert mixture_threshold(scores) == pytest.approx(1.0, abs=0.01)


def test_unequal_components_cut_where_the_weighted_densities_meet():
    """0.7 N(0, 1) + 0.3 N(4, 0.5²): the Bayes boundary, found here by root finding."""
    w0, m0, s0, w1, m1, s1 = 0.7, 0.0, 1.0, 0.3, 4.0, 0.5
    scores = np.r_[_quantiles(7000, m0, s0), _quantiles(3000, m1, s1)]

    def log_ratio(t):
        return np.log(w0 * norm.pdf(t, m0, s0)) - np.log(w1 * norm.pdf(t, m1, s1))

    expected = brentq(log_ratio, m0, m1)  # 2.686, well off the midpoint 2 of the means
    assert expected == pytest.approx(2.686, abs=1e-3)
    assert mixture_threshold(scores) == pytest.approx(expected, abs=0.02)


def test_the_cut_follows_the_scores():
    rng = np.random.default_rng(0)
    scores = np.r_[rng.normal(-2, 1, 300), rng.normal(2, 0.7, 200)]
    cut = mixture_threshold(scores)
    assert -2 < cut < 2
    # shifting, scaling, reordering and mirroring the scores moves the cut with them
    assert mixture_threshold(scores + 5) == pytest.approx(cut + 5, abs=1e-3)
    assert mixture_threshold(3 * scores) == pytest.approx(3 * cut, abs=1e-3)
    assert mixture_threshold(rng.permutation(scores)) == pytest.approx(cut, abs=1e-3)
    assert mixture_threshold(-scores) == pytest.approx(-cut, abs=1e-3)
    # a list is accepted, and the same seed gives the same cut
    assert mixture_threshold(list(scores), random_state=0) == mixture_threshold(scores, 0)


@pytest.mark.parametrize(
    ("scores", "match"),
    [
        ([1.0], "at least two"),
        ([], "at least two"),
        (np.ones((3, 2)), "1-D"),
        ([2.0, 2.0, 2.0], "all equal"),
        ([0.0, np.nan, 1.0, 2.0], "NaN"),
        ([0.0, np.inf, 1.0, 2.0], "NaN or infinite"),
    ],
)
def test_bad_scores(scores, match):
    with pytest.raises(ValueError, match=match):
        mixture_threshold(scores)


def test_bad_random_state():
    with pytest.raises(ValueError, match="random_state"):
        mixture_threshold([0.0, 1.0, 2.0, 3.0], random_state=-1)
