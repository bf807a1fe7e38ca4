"""``sm.tl.multilinear_logreg``: ℓ0-MLSR on a per-observation feature tensor."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from .._constants import ToolKey
from .._docs import d
from .._settings import logger
from .._validate import check_adata, check_bool, check_key
from .._writer import call_params, write_result
from ..sparse._mslr import multilinear_logreg as _mslr_core


@d.dedent
def multilinear_logreg(
    adata: AnnData,
    label_key: str,
    tensor_key: str,
    *,
    n_nonzero: float | int | Sequence[float | int] | None = 0.35,
    lam: float | Sequence[float] = 0.002,
    solver: str = "apalm+",
    mode_names: Sequence[str] | None = None,
    gene_mode: int | str | None = "auto",
    max_iter: int = 2000,
    tol: float = 1e-5,
    key_added: str = ToolKey.MULTILINEAR_LOGREG,
    random_state: int | None = 0,
    copy: bool = False,
    **kwargs,
) -> AnnData | None:
    """ℓ0-constrained multilinear sparse logistic regression (ℓ0-MLSR, Yang & Min 2023).

    Each observation carries a feature tensor ``adata.obsm[tensor_key][i]`` (e.g. neighbourhood
    ring × gene, or cell type × gene for pseudobulk samples); the classifier's weight tensor is
    rank one, ``w_1 ∘ … ∘ w_N``, with at most ``k_n`` nonzeros per mode, fitted by APALM+
    (:func:`stmin.sparse.multilinear_logreg`).

    Parameters
    ----------
    adata
        Annotated data.
    label_key
        ``adata.obs`` column with exactly two classes (no missing values).
    tensor_key
        ``adata.obsm`` key holding an ``(n_obs, d_1, …, d_N)`` array (``N ≥ 1``; a 2-D array is
        ordinary ℓ0 logistic regression).
    n_nonzero
        Nonzeros per mode: int, fraction of ``d_n`` or one value per mode (default 35 %%).
    lam
        Ridge weight per mode (0.002 as in the paper).
    solver
        ``"apalm+"`` (default), ``"abpl+"``, ``"apalm"`` or ``"palm"``.
    mode_names
        Names of the modes for ``uns[key_added]["w"]``; default ``"mode0"``, ``"mode1"``, ….
    gene_mode
        Which mode indexes the genes (``adata.var_names``): its weights also go to
        ``var["{key_added}_coef"]``. ``"auto"``: the single mode whose size equals ``n_vars``
        (none if zero or several modes match); an int picks one; ``None`` disables it.
    max_iter, tol, random_state
        Passed to :func:`stmin.sparse.multilinear_logreg`.
    %(key_added)s
    %(copy)s
    **kwargs
        Further arguments of :func:`stmin.sparse.multilinear_logreg` (``step_factor``,
        ``momentum``, ``fit_intercept``).

    Returns
    -------
    ``None`` (or the copy with ``copy=True``). Writes

    - ``obs["{key_added}_proba"]``: probability of the positive class (``classes[1]``);
    - ``var["{key_added}_coef"]``: the gene-mode weights (only with a gene mode);
    - ``uns[key_added]``: ``params``, ``w`` (mode name → weights), ``intercept``, ``classes``,
      ``n_nonzero``, ``objective`` (history), ``n_iter``, ``converged``, ``gene_mode``.
    """
    params = call_params(locals())
    check_key(key_added)
    check_bool(copy, "copy")
    check_adata(adata)
    if label_key not in adata.obs:
        raise KeyError(
            f"`adata.obs[{label_key!r}]` not found; pass the obs column holding the two classes."
        )
    labels = adata.obs[label_key]
    if labels.isna().any():
        raise ValueError(
            f"`adata.obs[{label_key!r}]` has {int(labels.isna().sum())} missing values; "
            "subset to labelled observations first."
        )
    if tensor_key not in adata.obsm:
        raise KeyError(
            f"`adata.obsm[{tensor_key!r}]` not found; store an (n_obs, d_1, ..., d_N) feature "
            "tensor there."
        )
    T = adata.obsm[tensor_key]
    T = T.toarray() if sp.issparse(T) else np.asarray(T, dtype=np.float64)
    if T.ndim < 2 or T.shape[0] != adata.n_obs:
        raise ValueError(
            f"`adata.obsm[{tensor_key!r}]` must have shape (n_obs={adata.n_obs}, d_1, ..., d_N), "
            f"got {T.shape}."
        )
    dims = T.shape[1:]
    n_modes = len(dims)
    if mode_names is None:
        mode_names = [f"mode{i}" for i in range(n_modes)]
    mode_names = [str(s) for s in mode_names]
    if len(mode_names) != n_modes or len(set(mode_names)) != n_modes:
        raise ValueError(f"`mode_names` needs {n_modes} distinct names (got {mode_names}).")

    if gene_mode == "auto":
        matches = [i for i, dn in enumerate(dims) if dn == adata.n_vars]
        if len(matches) > 1:
            logger.warning(
                f"modes {matches} all have n_vars={adata.n_vars} entries; pass `gene_mode=` "
                "to write one of them to `adata.var`."
            )
        gene_mode = matches[0] if len(matches) == 1 else None
    elif gene_mode is not None:
        if not isinstance(gene_mode, int | np.integer) or not 0 <= gene_mode < n_modes:
            raise ValueError(f"`gene_mode` must be 'auto', None or a mode index < {n_modes}.")
        if dims[gene_mode] != adata.n_vars:
            raise ValueError(
                f"mode {gene_mode} has {dims[gene_mode]} entries but adata.n_vars={adata.n_vars}."
            )

    y = np.asarray(labels.astype(str) if labels.dtype == object else labels)
    res = _mslr_core(
        T,
        y,
        n_nonzero,
        lam=lam,
        solver=solver,
        max_iter=max_iter,
        tol=tol,
        random_state=random_state,
        **kwargs,
    )
    if not res.converged:
        logger.warning(
            f"multilinear_logreg stopped at max_iter={max_iter} before |ΔF| < {tol}; "
            "raise `max_iter` if needed."
        )
    var = None
    if gene_mode is not None:
        var = {f"{key_added}_coef": pd.Series(res.w[gene_mode], index=adata.var_names)}
    adata = adata.copy() if copy else adata
    write_result(
        adata,
        key_added,
        params,
        obs={f"{key_added}_proba": pd.Series(res.proba, index=adata.obs_names)},
        var=var,
        record={
            "w": {name: np.asarray(v) for name, v in zip(mode_names, res.w, strict=True)},
            "intercept": float(res.intercept),
            "classes": [str(c) for c in res.classes],
            "n_nonzero": list(res.n_nonzero),
            "objective": np.asarray(res.objective, dtype=np.float64),
            "n_iter": int(res.n_iter),
            "converged": bool(res.converged),
            "gene_mode": -1 if gene_mode is None else int(gene_mode),
        },
    )
    return adata if copy else None
