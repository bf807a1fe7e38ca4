"""Seeds and logging."""

import logging

import scvi

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
