"""``sm.tl.network_logreg``: marker selection by network-regularised sparse logistic regression."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData
from scipy.special import expit
from sklearn.metrics import roc_auc_score

from .._constants import ToolKey
from .._docs import d
from .._validate import check_adata, check_bool, check_choice, check_key, get_matrix
from .._writer import call_params, write_result
from ..sparse._logreg import PENALTIES, network_from_correlation
from ..sparse._logreg import network_logreg as _fit


def _binary_target(
    adata: AnnData, label_key: str, groups, positive
) -> tuple[np.ndarray, np.ndarray, tuple[str, str]]:
    """``(mask of samples used, y ∈ {0, 1} on them, (positive, negative) names)``."""
    if label_key not in adata.obs:
        raise KeyError(
            f"`adata.obs[{label_key!r}]` not found; pass the obs column holding the labels as "
            "`label_key=`."
        )
    labels = adata.obs[label_key]
    if groups is not None and positive is not None:
        raise ValueError("pass either `groups=(a, b)` or `positive=`, not both.")
    values = labels.astype(object).to_numpy()
    present = pd.unique(labels.dropna())
    if groups is not None:
        if isinstance(groups, str) or len(groups) != 2 or groups[0] == groups[1]:
            raise ValueError(f"`groups` must name two different labels, got {groups!r}.")
        for g in groups:
            if g not in set(present):
                raise ValueError(
                    f"`groups` entry {g!r} is not a value of `adata.obs[{label_key!r}]`."
                )
        mask = np.isin(values, list(groups))
        return mask, (values[mask] == groups[0]).astype(int), (str(groups[0]), str(groups[1]))
    if labels.isna().any():
        raise ValueError(
            f"`adata.obs[{label_key!r}]` has {int(labels.isna().sum())} missing labels; drop "
            "those observations or contrast two labels with `groups=`."
        )
    mask = np.ones(adata.n_obs, dtype=bool)
    if positive is not None:
        if positive not in set(present):
            raise ValueError(
                f"`positive`={positive!r} is not a value of `adata.obs[{label_key!r}]`."
            )
        return mask, (values == positive).astype(int), (str(positive), "rest")
    if len(present) != 2:
        raise ValueError(
            f"`adata.obs[{label_key!r}]` has {len(present)} distinct labels; binary labels are "
            "needed. Pass `positive=` (one versus rest) or `groups=(a, b)`."
        )
    order = (
        list(labels.cat.categories)
        if isinstance(labels.dtype, pd.CategoricalDtype)
        else sorted(present.tolist())
    )
    order = [c for c in order if c in set(present)]
    return mask, (values == order[1]).astype(int), (str(order[1]), str(order[0]))


def _network_from_table(table: pd.DataFrame, var_names: pd.Index) -> sp.csr_matrix:
    """A ``p × p`` adjacency from an edge table with columns ``source``, ``target`` [, ``weight``]."""
    missing = {"source", "target"} - set(table.columns)
    if missing:
        raise ValueError(
            f"`network` needs columns 'source' and 'target' (decoupler style); missing {missing}."
        )
    src = var_names.get_indexer(table["source"].astype(str))
    tgt = var_names.get_indexer(table["target"].astype(str))
    keep = (src >= 0) & (tgt >= 0) & (src != tgt)
    if not keep.any():
        raise ValueError("`network` shares no edge between two genes of `adata.var_names`.")
    weight = (
        np.abs(table["weight"].to_numpy(dtype=np.float64))
        if "weight" in table.columns
        else np.ones(len(table))
    )
    p = len(var_names)
    adj = sp.csr_matrix((weight[keep], (src[keep], tgt[keep])), shape=(p, p))
    return adj.maximum(adj.T).tocsr()


@d.dedent
def network_logreg(
    adata: AnnData,
    label_key: str,
    *,
    groups: tuple[str, str] | None = None,
    positive: str | None = None,
    network_key: str | None = None,
    network: pd.DataFrame | None = None,
    penalty: Literal["abs_network", "network", "elastic_net", "lasso"] = "abs_network",
    lam: float | None = None,
    eta: float | None = None,
    laplacian: Literal["normalized", "combinatorial"] = "normalized",
    n_neighbors: int = 10,
    layer: str | None = None,
    standardize: bool = True,
    irls: Literal["exact", "bound"] = "exact",
    max_iter: int = 100,
    tol: float = 1e-5,
    key_added: str = ToolKey.NETWORK_LOGREG,
    copy: bool = False,
) -> AnnData | None:
    """Select marker genes with (absolute-)network-regularised sparse logistic regression.

    Fits ``−mean loglik + lam·‖w‖₁ + eta·P(w)`` (:func:`stmin.sparse.network_logreg`) with
    ``P(w) = |w|ᵀL|w|`` (``"abs_network"``), ``wᵀLw`` (``"network"``), ``‖w‖²``
    (``"elastic_net"``) or none (``"lasso"``), ``L`` the Laplacian of a gene network
    (AbsNet.LR; Min, Liu & Zhang, arXiv:1609.06480 and IEEE/ACM TCBB 2018).

    Parameters
    ----------
    adata
        Observations × genes; expression in ``.X`` or ``layer`` (e.g. log-normalised).
    label_key
        ``adata.obs`` column with the labels.
    groups
        Two labels to contrast, ``(positive, negative)``; only those observations are fitted.
    positive
        One label, fitted against all others. Without ``groups``/``positive`` the column must
        hold exactly two labels; the second (category order, else sorted) is positive.
    network_key
        ``adata.varp`` key of a gene adjacency (for the network penalties).
    network
        Instead of ``network_key``: an edge table with columns ``source``, ``target`` and
        optionally ``weight`` (decoupler style); genes outside ``var_names`` are dropped. When
        both are ``None`` and the penalty needs a network, a kNN gene-correlation network
        (:func:`stmin.sparse.network_from_correlation`, ``n_neighbors``) is built from the fitted
        data and stored in ``adata.varp[f"{key_added}_network"]``.
    penalty, lam, eta, irls, max_iter, tol
        See :func:`stmin.sparse.network_logreg` (``lam`` default ``0.05·λ_max``, ``eta``
        default ``lam / 2``).
    laplacian
        ``"normalized"`` or ``"combinatorial"`` Laplacian of the network.
    n_neighbors
        Neighbours per gene of the automatic correlation network.
    layer
        Layer to use instead of ``.X``.
    standardize
        Centre and scale every gene on the fitted observations (coefficients are then per
        standard deviation and comparable across genes).
    %(key_added)s
    %(copy)s

    Returns
    -------
    ``None``, or the modified copy with ``copy=True``. Writes

    - ``adata.var[f"{key_added}_coef"]``: coefficients (standardised scale if ``standardize``);
    - ``adata.var[f"{key_added}_selected"]``: non-zero coefficient;
    - ``adata.obs[f"{key_added}_proba"]``: fitted probability of the positive label, for every
      observation (also those outside ``groups``);
    - ``adata.uns[key_added]``: ``params``, ``intercept``, ``positive``, ``negative``, ``lam``,
      ``eta``, ``objective``, ``n_iter``, ``converged``, ``n_selected``, ``train_auc``,
      ``n_obs_fit`` and the ``center``/``scale`` used;
    - ``adata.varp[f"{key_added}_network"]`` when the network was built here.
    """
    params = call_params(locals())
    check_key(key_added)
    check_bool(copy, "copy")
    check_bool(standardize, "standardize")
    check_adata(adata)
    check_choice(penalty, "penalty", PENALTIES)
    if network_key is not None and network is not None:
        raise ValueError("pass either `network_key=` or `network=`, not both.")
    mask, y, (pos_name, neg_name) = _binary_target(adata, label_key, groups, positive)
    if np.unique(y).size != 2:
        raise ValueError(
            f"the labels of `adata.obs[{label_key!r}]` used hold one class only ({pos_name!r} "
            f"vs {neg_name!r}); both classes need observations."
        )
    X = get_matrix(adata, layer)
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    X = X.astype(np.float64, copy=False)
    Xfit = X[mask]
    if standardize:
        center = Xfit.mean(axis=0)
        scale = Xfit.std(axis=0)
        scale[scale < 1e-12] = 1.0
    else:
        center, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
    Z = (Xfit - center) / scale

    adj, built_key = None, None
    if penalty in ("network", "abs_network"):
        if network_key is not None:
            if network_key not in adata.varp:
                raise KeyError(
                    f"`adata.varp[{network_key!r}]` not found; available keys: "
                    f"{list(adata.varp)}. Store a gene adjacency there, or pass `network=` "
                    "(an edge table) or neither (a kNN correlation network is built)."
                )
            adj = adata.varp[network_key]
        elif network is not None:
            adj = _network_from_table(network, adata.var_names)
        else:
            adj = network_from_correlation(Z, n_neighbors)
            built_key = f"{key_added}_network"

    res = _fit(
        Z,
        y,
        adj,
        penalty=penalty,
        lam=lam,
        eta=eta,
        laplacian=laplacian,
        irls=irls,
        max_iter=max_iter,
        tol=tol,
    )
    proba = expit(((X - center) / scale) @ res.coef + res.intercept)
    train_auc = float(roc_auc_score(y, proba[mask]))
    adata = adata.copy() if copy else adata
    write_result(
        adata,
        key_added,
        params,
        var={f"{key_added}_coef": res.coef, f"{key_added}_selected": res.coef != 0},
        obs={f"{key_added}_proba": proba},
        varp={built_key: sp.csr_matrix(adj)} if built_key is not None else None,
        record={
            "network_key": network_key if built_key is None else built_key,
            "intercept": res.intercept,
            "positive": pos_name,
            "negative": neg_name,
            "lam": res.lam,
            "eta": res.eta,
            "objective": [float(f) for f in res.objective],
            "n_iter": res.n_iter,
            "converged": res.converged,
            "n_selected": int(np.count_nonzero(res.coef)),
            "train_auc": train_auc,
            "n_obs_fit": int(mask.sum()),
            "center": center,
            "scale": scale,
        },
    )
    return adata if copy else None
