"""Mini-batches of spatial neighbourhoods: centre rows, the union of their sets, local indices."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components
from scvi import REGISTRY_KEYS

import stmin as sm
from stmin.train import NeighborhoodDataSplitter
from stmin.train._neighborhoods import (
    CENTERS_KEY,
    SETS_KEY,
    neighborhood_batch,
    neighborhood_batches,
    neighborhood_order,
)


def _chain_sets(n: int, k: int = 3) -> np.ndarray:
    """Each row and the next ``k - 1`` rows of a chain (wrapping within the chain)."""
    return (np.arange(n)[:, None] + np.arange(k)) % n


def _two_chains() -> np.ndarray:
    """Two chains of 10 and 6 rows: two connected components."""
    return np.r_[_chain_sets(10), 10 + _chain_sets(6)]


def test_order_walks_every_row_once_one_component_at_a_time():
    sets = _two_chains()
    graph = sp.csr_matrix((np.ones(sets.size), (np.repeat(np.arange(16), 3), sets.ravel())))
    _, component = connected_components(graph, directed=False)
    starts = set()
    for seed in range(20):
        order = neighborhood_order(sets, np.random.default_rng(seed))
        assert sorted(order) == list(range(16))
        # each component is walked in one piece, so the component changes exactly once
        assert np.count_nonzero(np.diff(component[order])) == 1
        starts.add(int(order[0]))
    assert len(starts) > 3  # the walk starts at a random row
    again = neighborhood_order(sets, np.random.default_rng(3))
    assert np.array_equal(again, neighborhood_order(sets, np.random.default_rng(3)))


def test_order_is_breadth_first():
    """On a chain each row's set links it to its neighbours: a walk never jumps ahead."""
    sets = _chain_sets(12, 2)  # row i with row i + 1
    order = neighborhood_order(sets, np.random.default_rng(0))
    # breadth-first from the start: distances along the ring never decrease
    start = order[0]
    ring = np.minimum((order - start) % 12, (start - order) % 12)
    assert (np.diff(ring) >= 0).all()


def test_batch_holds_the_union_of_the_sets_with_local_indices():
    sets = _two_chains()
    x = torch.arange(16 * 2, dtype=torch.float32).reshape(16, 2)
    labels = torch.arange(16).reshape(16, 1)
    centers = np.array([4, 12, 5])
    batch = neighborhood_batch({REGISTRY_KEYS.X_KEY: x, "labels": labels}, sets, centers)
    rows = np.unique(sets[centers])
    assert np.array_equal(batch["labels"].numpy().ravel(), rows)  # one row per spot, once each
    assert torch.equal(batch[REGISTRY_KEYS.X_KEY], x[rows])
    local = batch[SETS_KEY]
    assert local.shape == (3, 3) and local.dtype == torch.long
    # the local indices point back at each centre's set, the centre first
    assert np.array_equal(rows[local.numpy()], sets[centers])
    assert torch.equal(batch[CENTERS_KEY], local[:, 0])
    assert np.array_equal(rows[batch[CENTERS_KEY].numpy()], centers)


def test_batches_cover_the_centres_in_order():
    sets = _chain_sets(10)
    tensors = {"x": torch.arange(10).reshape(10, 1)}
    centers = np.array([7, 1, 3, 9, 0])
    batches = list(neighborhood_batches(tensors, sets, centers, batch_size=2))
    assert [len(b[CENTERS_KEY]) for b in batches] == [2, 2, 1]
    seen = np.concatenate([b["x"].numpy().ravel()[b[CENTERS_KEY].numpy()] for b in batches])
    assert np.array_equal(seen, centers)


@pytest.fixture
def manager(labelled_section):
    """The registry of SpaCRD training data built from two tiny labelled sections (128 spots)."""
    refs = [labelled_section("a"), labelled_section("b", seed=1)]
    model = sm.model.SpaCRD.from_references(refs, "label", "invasive cancer", n_top_genes=None)
    return model.adata_manager


def _epoch(splitter) -> list[dict]:
    return list(splitter.train_dataloader())


def test_splitter_gives_each_centre_once_per_epoch(manager):
    adata = manager.adata
    labels = adata.obs["labels"].to_numpy()
    centers = np.flatnonzero(labels >= 0)
    splitter = NeighborhoodDataSplitter(manager, batch_size=20, centers=centers)
    assert splitter.n_train == len(centers) and splitter.n_val == 0
    assert splitter.val_dataloader() == []
    assert len(splitter.train_dataloader()) == -(-len(centers) // 20)
    x = np.asarray(adata.X)
    sets = adata.obsm["sets"]
    orders = []
    for _ in range(2):
        batches = _epoch(splitter)
        assert all(len(b[CENTERS_KEY]) <= 20 for b in batches)
        got = []
        for b in batches:
            bx = b[REGISTRY_KEYS.X_KEY].numpy()
            # identify each batch row by its expression (rows of the synthetic data are distinct)
            index = np.array([np.flatnonzero((x == row).all(1))[0] for row in bx])
            assert np.array_equal(index[b[SETS_KEY].numpy()], sets[index[b[CENTERS_KEY].numpy()]])
            got.append(index[b[CENTERS_KEY].numpy()])
            # only labelled spots are centres, but unlabelled ones come along as neighbours
            assert (b["labels"].numpy().ravel()[b[CENTERS_KEY].numpy()] >= 0).all()
        got = np.concatenate(got)
        assert sorted(got) == sorted(centers)  # every centre exactly once
        orders.append(got)
    assert not np.array_equal(*orders)  # a fresh walk every epoch
    neighbours = np.concatenate([b["labels"].numpy().ravel() for b in _epoch(splitter)])
    assert (neighbours == -1).any()


def test_splitter_walk_follows_torch_seed(manager):
    splitter = NeighborhoodDataSplitter(manager, batch_size=16)
    assert splitter.n_train == manager.adata.n_obs  # default: every row is a centre
    firsts = []
    for seed in (5, 5, 6):
        torch.manual_seed(seed)
        firsts.append(_epoch(splitter)[0][REGISTRY_KEYS.X_KEY].numpy())
    assert np.array_equal(firsts[0], firsts[1])
    assert firsts[0].shape != firsts[2].shape or not np.array_equal(firsts[0], firsts[2])
