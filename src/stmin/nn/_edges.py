"""Per-edge operations on node features that never build an N × N or an edges × features matrix."""

from __future__ import annotations

import torch

_CHUNK = 32768


def _edge_dots(a: torch.Tensor, b: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor):
    out = torch.empty(rows.numel(), *a.shape[1:-1], dtype=a.dtype, device=a.device)
    for start in range(0, rows.numel(), _CHUNK):
        r, c = rows[start : start + _CHUNK], cols[start : start + _CHUNK]
        out[start : start + _CHUNK] = (a[r] * b[c]).sum(-1)
    return out


def _edge_scatter(weights, feats, rows, cols, n_rows: int) -> torch.Tensor:
    """``out[rows[e]] += weights[e] * feats[cols[e]]`` in chunks (weights: edges × …)."""
    out = feats.new_zeros(n_rows, *feats.shape[1:])
    for start in range(0, rows.numel(), _CHUNK):
        r, c = rows[start : start + _CHUNK], cols[start : start + _CHUNK]
        w = weights[start : start + _CHUNK].unsqueeze(-1)
        out.index_add_(0, r, w * feats[c])
    return out


class _EdgeDot(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, rows, cols):
        ctx.save_for_backward(a, b, rows, cols)
        return _edge_dots(a, b, rows, cols)

    @staticmethod
    def backward(ctx, grad):
        a, b, rows, cols = ctx.saved_tensors
        grad_a = _edge_scatter(grad, b, rows, cols, a.shape[0]) if ctx.needs_input_grad[0] else None
        grad_b = _edge_scatter(grad, a, cols, rows, b.shape[0]) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b, None, None


def edge_dot(a: torch.Tensor, b: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor):
    """``s_e = ⟨a[rows[e]], b[cols[e]]⟩`` for every edge ``e``, over the last axis.

    Works for node × features or node × heads × features tensors; memory is that of the inputs
    plus one value per edge (the gathered rows are never kept for the backward pass).

    Parameters
    ----------
    a, b
        Node features with the same trailing shape.
    rows, cols
        Edge end points (int64).
    """
    return _EdgeDot.apply(a, b, rows, cols)


class _EdgeAggregate(torch.autograd.Function):
    @staticmethod
    def forward(ctx, weights, values, rows, cols, n_rows):
        ctx.save_for_backward(weights, values, rows, cols)
        return _edge_scatter(weights, values, rows, cols, n_rows)

    @staticmethod
    def backward(ctx, grad):
        weights, values, rows, cols = ctx.saved_tensors
        grad_w = _edge_dots(grad, values, rows, cols) if ctx.needs_input_grad[0] else None
        grad_v = None
        if ctx.needs_input_grad[1]:
            grad_v = _edge_scatter(weights, grad, cols, rows, values.shape[0])
        return grad_w, grad_v, None, None, None


def edge_aggregate(
    weights: torch.Tensor, values: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, n_rows: int
) -> torch.Tensor:
    """``out_i = Σ_{e: rows[e] = i} weights[e] · values[cols[e]]`` (sparse-matrix product).

    Parameters
    ----------
    weights
        One weight per edge (edges, or edges × heads for node × heads × features values).
    values
        Node features.
    rows, cols
        Edge end points (int64).
    n_rows
        Number of output rows.
    """
    return _EdgeAggregate.apply(weights, values, rows, cols, n_rows)


def segment_softmax(scores: torch.Tensor, rows: torch.Tensor, n_rows: int) -> torch.Tensor:
    """Softmax of edge ``scores`` over the edges that share a row (first axis: edges)."""
    index = rows.view(-1, *([1] * (scores.dim() - 1))).expand_as(scores)
    peak = scores.new_full((n_rows, *scores.shape[1:]), float("-inf"))
    peak = peak.scatter_reduce(0, index, scores.detach(), "amax", include_self=True)
    ex = torch.exp(scores - peak[rows])
    total = ex.new_zeros((n_rows, *scores.shape[1:])).index_add(0, rows, ex)
    return ex / total[rows]


def sampled_dot(pattern: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``⟨a_i, b_j⟩`` for the stored entries ``(i, j)`` of a sparse CSR ``pattern``, in its order.

    Uses ``torch.sparse.sampled_addmm``: the dense ``a bᵀ`` is never formed, and unlike
    :func:`edge_dot` nothing of size edges × features is gathered, which matters for wide
    features (e.g. a decoder's gene-sized output).
    """
    return torch.sparse.sampled_addmm(pattern, a, b.t(), beta=0.0).values()
