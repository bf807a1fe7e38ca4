"""Column transforms shared by the methods' input pipelines."""

from __future__ import annotations

import numpy as np


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
