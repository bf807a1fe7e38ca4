import numpy as np
import torch

from stmin.nn import BatchDiscriminator, cross_slice_pairs, g2n_triplets, reverse_gradient


def _toy(n=60, d=4, seed=0):
    rng = np.random.default_rng(seed)
    z = torch.as_tensor(rng.normal(size=(n, d)), dtype=torch.float32)
    batch = rng.integers(0, 3, n)
    labels = rng.integers(0, 2, n)
    return z, batch, labels


def test_pairs_are_cross_slice_same_label_and_unique():
    z, batch, labels = _toy()
    pairs = cross_slice_pairs(z, batch, labels, k=5, drop_rate=0.5, rng=np.random.default_rng(0))
    assert pairs.i.size > 0
    assert np.all(pairs.i < pairs.j)
    assert np.all(batch[pairs.i] != batch[pairs.j])
    assert np.all(labels[pairs.i] == labels[pairs.j])
    keys = pairs.i * 1000 + pairs.j
    assert np.unique(keys).size == keys.size
    np.testing.assert_allclose(pairs.similarity, (z[pairs.i] * z[pairs.j]).sum(1).numpy(), 1e-5)


def test_pairs_equal_brute_force_without_drops():
    z, batch, labels = _toy(n=40)
    k = 3
    pairs = cross_slice_pairs(
        z, batch, labels, k=k, drop_rate=0.0, rng=np.random.default_rng(0), chunk=7
    )
    sim = (z @ z.T).numpy()
    expected = set()
    for a in range(z.shape[0]):
        others = np.flatnonzero(batch != batch[a])
        for b in others[np.argsort(-sim[a, others])[:k]]:
            if labels[a] == labels[b]:
                expected.add((min(a, b), max(a, b)))
    assert set(zip(pairs.i.tolist(), pairs.j.tolist(), strict=True)) == expected


def test_triplets_positive_is_most_similar_partner_and_negative_same_slice():
    z, batch, labels = _toy()
    pairs = cross_slice_pairs(z, batch, labels, k=5, drop_rate=0.0, rng=np.random.default_rng(1))
    trip = g2n_triplets(pairs, batch, rng=np.random.default_rng(2))
    a, p, n = (t.numpy() for t in trip)
    assert set(a) == set(pairs.i) | set(pairs.j)
    assert np.all(batch[n] == batch[a])
    assert np.all(batch[p] != batch[a])
    for anchor, positive in zip(a, p, strict=True):
        partners = np.r_[pairs.j[pairs.i == anchor], pairs.i[pairs.j == anchor]]
        sims = (z[anchor] * z[partners]).sum(1).numpy()
        assert positive == partners[np.argmax(sims)]


def test_no_pairs_gives_empty_triplets():
    z, batch, _ = _toy(n=20)
    labels = batch.copy()  # every slice its own label: no cross-slice pair can agree
    pairs = cross_slice_pairs(z, batch, labels, k=5, rng=np.random.default_rng(0))
    assert pairs.i.size == 0
    assert len(g2n_triplets(pairs, batch, rng=np.random.default_rng(0))) == 0


def test_reverse_gradient_negates_and_scales():
    x = torch.randn(5, 3, requires_grad=True)
    (reverse_gradient(x, 0.5) * 2.0).sum().backward()
    torch.testing.assert_close(x.grad, torch.full_like(x, -1.0))
    torch.testing.assert_close(reverse_gradient(x.detach(), 0.5), x.detach())


def test_discriminator_shapes():
    disc = BatchDiscriminator(16, 3)
    assert disc(torch.randn(10, 16)).shape == (10, 3)
