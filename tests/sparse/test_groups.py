"""Group operators against brute force and closed forms."""

from itertools import combinations

import numpy as np
import pytest

from stmin.sparse._groups import (
    group_soft,
    group_topk,
    make_groups,
    overlapping_group_prox,
)

RNG = np.random.default_rng(1)
PARTITION = [np.array([0, 1]), np.array([2, 3, 4]), np.array([5]), np.array([6, 7])]
OVERLAP = [np.array([0, 1, 2]), np.array([2, 3]), np.array([3, 4, 5]), np.array([5, 6, 0])]


@pytest.mark.parametrize("k", [1, 2, 3])
def test_group_topk_brute_force(k):
    for _ in range(10):
        z = RNG.normal(size=8)
        best, best_val = None, -np.inf
        for S in combinations(range(4), k):
            idx = np.concatenate([PARTITION[g] for g in S])
            u = np.zeros(8)
            u[idx] = z[idx] / np.linalg.norm(z[idx])
            if u @ z > best_val:
                best, best_val = u, u @ z
        out = group_topk(z, PARTITION, k)
        np.testing.assert_allclose(out / np.linalg.norm(out), best, atol=1e-12)


def test_ogl0_ranks_by_size_normalised_norm_and_takes_union():
    z = RNG.normal(size=7)
    out, active = group_topk(z, OVERLAP, 2, size_normalized=True, return_active=True)
    score = [np.linalg.norm(z[g]) / np.sqrt(len(g)) for g in OVERLAP]
    top = np.argsort(score)[::-1][:2]
    assert set(np.flatnonzero(active)) == set(top)
    support = np.union1d(OVERLAP[top[0]], OVERLAP[top[1]])
    np.testing.assert_array_equal(np.flatnonzero(out), support)
    np.testing.assert_allclose(out[support], z[support])


def test_group_soft_closed_form_and_is_prox():
    z = RNG.normal(size=8)
    w = np.array([1.0, 2.0, 0.5, 1.5])
    out = group_soft(z, PARTITION, tau=0.4, weights=w)
    for g, idx in enumerate(PARTITION):
        nrm = np.linalg.norm(z[idx])
        np.testing.assert_allclose(out[idx], max(0, 1 - 0.4 * w[g] / nrm) * z[idx])

    # optimality: it minimises ½‖u − z‖² + τ Σ w_g ‖u_g‖ (checked against random perturbations)
    def f(u):
        return 0.5 * np.sum((u - z) ** 2) + 0.4 * sum(
            w[g] * np.linalg.norm(u[i]) for g, i in enumerate(PARTITION)
        )

    for _ in range(200):
        assert f(out) <= f(out + 0.05 * RNG.normal(size=8)) + 1e-12
    # k groups survive with τ = (k+1)-th norm
    for k in (1, 2, 3):
        kept = group_soft(z, PARTITION, k)
        assert (make_groups(PARTITION, 8).norms(kept) > 0).sum() == k


def test_admm_equals_group_soft_without_overlap():
    z = RNG.normal(size=(8, 3))
    for k in (1, 2, 3):
        soft = group_soft(z, PARTITION, k, weights="sqrt_size")
        admm = overlapping_group_prox(z, PARTITION, k, weights="sqrt_size", n_iter=300)
        np.testing.assert_allclose(admm, soft, atol=1e-6)
    # default 10 iterations already selects the same groups
    a10 = overlapping_group_prox(z, PARTITION, 2)
    np.testing.assert_array_equal(a10 != 0, group_soft(z, PARTITION, 2) != 0)


def test_admm_overlapping_prox_optimality():
    z = RNG.normal(size=7)
    tau = 0.3

    def f(u):
        return 0.5 * np.sum((u - z) ** 2) + tau * sum(np.linalg.norm(u[g]) for g in OVERLAP)

    u = overlapping_group_prox(z, OVERLAP, tau=tau, n_iter=2000)
    for _ in range(300):
        assert f(u) <= f(u + 0.02 * RNG.normal(size=7)) + 1e-6


def test_ungrouped_variables_are_dropped_and_errors():
    z = np.arange(1.0, 7.0)
    groups = [np.array([0, 1]), np.array([2])]
    assert not group_topk(z, groups, 2)[3:].any()
    assert not group_soft(z, groups, 1)[3:].any()
    with pytest.raises(ValueError, match="non-overlapping"):
        group_soft(z, [np.array([0, 1]), np.array([1, 2])], 1)
    with pytest.raises(ValueError, match="outside"):
        make_groups([np.array([0, 9])], 6)
    with pytest.raises(ValueError, match="empty"):
        make_groups([np.array([], dtype=int)], 6)
    with pytest.raises(ValueError, match="positive integer"):
        group_topk(z, groups, 0)
