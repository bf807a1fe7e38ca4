"""``sm.tl.sparse_nmf``: NMF_ℓ20 / ONMF_ℓ20 / GNMF_ℓ20 gene-selecting factorisation of an AnnData."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from .._constants import CONNECTIVITIES_KEY, ToolKey, embedding_key
from .._docs import d
from .._settings import logger
from .._validate import (
    check_adata,
    check_bool,
    check_key,
    check_kwargs,
    get_graph,
    get_matrix,
    where,
)
from .._writer import call_params, write_result
from ..sparse._nmf import sparse_nmf as _sparse_nmf_core


def _check_nonneg_expression(X, what: str) -> None:
    values = X.data if sp.issparse(X) else np.asarray(X)
    if values.size and values.min() < 0:
        raise ValueError(
            f"{what} contains negative values; NMF needs non-negative input. Use counts or "
            "log1p-normalised expression (`sc.pp.normalize_total` + `sc.pp.log1p`), not scaled "
            "or centred data (pass `layer=` naming such a layer)."
        )


@d.dedent
def sparse_nmf(
    adata: AnnData,
    n_components: int,
    *,
    n_top_genes: int | None = None,
    orthogonal: bool = False,
    graph_key: str | None = None,
    lam_graph: float = 1.0,
    solver: Literal["palm", "apalm", "abpl+"] = "palm",
    layer: str | None = None,
    key_added: str = ToolKey.SPARSE_NMF,
    max_iter: int = 500,
    tol: float = 3e-3,
    init: Literal["nndsvd", "nndsvda", "random"] = "nndsvd",
    random_state: int | None = 0,
    copy: bool = False,
    **kwargs,
) -> AnnData | None:
    """Non-negative factorisation that keeps ``n_top_genes`` genes (NMF_ℓ20 family).

    Factorises the genes × spots matrix ``adata.X.T ≈ W H`` with ``W, H ≥ 0`` and at most
    ``n_top_genes`` nonzero rows in ``W`` (Min et al., TKDE 2023), solved by PALM
    (:func:`stmin.sparse.sparse_nmf`). ``orthogonal=True`` gives ONMF_ℓ20 (each spot loads on one
    factor); ``graph_key`` adds ``(λ/2) tr(H L Hᵀ)`` over a spot graph (GNMF_ℓ20), giving
    spatially smooth factors.

    Parameters
    ----------
    adata
        Annotated data; ``X`` (or ``layer``) must be non-negative, e.g. log1p-normalised counts.
    n_components
        Number of factors ``r``.
    n_top_genes
        Genes kept (``k``); ``None`` keeps all (plain NMF).
    orthogonal
        ONMF_ℓ20 (orthogonality penalty with continuation).
    graph_key
        ``adata.obsp`` key of the spot graph (e.g. ``"spatial_connectivities"`` from
        :func:`stmin.pp.spatial_graph`, or ``"connectivities"``); ``None``: no graph term.
    lam_graph
        Weight ``λ`` of the graph term (used only with ``graph_key``).
    solver
        ``"palm"``, ``"apalm"`` or ``"abpl+"``.
    layer
        Layer to factorise instead of ``X``.
    %(key_added)s
    max_iter, tol, init, random_state
        Passed to :func:`stmin.sparse.sparse_nmf`.
    %(copy)s
    **kwargs
        Further arguments of :func:`stmin.sparse.sparse_nmf` (``rho``, ``rho_growth``,
        ``nu``, ``momentum``, ``min_iter``, ``normalized_laplacian``, …).

    Returns
    -------
    ``None`` (or the copy with ``copy=True``). Writes

    - ``obsm["X_{key_added}"]``: ``Hᵀ`` (spots × r);
    - ``varm["{key_added}_W"]``: ``W`` (genes × r, zero rows for unselected genes);
    - ``var["{key_added}_selected"]``: genes with a nonzero row in ``W``;
    - ``obs["{key_added}_cluster"]``: categorical ``argmax`` over the factors;
    - ``uns[key_added]``: ``params``, ``objective`` (history), ``graph_key``, ``n_iter``,
      ``converged``, ``rho_path``, ``orth_error``.
    """
    params = call_params(locals())
    check_key(key_added)
    check_bool(copy, "copy")
    check_bool(orthogonal, "orthogonal")
    kwargs = check_kwargs(
        kwargs,
        "keyword arguments",
        _sparse_nmf_core,
        reserved=(
            "X",
            "n_components",
            "k",
            "orthogonal",
            "graph",
            "lam_graph",
            "solver",
            "max_iter",
            "tol",
            "init",
            "random_state",
        ),
    )
    check_adata(adata)
    X = get_matrix(adata, layer)
    _check_nonneg_expression(X, where("adata", layer))
    if n_top_genes is not None and not (
        isinstance(n_top_genes, int | np.integer) and 1 <= n_top_genes <= adata.n_vars
    ):
        raise ValueError(
            f"`n_top_genes` must be an integer between 1 and adata.n_vars={adata.n_vars} "
            f"(got {n_top_genes!r}); pass `None` to keep every gene."
        )
    graph = None
    if graph_key is not None:
        graph = get_graph(adata, graph_key)
    res = _sparse_nmf_core(
        X.T,
        n_components,
        n_top_genes,
        orthogonal=orthogonal,
        graph=graph,
        lam_graph=float(lam_graph) if graph is not None else 0.0,
        solver=solver,
        max_iter=max_iter,
        tol=tol,
        init=init,
        random_state=random_state,
        **kwargs,
    )
    if not res.converged:
        logger.warning(
            f"sparse NMF stopped at the iteration cap ({res.n_iter} iterations) before reaching "
            f"tol={tol}; raise `max_iter` (or `rho_max_iter` for orthogonal=True) if needed."
        )
    labels = np.argmax(res.H, axis=0)
    cats = [str(i) for i in range(res.H.shape[0])]
    cluster = pd.Categorical.from_codes(labels, categories=cats)
    adata = adata.copy() if copy else adata
    write_result(
        adata,
        key_added,
        params,
        obsm={embedding_key(key_added): np.ascontiguousarray(res.H.T)},
        varm={f"{key_added}_W": res.W},
        obs={f"{key_added}_cluster": cluster},
        var={f"{key_added}_selected": res.selected},
        record={
            "objective": np.asarray(res.objective, dtype=np.float64),
            "graph_key": graph_key if graph_key is not None else "",
            "n_iter": int(res.n_iter),
            "converged": bool(res.converged),
            "n_selected": int(res.selected.sum()),
            "rho_path": np.asarray(res.rho_path, dtype=np.float64),
            "orth_error": np.asarray(res.orth_error, dtype=np.float64),
        },
    )
    return adata if copy else None


def graph_sparse_nmf(
    adata: AnnData,
    n_components: int,
    *,
    graph_key: str = CONNECTIVITIES_KEY,
    lam_graph: float = 1.0,
    key_added: str = ToolKey.GRAPH_SPARSE_NMF,
    **kwargs,
) -> AnnData | None:
    """GNMF_ℓ20: :func:`sparse_nmf` with a spot graph (alias with graph defaults).

    Same as ``sparse_nmf(adata, n_components, graph_key=graph_key, lam_graph=lam_graph,
    key_added=key_added, **kwargs)``; reads ``adata.obsp[graph_key]`` and writes the keys listed
    in :func:`sparse_nmf` under ``key_added`` (default ``"graph_sparse_nmf"``).
    """
    return sparse_nmf(
        adata,
        n_components,
        graph_key=graph_key,
        lam_graph=lam_graph,
        key_added=key_added,
        **kwargs,
    )
