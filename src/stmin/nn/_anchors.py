"""Triplet mining from latent neighbours, the spatial graph and k-means agreement."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans

from ._triplet import Triplets


def latent_knn(query: torch.Tensor, key: torch.Tensor, k: int, chunk: int = 2048) -> np.ndarray:
    """Indices of the ``k`` rows of ``key`` most cosine-similar to each row of ``query``.

    The node itself is always ranked first. Rows are processed in chunks, so memory is
    ``chunk × n`` rather than ``n × n``.
    """
    q, kk = F.normalize(query, dim=-1), F.normalize(key, dim=-1)
    n = q.shape[0]
    k = min(k, n)
    out = torch.empty(n, k, dtype=torch.long, device=q.device)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        sim = q[start:stop] @ kk.T
        rows = torch.arange(stop - start, device=q.device)
        sim[rows, rows + start] += 10.0  # the node is its own first neighbour
        out[start:stop] = sim.topk(k, dim=1).indices
    return out.cpu().numpy()


def kmeans_agreement(
    z: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    n_clusters: int,
    n_runs: int = 5,
    max_iter: int = 20,
    seed: int = 1234,
) -> np.ndarray:
    """Whether ``rows[i]`` and ``cols[i]`` share a cluster in at least one of ``n_runs`` k-means."""
    agree = np.zeros(rows.size, dtype=bool)
    for run in range(n_runs):
        km = KMeans(n_clusters=n_clusters, n_init=1, max_iter=max_iter, random_state=seed + run)
        labels = km.fit_predict(z)
        agree |= labels[rows] == labels[cols]
    return agree


@torch.no_grad()
def mine_triplets(
    z_online: torch.Tensor,
    z_target: torch.Tensor,
    edges: sp.csr_matrix,
    *,
    top_k: int,
    n_clusters: int,
    n_kmeans: int = 5,
    kmeans_iter: int = 20,
    seed: int = 1234,
) -> Triplets:
    """Mine (anchor, positive, negative) triples as STMGAC does.

    Positives of a node are its ``top_k`` latent neighbours (cosine similarity between the
    online and the target embeddings, the node itself included) that are either spatial
    neighbours ("locality") or share a k-means cluster of the normalised target embedding in at
    least one of ``n_kmeans`` runs ("globality"). Each positive pair gets one uniformly drawn
    negative.

    Parameters
    ----------
    z_online, z_target
        Embeddings of the same nodes (n × d) from the online and the target encoder.
    edges
        Spatial adjacency (n × n); its non-zeros and the diagonal count as spatial neighbours.
    top_k
        Latent neighbours per node.
    n_clusters
        Clusters of each k-means run.
    n_kmeans, kmeans_iter, seed
        Number of k-means runs, their iterations, and the seed of the first run.

    Returns
    -------
    :class:`Triplets` of index tensors on the device of ``z_online``.
    """
    n = z_online.shape[0]
    knn = latent_knn(z_online, z_target, top_k)
    rows = np.repeat(np.arange(n), knn.shape[1])
    cols = knn.ravel()
    spatial = (rows == cols) | (np.asarray(edges[rows, cols]).ravel() != 0)
    target = F.normalize(z_target, dim=-1).cpu().numpy()
    glob = kmeans_agreement(target, rows, cols, n_clusters, n_kmeans, kmeans_iter, seed)
    keep = spatial | glob
    device = z_online.device
    anchor = torch.from_numpy(rows[keep]).to(device)
    positive = torch.from_numpy(cols[keep]).to(device)
    negative = torch.randint(n, (anchor.numel(),), device=device)
    return Triplets(anchor, positive, negative, n)
