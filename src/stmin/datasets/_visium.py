"""The Visium ``uns["spatial"]`` layout (as :func:`scanpy.read_visium` writes it) and images."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

# H&E scans of the original ST platform are ~92 Mpx, just above PIL's decompression-bomb limit.
_MAX_IMAGE_PIXELS = 400_000_000


def spatial_uns(
    library_id: str,
    images: Mapping[str, np.ndarray],
    scalefactors: Mapping[str, float],
    metadata: Mapping[str, str],
) -> dict:
    """Return ``{library_id: {"images", "scalefactors", "metadata"}}`` for ``adata.uns["spatial"]``.

    Parameters
    ----------
    library_id
        Key of the section, e.g. the sample id.
    images
        ``"hires"`` and/or ``"lowres"`` RGB images (converted to ``uint8``).
    scalefactors
        ``tissue_<key>_scalef`` for each image (image pixel = full-resolution pixel × factor) and
        ``spot_diameter_fullres``.
    metadata
        Free-form strings, e.g. the source or the path of the full-resolution image.
    """
    return {
        library_id: {
            "images": {k: np.ascontiguousarray(v, dtype=np.uint8) for k, v in images.items()},
            "scalefactors": {k: float(v) for k, v in scalefactors.items()},
            "metadata": dict(metadata),
        }
    }


def read_rgb(path: Path) -> np.ndarray:
    """Read a small image file as an ``(height, width, 3)`` ``uint8`` array."""
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


@contextmanager
def _large_images() -> Iterator[None]:
    """Raise PIL's pixel limit for the duration of the block only."""
    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = _MAX_IMAGE_PIXELS
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = old


def downscaled_images(
    path: Path, longest_sides: Mapping[str, int]
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Read a full-resolution image at reduced sizes, without decoding it at full size.

    Parameters
    ----------
    path
        Image file (e.g. a ~9k × 9k H&E JPEG).
    longest_sides
        Target length of the longest side per image key, e.g. ``{"hires": 2000, "lowres": 600}``.

    Returns
    -------
    The images by key (``uint8`` RGB arrays) and the scale factors ``tissue_<key>_scalef``.
    """
    images, scalefactors = {}, {}
    with _large_images(), Image.open(path) as img:
        full_w, full_h = img.size
        largest = max(longest_sides.values()) / max(full_w, full_h)
        # JPEG decoders can decode at 1/2, 1/4 or 1/8 scale directly, which is much faster.
        img.draft("RGB", (int(np.ceil(full_w * largest)), int(np.ceil(full_h * largest))))
        rgb = img.convert("RGB")
        for key, side in longest_sides.items():
            scale = side / max(full_w, full_h)
            size = (round(full_w * scale), round(full_h * scale))
            images[key] = np.asarray(rgb.resize(size, Image.Resampling.LANCZOS))
            scalefactors[f"tissue_{key}_scalef"] = scale
    return images, scalefactors
