"""Graph Laplacians and graph checks (always sparse)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def check_graph(adj, n: int, name: str = "graph") -> sp.csr_matrix:
    """Return ``adj`` as a square ``n × n`` CSR matrix with finite, non-negative weights."""
    if not (sp.issparse(adj) or isinstance(adj, np.ndarray)):
        adj = np.asarray(adj)
    if adj.ndim != 2 or adj.shape[0] != adj.shape[1]:
        raise ValueError(f"`{name}` must be a square adjacency matrix (got shape {adj.shape}).")
    if adj.shape[0] != n:
        raise ValueError(
            f"`{name}` is {adj.shape[0]} × {adj.shape[1]} but must be {n} × {n} (one row per "
            "node of the data: genes for a gene network, observations for a spatial graph)."
        )
    adj = sp.csr_matrix(adj, dtype=np.float64)
    if adj.nnz and not np.isfinite(adj.data).all():
        raise ValueError(f"`{name}` contains NaN or infinite weights.")
    if adj.nnz and adj.data.min() < 0:
        raise ValueError(f"`{name}` has negative edge weights.")
    return adj


def laplacian(adj, normalized: bool = False) -> sp.csr_matrix:
    """Laplacian ``D − A`` (or ``I − D^{-1/2} A D^{-1/2}``) of the symmetrised ``(A + Aᵀ)/2``."""
    adj = sp.csr_matrix(adj, dtype=np.float64)
    adj = (adj + adj.T) * 0.5
    adj.setdiag(0)
    adj.eliminate_zeros()
    deg = np.asarray(adj.sum(1)).ravel()
    if not normalized:
        return (sp.diags(deg) - adj).tocsr()
    inv = np.zeros_like(deg)
    inv[deg > 0] = 1 / np.sqrt(deg[deg > 0])
    d = sp.diags(inv)
    return (sp.diags((deg > 0).astype(float)) - d @ adj @ d).tocsr()
