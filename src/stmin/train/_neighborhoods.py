"""Mini-batches of spatial neighbourhoods: centre rows, the rows of their sets, local indices.

A model that reads each row together with a fixed set of other rows (its ``k`` nearest spots,
say) registers the set as an ``obsm`` field of row indices. Each step then needs the
features of the union of the batch's sets only, so memory follows the batch, not the data.
Batches are cut from a breadth-first walk over the sets' graph that starts at a random row
in every epoch: a batch covers one compact region, its sets overlap, and each row's
features are computed about once per epoch instead of once per set it belongs to.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from lightning.pytorch import LightningDataModule
from scipy.sparse.csgraph import breadth_first_order, connected_components
from scvi.data import AnnDataManager
from torch.utils.data import DataLoader, IterableDataset

SETS_KEY = "sets"
"""Batch key of the ``(batch, k)`` local indices of each centre's set (centre first)."""

CENTERS_KEY = "centers"
"""Batch key of the local indices of the centre rows."""


def neighborhood_order(sets: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return every row once, in breadth-first order over the graph of ``sets``.

    Each connected component is walked from a random row; components come in random order.
    """
    n, k = sets.shape
    graph = sp.csr_matrix(
        (np.ones(n * k, dtype=np.int8), (np.repeat(np.arange(n), k), sets.ravel())), shape=(n, n)
    )
    n_comp, comp = connected_components(graph, directed=False)
    order = []
    for c in rng.permutation(n_comp):
        members = np.flatnonzero(comp == c)
        start = int(rng.choice(members))
        order.append(breadth_first_order(graph, start, directed=False, return_predecessors=False))
    return np.concatenate(order)


def neighborhood_batch(tensors: dict, sets: np.ndarray, centers: np.ndarray) -> dict:
    """The batch of these centre rows: the fields of their sets' rows and the local indices."""
    block = sets[centers]
    rows, local = np.unique(block, return_inverse=True)
    local = torch.as_tensor(local.reshape(block.shape), dtype=torch.long)
    out = {key: value[torch.as_tensor(rows)] for key, value in tensors.items()}
    out[SETS_KEY] = local
    out[CENTERS_KEY] = local[:, 0]
    return out


def neighborhood_batches(tensors: dict, sets: np.ndarray, centers: np.ndarray, batch_size: int):
    """Batches of ``batch_size`` consecutive ``centers`` (for inference, in the given order)."""
    for i in range(0, len(centers), batch_size):
        yield neighborhood_batch(tensors, sets, centers[i : i + batch_size])


class _NeighborhoodBatches(IterableDataset):
    """One epoch of neighbourhood batches per iteration (a fresh walk each time)."""

    def __init__(self, tensors: dict, sets: np.ndarray, centers: np.ndarray, batch_size: int):
        self.tensors, self.sets, self.batch_size = tensors, sets, batch_size
        self.is_center = np.zeros(len(sets), dtype=bool)
        self.is_center[centers] = True

    def __len__(self) -> int:
        return -(-int(self.is_center.sum()) // self.batch_size)

    def __iter__(self):
        seed = int(torch.randint(0, 2**31 - 1, (1,)).item())  # follows torch's seed
        order = neighborhood_order(self.sets, np.random.default_rng(seed))
        order = order[self.is_center[order]]
        yield from neighborhood_batches(self.tensors, self.sets, order, self.batch_size)


def _dense(value) -> torch.Tensor:
    if sp.issparse(value):
        value = value.toarray()
    value = value.to_numpy() if hasattr(value, "to_numpy") else np.asarray(value)
    dtype = torch.long if value.dtype.kind in "iub" else torch.float32
    return torch.as_tensor(value, dtype=dtype)


class NeighborhoodDataSplitter(LightningDataModule):
    """Batches of neighbourhoods for models whose rows each read a set of other rows.

    Parameters
    ----------
    adata_manager
        The model's registry. Every registered field is sent per batch for the union of the
        batch's sets; the field ``sets_key`` holds each row's set (``n × k`` row indices, the
        row itself first).
    batch_size
        Centre rows per batch.
    accelerator, devices
        Lightning's business; not used here.
    sets_key
        Registry key of the sets.
    centers
        Rows that are centres (e.g. the labelled ones); default every row. Other rows only
        appear inside sets.
    """

    def __init__(
        self,
        adata_manager: AnnDataManager,
        *,
        batch_size: int | None = 512,
        accelerator: str = "auto",
        devices: int | list[int] | str = "auto",
        sets_key: str = SETS_KEY,
        centers: np.ndarray | None = None,
    ):
        super().__init__()
        tensors = {
            key: _dense(adata_manager.get_from_registry(key)) for key in adata_manager.data_registry
        }
        sets = tensors.pop(sets_key).numpy()
        n = len(sets)
        self.train_idx = np.arange(n) if centers is None else np.asarray(centers, dtype=np.int64)
        self.val_idx = self.test_idx = np.array([], dtype=np.int64)
        self.n_train, self.n_val = len(self.train_idx), 0
        self._batches = _NeighborhoodBatches(
            tensors, sets, self.train_idx, batch_size or self.n_train
        )

    def train_dataloader(self) -> DataLoader:
        """One walk of the data per epoch, ``batch_size`` centres per batch."""
        return DataLoader(self._batches, batch_size=None)

    def val_dataloader(self) -> list:
        """No validation rows."""
        return []
