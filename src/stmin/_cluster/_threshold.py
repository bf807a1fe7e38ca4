"""A cut between two groups of scores: where two fitted Gaussians are equally likely."""

from __future__ import annotations

import numpy as np
from sklearn.mixture import GaussianMixture

from .._random import check_random_state
from .._validate import check_finite


def mixture_threshold(scores, random_state: int | None = 0) -> float:
    """Threshold between the two components of a 1-D Gaussian mixture fitted to ``scores``.

    The cut is the point between the two means where the weighted densities are equal (the
    Bayes decision boundary of the mixture); when the densities do not cross between the means,
    or the scores do not form two groups, it is the midpoint of the means.

    Parameters
    ----------
    scores
        1-D scores (e.g. logits) of at least two distinct values.
    random_state
        Seed of the mixture's initialisation.

    Returns
    -------
    The threshold: scores above it belong to the component of higher mean.
    """
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"`scores` must be 1-D with at least two values (got shape {x.shape}).")
    check_finite(x, "`scores`")
    if np.ptp(x) == 0:
        raise ValueError("`scores` are all equal; there is nothing to threshold.")
    gmm = GaussianMixture(2, n_init=5, random_state=check_random_state(random_state))
    gmm.fit(x[:, None])
    order = np.argsort(gmm.means_.ravel())
    mean = gmm.means_.ravel()[order]
    sd = np.sqrt(gmm.covariances_.ravel()[order])
    weight = gmm.weights_[order]
    # log w₁N(t; m₁, s₁) − log w₀N(t; m₀, s₀) = a t² + b t + c
    a = 0.5 / sd[0] ** 2 - 0.5 / sd[1] ** 2
    b = mean[1] / sd[1] ** 2 - mean[0] / sd[0] ** 2
    c = (
        np.log(weight[1] / sd[1])
        - np.log(weight[0] / sd[0])
        - 0.5 * mean[1] ** 2 / sd[1] ** 2
        + 0.5 * mean[0] ** 2 / sd[0] ** 2
    )
    roots = np.roots([a, b, c]) if abs(a) > 1e-12 else np.array([-c / b])
    roots = roots[np.isreal(roots)].real
    between = roots[(roots > mean[0]) & (roots < mean[1])]
    return float(between[0]) if between.size else float(mean.mean())
