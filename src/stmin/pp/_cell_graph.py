"""k-nearest-neighbour graphs between cells from their expression (sparse, never N × N)."""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import scipy.sparse as sp
from anndata import AnnData
from sklearn.neighbors import NearestNeighbors

from .._constants import CELL_GRAPH_STEM, connectivities_key, neighbors_key
from .._docs import d
from .._validate import (
    as_matrix,
    check_adata,
    check_bool,
    check_choice,
    check_finite,
    check_key,
    check_n_neighbors,
    get_layer,
    get_rep,
    where,
)
from .._writer import call_params, write_result

CellMetric = Literal["ncos", "cosine", "euclidean"]
CELL_METRICS = get_args(CellMetric)

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
    check_choice(metric, "metric", CELL_METRICS)
    if not sp.issparse(x):
        x = as_matrix(x, "x")
    else:
        check_finite(x, "`x`")
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
    rows = np.repeat(np.arange(n), n_neighbors)
    adj = sp.csr_matrix((np.ones(rows.size, np.float32), (rows, idx.ravel())), shape=(n, n))
    adj = adj.maximum(adj.T).tocsr()
    adj.setdiag(0)
    adj.eliminate_zeros()
    return adj


@d.dedent
def cell_graph(
    adata: AnnData,
    n_neighbors: int = 10,
    *,
    use_rep: str | None = None,
    layer: str | None = None,
    metric: CellMetric = "ncos",
    key_added: str = CELL_GRAPH_STEM,
    copy: bool = False,
) -> AnnData | None:
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
        Stem of the keys written (default ``"cell"``).
    %(copy)s

    Returns
    -------
    %(returns_copy)s Writes ``obsp[f"{key_added}_connectivities"]`` (binary, symmetric) and
    ``uns[f"{key_added}_neighbors"]`` (``connectivities_key`` and the ``params``).
    """
    params = call_params(locals())
    check_adata(adata)
    check_choice(metric, "metric", CELL_METRICS)
    check_key(key_added)
    check_bool(copy, "copy")
    check_n_neighbors(n_neighbors, adata.n_obs, "n_neighbors")
    if use_rep is not None and layer is not None:
        raise ValueError("Pass either `use_rep` or `layer`, not both.")
    x = get_rep(adata, use_rep) if use_rep is not None else get_layer(adata, layer)
    check_finite(x, f"`adata.obsm[{use_rep!r}]`" if use_rep else where("adata", layer))
    adj = knn_graph(x, n_neighbors, metric)
    adata = adata.copy() if copy else adata
    conn_key = connectivities_key(key_added)
    write_result(
        adata,
        key_added,
        params,
        obsp={conn_key: adj},
        record={"connectivities_key": conn_key},
        uns_key=neighbors_key(key_added),
    )
    return adata if copy else None
