"""``sm.tl.wspls`` and ``sm.tl.swcca``: joint gene, second-view feature and spot selection."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from .._constants import ToolKey, embedding_key
from .._docs import d
from .._settings import logger
from .._validate import (
    check_adata,
    check_bool,
    check_finite,
    check_key,
    check_optional_int,
    get_matrix,
)
from .._writer import call_params, write_result
from ..sparse._pls import wspls as _wspls_core


def _view2(adata: AnnData, view2, view2_layer: str | None):
    """The second view as a matrix (rows = ``adata.obs_names``) and its feature names."""
    where = "`view2`"
    if isinstance(view2, str):
        if view2 not in adata.obsm:
            raise KeyError(
                f"`adata.obsm[{view2!r}]` not found; available keys: {list(adata.obsm)}. Pass an "
                "obsm key, an array with one row per observation, or an AnnData with the same "
                "`obs_names`."
            )
        where = f"`adata.obsm[{view2!r}]`"
        view2 = adata.obsm[view2]
    if isinstance(view2, AnnData):
        if not view2.obs_names.is_unique or set(view2.obs_names) != set(adata.obs_names):
            raise ValueError(
                "`view2` must hold exactly the observations of `adata` (same `obs_names`); "
                "subset both to the shared observations first."
            )
        if view2_layer is not None and view2_layer not in view2.layers:
            raise KeyError(f"`view2.layers[{view2_layer!r}]` not found.")
        other = view2[adata.obs_names]
        Y = other.X if view2_layer is None else other.layers[view2_layer]
        features = [str(v) for v in view2.var_names]
    elif isinstance(view2, pd.DataFrame):
        if not view2.index.equals(adata.obs_names):
            if set(view2.index) != set(adata.obs_names) or not view2.index.is_unique:
                raise ValueError(
                    f"{where} is a DataFrame whose index is not `adata.obs_names`; index it by "
                    "the observation names."
                )
            view2 = view2.loc[adata.obs_names]
        Y, features = view2.to_numpy(dtype=float), [str(c) for c in view2.columns]
    else:
        Y = view2 if sp.issparse(view2) else np.asarray(view2, dtype=float)
        features = None
    if Y.ndim != 2 or Y.shape[0] != adata.n_obs:
        raise ValueError(
            f"{where} must have one row per observation ({adata.n_obs}); got shape {Y.shape}."
        )
    check_finite(Y, where)
    Y = Y if sp.issparse(Y) else np.asarray(Y)
    return Y, features if features is not None else [str(i) for i in range(Y.shape[1])]


@d.dedent
def wspls(
    adata: AnnData,
    view2,
    n_var_nonzero: int | None = None,
    n_view2_nonzero: int | None = None,
    n_obs_nonzero: int | None = None,
    *,
    sample_constraint: Literal["linf", "binary", "l2"] = "linf",
    n_components: int = 1,
    lipschitz: float = 0.1,
    layer: str | None = None,
    view2_layer: str | None = None,
    center: bool = True,
    n_restarts: int = 1,
    max_iter: int = 100,
    min_iter: int = 20,
    tol: float = 1e-5,
    key_added: str = ToolKey.WSPLS,
    random_state: int | None = 0,
    copy: bool = False,
) -> AnnData | None:
    """ℓ∞/ℓ0 weighted sparse PLS (Min, Xu & Ding 2023): genes, view-2 features and spots.

    Maximises ``wᵀ[(Xu) ⊙ (Yv)]`` with ``n_var_nonzero`` genes in ``u``, ``n_view2_nonzero``
    features of the second view (e.g. histology embeddings, proteins) in ``v`` and spot weights
    ``0 ≤ w ≤ 1`` on ``n_obs_nonzero`` spots: the spots where the two views co-vary. Core:
    :func:`stmin.sparse.wspls`.

    Parameters
    ----------
    adata
        Annotated data; reads ``X`` (or ``layer``), dense or sparse.
    view2
        Second view: an ``adata.obsm`` key, an array / DataFrame with one row per observation,
        or an AnnData with the same ``obs_names`` (its ``X`` or ``view2_layer``).
    n_var_nonzero, n_view2_nonzero, n_obs_nonzero
        Nonzeros of ``u``, ``v`` and ``w``; ``None`` keeps all.
    sample_constraint
        ``"linf"`` (``0 ≤ w ≤ 1``), ``"binary"`` or ``"l2"`` (SWCCA).
    n_components
        Components (projection deflation of both views between them).
    lipschitz
        ``L_c`` of the PALM step ``1/L_c``; 0 is exact block maximisation.
    layer, view2_layer
        Layers of ``adata`` / of an AnnData ``view2``.
    center
        Centre both views' columns (implicitly), as PLS does.
    n_restarts, max_iter, min_iter, tol
        Starts and stopping rule.
    %(key_added)s
    random_state
        Seed of the random starts.
    %(copy)s

    Returns
    -------
    ``None`` (or the copy). Writes

    - ``varm["{key_added}_u"]``: gene loadings (genes × components);
    - ``var["{key_added}_selected"]``: genes with a nonzero loading;
    - ``obs["{key_added}_weight"]`` / ``obs["{key_added}_selected"]``: first component's spot
      weights and ``w ≠ 0`` (all components in ``obsm["{key_added}_weights"]``);
    - ``obsm["X_{key_added}"]``: scores ``[Xu₁..Xu_K, Yv₁..Yv_K]`` (spots × 2K);
    - ``uns[key_added]``: ``params``, ``v`` (view-2 loadings), ``view2_features``, ``objective``
      (histories one after another, lengths in ``objective_lengths``), ``n_iter``,
      ``converged``.
    """
    params = call_params(locals())
    check_key(key_added)
    check_bool(copy, "copy")
    check_adata(adata)
    check_optional_int(n_var_nonzero, "n_var_nonzero", min_value=1, max_value=adata.n_vars)
    check_optional_int(n_obs_nonzero, "n_obs_nonzero", min_value=1, max_value=adata.n_obs)
    check_optional_int(n_view2_nonzero, "n_view2_nonzero", min_value=1)
    X = get_matrix(adata, layer)
    Y, features = _view2(adata, view2, view2_layer)
    res = _wspls_core(
        X,
        Y,
        n_var_nonzero,
        n_view2_nonzero,
        n_obs_nonzero,
        sample_constraint=sample_constraint,
        n_components=n_components,
        lipschitz=lipschitz,
        n_restarts=n_restarts,
        max_iter=max_iter,
        min_iter=min_iter,
        tol=tol,
        center=center,
        random_state=random_state,
    )
    adata = adata.copy() if copy else adata
    write_result(
        adata,
        key_added,
        params,
        obsm={
            embedding_key(key_added): np.hstack([res.scores[0], res.scores[1]]),
            f"{key_added}_weights": res.W,
        },
        varm={f"{key_added}_u": res.u},
        obs={f"{key_added}_weight": res.W[:, 0], f"{key_added}_selected": res.W[:, 0] != 0},
        var={f"{key_added}_selected": (res.u != 0).any(axis=1)},
        record={
            "v": res.v,
            "view2_features": features,
            "objective": np.concatenate(res.history).astype(np.float64),
            "objective_lengths": np.array([len(h) for h in res.history]),
            "final_objective": np.asarray(res.objective),
            "n_iter": np.asarray(res.n_iter),
            "converged": np.asarray(res.converged),
        },
    )
    if not np.all(res.converged):
        logger.warning("wsPLS stopped at `max_iter` before reaching `tol`; raise `max_iter`.")
    return adata if copy else None


def swcca(
    adata: AnnData,
    view2,
    n_var_nonzero: int | None = None,
    n_view2_nonzero: int | None = None,
    n_obs_nonzero: int | None = None,
    *,
    lipschitz: float = 0.0,
    max_iter: int = 1000,
    min_iter: int = 1,
    tol: float = 1e-4,
    key_added: str = ToolKey.SWCCA,
    **kwargs,
) -> AnnData | None:
    """Sparse weighted CCA (Min, Liu & Zhang 2018): :func:`wspls` with ``‖w‖₂ = 1``.

    Exact alternating maximisation by default (``lipschitz=0``); weights may be negative.
    Reads and writes the keys listed in :func:`wspls` under ``key_added`` (default
    ``"swcca"``); other arguments as there.
    """
    kwargs.pop("sample_constraint", None)
    return wspls(
        adata,
        view2,
        n_var_nonzero,
        n_view2_nonzero,
        n_obs_nonzero,
        sample_constraint="l2",
        lipschitz=lipschitz,
        max_iter=max_iter,
        min_iter=min_iter,
        tol=tol,
        key_added=key_added,
        **kwargs,
    )
