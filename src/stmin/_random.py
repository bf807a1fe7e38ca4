"""Seeds: validation of ``random_state`` and seeded blocks that leave global generators alone."""

from __future__ import annotations

import random
from contextlib import contextmanager

import numpy as np

_MAX_SEED = 2**32 - 1


def check_random_state(random_state, name: str = "random_state") -> int | None:
    """Return ``random_state`` as an ``int`` in ``[0, 2³² − 1]``, or ``None``.

    Raises
    ------
    ValueError
        For anything else (floats, strings, negative numbers, booleans, arrays, generators).
    """
    if random_state is None:
        return None
    if (
        isinstance(random_state, bool)
        or not isinstance(random_state, int | np.integer)
        or not 0 <= random_state <= _MAX_SEED
    ):
        raise ValueError(
            f"`{name}` must be an integer between 0 and {_MAX_SEED}, or None (got {random_state!r})."
        )
    return int(random_state)


@contextmanager
def seeded(random_state: int | None):
    """Seed Python, NumPy and PyTorch for the block, then restore the generators' states.

    A call seeded this way gives the same result whatever ran before it in the process, and
    whatever runs after it sees the generators as they were. ``None`` leaves them untouched.
    """
    random_state = check_random_state(random_state)
    if random_state is None:
        yield
        return
    import torch

    py_state, np_state = random.getstate(), np.random.get_state()  # noqa: NPY002
    torch_state = torch.random.get_rng_state()
    cuda_states = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    random.seed(random_state)
    np.random.seed(random_state)  # noqa: NPY002 - restored below; third-party code may use it
    torch.manual_seed(random_state)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)  # noqa: NPY002
        torch.random.set_rng_state(torch_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)
