"""``sm.tl.predict_from_he``: expression of a new section from its H&E image."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
from anndata import AnnData

from .._constants import HE_PATCHES_KEY, SPATIAL_KEY, ToolKey, embedding_key, he_features_stem
from .._docs import d
from .._random import seeded
from .._settings import logger, settings
from .._validate import check_adata, check_bool, check_choice, check_int, check_key
from .._writer import call_params, write_result
from ..model import MclSTExp
from ..model._references import as_references, image_input, panel_genes
from ..model.mclstexp._model import DISTANCES
from ..pp._he import cut_patches
from ..pp._he_features import check_encoder, encoder_name, image_features
from ..train import loss_history
from ._checks import check_training_args
from ._leak import check_not_reference

METHODS = ("mclstexp",)


def _with_image_input(
    section: AnnData, name: str, image_key: str, encoder, weights_path, patch_key: str
) -> AnnData:
    """``section`` itself when it holds ``obsm[image_key]``, else a stand-in with the features.

    The stand-in shares the section's data and adds the image features computed here, so the
    section itself is not changed.
    """
    if image_key in section.obsm:
        return section
    if patch_key in section.obsm:
        patches = np.asarray(section.obsm[patch_key])
    else:
        patches, _, _ = cut_patches(section)
    logger.info(
        f"computing `{image_key}` of {name} ({section.n_obs} spots); store it with "
        "`sm.pp.he_patches` and `sm.pp.he_features` to reuse it across calls"
    )
    stand_in = AnnData(
        X=section.X,
        obs=section.obs,
        var=section.var,
        layers=dict(section.layers),
        obsm={SPATIAL_KEY: section.obsm[SPATIAL_KEY]} if SPATIAL_KEY in section.obsm else None,
        uns={SPATIAL_KEY: section.uns[SPATIAL_KEY]} if SPATIAL_KEY in section.uns else None,
    )
    stand_in.obsm[image_key] = image_features(patches, encoder, weights_path=weights_path)
    return stand_in


@d.dedent
def predict_from_he(
    adata: AnnData,
    reference: AnnData | Sequence[AnnData] | Mapping[str, AnnData],
    method: str = "mclstexp",
    *,
    genes: Sequence[str] | None = None,
    image_key: str | None = None,
    encoder: str = "stats",
    weights_path: str | os.PathLike | None = None,
    patch_key: str = HE_PATCHES_KEY,
    layer: str | None = None,
    array_coords_keys: Sequence[str] | None = None,
    top_k: int = 200,
    distance: str = "l2",
    max_epochs: int = 90,
    accelerator: str = "auto",
    devices: int | list[int] | str = "auto",
    random_state: int | None = 0,
    key_added: str = ToolKey.PREDICT_FROM_HE,
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
        One or several sections with raw counts, array coordinates and images. They are not
        changed.
    method
        ``"mclstexp"`` (:class:`stmin.model.MclSTExp`).
    genes
        Genes to predict (e.g. the 785-gene HER2+ panel); default: all genes shared by the
        references. Library sizes are taken over this panel.
    image_key
        ``obsm`` key of the image input of every section; when given, every section must hold
        it. Default ``"X_he_<encoder>"``: where a section lacks it, the features are computed
        for this call (from ``obsm[patch_key]`` or patches cut from the image) and not stored;
        run :func:`stmin.pp.he_patches` and :func:`stmin.pp.he_features` first to reuse them.
        Features from any model (UNI, CONCH, …) can be stored in ``obsm`` and named here; a key
        holding ``uint8`` patches trains the image ``encoder`` end to end (use a GPU).
    encoder
        Image encoder for the features: ``"stats"`` (the offline default; no weights) or
        ``"densenet121"`` (random initialisation unless ``weights_path``).
    weights_path
        DenseNet-121 state dict (torchvision layout).
    patch_key
        ``obsm`` key of patches to encode where features are missing.
    %(layer)s
        Of the references.
    array_coords_keys
        The two ``obs`` columns with the references' grid positions (found automatically for
        ``array_x``/``array_y`` and ``array_row``/``array_col``).
    top_k, distance
        Retrieval settings (see :meth:`stmin.model.MclSTExp.get_expression`).
    %(max_epochs)s
    %(accelerator)s
    %(random_state)s
    %(key_added)s
    %(model_kwargs)s
        :class:`stmin.model.MclSTExp`, e.g. ``n_layers``.
    %(train_kwargs)s
    %(copy)s

    Returns
    -------
    %(returns_copy)s Writes

    - ``obsm[key_added]``: DataFrame, query spots × genes, in the model's
      ``log_base(1 + target_sum · counts / panel total)`` space;
    - ``uns[key_added]``: ``params``, ``stmin_version``, ``genes``, ``n_reference_spots``,
      ``expression_space`` (``target_sum``, ``log_base``) and the per-epoch ``history``.
    """
    params = call_params(locals())
    check_key(key_added)
    check_bool(copy, "copy")
    check_choice(method, "method", METHODS)
    check_adata(adata, need_vars=False, unique_vars=True)
    refs = as_references(reference)
    check_not_reference(adata, refs)
    genes = panel_genes(refs, genes)
    if adata.n_vars and not adata.var_names.isin(genes).any():
        raise ValueError(
            "The query and the reference share no genes (`adata.var_names` vs the reference "
            "panel); check that both use the same gene identifiers (e.g. symbols)."
        )
    check_int(top_k, "top_k", min_value=1)
    check_choice(distance, "distance", DISTANCES)
    random_state, model_kwargs, train_kwargs = check_training_args(
        MclSTExp,
        max_epochs=max_epochs,
        random_state=random_state,
        accelerator=accelerator,
        devices=devices,
        model_kwargs=model_kwargs,
        train_kwargs=train_kwargs,
    )
    if image_key is not None:  # given: it must be there (no features computed under its name)
        for i, section in enumerate([*refs, adata]):
            name = f"reference[{i}]" if i < len(refs) else "adata"
            image_input(section, image_key, name)
    check_key(patch_key, "patch_key")
    check_encoder(encoder, weights_path)
    image_key = image_key or embedding_key(he_features_stem(encoder_name(encoder)))
    with settings.threads():
        refs = [
            _with_image_input(ref, f"reference[{i}]", image_key, encoder, weights_path, patch_key)
            for i, ref in enumerate(refs)
        ]
        query = _with_image_input(adata, "adata", image_key, encoder, weights_path, patch_key)
    model_kwargs = {"encoder": encoder, "weights_path": weights_path, **model_kwargs}
    with seeded(random_state), settings.threads():
        model = MclSTExp.from_references(
            refs,
            genes,
            image_key=image_key,
            layer=layer,
            array_coords_keys=array_coords_keys,
            **model_kwargs,
        )
        model.train(max_epochs=max_epochs, accelerator=accelerator, devices=devices, **train_kwargs)
        pred = model.get_expression(query, top_k=top_k, distance=distance)

    adata = adata.copy() if copy else adata
    write_result(
        adata,
        key_added,
        params,
        obsm={key_added: pred},
        record={
            "genes": list(genes),
            "n_reference_spots": int(model.adata.n_obs),
            "expression_space": model.expression_space,
            "history": loss_history(model.history),
        },
    )
    return adata if copy else None
