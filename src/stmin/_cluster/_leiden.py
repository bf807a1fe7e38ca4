"""A scanpy neighbour graph of an embedding, on a private AnnData, and Leiden on it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from anndata import AnnData


def scanpy_neighbors(x: np.ndarray, n_neighbors: int, random_state: int = 0) -> AnnData:
    """AnnData holding ``x`` in ``obsm["X_emb"]`` and scanpy's kNN graph of it.

    The exact scikit-learn transformer is used: scanpy's default (PyNNDescent above 4,096
    observations) fails with recent SciPy sparse arrays (``'csr_array' object has no attribute
    'getnnz'``), and exact search is quick for the low-dimensional embeddings clustered here.
    """
    import scanpy as sc

    tmp = AnnData(
        obs=pd.DataFrame(index=pd.RangeIndex(x.shape[0]).astype(str)),
        obsm={"X_emb": np.asarray(x, dtype=np.float32)},
    )
    sc.pp.neighbors(
        tmp,
        n_neighbors=n_neighbors,
        use_rep="X_emb",
        transformer="sklearn",
        random_state=random_state,
    )
    return tmp


def leiden_codes(graph: AnnData, resolution: float, random_state: int = 0) -> np.ndarray:
    """Leiden labels (integer codes) of a graph from :func:`scanpy_neighbors`.

    The igraph implementation with 2 iterations on the undirected graph (scanpy's advised
    settings).
    """
    import scanpy as sc

    sc.tl.leiden(
        graph,
        resolution=resolution,
        random_state=random_state,
        flavor="igraph",
        n_iterations=2,
        directed=False,
    )
    return graph.obs["leiden"].cat.codes.to_numpy()
