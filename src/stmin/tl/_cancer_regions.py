"""``sm.tl.detect_cancer_regions``: per-spot cancer score and call, learnt on labelled sections."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from anndata import AnnData

from .._cluster import mixture_threshold
from .._constants import SPATIAL_KEY, ToolKey, embedding_key
from .._docs import d
from .._random import seeded
from .._settings import logger, settings
from .._validate import check_adata, check_bool, check_key, check_number
from .._writer import call_params, write_result
from ..model import SpaCRD
from ..model._references import as_references
from ..model.spacrd._data import check_section
from ..model.spacrd._model import DEFAULT_EXCLUDE, N_NEIGHBORS
from ..train import loss_history
from ._checks import check_training_args
from ._leak import check_not_reference


def _check_threshold(threshold) -> None:
    if isinstance(threshold, str):
        if threshold != "mixture":
            raise ValueError(
                f"`threshold` must be 'mixture' or a score in (0, 1) (got {threshold!r})."
            )
        return
    check_number(
        threshold, "threshold", min_value=0, max_value=1, min_inclusive=False, max_inclusive=False
    )


def _check_sections(
    adata: AnnData,
    refs: list[AnnData],
    image_key: str | None,
    layer: str | None,
    spatial_key: str,
) -> None:
    """Check the target's inputs and the image features' presence and width before training.

    Also says in the log when expression alone is used.
    """
    if image_key is None:
        logger.info(
            "detect_cancer_regions: no `image_key`, so SpaCRD uses expression alone; pass "
            "`image_key=` (e.g. from `sm.pp.he_features`) to fuse the H&E image"
        )
    else:
        check_key(image_key, "image_key")
    sections = {"adata": adata, **{f"reference[{i}]": r for i, r in enumerate(refs)}}
    if image_key is not None:
        lacking = [name for name, section in sections.items() if image_key not in section.obsm]
        if lacking:
            raise ValueError(
                f"`obsm[{image_key!r}]` is missing from {lacking}: image features are needed "
                "on every section (compute them with `sm.pp.he_features`), or pass "
                "`image_key=None` for expression alone."
            )
    # the references are checked by `SpaCRD.from_references`, before any training too
    width = check_section(
        adata,
        "adata",
        layer=layer,
        spatial_key=spatial_key,
        image_key=image_key,
        n_neighbors=N_NEIGHBORS,
    )
    if image_key is not None:
        widths = {f"reference[{i}]": np.shape(r.obsm[image_key])[1] for i, r in enumerate(refs)}
        if set(widths.values()) != {width}:
            raise ValueError(
                f"The sections' `obsm[{image_key!r}]` differ in width (adata: {width}, "
                f"{widths}); compute them with the same encoder."
            )


@d.dedent
def detect_cancer_regions(
    adata: AnnData,
    reference: AnnData | Sequence[AnnData] | Mapping[str, AnnData],
    labels_key: str,
    positive: str | Sequence[str],
    *,
    image_key: str | None = None,
    layer: str | None = None,
    exclude: Sequence[str] = DEFAULT_EXCLUDE,
    n_top_genes: int | None = 3000,
    spatial_key: str = SPATIAL_KEY,
    threshold: str | float = "mixture",
    max_epochs: int = 10,
    accelerator: str = "auto",
    devices: int | list[int] | str = "auto",
    random_state: int | None = 0,
    key_added: str = ToolKey.DETECT_CANCER_REGIONS,
    model_kwargs: dict | None = None,
    train_kwargs: dict | None = None,
    copy: bool = False,
) -> AnnData | None:
    """Score every spot of a section for cancer with SpaCRD, trained on labelled sections.

    A :class:`stmin.model.SpaCRD` model learns from the references' region labels, then scores
    the target section ``adata`` from its own expression (and H&E features): a cancer score
    per spot and a call at a threshold chosen without any label of the target.

    Parameters
    ----------
    adata
        The target section: raw counts and spot coordinates (and image features when
        ``image_key`` is given). Its labels, if any, are never read.
    reference
        One or several labelled sections (an AnnData, a list or a dict of them); not changed.
    labels_key
        ``obs`` column of the references' region labels.
    positive
        Label values that count as cancer, e.g. ``["invasive cancer", "cancer in situ"]``.
    image_key
        ``obsm`` key of image features on every section (:func:`stmin.pp.he_features` with any
        encoder, or features from another model): expression and image are fused. ``None``
        (default): expression alone, said in the log.
    %(layer)s
        Of every section.
    exclude
        Label values left out of training (as missing labels): spots the annotator could not
        call. Values that do not occur are ignored.
    n_top_genes
        Highly variable genes used (3,000), chosen among the genes measured in every section.
    spatial_key
        ``obsm`` key of the spot coordinates, for each spot's set of nearest spots.
    threshold
        ``"mixture"`` (default, the paper's): the cut between the two components of a Gaussian
        mixture fitted to the target's scores, which assumes the section holds both cancer and
        other tissue; or a fixed score in (0, 1).
    %(max_epochs)s
        Of the detection stage (see :meth:`stmin.model.SpaCRD.train`).
    %(accelerator)s
    %(random_state)s
    %(key_added)s
    %(model_kwargs)s
        :class:`stmin.model.SpaCRD`.
    %(train_kwargs)s
    %(copy)s

    Returns
    -------
    %(returns_copy)s Writes

    - ``obs[f"{key_added}_score"]``: cancer score of each spot, the discriminator's logit
      scaled to [0, 1] over the section (as the paper: 1 the most cancer-like spot of the
      section, 0 the least; :meth:`stmin.model.SpaCRD.get_scores` gives the probabilities);
    - ``obs[key_added]``: the call (boolean), score above the threshold;
    - ``obsm[f"X_{key_added}"]``: the fused 512-d representation of each spot;
    - ``uns[key_added]``: ``params``, ``stmin_version``, ``modality``, ``threshold`` (on the
      score), ``threshold_method``, ``genes``, ``n_reference_spots``, the per-epoch
      ``history`` of the detection stage and, with image features, ``align_history``.
    """
    params = call_params(locals())
    check_key(key_added)
    check_bool(copy, "copy")
    check_adata(adata, unique_vars=True)
    refs = as_references(reference)
    check_key(spatial_key, "spatial_key")
    check_not_reference(adata, refs, spatial_key)
    check_key(labels_key, "labels_key")
    _check_threshold(threshold)
    _check_sections(adata, refs, image_key, layer, spatial_key)
    random_state, model_kwargs, train_kwargs = check_training_args(
        SpaCRD,
        max_epochs=max_epochs,
        random_state=random_state,
        accelerator=accelerator,
        devices=devices,
        model_kwargs=model_kwargs,
        train_kwargs=train_kwargs,
    )
    with seeded(random_state), settings.threads():
        model = SpaCRD.from_references(
            refs,
            labels_key,
            positive,
            exclude=exclude,
            genes=adata.var_names,
            n_top_genes=n_top_genes,
            image_key=image_key,
            layer=layer,
            spatial_key=spatial_key,
            **model_kwargs,
        )
        model.train(max_epochs=max_epochs, accelerator=accelerator, devices=devices, **train_kwargs)
        where = {"layer": layer, "spatial_key": spatial_key}
        logit = model.get_scores(adata, logits=True, **where).astype(np.float64)
        fused = model.get_latent_representation(adata, **where)
    low, span = logit.min(), np.ptp(logit)
    score = (logit - low) / span if span > 0 else np.full_like(logit, 0.5)
    if threshold == "mixture":
        cut = (mixture_threshold(logit, random_state) - low) / span if span > 0 else 0.5
    else:
        cut = float(threshold)

    adata = adata.copy() if copy else adata
    write_result(
        adata,
        key_added,
        params,
        obs={f"{key_added}_score": score.astype(np.float32), key_added: score > cut},
        obsm={embedding_key(key_added): fused},
        record={
            "modality": "expression" if image_key is None else "expression+image",
            "threshold": float(cut),
            "threshold_method": "mixture" if threshold == "mixture" else "fixed",
            "genes": list(model.adata.var_names),
            "n_reference_spots": int(model.adata.n_obs),
            "history": loss_history(model.history),
            **(
                {"align_history": loss_history(model.align_history_)}
                if image_key is not None and hasattr(model, "align_history_")
                else {}
            ),
        },
    )
    return adata if copy else None
