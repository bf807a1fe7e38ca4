"""Checks of ``accelerator`` and ``devices`` before Lightning sees them."""

from __future__ import annotations

from .._validate import is_int

ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")


def check_device_args(accelerator, devices) -> None:
    """Raise a clear ``ValueError`` for an unknown accelerator, an absent GPU or bad devices."""
    import torch

    if not isinstance(accelerator, str) or accelerator not in ACCELERATORS:
        raise ValueError(
            f"`accelerator` must be one of {list(ACCELERATORS)} (got {accelerator!r})."
        )
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"`accelerator={accelerator!r}` but PyTorch sees no CUDA device (the installed build "
            f"is {torch.__version__}); pass `accelerator='cpu'` or 'auto'."
        )
    if accelerator == "mps" and not torch.backends.mps.is_available():
        raise ValueError("`accelerator='mps'` but MPS is not available; pass `accelerator='cpu'`.")
    ok = (
        devices == "auto"
        or (is_int(devices) and (devices >= 1 or devices == -1))
        or (
            isinstance(devices, list | tuple)
            and devices
            and all(is_int(i) and i >= 0 for i in devices)
        )
    )
    if not ok:
        raise ValueError(
            f"`devices` must be 'auto', a positive count, -1 (all) or a list of device ids "
            f"(got {devices!r})."
        )
