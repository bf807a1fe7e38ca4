"""``sm.tl.predict_from_he``: expression of a new section from its H&E image."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from .._settings import log_added, set_seed, torch_threads_kept
from .._validate import check_adata, get_layer, warn_if_exists
from ..pp._he import PATCHES_KEY, he_patches
from ..pp._he_features import he_features
from ..train import loss_history
from ._record import method_record

METHODS = ("mclstexp",)
_SECTION = "section"


def _references(reference) -> list[AnnData]:
    if isinstance(reference, AnnData):
        refs = [reference]
    elif isinstance(reference, Mapping):
        refs = list(reference.values())
    elif isinstance(reference, Sequence) and not isinstance(reference, str):
        refs = list(reference)
    else:
        raise TypeError("`reference` must be an AnnData or a list (or dict) of AnnData.")
    if not refs:
        raise ValueError("`reference` is empty; pass at least one section with expression.")
    for i, ref in enumerate(refs):
        check_adata(ref, f"reference[{i}]", allow_view=True)
    return refs


def _image_id(adata: AnnData) -> set:
    """Library ids and image files of a section, to catch a query that is a reference."""
    ids = set()
    for lib, entry in (adata.uns.get("spatial") or {}).items():
        ids.add(("library", lib))
        path = (entry.get("metadata") or {}).get("image_path") if isinstance(entry, dict) else None
        if path:
            ids.add(("image", os.path.abspath(path)))
    return ids


def _check_leak(query: AnnData, refs: list[AnnData]) -> None:
    qid = _image_id(query)
    for i, ref in enumerate(refs):
        same = ref is query or bool(qid & _image_id(ref))
        if (
            not same
            and ref.n_obs == query.n_obs
            and "spatial" in ref.obsm
            and "spatial" in query.obsm
        ):
            same = ref.obs_names.equals(query.obs_names) and np.array_equal(
                np.asarray(ref.obsm["spatial"]), np.asarray(query.obsm["spatial"])
            )
        if same:
            raise ValueError(
                f"The query is reference[{i}] (same section or image): predicting a section the "
                "model was trained on leaks its expression. Leave the query out of `reference`."
            )


def _genes(query: AnnData, refs: list[AnnData], genes: Sequence[str] | None) -> list[str]:
    shared = refs[0].var_names
    for ref in refs[1:]:
        shared = shared.intersection(ref.var_names, sort=False)
    if genes is None:
        genes = list(shared)
    else:
        genes = list(dict.fromkeys(genes))
        missing = [g for g in genes if g not in shared]
        if missing:
            raise ValueError(
                f"{len(missing)} of `genes` are not measured in every reference section "
                f"(e.g. {missing[:5]}); drop them or pass `genes=None`."
            )
    if not genes:
        raise ValueError("The reference sections share no genes.")
    if query.n_vars and not query.var_names.isin(genes).any():
        raise ValueError(
            "The query and the reference share no genes (`adata.var_names` vs the reference "
            "panel); check that both use the same gene identifiers (e.g. symbols)."
        )
    return genes


def _ensure_features(adata: AnnData, image_key: str, encoder: str, weights_path, patch_key: str):
    if image_key in adata.obsm:
        return
    if patch_key not in adata.obsm:
        he_patches(adata, key_added=patch_key)
    he_features(adata, encoder, weights_path=weights_path, patch_key=patch_key, key_added=image_key)


def _training_data(
    refs: list[AnnData], genes: list[str], layer: str | None, image_key: str, coord_keys
) -> AnnData:
    """One AnnData of the reference spots: panel counts, image input, coordinates, section."""
    from ..model.mclstexp._model import array_coords, image_input

    blocks, images, obs = [], [], []
    for i, ref in enumerate(refs):
        name = f"reference[{i}]"
        counts = get_layer(ref, layer, name)[:, ref.var_names.get_indexer(genes)]
        blocks.append(sp.csr_matrix(counts, dtype=np.float32))
        images.append(image_input(ref, image_key, name))
        keys = array_coords(ref, coord_keys, name)
        frame = pd.DataFrame(
            {"array_x": ref.obs[keys[0]].to_numpy(), "array_y": ref.obs[keys[1]].to_numpy()},
            index=[f"{i}:{o}" for o in ref.obs_names],
        )
        frame[_SECTION] = str(i)
        obs.append(frame)
    shapes = {im.shape[1:] for im in images}
    if len(shapes) > 1:
        raise ValueError(f"The references' `obsm[{image_key!r}]` differ in shape: {shapes}.")
    train = AnnData(sp.vstack(blocks).tocsr(), obs=pd.concat(obs), var=pd.DataFrame(index=genes))
    train.obsm[image_key] = np.concatenate(images)
    return train


def predict_from_he(
    adata: AnnData,
    reference: AnnData | Sequence[AnnData] | Mapping[str, AnnData],
    method: str = "mclstexp",
    *,
    genes: Sequence[str] | None = None,
    image_key: str | None = None,
    encoder: str = "stats",
    weights_path: str | os.PathLike | None = None,
    patch_key: str = PATCHES_KEY,
    layer: str | None = None,
    array_coords_keys: Sequence[str] | None = None,
    top_k: int = 200,
    distance: str = "l2",
    max_epochs: int = 90,
    accelerator: str = "auto",
    devices: int | list[int] | str = "auto",
    random_state: int | None = 0,
    key_added: str = "he_pred",
    model_kwargs: dict | None = None,
    train_kwargs: dict | None = None,
    copy: bool = False,
) -> AnnData | None:
    """Predict a section's expression from its H&E image, learning from reference sections.

    Parameters
    ----------
    adata
        The query section: spots with coordinates and the H&E image (or image features already
        in ``obsm[image_key]``). Its own expression, if any, is never used.
    reference
        One or several sections with raw counts, array coordinates and images.
    method
        ``"mclstexp"`` (:class:`stmin.model.MclSTExp`).
    genes
        Genes to predict (e.g. the 785-gene HER2+ panel); default: all genes shared by the
        references. Library sizes are taken over this panel.
    image_key
        ``obsm`` key of the image input of every section. Default ``"X_he_<encoder>"``, computed
        with :func:`stmin.pp.he_features` (cutting patches with :func:`stmin.pp.he_patches`
        first) where missing; they are written into each section's ``obsm`` (query and
        references), so later calls reuse them. Features from any model can be stored there instead; a key holding
        ``uint8`` patches trains the image ``encoder`` end to end (use a GPU).
    encoder
        Image encoder for the features: ``"stats"`` (the offline default; no weights) or
        ``"densenet121"`` (random initialisation unless ``weights_path``).
    weights_path
        DenseNet-121 state dict (torchvision layout).
    patch_key
        ``obsm`` key of the patches.
    layer
        Layer of the references' raw counts (``None``: ``.X``).
    array_coords_keys
        The two ``obs`` columns with the references' grid positions (found automatically for
        ``array_x``/``array_y`` and ``array_row``/``array_col``).
    top_k, distance
        Retrieval settings (see :meth:`stmin.model.MclSTExp.predict`).
    max_epochs
        Training epochs (90).
    accelerator, devices
        Passed to Lightning.
    random_state
        Seed (stored in ``uns``).
    key_added
        Writes ``obsm[key_added]`` (DataFrame, query spots × genes, in the model's
        ``log10(1 + 1e4 · counts / panel total)`` space) and ``uns[key_added]`` (parameters,
        genes, ``history``: the training loss per epoch).
    model_kwargs, train_kwargs
        Further arguments of :class:`~stmin.model.MclSTExp` and its ``train``.
    copy
        Return a copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or the annotated copy when ``copy=True``.
    """
    from ..model import MclSTExp

    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}; choose one of {METHODS}.")
    check_adata(adata, need_vars=False)
    adata = adata.copy() if copy else adata
    refs = _references(reference)
    _check_leak(adata, refs)
    genes = _genes(adata, refs, genes)
    image_key = image_key or f"X_he_{encoder}"
    for section in [*refs, adata]:
        _ensure_features(section, image_key, encoder, weights_path, patch_key)
    train = _training_data(refs, genes, layer, image_key, array_coords_keys)
    set_seed(random_state)
    with torch_threads_kept():
        MclSTExp.setup_anndata(train, image_key=image_key)
        model_kwargs = {"encoder": encoder, "weights_path": weights_path, **(model_kwargs or {})}
        model = MclSTExp(train, **model_kwargs)
        model.train(
            max_epochs=max_epochs,
            accelerator=accelerator,
            devices=devices,
            **(train_kwargs or {}),
        )
        pred = model.predict(adata, top_k=top_k, distance=distance)
    warn_if_exists(adata.obsm, key_added, "adata.obsm")
    adata.obsm[key_added] = pred
    params = {
        "method": method,
        "image_key": image_key,
        "encoder": encoder,
        "top_k": top_k,
        "distance": distance,
        "max_epochs": max_epochs,
        "random_state": random_state,
        "n_reference_sections": len(refs),
        "weights_path": None if weights_path is None else str(weights_path),
        "model_kwargs": {
            k: v for k, v in model_kwargs.items() if isinstance(v, int | float | str | bool)
        },
    }
    adata.uns[key_added] = method_record(
        params,
        genes=list(genes),
        n_reference_spots=int(train.n_obs),
        space="log10(1 + 1e4 * counts / panel total)",
        history=loss_history(model.history),
    )
    log_added(f"obsm['{key_added}']", f"uns['{key_added}']")
    return adata if copy else None
