"""k-nearest-neighbour graphs between cells from their expression (sparse, never N × N)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.sparse as sp
from anndata import AnnData
from sklearn.neighbors import NearestNeighbors

from .._settings import log_added
from .._validate import (
    check_adata,
    check_finite,
    check_n_neighbors,
    get_layer,
    get_rep,
    warn_if_exists,
)

CellMetric = Literal["ncos", "cosine", "euclidean"]

_BLOCK = 1024


def _ncos_neighbors(x, n_neighbors: int) -> np.ndarray:
    """Top-``n_neighbors`` cells by the dot product of L1-normalised binarised profiles."""
    b = sp.csr_matrix(x > 0, dtype=np.float32) if sp.issparse(x) else sp.csr_matrix(x > 0)
    b = b.astype(np.float32)
    n_on = np.asarray(b.sum(axis=1)).ravel()
    b = sp.diags(1.0 / np.maximum(n_on, 1.0)).astype(np.float32) @ b
    bt = b.T.tocsr()
    out = np.empty((b.shape[0], n_neighbors), dtype=np.int64)
    for start in range(0, b.shape[0], _BLOCK):
        stop = min(start + _BLOCK, b.shape[0])
        sim = (b[start:stop] @ bt).toarray()
        sim[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        top = np.argpartition(-sim, n_neighbors - 1, axis=1)[:, :n_neighbors]
        out[start:stop] = top
    return out


def knn_graph(x, n_neighbors: int = 10, metric: CellMetric = "ncos") -> sp.csr_matrix:
    """Symmetric binary kNN graph between the rows of ``x`` (no self-loops).

    Parameters
    ----------
    x
        Cells × features (dense or sparse).
    n_neighbors
        Neighbours per cell before symmetrisation.
    metric
        ``"ncos"``: rows binarised (``> 0``), L1-normalised, and compared by dot product (the
        scDSC/scASDC graph; on z-scored data "expressed above the gene's mean"); ``"cosine"``
        or ``"euclidean"``: exact search with scikit-learn.

    Returns
    -------
    CSR adjacency with ones on the edges of ``i → j`` or ``j → i``.
    """
    n = x.shape[0]
    check_n_neighbors(n_neighbors, n, "n_neighbors")
    if metric == "ncos":
        idx = _ncos_neighbors(x, n_neighbors)
    elif metric in ("cosine", "euclidean"):
        nn = NearestNeighbors(n_neighbors=n_neighbors + 1, metric=metric).fit(x)
        hits = nn.kneighbors(x, return_distance=False)
        # drop each cell itself (or, among duplicates, the last hit)
        is_self = hits == np.arange(n)[:, None]
        is_self[~is_self.any(axis=1), -1] = True
        idx = hits[~is_self].reshape(n, n_neighbors)
    else:
        raise ValueError(f"Unknown `metric` {metric!r}; choose 'ncos', 'cosine' or 'euclidean'.")
    rows = np.repeat(np.arange(n), n_neighbors)
    adj = sp.csr_matrix((np.ones(rows.size, np.float32), (rows, idx.ravel())), shape=(n, n))
    adj = adj.maximum(adj.T).tocsr()
    adj.setdiag(0)
    adj.eliminate_zeros()
    return adj


def cell_graph(
    adata: AnnData,
    n_neighbors: int = 10,
    *,
    use_rep: str | None = None,
    layer: str | None = None,
    metric: CellMetric = "ncos",
    key_added: str = "cell",
) -> None:
    """Build a kNN graph between cells from their expression.

    Parameters
    ----------
    adata
        Cells × genes AnnData.
    n_neighbors
        Neighbours per cell (10 in scASDC) before symmetrisation.
    use_rep
        ``obsm`` key to compute the graph on (e.g. ``"X_pca"``); default ``.X`` or ``layer``.
    layer
        Layer to compute the graph on when ``use_rep`` is ``None``.
    metric
        See :func:`knn_graph`.
    key_added
        Stem of the keys written.

    Returns
    -------
    ``None``. Writes ``obsp[f"{key_added}_connectivities"]`` (binary, symmetric) and
    ``uns[f"{key_added}_neighbors"]`` (the parameters).
    """
    check_adata(adata)
    if use_rep is not None and layer is not None:
        raise ValueError("Pass either `use_rep` or `layer`, not both.")
    x = get_rep(adata, use_rep) if use_rep is not None else get_layer(adata, layer)
    check_finite(x, f"`adata.obsm[{use_rep!r}]`" if use_rep else "the input matrix")
    adj = knn_graph(x, n_neighbors, metric)
    conn_key, uns_key = f"{key_added}_connectivities", f"{key_added}_neighbors"
    warn_if_exists(adata.obsp, conn_key, "adata.obsp")
    adata.obsp[conn_key] = adj
    adata.uns[uns_key] = {
        "connectivities_key": conn_key,
        "params": {
            "n_neighbors": n_neighbors,
            "metric": metric,
            "use_rep": use_rep,
            "layer": layer,
        },
    }
    log_added(f"obsp['{conn_key}']", f"uns['{uns_key}']")
