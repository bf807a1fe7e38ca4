"""Global-nearest-neighbour (G2N) anchors across slices, as STG3Net mines them."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from ._triplet import Triplets


class CrossSlicePairs(NamedTuple):
    """Undirected cross-slice pairs ``(i, j)`` with ``i < j`` and their similarity."""

    i: np.ndarray
    j: np.ndarray
    similarity: np.ndarray


@torch.no_grad()
def cross_slice_pairs(
    z: torch.Tensor,
    batch: np.ndarray,
    labels: np.ndarray,
    *,
    k: int = 50,
    drop_rate: float = 0.5,
    rng: np.random.Generator,
    chunk: int = 4096,
) -> CrossSlicePairs:
    """Candidate anchor pairs between each slice and all the others.

    For every node, the ``k`` nodes of the other slices with the largest dot product with it
    are candidates; each candidate is dropped with probability ``drop_rate``; a pair is kept
    when both nodes carry the same pseudo-label. Pairs found from both sides are kept once.
    Similarities are computed in chunks of ``chunk`` rows (memory ``chunk × n``).

    Parameters
    ----------
    z
        Joint embedding (n × d).
    batch
        Integer slice code of each node.
    labels
        Pseudo-label of each node (clusters of ``z``).
    k
        Neighbours per node in the other slices (50 in the paper).
    drop_rate
        Probability of dropping a candidate (0.5 in the paper).
    rng
        Random generator of the drops.
    chunk
        Rows per similarity block.
    """
    n = z.shape[0]
    found_i, found_j, found_s = [], [], []
    for b in np.unique(batch):
        query, rest = np.flatnonzero(batch == b), np.flatnonzero(batch != b)
        kk = min(k, rest.size)
        z_rest = z[torch.from_numpy(rest).to(z.device)]
        for start in range(0, query.size, chunk):
            rows = query[start : start + chunk]
            sim = z[torch.from_numpy(rows).to(z.device)] @ z_rest.T
            top = sim.topk(kk, dim=1)
            i = np.repeat(rows, kk)
            j = rest[top.indices.cpu().numpy().ravel()]
            keep = (rng.random(i.size) >= drop_rate) & (labels[i] == labels[j])
            found_i.append(i[keep])
            found_j.append(j[keep])
            found_s.append(top.values.cpu().numpy().ravel()[keep])
    i, j, s = (np.concatenate(v) for v in (found_i, found_j, found_s))
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    _, first = np.unique(lo.astype(np.int64) * n + hi, return_index=True)
    return CrossSlicePairs(lo[first], hi[first], s[first])


def g2n_triplets(
    pairs: CrossSlicePairs, batch: np.ndarray, *, rng: np.random.Generator, device=None
) -> Triplets:
    """Triplets from cross-slice pairs: every paired node is an anchor.

    The positive of an anchor is its most similar partner; the negative is a node drawn
    uniformly from the anchor's own slice.

    Parameters
    ----------
    pairs
        Output of :func:`cross_slice_pairs`.
    batch
        Integer slice code of each node.
    rng
        Random generator of the negatives.
    device
        Device of the returned index tensors.
    """
    n = batch.size
    nodes = np.r_[pairs.i, pairs.j]
    partners = np.r_[pairs.j, pairs.i]
    sims = np.r_[pairs.similarity, pairs.similarity]
    order = np.lexsort((-sims, nodes))
    anchor, first = np.unique(nodes[order], return_index=True)
    positive = partners[order][first]
    members = np.argsort(batch, kind="stable")
    sizes = np.bincount(batch)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    slice_of = batch[anchor]
    negative = members[starts[slice_of] + rng.integers(0, sizes[slice_of])]
    a, p, q = (
        torch.as_tensor(v, dtype=torch.long, device=device) for v in (anchor, positive, negative)
    )
    return Triplets(a, p, q, n)
