"""Put the rows of a full-graph batch in node order."""

from __future__ import annotations

import torch


def node_order(x: torch.Tensor, indices: torch.Tensor | None, n_nodes: int) -> torch.Tensor:
    """Rows of ``x`` placed at their node positions ``indices`` (the ``_indices`` field).

    Full-graph models see every node in each step; the data loader may deliver the rows in any
    order, so they are scattered back to graph-node order (a no-op when already in order).

    Raises
    ------
    ValueError
        If ``x`` does not hold one row per node.
    """
    if x.shape[0] != n_nodes:
        raise ValueError(
            f"This model trains on the whole graph: got {x.shape[0]} rows for {n_nodes} nodes."
        )
    if indices is None:
        return x
    idx = indices.reshape(-1).long()
    if torch.equal(idx, torch.arange(idx.numel(), device=idx.device)):
        return x
    return torch.empty_like(x).index_copy_(0, idx, x)
