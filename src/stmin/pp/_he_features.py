"""Frozen image features of the spots' H&E patches."""

from __future__ import annotations

import os

import numpy as np
from anndata import AnnData
from torch import nn

from .._settings import log_added
from .._validate import check_adata, warn_if_exists
from ..nn._image_encoders import encode_patches, image_encoder
from ._he import PATCHES_KEY


def get_patches(adata: AnnData, patch_key: str = PATCHES_KEY, name: str = "adata") -> np.ndarray:
    """Return ``obsm[patch_key]`` as ``(n_obs, h, w, 3)`` ``uint8`` patches, with clear errors."""
    if patch_key not in adata.obsm:
        raise KeyError(
            f"`{name}.obsm[{patch_key!r}]` not found. Cut the H&E patches first with "
            f"`sm.pp.he_patches({name})`."
        )
    patches = np.asarray(adata.obsm[patch_key])
    if patches.ndim != 4 or patches.shape[-1] != 3 or patches.dtype != np.uint8:
        raise ValueError(
            f"`{name}.obsm[{patch_key!r}]` must be uint8 RGB patches of shape (n_obs, h, w, 3), "
            f"got {patches.dtype} {patches.shape}."
        )
    return patches


def he_features(
    adata: AnnData,
    encoder: str | nn.Module = "stats",
    *,
    weights_path: str | os.PathLike | None = None,
    patch_key: str = PATCHES_KEY,
    batch_size: int = 32,
    device: str = "cpu",
    key_added: str | None = None,
) -> None:
    """Encode every spot's H&E patch with a frozen image encoder.

    Parameters
    ----------
    adata
        Spots with patches in ``obsm[patch_key]`` (from :func:`stmin.pp.he_patches`).
    encoder
        ``"stats"`` (default; stain, colour and texture statistics, no weights needed),
        ``"densenet121"`` (random initialisation unless ``weights_path``), or a
        :class:`torch.nn.Module` with ``out_dim``. Features from any other model (e.g. a
        pathology foundation model run elsewhere) can be stored in ``obsm`` directly instead.
    weights_path
        State dict for ``"densenet121"`` (torchvision layout).
    patch_key
        ``obsm`` key of the patches.
    batch_size
        Patches per forward pass.
    device
        Torch device, e.g. ``"cuda"``.
    key_added
        Writes ``obsm[key_added]`` (float32, ``n_obs × out_dim``); default ``"X_he_<encoder>"``.
    """
    check_adata(adata, need_vars=False)
    net = image_encoder(encoder, weights_path)
    patches = get_patches(adata, patch_key)
    if key_added is None:
        key_added = (
            f"X_he_{encoder if isinstance(encoder, str) else type(encoder).__name__.lower()}"
        )
    features = encode_patches(net, patches, batch_size=batch_size, device=device)
    warn_if_exists(adata.obsm, key_added, "adata.obsm")
    adata.obsm[key_added] = features
    log_added(f"obsm['{key_added}']")
