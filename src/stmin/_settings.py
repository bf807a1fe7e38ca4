"""``sm.settings``: verbosity, seed and threads; the ``stmin`` logger.

Importing stmin configures nothing: the ``stmin`` logger has no handler and no level of its own
until ``sm.settings.verbosity`` is set, and PyTorch's thread count is changed only for the
duration of stmin's own calls (:meth:`Settings.threads`).
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager

import numpy as np

logger = logging.getLogger("stmin")

_LEVELS = {
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
}
_INT_LEVELS = dict(enumerate(_LEVELS))  # 0 error, 1 warning, 2 info, 3 debug (as scanpy)


@contextmanager
def quieted(*names: str):
    """Hold the named third-party loggers at ``WARNING`` for the block.

    Their informational lines (Lightning's hardware lines and tips, scvi-tools' notes on the
    fields it registers) are tool chatter to stmin's users; ``sm.settings.verbosity = "debug"``
    lets them through.
    """
    if logger.getEffectiveLevel() <= logging.DEBUG:
        yield
        return
    loggers = [logging.getLogger(name) for name in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(logging.WARNING, lg.getEffectiveLevel()))
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def log_added(*keys: str) -> None:
    """Log the AnnData keys a function wrote, in scanpy's style, e.g. ``"obsm['X_stmgac']"``."""
    logger.info("added\n" + "\n".join(f"    {k}" for k in keys))


def _n_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


class Settings:
    """Global settings of stmin, available as ``sm.settings``.

    ``sm.settings.verbosity``, ``sm.settings.seed`` and ``sm.settings.n_jobs`` are described
    below.

    Notes
    -----
    **Threads.** stmin's models are small (tens of thousands of parameters on graphs of a few
    thousand nodes), so extra threads gain little and can cost a lot: training on the bundled
    DLPFC section took about 20 % less time with two threads than one on an idle 2-core machine,
    but five times longer on a 2-core machine with other work running. One thread is also what
    makes a seeded run reproducible, since the order of floating-point sums changes with the
    thread count. ``sm.settings.n_jobs`` applies during stmin's calls only, whatever
    ``OMP_NUM_THREADS`` says; raise it for the large models (MACD with thousands of genes,
    end-to-end image training) on a machine with idle cores.

    **Reproducibility.** The same seed, the same thread count (``n_jobs``), the same device and
    the same library versions give identical results, whatever ran before in the process. A
    different CPU model may change the last bits of floating-point results, and a GPU run
    differs from a CPU run.
    """

    def __init__(self):
        self._n_jobs = 1
        self._seed: int | None = None

    # -- verbosity ------------------------------------------------------------------------------

    @property
    def verbosity(self) -> str:
        """Level of the ``stmin`` logger.

        ``"error"``, ``"warning"`` (default, as scanpy), ``"info"`` (also lists the keys each
        function adds) or ``"debug"``; or 0–3. When no logging handler is configured anywhere,
        setting it adds a plain one that writes to stderr (importing stmin adds none).
        """
        level = logger.getEffectiveLevel()
        return next((n for n, v in _LEVELS.items() if v <= level), "debug")

    @verbosity.setter
    def verbosity(self, value: str | int) -> None:
        if isinstance(value, int | np.integer) and not isinstance(value, bool):
            name = _INT_LEVELS.get(int(value))
        else:
            name = value if isinstance(value, str) and value in _LEVELS else None
        if name is None:
            raise ValueError(
                f"`sm.settings.verbosity` must be one of {list(_LEVELS)} or 0–3 (got {value!r})."
            )
        logger.setLevel(_LEVELS[name])
        if not logger.handlers and not logging.getLogger().handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(levelname)s [stmin] %(message)s"))
            logger.addHandler(handler)

    # -- seed -----------------------------------------------------------------------------------

    @property
    def seed(self) -> int | None:
        """Global seed (``None``: not set).

        Setting it seeds Python, NumPy and PyTorch through :attr:`scvi.settings.seed`, for the
        model classes; the ``sm.tl`` functions take their own ``random_state`` and leave the
        global generators as they found them.
        """
        return self._seed

    @seed.setter
    def seed(self, value: int | None) -> None:
        import scvi

        from ._random import check_random_state

        value = check_random_state(value, "sm.settings.seed")
        self._seed = value
        if value is not None:
            with quieted("lightning.fabric.utilities.seed"):  # "Seed set to ..."
                scvi.settings.seed = value

    # -- threads --------------------------------------------------------------------------------

    @property
    def n_jobs(self) -> int:
        """PyTorch threads while stmin trains or runs a model (default 1; ``-1``: all cores)."""
        return self._n_jobs

    @n_jobs.setter
    def n_jobs(self, value: int) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | np.integer)
            or (value < 1 and value != -1)
        ):
            raise ValueError(
                f"`sm.settings.n_jobs` must be a positive integer or -1 (got {value!r})."
            )
        self._n_jobs = int(value)

    def resolved_n_jobs(self) -> int:
        """The thread count :attr:`n_jobs` stands for on this machine."""
        return _n_cores() if self._n_jobs == -1 else self._n_jobs

    @contextmanager
    def threads(self):
        """Run the block with :attr:`n_jobs` threads, then restore the previous counts.

        Covers PyTorch's intra-op threads and, through threadpoolctl, the BLAS and OpenMP pools
        of NumPy, SciPy and scikit-learn (k-means and Gaussian mixtures run inside the models),
        so that a run does not depend on ``OMP_NUM_THREADS``.
        """
        import torch
        from threadpoolctl import threadpool_limits

        before = torch.get_num_threads()
        wanted = self.resolved_n_jobs()
        try:
            with threadpool_limits(limits=wanted):
                if torch.get_num_threads() != wanted:
                    torch.set_num_threads(wanted)
                yield
        finally:
            if torch.get_num_threads() != before:
                torch.set_num_threads(before)

    def __repr__(self) -> str:
        return (
            f"stmin settings: verbosity={self.verbosity!r}, seed={self.seed!r}, "
            f"n_jobs={self.n_jobs!r}"
        )


settings = Settings()


@contextmanager
def torch_threads_kept():
    """Restore PyTorch's intra-op thread count after the block.

    Numba-parallel code in scanpy (e.g. ``highly_variable_genes`` on sparse counts) resets the
    OpenMP pool that PyTorch shares to all cores, overriding ``OMP_NUM_THREADS``; on a busy
    2-core machine the training that follows then runs many times slower.
    """
    import torch

    n = torch.get_num_threads()
    try:
        yield
    finally:
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
