"""``sm.tl.sparse_svd`` and ``sm.tl.group_sparse_svd``: sparse biclustering factors of an AnnData."""

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
    check_key,
    check_optional_int,
    get_graph,
    get_matrix,
)
from .._writer import call_params, write_result
from ..sparse._svd import group_sparse_svd as _group_svd_core
from ..sparse._svd import sparse_svd as _sparse_svd_core


def _var_graph(adata: AnnData, key: str):
    if key not in adata.varp:
        raise KeyError(
            f"`adata.varp[{key!r}]` not found; available keys: {list(adata.varp)}. Store a "
            "genes × genes adjacency there (e.g. a PPI network aligned to `var_names`)."
        )
    return sp.csr_matrix(adata.varp[key])


def resolve_groups(adata: AnnData, groups) -> tuple[list[np.ndarray], list[str]]:
    """Turn ``groups`` into index arrays over ``adata.var_names`` and their names.

    ``groups`` is a dict ``name → genes``, a DataFrame with columns ``source`` (group) and
    ``target`` (gene) like a decoupler net, or the name of a ``var`` column (one group per
    category; missing values belong to no group). Genes absent from ``var_names`` are dropped,
    and so are groups left empty.
    """
    if isinstance(groups, str):
        if groups not in adata.var:
            raise KeyError(
                f"`adata.var[{groups!r}]` not found; pass a var column, a dict name → genes, or "
                "a DataFrame with `source`/`target` columns."
            )
        col = pd.Categorical(adata.var[groups])
        items = [(str(cat), np.flatnonzero(col.codes == i)) for i, cat in enumerate(col.categories)]
    else:
        if isinstance(groups, pd.DataFrame):
            if not {"source", "target"} <= set(groups.columns):
                raise ValueError(
                    "a groups DataFrame needs columns `source` (group) and `target` (gene); got "
                    f"{list(groups.columns)}."
                )
            mapping = groups.groupby("source", sort=False)["target"].apply(list).to_dict()
        elif isinstance(groups, dict):
            mapping = groups
        else:
            raise ValueError(
                "`groups` must be a dict name → genes, a DataFrame with `source`/`target` "
                f"columns, or a var column name (got {type(groups).__name__})."
            )
        index = pd.Index(adata.var_names)
        items = []
        for name, genes in mapping.items():
            pos = index.get_indexer(pd.Index(list(np.atleast_1d(genes))))
            items.append((str(name), np.unique(pos[pos >= 0])))
    kept = [(name, idx) for name, idx in items if idx.size]
    if len(kept) < len(items):
        logger.info(f"dropped {len(items) - len(kept)} group(s) with no gene in `var_names`.")
    if not kept:
        raise ValueError("no group shares a gene with `adata.var_names`.")
    return [idx for _, idx in kept], [name for name, _ in kept]


def _write(adata, key_added, res, params, varm_extra=None, **extra) -> None:
    K = res.U.shape[1]
    write_result(
        adata,
        key_added,
        params,
        obsm={embedding_key(key_added): res.U * res.d},
        varm={f"{key_added}_loadings": res.V, **(varm_extra or {})},
        obs={f"{key_added}_selected": (res.U != 0).any(axis=1)},
        var={f"{key_added}_selected": (res.V != 0).any(axis=1)},
        record={
            "d": np.asarray(res.d, dtype=np.float64),
            "objective": np.concatenate(res.history).astype(np.float64),
            "objective_lengths": np.array([len(h) for h in res.history]),
            "n_iter": np.asarray(res.n_iter),
            "converged": np.asarray(res.converged),
            **extra,
        },
    )
    if not np.all(res.converged):
        logger.warning(
            f"{int(K - np.sum(res.converged))} of {K} component(s) stopped at `max_iter` before "
            "reaching `tol`; raise `max_iter` if needed."
        )


@d.dedent
def sparse_svd(
    adata: AnnData,
    n_components: int = 1,
    *,
    n_var_nonzero: int | None = None,
    n_obs_nonzero: int | None = None,
    var_graph_key: str | None = None,
    obs_graph_key: str | None = None,
    lam_var: float = 0.0,
    lam_obs: float = 0.0,
    penalty: Literal["absolute", "signed"] = "absolute",
    layer: str | None = None,
    center: bool = False,
    n_restarts: int = 1,
    max_iter: int = 100,
    tol: float = 1e-4,
    key_added: str = ToolKey.SPARSE_SVD,
    random_state: int | None = 0,
    copy: bool = False,
) -> AnnData | None:
    """L0 graph-regularised sparse SVD (AISP; Min, Liu & Zhang 2016): sparse biclusters.

    Each component keeps ``n_obs_nonzero`` spots and ``n_var_nonzero`` genes; optional graph
    penalties ``(λ/2)|v|ᵀL|v|`` (gene network, ``varp``) and ``(λ/2)|u|ᵀL|u|`` (spot graph,
    ``obsp``) favour connected selections while ignoring the signs of linked genes. Core:
    :func:`stmin.sparse.sparse_svd`.

    Parameters
    ----------
    adata
        Annotated data; reads ``X`` (or ``layer``), dense or sparse.
    n_components
        Number of components (deflation between them).
    n_var_nonzero, n_obs_nonzero
        Genes / spots kept per component; ``None`` keeps all.
    var_graph_key
        ``adata.varp`` key of a gene adjacency (used when ``lam_var > 0``).
    obs_graph_key
        ``adata.obsp`` key of a spot graph, e.g. ``"spatial_connectivities"``.
    lam_var, lam_obs
        Graph penalty weights.
    penalty
        ``"absolute"`` (sign-blind, AISP) or ``"signed"``.
    layer
        Layer to use instead of ``X``.
    center
        Centre the genes first (implicitly; sparse stays sparse).
    n_restarts, max_iter, tol
        Starts per component and stopping rule.
    %(key_added)s
    random_state
        Seed of the random starts.
    %(copy)s

    Returns
    -------
    ``None`` (or the copy with ``copy=True``). Writes

    - ``obsm["X_{key_added}"]``: ``U · diag(d)`` (spots × components);
    - ``varm["{key_added}_loadings"]``: sparse unit loadings ``V`` (genes × components);
    - ``var["{key_added}_selected"]`` / ``obs["{key_added}_selected"]``: nonzero in any
      component;
    - ``uns[key_added]``: ``params``, ``d``, ``objective`` (histories of all components one after
      another, lengths in ``objective_lengths``), ``n_iter``, ``converged``.
    """
    params = call_params(locals())
    check_key(key_added)
    check_bool(copy, "copy")
    check_adata(adata)
    check_optional_int(n_var_nonzero, "n_var_nonzero", min_value=1, max_value=adata.n_vars)
    check_optional_int(n_obs_nonzero, "n_obs_nonzero", min_value=1, max_value=adata.n_obs)
    X = get_matrix(adata, layer)
    var_graph = _var_graph(adata, var_graph_key) if var_graph_key is not None else None
    obs_graph = get_graph(adata, obs_graph_key) if obs_graph_key is not None else None
    res = _sparse_svd_core(
        X,
        n_components,
        k_obs=n_obs_nonzero,
        k_var=n_var_nonzero,
        obs_graph=obs_graph,
        var_graph=var_graph,
        lam_obs=lam_obs,
        lam_var=lam_var,
        penalty=penalty,
        n_restarts=n_restarts,
        max_iter=max_iter,
        tol=tol,
        center=center,
        random_state=random_state,
    )
    adata = adata.copy() if copy else adata
    _write(adata, key_added, res, params)
    return adata if copy else None


@d.dedent
def group_sparse_svd(
    adata: AnnData,
    groups,
    n_groups: int,
    *,
    penalty: Literal["gl0", "gl1", "ogl0", "ogl1"] = "gl0",
    n_components: int = 1,
    weights="sqrt_size",
    admm_rho: float = 1.0,
    admm_iter: int = 10,
    layer: str | None = None,
    center: bool = False,
    n_restarts: int = 1,
    max_iter: int = 100,
    tol: float = 1e-4,
    key_added: str = ToolKey.GROUP_SPARSE_SVD,
    random_state: int | None = 0,
    copy: bool = False,
) -> AnnData | None:
    """Group-sparse SVD (GL0/GL1/OGL0/OGL1-SVD; Min, Liu & Zhang, TKDE 2021).

    Each component's gene loadings are supported on ``n_groups`` gene sets (pathways, modules);
    core: :func:`stmin.sparse.group_sparse_svd`.

    Parameters
    ----------
    adata
        Annotated data; reads ``X`` (or ``layer``).
    groups
        Gene groups: a dict ``name → genes``, a DataFrame with ``source`` (group) and ``target``
        (gene) columns (a decoupler net), or the name of a ``var`` column (a partition).
    n_groups
        Active groups per component.
    penalty
        ``"gl0"``, ``"gl1"`` (non-overlapping groups), ``"ogl0"`` or ``"ogl1"`` (overlaps).
    n_components
        Number of components.
    weights, admm_rho, admm_iter
        Group weights of the L1 models and ADMM settings of ``"ogl1"``.
    layer, center, n_restarts, max_iter, tol, random_state, copy
        As in :func:`sparse_svd`.
    %(key_added)s

    Returns
    -------
    ``None`` (or the copy). Writes the keys of :func:`sparse_svd` (``obsm["X_{key_added}"]``,
    ``varm["{key_added}_loadings"]``, ``var["{key_added}_selected"]``,
    ``obs["{key_added}_selected"]``) plus ``varm["{key_added}_groups"]`` (sparse genes × groups
    incidence) and, in ``uns[key_added]``, ``group_names`` and ``active_groups`` (component →
    names of its selected groups).
    """
    params = call_params(locals())
    check_key(key_added)
    check_bool(copy, "copy")
    check_adata(adata)
    X = get_matrix(adata, layer)
    index_groups, names = resolve_groups(adata, groups)
    res = _group_svd_core(
        X,
        index_groups,
        n_groups,
        penalty,
        n_components,
        weights=weights,
        admm_rho=admm_rho,
        admm_iter=admm_iter,
        n_restarts=n_restarts,
        max_iter=max_iter,
        tol=tol,
        center=center,
        random_state=random_state,
    )
    active = {str(c): [names[g] for g in gs] for c, gs in enumerate(res.active_groups)}
    members = np.concatenate(index_groups)
    cols = np.repeat(np.arange(len(index_groups)), [len(g) for g in index_groups])
    incidence = sp.csr_matrix(
        (np.ones(members.size), (members, cols)), shape=(adata.n_vars, len(index_groups))
    )
    adata = adata.copy() if copy else adata
    _write(
        adata,
        key_added,
        res,
        params,
        varm_extra={f"{key_added}_groups": incidence},
        group_names=list(names),
        active_groups=active,
    )
    return adata if copy else None
