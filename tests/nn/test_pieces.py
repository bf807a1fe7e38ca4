import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from stmin.nn import (
    FastDropout,
    Triplets,
    ema_update,
    kmeans_agreement,
    latent_knn,
    make_teacher,
    mask_nodes,
    mine_triplets,
    scaled_cosine_error,
    triplet_loss,
)


def test_mask_nodes_counts_and_token():
    torch.manual_seed(0)
    x = torch.arange(100 * 4, dtype=torch.float32).reshape(100, 4) + 1
    token = torch.full((1, 4), -7.0, requires_grad=True)
    view = mask_nodes(x, mask_rate=0.5, token=token, replace_rate=0.2)
    assert view.masked.numel() == 50 and view.kept.numel() == 50
    assert set(view.masked.tolist()).isdisjoint(view.kept.tolist())
    torch.testing.assert_close(view.x[view.kept], x[view.kept])
    is_token = (view.x[view.masked] == -7.0).all(1)
    assert int(is_token.sum()) == 40  # 90 % of ... 50 - int(0.2 * 50)
    # the others carry features of real nodes
    others = view.x[view.masked][~is_token]
    assert all((x == row).all(1).any() for row in others)
    view.x.sum().backward()
    assert token.grad is not None and float(token.grad.abs().sum()) > 0


def test_scaled_cosine_error():
    a = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    b = torch.tensor([[2.0, 0.0], [0.0, 1.0], [-1.0, 1e-3]])
    loss = scaled_cosine_error(a, b, t=2.0, reduce=False)
    assert abs(float(loss[0])) < 1e-6
    np.testing.assert_allclose(float(loss[1]), -2 * np.log(0.5), rtol=1e-6)
    assert float(loss[2]) > 10 and torch.isfinite(loss).all()


def test_triplet_loss_matches_torch():
    torch.manual_seed(0)
    z = (0.4 * torch.randn(30, 5)).requires_grad_(True)
    a, p, n = (torch.randint(30, (200,)) for _ in range(3))
    p[:30] = a[:30]  # self pairs, as mining produces
    ref = F.triplet_margin_loss(z[a], z[p], z[n], margin=1.0)
    got = triplet_loss(z, Triplets(a, p, n, 30))
    torch.testing.assert_close(got, ref)
    (g_ref,) = torch.autograd.grad(ref, z)
    (g_got,) = torch.autograd.grad(got, z)
    torch.testing.assert_close(g_got, g_ref)
    empty = torch.empty(0, dtype=torch.long)
    assert float(triplet_loss(z, Triplets(empty, empty, empty, 30))) == 0.0


def test_ema_update_and_frozen_teacher():
    online = torch.nn.Linear(3, 2)
    teacher = make_teacher(online)
    assert all(not p.requires_grad for p in teacher.parameters())
    before = teacher.weight.detach().clone()
    with torch.no_grad():
        online.weight.add_(1.0)
    ema_update(teacher, online, momentum=0.9)
    torch.testing.assert_close(teacher.weight, 0.9 * before + 0.1 * online.weight.detach())


def test_fast_dropout():
    torch.manual_seed(0)
    drop = FastDropout(0.25)
    x = torch.ones(200, 100)
    y = drop(x)
    frac = float((y == 0).float().mean())
    assert 0.22 < frac < 0.28
    np.testing.assert_allclose(float(y[y > 0][0]), 1 / 0.75, rtol=1e-6)
    drop.eval()
    assert torch.equal(drop(x), x)


def test_latent_knn_brute_force():
    torch.manual_seed(0)
    q, k = torch.randn(37, 4), torch.randn(37, 4)
    got = latent_knn(q, k, 5, chunk=8)
    sim = F.normalize(q, dim=1) @ F.normalize(k, dim=1).T + 10 * torch.eye(37)
    expected = sim.topk(5, dim=1).indices.numpy()
    np.testing.assert_array_equal(got, expected)
    assert (got[:, 0] == np.arange(37)).all()


def test_mine_triplets_brute_force():
    rng = np.random.default_rng(0)
    n, k, c = 40, 6, 3
    z_on = torch.tensor(rng.normal(size=(n, 4)), dtype=torch.float32)
    z_t = torch.tensor(rng.normal(size=(n, 4)), dtype=torch.float32)
    adj = sp.random(n, n, density=0.1, random_state=0, format="csr")
    adj = ((adj + adj.T) > 0).astype(np.float32)
    torch.manual_seed(0)
    trip = mine_triplets(z_on, z_t, adj, top_k=k, n_clusters=c, n_kmeans=3)
    knn = latent_knn(z_on, z_t, k)
    rows, cols = np.repeat(np.arange(n), k), knn.ravel()
    same = kmeans_agreement(F.normalize(z_t, dim=1).numpy(), rows, cols, c, n_runs=3)
    dense = adj.toarray() + np.eye(n)
    expected = {
        (int(r), int(cc)) for r, cc, s in zip(rows, cols, same, strict=True) if s or dense[r, cc]
    }
    got = set(zip(trip.anchor.tolist(), trip.positive.tolist(), strict=True))
    assert got == expected
    assert trip.negative.shape == trip.anchor.shape
    assert int(trip.negative.max()) < n
    assert all((i, i) in got for i in range(n))  # every node is its own positive
