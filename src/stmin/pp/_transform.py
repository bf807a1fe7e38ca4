"""Transforms shared by the methods' input pipelines and the plots that compare with them."""

from __future__ import annotations

import math

import numpy as np
import torch

RAW_COUNTS = "Pass the raw counts (e.g. `layer='counts'`)."
"""Advice of the errors on count matrices of the pp pipelines (which take no ``use_rep``)."""


def gene_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations as ``sc.pp.scale`` computes them.

    Unbiased variance; constant columns get a standard deviation of 1 (they scale to 0).
    """
    mean = x.mean(axis=0, dtype=np.float64)
    std = np.sqrt(x.var(axis=0, dtype=np.float64) * x.shape[0] / max(x.shape[0] - 1, 1))
    std[std == 0] = 1.0
    return mean, std


def zscore(x: np.ndarray) -> np.ndarray:
    """Z-score the columns of ``x`` (see :func:`gene_moments`), as float32."""
    mean, std = gene_moments(x)
    return ((x - mean) / std).astype(np.float32)


def expression_transform(
    counts: torch.Tensor, target_sum: float = 1e4, log_base: float = 10.0
) -> torch.Tensor:
    """Panel-normalised log expression: ``log_base(1 + target_sum · counts / Σ_panel counts)``.

    The library size is summed over the panel genes only, as mclSTExp's code does; spots with
    no panel counts map to zeros.
    """
    total = counts.sum(-1, keepdim=True)
    scaled = counts * (target_sum / total.clamp_min(1e-12))
    return torch.log1p(scaled) / math.log(log_base)
