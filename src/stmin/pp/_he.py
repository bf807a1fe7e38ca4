"""H&E patches cut around each spot from the section's image."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from anndata import AnnData
from PIL import Image

from .._constants import HE_PATCHES_KEY, SPATIAL_KEY
from .._docs import d
from .._validate import (
    as_rgb,
    check_adata,
    check_bool,
    check_choice,
    check_int,
    check_key,
    check_number,
    get_library,
    get_library_part,
    get_scalefactor,
    get_spatial,
)
from .._writer import call_params, write_result
from ..datasets._visium import _large_images

IMAGE_KEYS = ("fullres", "hires", "lowres")
MAX_PATCH_SIZE = 2048
"""Largest side of a stored patch, in pixels."""


def _image(entry: dict, library_id: str, image_key: str) -> tuple[np.ndarray, float]:
    """Return the RGB image and the factor from full-resolution pixels to its pixels."""
    if image_key == "fullres":
        metadata = get_library_part(entry, library_id, "metadata")
        path = metadata.get("image_path")
        where = f"`uns['spatial'][{library_id!r}]['metadata']['image_path']`"
        if path is None or not isinstance(path, str | os.PathLike) or not Path(path).is_file():
            state = "is a folder" if path is not None and Path(str(path)).is_dir() else "not found"
            raise FileNotFoundError(
                f"The full-resolution image of library {library_id!r} is not available "
                f"({where} = {path!r}: {state}). Pass "
                "`image_key='hires'` to cut patches from the stored image instead."
            )
        try:
            with _large_images(), Image.open(path) as img:
                return np.asarray(img.convert("RGB")), 1.0
        except (OSError, ValueError, Image.DecompressionBombError) as err:
            raise ValueError(
                f"Cannot read the image file {str(path)!r} ({where}): {err}. Replace the file, "
                "or pass `image_key='hires'` to cut patches from the stored image."
            ) from None
    images = get_library_part(entry, library_id, "images")
    if image_key not in images:
        raise KeyError(
            f"`uns['spatial'][{library_id!r}]['images'][{image_key!r}]` not found "
            f"(available: {list(images)})."
        )
    scalef = get_scalefactor(entry, library_id, f"tissue_{image_key}_scalef")
    image = as_rgb(images[image_key], f"`uns['spatial'][{library_id!r}]['images'][{image_key!r}]`")
    return image, scalef


@d.dedent
def he_patches(
    adata: AnnData,
    library_id: str | None = None,
    size: int = 224,
    *,
    image_key: str = "fullres",
    patch_fullres: float | None = None,
    spatial_key: str = SPATIAL_KEY,
    key_added: str = HE_PATCHES_KEY,
    copy: bool = False,
) -> AnnData | None:
    """Cut a square H&E patch centred on every spot.

    Parameters
    ----------
    adata
        Spots × genes with spot centres in full-resolution pixels in ``obsm[spatial_key]`` and
        the image in ``uns["spatial"][library_id]`` (Visium layout).
    library_id
        Key in ``uns["spatial"]``; may be omitted when there is one.
    size
        Side of the stored patches in pixels (224, as mclSTExp; at most 2048).
    image_key
        ``"fullres"`` reads the image file named in
        ``uns["spatial"][library_id]["metadata"]["image_path"]``; ``"hires"`` or ``"lowres"`` cut
        from the stored image, placing spots with ``tissue_<image_key>_scalef``.
    patch_fullres
        Side of the cut square in full-resolution pixels (default ``size``: at full resolution
        a 224-px patch covers about one ST spot diameter plus its margin). Patches are resized
        to ``size`` when the two differ.
    spatial_key
        ``obsm`` key of the spot centres.
    key_added
        Writes ``obsm[key_added]``: ``uint8`` array ``(n_obs, size, size, 3)``, and
        ``uns[key_added]`` with the parameters, the library and the patch size.
    %(copy)s

    Returns
    -------
    %(returns_copy)s

    Notes
    -----
    Patches that reach over the image border are padded with white (the slide's background);
    a spot whose centre lies outside the image raises.
    """
    params = call_params(locals())
    check_adata(adata, need_vars=False)
    check_key(key_added)
    check_bool(copy, "copy")
    patches, library_id, side_full = cut_patches(
        adata,
        library_id,
        size,
        image_key=image_key,
        patch_fullres=patch_fullres,
        spatial_key=spatial_key,
    )
    adata = adata.copy() if copy else adata
    write_result(
        adata,
        key_added,
        params,
        obsm={key_added: patches},
        record={"library_id": library_id, "patch_fullres": side_full},
    )
    return adata if copy else None


def cut_patches(
    adata: AnnData,
    library_id: str | None = None,
    size: int = 224,
    *,
    image_key: str = "fullres",
    patch_fullres: float | None = None,
    spatial_key: str = SPATIAL_KEY,
) -> tuple[np.ndarray, str, float]:
    """Functional core of :func:`he_patches`: the patches, the library id and the cut side."""
    check_int(size, "size", min_value=8, max_value=MAX_PATCH_SIZE)
    check_choice(image_key, "image_key", IMAGE_KEYS)
    if patch_fullres is not None:
        check_number(patch_fullres, "patch_fullres", min_value=0, min_inclusive=False)
    coords = get_spatial(adata, spatial_key)[:, :2]
    library_id, entry = get_library(adata, library_id)
    image, scalef = _image(entry, library_id, image_key)
    side_full = float(size if patch_fullres is None else patch_fullres)
    centres = coords * scalef
    height, width = image.shape[:2]
    outside = (centres[:, 0] < 0) | (centres[:, 0] >= width)
    outside |= (centres[:, 1] < 0) | (centres[:, 1] >= height)
    if outside.any():
        first = adata.obs_names[np.flatnonzero(outside)[:3]].tolist()
        raise ValueError(
            f"{int(outside.sum())} spot centres lie outside the {width} × {height} image of "
            f"library {library_id!r} (e.g. {first}). Check `obsm[{spatial_key!r}]` (full-resolution "
            f"pixels, x then y) and `image_key`."
        )
    side = max(1, round(side_full * scalef))
    if side > max(height, width):
        what = "`size`" if patch_fullres is None else "`patch_fullres`"
        raise ValueError(
            f"{what}={side_full:g} full-resolution pixels cover {side} pixels of the "
            f"{width} × {height} image of library {library_id!r}: more than the whole image. "
            "Pass a smaller `patch_fullres` (full-resolution pixels) or `size`."
        )
    half = side // 2
    padded = np.pad(image, ((half, side), (half, side), (0, 0)), constant_values=255)
    corner = np.floor(centres).astype(int)  # + half (padding) - half (to the corner) = floor
    patches = np.empty((adata.n_obs, size, size, 3), dtype=np.uint8)
    for i, (x, y) in enumerate(corner):
        patch = padded[y : y + side, x : x + side]
        if side != size:
            patch = np.asarray(Image.fromarray(patch).resize((size, size), Image.BILINEAR))
        patches[i] = patch
    return patches, library_id, side_full
