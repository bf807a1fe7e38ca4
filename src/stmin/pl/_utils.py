"""Small plotting helpers shared by the ``sm.pl`` functions."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure


def finish(fig: Figure, show: bool | None, save: str | Path | None) -> Figure | None:
    """Save and/or show a figure the way scanpy's plotting functions do."""
    if save is not None:
        fig.savefig(save, dpi=150, bbox_inches="tight")
    if show is None:
        show = save is None and plt.isinteractive()
    if show:
        plt.show()
        return None
    return fig
