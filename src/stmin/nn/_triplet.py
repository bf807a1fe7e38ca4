"""Triplet margin loss over index triples, as two sparse products."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from ._gcn import to_torch_csr


class Triplets:
    """(anchor, positive, negative) index triples into a node set of size ``n_nodes``.

    Next to the index vectors it holds the sparse ``2m × n_nodes`` difference operator ``B``
    (row ``j``: anchor − positive of triple ``j``; row ``m + j``: anchor − negative), so that
    all ``2m`` differences are one sparse product ``B @ z``, and ``Bᵀ`` for the backward pass.
    Both are built once: mined triples stay fixed for many epochs.

    Parameters
    ----------
    anchor, positive, negative
        Index vectors of equal length ``m``.
    n_nodes
        Number of nodes indexed.
    """

    def __init__(
        self, anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor, n_nodes: int
    ):
        if not anchor.shape == positive.shape == negative.shape:
            raise ValueError("anchor, positive and negative must have the same length.")
        self.anchor, self.positive, self.negative = anchor, positive, negative
        m = anchor.numel()
        a, p, n = (t.cpu().numpy() for t in (anchor, positive, negative))
        rows = np.r_[np.arange(2 * m), np.arange(2 * m)]
        cols = np.r_[a, a, p, n]
        vals = np.r_[np.ones(2 * m), -np.ones(2 * m)].astype(np.float32)
        diff = sp.csr_matrix((vals, (rows, cols)), shape=(2 * m, n_nodes))
        device = anchor.device
        self.diff = to_torch_csr(diff).to(device)
        diff_t = diff.T.tocsr()
        diff_t.sort_indices()
        self.diff_t = to_torch_csr(diff_t).to(device)
        self.diff_t_cols = self.diff_t.col_indices().long()

    def __len__(self) -> int:
        return self.anchor.numel()

    def __iter__(self):
        return iter((self.anchor, self.positive, self.negative))


class _TripletMargin(torch.autograd.Function):
    """Mean of ``relu(‖a − p + ε‖ − ‖a − n + ε‖ + margin)``, as ``F.triplet_margin_loss``."""

    @staticmethod
    def forward(ctx, z, triplets: Triplets, margin: float, eps: float):
        diffs = torch.sparse.mm(triplets.diff, z).add_(eps)
        norms = torch.linalg.vector_norm(diffs, dim=1)
        m = len(triplets)
        hinge = (norms[:m] - norms[m:]).add_(margin)
        ctx.save_for_backward(diffs, norms, hinge > 0)
        ctx.triplets = triplets
        return hinge.clamp_min_(0).mean()

    @staticmethod
    def backward(ctx, grad):
        diffs, norms, active = ctx.saved_tensors
        m = active.numel()
        # ∂loss/∂diff_j = ± diff_j / ‖diff_j‖ for active triples; fold the row weights into Bᵀ
        scale = torch.where(active, grad / m, 0.0)
        weights = torch.cat([scale, -scale]) / norms.clamp_min(1e-12)
        diff_t = ctx.triplets.diff_t
        values = diff_t.values() * weights.index_select(0, ctx.triplets.diff_t_cols)
        weighted = torch.sparse_csr_tensor(
            diff_t.crow_indices(),
            diff_t.col_indices(),
            values,
            diff_t.shape,
            check_invariants=False,
        )
        return torch.sparse.mm(weighted, diffs), None, None, None


def triplet_loss(
    z: torch.Tensor, triplets: Triplets, margin: float = 1.0, eps: float = 1e-6
) -> torch.Tensor:
    """Mean triplet margin loss (Euclidean) over index triples into the rows of ``z``.

    Equal to ``F.triplet_margin_loss(z[a], z[p], z[n], margin)``, several times faster on CPU:
    the differences are one sparse product and so is the gradient.

    Parameters
    ----------
    z
        Node embeddings (n × d).
    triplets
        The index triples (:class:`Triplets`).
    margin
        Margin of the hinge.
    eps
        Added to the differences before taking norms, as PyTorch does.
    """
    if len(triplets) == 0:
        return z.sum() * 0.0
    return _TripletMargin.apply(z, triplets, margin, eps)
