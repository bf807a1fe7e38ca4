"""Graph convolution on ``torch.sparse`` (no PyG), reusable by every graph method."""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn


def normalize_adjacency(
    adj: sp.spmatrix,
    *,
    self_loops: bool = True,
    twice: bool = False,
    norm: Literal["symmetric", "row"] = "symmetric",
) -> sp.csr_matrix:
    """GCN normalisation of a sparse adjacency: ``D^{-1/2} (A + I) D^{-1/2}`` or ``D^{-1} (A + I)``.

    Parameters
    ----------
    adj
        Square sparse adjacency (weights are kept; use a binary matrix for a plain GCN).
    self_loops
        Add the identity before normalising (Kipf & Welling).
    twice
        Apply the normalisation a second time to the result (self-loops of weight 1 added again),
        which is what happens when an already normalised matrix is handed to PyG's ``GCNConv``
        with its default ``normalize=True``. Kept only to reproduce released code.

    Returns
    -------
    The normalised adjacency, CSR float32.
    """
    if norm not in ("symmetric", "row"):
        raise ValueError(f"`norm` must be 'symmetric' or 'row' (got {norm!r}).")
    adj = sp.csr_matrix(adj, dtype=np.float64)
    if adj.shape[0] != adj.shape[1]:
        raise ValueError(f"The adjacency must be square, got shape {adj.shape}.")
    adj.setdiag(0)
    adj.eliminate_zeros()
    for _ in range(2 if twice else 1):
        if self_loops:
            adj = adj + sp.eye(adj.shape[0], format="csr")
        deg = np.asarray(adj.sum(axis=1)).ravel()
        inv = np.zeros_like(deg)
        inv[deg > 0] = deg[deg > 0] ** (-1.0 if norm == "row" else -0.5)
        d = sp.diags(inv)
        adj = (d @ adj).tocsr() if norm == "row" else (d @ adj @ d).tocsr()
    return adj.astype(np.float32)


def to_torch_csr(mat: sp.spmatrix) -> torch.Tensor:
    """Convert a SciPy sparse matrix to a ``torch`` sparse CSR tensor (float32)."""
    mat = sp.csr_matrix(mat, dtype=np.float32)
    mat.sort_indices()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(
            torch.from_numpy(mat.indptr.astype(np.int32)),
            torch.from_numpy(mat.indices.astype(np.int32)),
            torch.from_numpy(mat.data),
            size=mat.shape,
            check_invariants=False,
        )


class _Propagate(torch.autograd.Function):
    """``Â @ x`` with a backward pass that reuses a stored ``Âᵀ`` (fast on CPU CSR)."""

    @staticmethod
    def forward(ctx, adj: torch.Tensor, adj_t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        ctx.adj_t = adj_t
        return torch.sparse.mm(adj, x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return None, None, torch.sparse.mm(ctx.adj_t, grad)


class SparseGraph(nn.Module):
    """A fixed normalised adjacency held as non-persistent buffers.

    Holds the matrix in CSR form (``adj``, and ``adj_t`` when not symmetric) and as edge lists
    (``rows``, ``cols``, ``weights``).

    Non-persistent: the graph is not part of ``state_dict`` (it is rebuilt from the AnnData on
    load), and it moves with the module to the training device.

    Parameters
    ----------
    adj
        Normalised adjacency (e.g. from :func:`normalize_adjacency`).
    """

    def __init__(self, adj: sp.spmatrix):
        super().__init__()
        adj = sp.csr_matrix(adj, dtype=np.float32)
        adj.sort_indices()
        symmetric = (abs(adj - adj.T) > 1e-6).nnz == 0
        self.symmetric = symmetric
        self.matrix = adj
        """The adjacency as a SciPy CSR matrix (for host-side graph queries)."""
        self.register_buffer("adj", to_torch_csr(adj), persistent=False)
        self.register_buffer("adj_t", None if symmetric else to_torch_csr(adj.T), persistent=False)
        coo = adj.tocoo()
        # the edges as lists in CSR order, for per-edge operations
        self.register_buffer("rows", torch.from_numpy(coo.row.astype(np.int64)), persistent=False)
        self.register_buffer("cols", torch.from_numpy(coo.col.astype(np.int64)), persistent=False)
        self.register_buffer("weights", torch.from_numpy(coo.data), persistent=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return self.adj.shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``Â @ x``."""
        if not torch.is_grad_enabled():
            return torch.sparse.mm(self.adj, x)
        return _Propagate.apply(self.adj, self.adj if self.adj_t is None else self.adj_t, x)


class GCNConv(nn.Module):
    """Graph convolution ``Â X W + b`` (Kipf & Welling) on a :class:`SparseGraph`.

    The product is evaluated as ``(Â X) W`` when that is cheaper (``in < out``), which gives the
    same result at the cost of propagating the narrower matrix.

    Parameters
    ----------
    n_in, n_out
        Feature sizes.
    bias
        Add a learnable bias after propagation.
    """

    def __init__(self, n_in: int, n_out: int, bias: bool = True):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out, bias=False)
        nn.init.xavier_uniform_(self.linear.weight)
        self.bias = nn.Parameter(torch.zeros(n_out)) if bias else None

    def forward(self, x: torch.Tensor, graph: SparseGraph) -> torch.Tensor:
        """Convolve node features ``x`` (n_nodes × n_in) over ``graph``."""
        if self.linear.in_features < self.linear.out_features:
            out = self.linear(graph(x))
        else:
            out = graph(self.linear(x))
        return out if self.bias is None else out + self.bias


Activation = Literal["relu", "elu", "identity"]


def activation(name: Activation) -> nn.Module:
    """Return the activation module called ``name``."""
    layers = {"relu": nn.ReLU, "elu": nn.ELU, "identity": nn.Identity}
    if name not in layers:
        raise ValueError(f"Unknown activation {name!r}; choose one of {sorted(layers)}.")
    return layers[name]()


class FastDropout(nn.Module):
    """Inverted dropout with a cheap random mask.

    On CPU the mask is drawn as 16-bit integers from NumPy's PCG64 generator, itself seeded
    from PyTorch's, so ``torch.manual_seed`` (and ``scvi.settings.seed``) still fix it; this is
    about twice as fast as ``torch.bernoulli_`` and the rate is exact to 2⁻¹⁶. On other devices
    the mask comes from ``torch.rand_like``.

    Parameters
    ----------
    p
        Probability of zeroing an element.
    """

    def __init__(self, p: float = 0.2):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"Dropout rate must be in [0, 1) (got {p}).")
        self.p = p
        self._threshold = round(p * 65536)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply dropout in training mode; identity in evaluation mode."""
        if not self.training or self.p == 0:
            return x
        if x.device.type == "cpu":
            rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,))))
            bits = np.frombuffer(rng.bytes(2 * x.numel()), dtype=np.uint16).reshape(x.shape)
            scale = np.float32(65536 / (65536 - self._threshold))
            mask = torch.from_numpy(np.multiply(bits >= self._threshold, scale, dtype=np.float32))
        else:
            mask = (torch.rand_like(x) >= self.p).to(x.dtype) / (1.0 - self.p)
        return x * mask.to(x.dtype)


class GraphBlock(nn.Module):
    """GCNConv → BatchNorm1d → activation → dropout.

    Parameters
    ----------
    n_in, n_out
        Feature sizes.
    act
        Activation after the batch norm.
    dropout
        Dropout rate.
    """

    def __init__(self, n_in: int, n_out: int, act: Activation = "relu", dropout: float = 0.2):
        super().__init__()
        self.conv = GCNConv(n_in, n_out)
        self.norm = nn.BatchNorm1d(n_out)
        self.act = activation(act)
        self.dropout = FastDropout(dropout)

    def forward(self, x: torch.Tensor, graph: SparseGraph) -> torch.Tensor:
        """Apply the block to node features ``x``."""
        return self.dropout(self.act(self.norm(self.conv(x, graph))))


class DenseBlock(nn.Sequential):
    """Linear → BatchNorm1d → activation → dropout (the SEDR/STMGAC "full block").

    Parameters
    ----------
    n_in, n_out
        Feature sizes.
    act
        Activation after the batch norm.
    dropout
        Dropout rate.
    bn_momentum, bn_eps
        Batch-norm settings (0.01 and 1e-3 in SEDR and STMGAC).
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        act: Activation = "elu",
        dropout: float = 0.2,
        bn_momentum: float = 0.01,
        bn_eps: float = 1e-3,
    ):
        super().__init__(
            nn.Linear(n_in, n_out),
            nn.BatchNorm1d(n_out, momentum=bn_momentum, eps=bn_eps),
            activation(act),
            FastDropout(dropout),
        )
