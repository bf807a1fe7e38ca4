"""Frozen image features of the spots' H&E patches."""

from __future__ import annotations

import os

import numpy as np
import torch
from anndata import AnnData
from torch import nn

from .._constants import HE_PATCHES_KEY, embedding_key, he_features_stem
from .._docs import d
from .._settings import settings
from .._validate import check_adata, check_bool, check_input_file, check_int, check_key
from .._writer import call_params, write_result
from ..nn._image_encoders import IMAGE_ENCODERS, encode_patches, image_encoder


def get_patches(adata: AnnData, patch_key: str = HE_PATCHES_KEY, name: str = "adata") -> np.ndarray:
    """Return ``obsm[patch_key]`` as ``(n_obs, h, w, 3)`` ``uint8`` patches, with clear errors."""
    if not isinstance(patch_key, str) or patch_key not in adata.obsm:
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


def check_encoder(encoder, weights_path=None) -> None:
    """Check an image encoder argument and its weights file before anything is loaded."""
    if not isinstance(encoder, nn.Module) and (
        not isinstance(encoder, str) or encoder not in IMAGE_ENCODERS
    ):
        raise ValueError(
            f"Unknown image encoder {encoder!r}; choose one of {IMAGE_ENCODERS} or pass a "
            "torch.nn.Module with an integer `out_dim`."
        )
    if weights_path is not None:
        if isinstance(encoder, str) and encoder == "stats":
            raise ValueError("The 'stats' encoder has no weights; drop `weights_path`.")
        check_input_file(weights_path, "weights_path", "weights file")


def load_encoder(encoder, weights_path=None) -> nn.Module:
    """:func:`stmin.nn.image_encoder`, with an unreadable weights file reported clearly."""
    import pickle

    check_encoder(encoder, weights_path)
    try:
        return image_encoder(encoder, weights_path)
    except (pickle.UnpicklingError, EOFError, RuntimeError, OSError, ValueError) as err:
        if weights_path is None or encoder != "densenet121" or isinstance(err, FileNotFoundError):
            raise
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(
            f"Cannot load the weights file {str(weights_path)!r} (`weights_path`) into the "
            f"{encoder_name(encoder)!r} encoder: {detail}. It must be a torchvision DenseNet-121 "
            "state dict saved with `torch.save(model.state_dict(), path)`."
        ) from None


def encoder_name(encoder: str | nn.Module) -> str:
    """Short name of an encoder, as used in the default keys (``"stats"``, ``"densenet121"``)."""
    return encoder if isinstance(encoder, str) else type(encoder).__name__.lower()


def image_features(
    patches: np.ndarray,
    encoder: str | nn.Module = "stats",
    *,
    weights_path: str | os.PathLike | None = None,
    batch_size: int = 32,
    device: str = "cpu",
) -> np.ndarray:
    """Functional core of :func:`he_features`: ``uint8`` patches → float32 features."""
    check_encoder(encoder, weights_path)
    check_int(batch_size, "batch_size", min_value=1)
    try:
        torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"`device` must name a torch device such as 'cpu' or 'cuda' (got {device!r})."
        ) from None
    net = load_encoder(encoder, weights_path)
    with settings.threads():
        return encode_patches(net, patches, batch_size=batch_size, device=device)


@d.dedent
def he_features(
    adata: AnnData,
    encoder: str | nn.Module = "stats",
    *,
    weights_path: str | os.PathLike | None = None,
    patch_key: str = HE_PATCHES_KEY,
    batch_size: int = 32,
    device: str = "cpu",
    key_added: str | None = None,
    copy: bool = False,
) -> AnnData | None:
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
        Stem of the keys written; default ``"he_<encoder>"``.
    %(copy)s

    Returns
    -------
    %(returns_copy)s Writes ``obsm[f"X_{key_added}"]`` (float32, ``n_obs × out_dim``) and
    ``uns[key_added]`` (the parameters).
    """
    params = call_params(locals())
    check_adata(adata, need_vars=False)
    check_encoder(encoder, weights_path)
    if key_added is not None:
        check_key(key_added)
    check_bool(copy, "copy")
    patches = get_patches(adata, patch_key)
    features = image_features(
        patches, encoder, weights_path=weights_path, batch_size=batch_size, device=device
    )
    key_added = he_features_stem(encoder_name(encoder)) if key_added is None else key_added
    adata = adata.copy() if copy else adata
    write_result(adata, key_added, params, obsm={embedding_key(key_added): features})
    return adata if copy else None
