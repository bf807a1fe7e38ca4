import numpy as np
import scipy.sparse as sp
import torch
from torch.distributions import NegativeBinomial

from stmin.nn import (
    CellAttention,
    SparseGraph,
    edge_aggregate,
    edge_dot,
    normalize_adjacency,
    sampled_dot,
    segment_softmax,
    soft_assignment,
    target_distribution,
    zinb_nll,
)


def _graph(n=30, seed=0):
    rng = np.random.default_rng(seed)
    adj = sp.random(n, n, density=0.2, random_state=rng, format="csr")
    adj.data[:] = 1.0
    adj = adj.maximum(adj.T)
    return SparseGraph(normalize_adjacency(adj, norm="row"))


def test_row_normalisation_rows_sum_to_one():
    graph = _graph()
    np.testing.assert_allclose(np.asarray(graph.matrix.sum(1)).ravel(), 1.0, rtol=1e-6)
    assert not graph.symmetric


def test_edge_ops_match_dense():
    torch.manual_seed(0)
    graph = _graph()
    dense = torch.tensor(graph.matrix.toarray())
    a = torch.randn(30, 5, requires_grad=True)
    b = torch.randn(30, 5, requires_grad=True)
    s = edge_dot(a, b, graph.rows, graph.cols)
    torch.testing.assert_close(s, (a @ b.T)[graph.rows, graph.cols])
    torch.testing.assert_close(sampled_dot(graph.adj, a, b), s)
    # gradients of the custom autograd functions equal those of the dense computation
    w = torch.rand(s.shape[0])
    (ga,) = torch.autograd.grad((s * w).sum(), a)
    dense_w = torch.zeros(30, 30).index_put((graph.rows, graph.cols), w)
    (ga_ref,) = torch.autograd.grad(((a @ b.T) * dense_w).sum(), a)
    torch.testing.assert_close(ga, ga_ref)
    v = torch.randn(30, 4, requires_grad=True)
    weights = graph.weights.clone().requires_grad_()
    out = edge_aggregate(weights, v, graph.rows, graph.cols, 30)
    torch.testing.assert_close(out, dense @ v)
    gw, gv = torch.autograd.grad(out.sum(), (weights, v))
    torch.testing.assert_close(gv, dense.T @ torch.ones(30, 4))
    torch.testing.assert_close(gw, v.sum(1)[graph.cols].detach())


def test_segment_softmax_sums_to_one_per_row():
    graph = _graph()
    scores = torch.randn(graph.rows.numel(), 3) * 50
    p = segment_softmax(scores, graph.rows, 30)
    totals = torch.zeros(30, 3).index_add(0, graph.rows, p)
    torch.testing.assert_close(totals, torch.ones(30, 3))


def test_graph_attention_equals_masked_dense_attention():
    torch.manual_seed(0)
    graph = _graph()
    attn = CellAttention(16, n_heads=4)
    x = torch.randn(30, 16)
    out = attn(x, (graph.rows, graph.cols))
    q = attn.query(x).view(30, 4, 4) / 2.0
    k = attn.key(x).view(30, 4, 4)
    v = attn.value(x).view(30, 4, 4)
    scores = torch.einsum("ihd,jhd->hij", q, k)
    mask = torch.tensor(graph.matrix.toarray() > 0)
    scores = scores.masked_fill(~mask, float("-inf"))
    ref = torch.einsum("hij,jhd->ihd", scores.softmax(-1), v).reshape(30, 16)
    torch.testing.assert_close(out, attn.out(ref))
    full = attn(x, None)
    ref_full = torch.einsum(
        "hij,jhd->ihd", torch.einsum("ihd,jhd->hij", q, k).softmax(-1), v
    ).reshape(30, 16)
    torch.testing.assert_close(full, attn.out(ref_full), atol=1e-5, rtol=1e-4)


def test_zinb_nll_matches_the_mixture_likelihood():
    torch.manual_seed(0)
    x = torch.poisson(torch.rand(40, 12) * 3)
    mu = torch.rand(40, 12) * 3 + 0.1
    theta = torch.rand(40, 12) * 5 + 0.1
    logits = torch.randn(40, 12)
    pi = torch.sigmoid(logits)
    nb = NegativeBinomial(total_count=theta, logits=torch.log(mu) - torch.log(theta))
    lik = torch.where(x == 0, pi + (1 - pi) * nb.log_prob(x).exp(), (1 - pi) * nb.log_prob(x).exp())
    torch.testing.assert_close(
        zinb_nll(x, mu, theta, logits), -torch.log(lik), atol=1e-4, rtol=1e-4
    )


def test_dec_assignment_and_target():
    z = torch.tensor([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]])
    centers = torch.tensor([[0.0, 0.0], [5.0, 5.0]])
    q = soft_assignment(z, centers)
    torch.testing.assert_close(q.sum(1), torch.ones(3))
    assert q[0, 0] > q[0, 1] and q[2, 1] > q[2, 0]
    p = target_distribution(q)
    torch.testing.assert_close(p.sum(1), torch.ones(3))
    # the target is sharper than q for confident points
    assert p[0, 0] > q[0, 0] and p[2, 1] > q[2, 1]
