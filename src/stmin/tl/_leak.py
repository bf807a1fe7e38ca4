"""Refuse a query section that is also a reference (training on the section one predicts)."""

from __future__ import annotations

import os

import numpy as np
from anndata import AnnData

from .._constants import SPATIAL_KEY


def _image_id(adata: AnnData) -> set:
    """Library ids and image files of a section, to catch a query that is a reference."""
    ids = set()
    for lib, entry in (adata.uns.get(SPATIAL_KEY) or {}).items():
        ids.add(("library", lib))
        path = (entry.get("metadata") or {}).get("image_path") if isinstance(entry, dict) else None
        if path:
            ids.add(("image", os.path.abspath(path)))
    return ids


def check_not_reference(
    query: AnnData, refs: list[AnnData], spatial_key: str = SPATIAL_KEY
) -> None:
    """Raise if the query section is one of the references (same object, image or spots)."""
    qid = _image_id(query)
    for i, ref in enumerate(refs):
        same = ref is query or bool(qid & _image_id(ref))
        if (
            not same
            and ref.n_obs == query.n_obs
            and spatial_key in ref.obsm
            and spatial_key in query.obsm
        ):
            same = ref.obs_names.equals(query.obs_names) and np.array_equal(
                np.asarray(ref.obsm[spatial_key]), np.asarray(query.obsm[spatial_key])
            )
        if same:
            raise ValueError(
                f"The query is reference[{i}] (same section or image): a model scoring a section it "
                "was trained on leaks what it memorised. Leave the query out of `reference`."
            )
