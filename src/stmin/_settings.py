"""Seeds, logging and thread hygiene."""

import logging
from contextlib import contextmanager

import scvi
import torch

logger = logging.getLogger("stmin")
if not logger.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(levelname)s [stmin] %(message)s"))
    logger.addHandler(_handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def set_seed(seed: int | None) -> None:
    """Seed Python, NumPy and PyTorch through :attr:`scvi.settings.seed`.

    Parameters
    ----------
    seed
        The seed; ``None`` leaves the generators as they are.
    """
    if seed is not None:
        scvi.settings.seed = int(seed)


def log_added(*keys: str) -> None:
    """Log the AnnData keys a function wrote, in scanpy's style, e.g. ``"obsm['X_stmgac']"``."""
    logger.info("added\n" + "\n".join(f"    {k}" for k in keys))


@contextmanager
def torch_threads_kept():
    """Restore PyTorch's intra-op thread count after the block.

    Numba-parallel code in scanpy (e.g. ``highly_variable_genes`` on sparse counts) resets the
    OpenMP pool that PyTorch shares to all cores, overriding ``OMP_NUM_THREADS``; on a busy
    2-core machine the training that follows then runs many times slower.
    """
    n = torch.get_num_threads()
    try:
        yield
    finally:
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
