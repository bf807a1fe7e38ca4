"""The rows of a whole-graph batch are the graph's nodes."""

from __future__ import annotations

import torch


def whole_graph(x: torch.Tensor, n_nodes: int) -> torch.Tensor:
    """Return ``x`` after checking that it holds one row per graph node.

    Whole-graph models see every node in each step, and :class:`~stmin.train.FullDataSplitter`
    delivers the rows in ``adata`` order, which is the graph's node order.

    Raises
    ------
    ValueError
        If ``x`` does not hold one row per node (e.g. a mini-batch of rows).
    """
    if x.shape[0] != n_nodes:
        raise ValueError(
            f"This model trains on the whole graph: got {x.shape[0]} rows for {n_nodes} nodes."
        )
    return x
