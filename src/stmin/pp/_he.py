"""H&E patches cut around each spot from the section's image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from anndata import AnnData
from PIL import Image

from .._settings import log_added
from .._validate import check_adata, get_library, get_spatial, warn_if_exists
from ..datasets._visium import _large_images

PATCHES_KEY = "he_patches"


def _image(entry: dict, library_id: str, image_key: str) -> tuple[np.ndarray, float]:
    """Return the RGB image and the factor from full-resolution pixels to its pixels."""
    if image_key == "fullres":
        path = entry.get("metadata", {}).get("image_path")
        if path is None or not Path(path).is_file():
            raise FileNotFoundError(
                f"The full-resolution image of library {library_id!r} is not available "
                f"(`uns['spatial'][{library_id!r}]['metadata']['image_path']` = {path!r}). Pass "
                "`image_key='hires'` to cut patches from the stored image instead."
            )
        with _large_images(), Image.open(path) as img:
            return np.asarray(img.convert("RGB")), 1.0
    images = entry.get("images", {})
    if image_key not in images:
        raise KeyError(
            f"`uns['spatial'][{library_id!r}]['images'][{image_key!r}]` not found "
            f"(available: {list(images)})."
        )
    scalef = entry.get("scalefactors", {}).get(f"tissue_{image_key}_scalef")
    if scalef is None:
        raise KeyError(
            f"`uns['spatial'][{library_id!r}]['scalefactors']['tissue_{image_key}_scalef']` not "
            "found: the image's scale factor is needed to place the spots on it."
        )
    image = np.asarray(images[image_key])
    if image.dtype != np.uint8:  # scanpy stores float images in [0, 1]
        image = np.clip(np.rint(image * 255 if image.max() <= 1 else image), 0, 255)
    return image[..., :3].astype(np.uint8), float(scalef)


def he_patches(
    adata: AnnData,
    library_id: str | None = None,
    size: int = 224,
    *,
    image_key: str = "fullres",
    patch_fullres: float | None = None,
    spatial_key: str = "spatial",
    key_added: str = PATCHES_KEY,
) -> None:
    """Cut a square H&E patch centred on every spot.

    Parameters
    ----------
    adata
        Spots × genes with spot centres in full-resolution pixels in ``obsm[spatial_key]`` and
        the image in ``uns["spatial"][library_id]`` (Visium layout).
    library_id
        Key in ``uns["spatial"]``; may be omitted when there is one.
    size
        Side of the stored patches in pixels (224, as mclSTExp).
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
        ``uns[key_added]`` with the library, image key and patch sizes.

    Notes
    -----
    Patches that reach over the image border are padded with white (the slide's background);
    a spot whose centre lies outside the image raises.
    """
    check_adata(adata, need_vars=False)
    if not isinstance(size, int | np.integer) or size < 8:
        raise ValueError(f"`size` must be an integer of at least 8 pixels (got {size!r}).")
    coords = get_spatial(adata, spatial_key)[:, :2]
    library_id, entry = get_library(adata, library_id)
    image, scalef = _image(entry, library_id, image_key)
    side_full = float(size if patch_fullres is None else patch_fullres)
    if side_full <= 0:
        raise ValueError(f"`patch_fullres` must be positive (got {patch_fullres!r}).")
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
    half = side // 2
    padded = np.pad(image, ((half, side), (half, side), (0, 0)), constant_values=255)
    corner = np.floor(centres).astype(int)  # + half (padding) - half (to the corner) = floor
    patches = np.empty((adata.n_obs, size, size, 3), dtype=np.uint8)
    for i, (x, y) in enumerate(corner):
        patch = padded[y : y + side, x : x + side]
        if side != size:
            patch = np.asarray(Image.fromarray(patch).resize((size, size), Image.BILINEAR))
        patches[i] = patch
    warn_if_exists(adata.obsm, key_added, "adata.obsm")
    adata.obsm[key_added] = patches
    adata.uns[key_added] = {
        "library_id": library_id,
        "image_key": image_key,
        "size": int(size),
        "patch_fullres": side_full,
    }
    log_added(f"obsm['{key_added}']", f"uns['{key_added}']")
