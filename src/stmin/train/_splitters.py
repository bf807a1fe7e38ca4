"""Data splitters with one constructor signature, so that a model picks its own by a class attribute.

Every splitter takes ``(adata_manager, *, batch_size, accelerator, devices, **kwargs)`` and
trains on every row (no validation split: these methods have no held-out objective). A model
names its splitter in ``_data_splitter_cls``; a sampled-subgraph splitter for large graphs
plugs in the same way.
"""

from __future__ import annotations

from scvi.data import AnnDataManager
from scvi.dataloaders import DataSplitter, DeviceBackedDataSplitter


class FullDataSplitter(DeviceBackedDataSplitter):
    """All rows on the training device at once.

    ``batch_size=None`` gives one batch holding every row in ``adata`` order (a whole graph
    per step); an integer gives shuffled mini-batches of rows.
    """

    def __init__(
        self,
        adata_manager: AnnDataManager,
        *,
        batch_size: int | None = None,
        accelerator: str = "auto",
        devices: int | list[int] | str = "auto",
        **kwargs,
    ):
        super().__init__(
            adata_manager,
            train_size=1.0,
            accelerator=accelerator,
            device=devices,
            shuffle=batch_size is not None,
            batch_size=batch_size,
            shuffle_set_split=False,
            **kwargs,
        )


class MiniBatchDataSplitter(DataSplitter):
    """Shuffled mini-batches loaded from the AnnData on the CPU, one batch at a time.

    For inputs too large to keep on the device (e.g. image patches); ``accelerator`` and
    ``devices`` are Lightning's business here and are not used by the splitter.
    """

    def __init__(
        self,
        adata_manager: AnnDataManager,
        *,
        batch_size: int = 128,
        accelerator: str = "auto",
        devices: int | list[int] | str = "auto",
        **kwargs,
    ):
        super().__init__(adata_manager, train_size=1.0, batch_size=batch_size, **kwargs)
