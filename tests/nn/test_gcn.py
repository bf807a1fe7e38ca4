import numpy as np
import pytest
import scipy.sparse as sp
import torch

from stmin.nn import GCNConv, SparseGraph, normalize_adjacency


def _random_graph(n=40, seed=0, symmetric=True):
    rng = np.random.default_rng(seed)
    a = (rng.uniform(size=(n, n)) < 0.1).astype(float)
    np.fill_diagonal(a, 0)
    return np.maximum(a, a.T) if symmetric else a


def test_normalize_matches_dense_formula():
    a = _random_graph()
    ahat = a + np.eye(len(a))
    d = np.diag(ahat.sum(1) ** -0.5)
    np.testing.assert_allclose(
        normalize_adjacency(sp.csr_matrix(a)).toarray(), d @ ahat @ d, rtol=1e-6
    )
    # the second normalisation of the released code, written out densely
    a2 = d @ ahat @ d + np.eye(len(a))
    d2 = np.diag(a2.sum(1) ** -0.5)
    np.testing.assert_allclose(
        normalize_adjacency(sp.csr_matrix(a), twice=True).toarray(), d2 @ a2 @ d2, rtol=1e-5
    )


def test_normalize_rejects_non_square():
    with pytest.raises(ValueError, match="square"):
        normalize_adjacency(sp.csr_matrix(np.ones((3, 4))))


@pytest.mark.parametrize(
    ("n_in", "n_out", "symmetric"), [(8, 3, True), (3, 8, True), (5, 5, False)]
)
def test_gcnconv_forward_backward_match_dense(n_in, n_out, symmetric):
    a = _random_graph(symmetric=symmetric)
    adj = normalize_adjacency(sp.csr_matrix(a)) if symmetric else sp.csr_matrix(a / 3.0)
    graph = SparseGraph(adj)
    assert graph.symmetric is symmetric
    torch.manual_seed(0)
    conv = GCNConv(n_in, n_out)
    torch.nn.init.normal_(conv.bias)
    x = torch.randn(a.shape[0], n_in, requires_grad=True)
    out = conv(x, graph)
    dense = torch.tensor(adj.toarray(), dtype=torch.float32)
    x2 = x.detach().clone().requires_grad_(True)
    ref = dense @ (x2 @ conv.linear.weight.T) + conv.bias
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    w = torch.randn_like(out)
    (out * w).sum().backward()
    (ref * w).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad, rtol=1e-5, atol=1e-5)


def test_graph_is_not_in_state_dict():
    graph = SparseGraph(normalize_adjacency(sp.csr_matrix(_random_graph())))
    assert graph.state_dict() == {}
