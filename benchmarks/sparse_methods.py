"""Sparse-family benchmark: stmin's sparse methods side by side with their standard counterparts.

Every fit runs in this one process, one after the other, single-threaded (``OMP_NUM_THREADS``,
``MKL_NUM_THREADS`` and ``OPENBLAS_NUM_THREADS`` set to 1 before NumPy is imported), so the
times are comparable within a run. Time = the fit call only (no loading or preprocessing); one
untimed warm-up fit of each method on a small slice comes first. Writes
``benchmarks/results/sparse.md``, the raw records ``benchmarks/results/sparse/sparse_raw.jsonl``
(resumable; ``--fresh`` starts over), the data notes ``sparse_data.json`` and a flat table
``sparse_summary.csv`` in the same folder.

Tasks (``--datasets``):

``nmf_pancreas``
    Baron 2016 mouse pancreas 1: log1p-normalised counts of 2,000 highly variable genes;
    ``k`` = number of cell types. NMF_ℓ20 (500 genes kept), ONMF_ℓ20 (500 genes), stmin's
    plain NMF (all genes, same PALM solver) and scikit-learn ``NMF`` (coordinate descent); cells
    are clustered by the argmax of ``H``; NMI/ARI against the cell types.
``gnmf_dlpfc``
    DLPFC 151673 (Visium), 2,000 highly variable genes, log1p; ``k = 7``; spatial graph
    ``sm.pp.spatial_graph(n_neighs=6)``. GNMF_ℓ20 (λ = 1 and 10, 1,000 genes), NMF_ℓ20
    (1,000 genes), stmin plain NMF and scikit-learn ``NMF``: ARI of the argmax against the
    layers, layer specificity (per factor the best Pearson correlation with a layer indicator,
    averaged over factors) and spatial coherence (Moran's I of the factors on the spatial graph,
    averaged).
``wspls_her2st``
    HER2+ sections B4, C2–C6 (the sections whose full-resolution H&E image is in the data
    folder): expression (log1p, 1,000 highly variable genes, centred) against a second view of
    stmin's 102 H&E image statistics per spot (``sm.pp.he_features``, see ``_he_view``).
    ℓ∞/ℓ0-wsPLS against
    scikit-learn ``PLSCanonical(n_components=1)`` and ``PLSSVD(n_components=1)``: time,
    covariance and correlation of the first pair of scores, genes/features/spots selected.
``logreg_pancreas``
    Baron mouse pancreas 1 + 2 pooled (1,886 cells), 1,000 highly variable genes, log1p,
    standardised on the training cells; one cell type against the rest (beta, alpha, delta,
    ductal, endothelial), 70/30 stratified split per seed. ``network_logreg`` with the
    absolute network penalty on a 10-NN gene-correlation network and with the lasso, against
    scikit-learn ``LogisticRegression(l1_ratio=1)`` (liblinear and saga) at the matched
    ``λ`` (``C = 1/(n λ)``, ``λ = 0.05 λ_max``): time, held-out AUC, genes selected.
``svd_dlpfc``
    DLPFC 151673, 2,000 highly variable genes, log1p, centred: the leading five singular
    triplets by ``numpy.linalg.svd`` (full), ``scipy.sparse.linalg.svds``, scikit-learn
    ``TruncatedSVD`` (randomized; the scikit-learn counterpart of the time check) and stmin's
    ``sparse_svd`` (rank 1..5; without sparsity, and with 200 genes and all spots per
    component) and
    ``group_sparse_svd`` (GL0, 10 of 100 gene groups from k-means on the genes' standardised
    profiles): time and explained variance ``1 − ‖X − Σ d u vᵀ‖²/‖X‖²``.

    python benchmarks/sparse_methods.py                                    # everything, seeds 0 1 2
    python benchmarks/sparse_methods.py --datasets nmf_pancreas --seeds 0
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import json
import platform
import sys
import time
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import anndata as ad
import scanpy as sc
from _harness import Records, command_line, failed_runs, fmt, parse_args
from domains import _machine

import stmin as sm

TASKS = ["nmf_pancreas", "gnmf_dlpfc", "wspls_her2st", "logreg_pancreas", "svd_dlpfc"]
METHODS = {
    "nmf_pancreas": ["nmf_l20", "onmf_l20", "stmin_nmf", "sklearn_nmf"],
    "gnmf_dlpfc": ["gnmf_l20_lam1", "gnmf_l20_lam10", "nmf_l20", "stmin_nmf", "sklearn_nmf"],
    "wspls_her2st": ["wspls", "wspls_dense", "sklearn_plscanonical", "sklearn_plssvd"],
    "logreg_pancreas": ["netlr_abs", "netlr_lasso", "sklearn_l1_liblinear", "sklearn_l1_saga"],
    "svd_dlpfc": [
        "numpy_svd",
        "scipy_svds",
        "sklearn_tsvd",
        "sparse_svd_dense",
        "sparse_svd",
        "group_sparse_svd",
    ],
}
ALL_METHODS = list(dict.fromkeys(m for ms in METHODS.values() for m in ms))
NAMES = {
    "nmf_l20": "stmin NMF_ℓ20",
    "onmf_l20": "stmin ONMF_ℓ20",
    "stmin_nmf": "stmin NMF (all genes, PALM)",
    "sklearn_nmf": "scikit-learn NMF (cd)",
    "gnmf_l20_lam1": "stmin GNMF_ℓ20, λ = 1",
    "gnmf_l20_lam10": "stmin GNMF_ℓ20, λ = 10",
    "wspls": "stmin wsPLS (sparse)",
    "wspls_dense": "stmin wsPLS (no sparsity, w ≡ 1)",
    "sklearn_plscanonical": "scikit-learn PLSCanonical(1)",
    "sklearn_plssvd": "scikit-learn PLSSVD(1)",
    "netlr_abs": "stmin network_logreg (abs_network)",
    "netlr_lasso": "stmin network_logreg (lasso)",
    "sklearn_l1_liblinear": "scikit-learn LogisticRegression l1 (liblinear)",
    "sklearn_l1_saga": "scikit-learn LogisticRegression l1 (saga)",
    "numpy_svd": "numpy.linalg.svd (full)",
    "scipy_svds": "scipy.sparse.linalg.svds (k = 5)",
    "sklearn_tsvd": "scikit-learn TruncatedSVD (5, randomized)",
    "sparse_svd_dense": "stmin sparse_svd, no sparsity (rank 5)",
    "sparse_svd": "stmin sparse_svd, 200 genes per component (rank 5)",
    "group_sparse_svd": "stmin group_sparse_svd (GL0, rank 5)",
}
# stmin method -> its scikit-learn / NumPy counterpart for the 2x time check
COUNTERPART = {
    "nmf_l20": "sklearn_nmf",
    "onmf_l20": "sklearn_nmf",
    "stmin_nmf": "sklearn_nmf",
    "gnmf_l20_lam1": "sklearn_nmf",
    "gnmf_l20_lam10": "sklearn_nmf",
    "wspls": "sklearn_plssvd",
    "wspls_dense": "sklearn_plssvd",
    "netlr_abs": "sklearn_l1_liblinear",
    "netlr_lasso": "sklearn_l1_liblinear",
    "sparse_svd": "sklearn_tsvd",
    "sparse_svd_dense": "sklearn_tsvd",
    "group_sparse_svd": "sklearn_tsvd",
}
HER2_SECTIONS = ["B4", "C2", "C3", "C4", "C5", "C6"]
LOGREG_TYPES = ["beta", "alpha", "delta", "ductal", "endothelial"]


def _versions() -> str:
    parts = [f"stmin {sm.__version__}", f"Python {platform.python_version()}"]
    for package in ("numpy", "scipy", "scikit-learn", "scanpy", "anndata"):
        try:
            parts.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package} not installed")
    return ", ".join(parts)


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _log_hvg(adata, n_top: int):
    """normalize_total (10⁴), log1p, the ``n_top`` highly variable genes (Seurat flavour)."""
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    sc.pp.highly_variable_genes(adata, n_top_genes=n_top, flavor="seurat")
    return adata[:, adata.var["highly_variable"]].copy()


# ----------------------------------------------------------------------------------------------
# (a) NMF family on the pancreas


def _nmf_fit(method: str, X, k: int, seed: int, graph=None, n_keep=None):
    """Fit ``method`` on genes × cells ``X``; return (H (k × cells), W (genes × k), seconds, info)."""
    from sklearn.decomposition import NMF

    if method == "sklearn_nmf":
        model = NMF(k, init="nndsvd", random_state=seed, max_iter=500)
        HT, secs = _timed(lambda: model.fit_transform(X.T))
        return HT.T, model.components_.T, secs, {"n_iter": int(model.n_iter_)}
    kw: dict = {"random_state": seed}
    if method in ("nmf_l20", "onmf_l20") or method.startswith("gnmf"):
        kw["k"] = n_keep
    if method == "onmf_l20":
        kw["orthogonal"] = True
    if method.startswith("gnmf"):
        kw |= {"graph": graph, "lam_graph": 1.0 if method.endswith("lam1") else 10.0}
    res, secs = _timed(lambda: sm.sparse.sparse_nmf(X, k, **kw))
    info = {"n_iter": int(res.n_iter), "n_genes_kept": int(res.selected.sum())}
    return res.H, res.W, secs, info


def _rel_err(X, W, H) -> float:
    Xd = X.toarray() if sp.issparse(X) else X
    return float(np.linalg.norm(Xd - W @ H) / np.linalg.norm(Xd))


def task_nmf_pancreas(args, store: Records, command: str) -> None:
    adata = sm.datasets.scrna_clustering("baron_mouse1", path=args.data_dir)
    adata = _log_hvg(adata, 2000)
    truth = adata.obs["cell_type"].astype(str).to_numpy()
    k = int(pd.Series(truth).nunique())
    X = sp.csr_matrix(adata.X.T, dtype=np.float64)
    store.note(
        "nmf_pancreas",
        {"data": "Baron 2016 mouse pancreas 1", "cells": adata.n_obs, "genes": adata.n_vars,
         "k": k, "genes_kept": 500},
    )  # fmt: skip
    methods = [m for m in METHODS["nmf_pancreas"] if m in args.methods]
    for m in methods:  # warm-up
        _nmf_fit(m, X[:, :200], 3, 0, n_keep=100)
    for seed in args.seeds:
        for m in methods:
            if ("nmf_pancreas", m, seed) in store.done:
                continue
            H, W, secs, info = _nmf_fit(m, X, k, seed, n_keep=500)
            labels = H.argmax(axis=0)
            rec = {
                "dataset": "nmf_pancreas", "method": m, "seed": seed, "time_s": secs,
                "nmi": sm.metrics.nmi(truth, labels), "ari": sm.metrics.ari(truth, labels),
                "rel_err": _rel_err(X, W, H), "command": command, **info,
            }  # fmt: skip
            store.add(rec)
            print(f"nmf_pancreas {m} s{seed}: {secs:.2f}s NMI {rec['nmi']:.3f}", flush=True)


# ----------------------------------------------------------------------------------------------
# (b) GNMF on DLPFC


def _moran(H: np.ndarray, graph) -> float:
    """Mean over factors of Moran's I on the (binary, symmetric) spatial graph."""
    graph = sp.csr_matrix(graph)
    n, s = graph.shape[0], graph.sum()
    values = []
    for h in H:
        z = h - h.mean()
        denom = float(z @ z)
        values.append(n / s * float(z @ (graph @ z)) / denom if denom > 0 else np.nan)
    return float(np.nanmean(values))


def _layer_specificity(H: np.ndarray, layers: np.ndarray) -> float:
    """Mean over factors of the best Pearson correlation with a layer indicator."""
    cats = pd.unique(layers)
    ind = np.stack([(layers == c).astype(float) for c in cats], axis=1)
    best = []
    for h in H:
        if h.std() == 0:
            best.append(0.0)
            continue
        r = [np.corrcoef(h, ind[:, j])[0, 1] for j in range(ind.shape[1])]
        best.append(float(np.nanmax(r)))
    return float(np.mean(best))


def task_gnmf_dlpfc(args, store: Records, command: str) -> None:
    adata = sm.datasets.dlpfc("151673", path=args.data_dir)
    adata = _log_hvg(adata, 2000)
    sm.pp.spatial_graph(adata, n_neighs=6)
    graph = adata.obsp["spatial_connectivities"]
    annotated = adata.obs["layer_guess"].notna().to_numpy()
    layers = adata.obs["layer_guess"].astype(str).to_numpy()[annotated]
    X = sp.csr_matrix(adata.X.T, dtype=np.float64)
    store.note(
        "gnmf_dlpfc",
        {"data": "DLPFC 151673 (Visium)", "spots": adata.n_obs, "genes": adata.n_vars,
         "annotated_spots": int(annotated.sum()), "k": 7, "genes_kept": 1000,
         "graph": "sm.pp.spatial_graph(n_neighs=6)"},
    )  # fmt: skip
    methods = [m for m in METHODS["gnmf_dlpfc"] if m in args.methods]
    sub = graph[:300][:, :300]
    for m in methods:
        _nmf_fit(m, X[:, :300], 3, 0, graph=sub, n_keep=100)
    for seed in args.seeds:
        for m in methods:
            if ("gnmf_dlpfc", m, seed) in store.done:
                continue
            H, W, secs, info = _nmf_fit(m, X, 7, seed, graph=graph, n_keep=1000)
            labels = H.argmax(axis=0)
            rec = {
                "dataset": "gnmf_dlpfc", "method": m, "seed": seed, "time_s": secs,
                "ari_layers": sm.metrics.ari(layers, labels[annotated]),
                "nmi_layers": sm.metrics.nmi(layers, labels[annotated]),
                "layer_corr": _layer_specificity(H[:, annotated], layers),
                "moran_i": _moran(H, graph), "rel_err": _rel_err(X, W, H),
                "command": command, **info,
            }  # fmt: skip
            store.add(rec)
            print(f"gnmf_dlpfc {m} s{seed}: {secs:.2f}s ARI {rec['ari_layers']:.3f}", flush=True)


# ----------------------------------------------------------------------------------------------
# (c) wsPLS on HER2+ expression × H&E image statistics


def _he_view(adata, section: str) -> tuple[np.ndarray, list[str]]:
    """stmin's image features of every spot: ``sm.pp.he_features(encoder="stats")``.

    102 stain (haematoxylin, eosin), colour and texture statistics of the spot's 224-px patch
    of the full-resolution image and of its centre (:class:`stmin.nn.HEStats`).
    """
    sm.pp.he_patches(adata, library_id=section)
    sm.pp.he_features(adata, "stats")
    feats = np.asarray(adata.obsm["X_he_stats"], dtype=np.float64)
    return feats, [f"he_stat_{i}" for i in range(feats.shape[1])]


def _wspls_fit(method: str, X: np.ndarray, Y: np.ndarray, seed: int):
    """Return (u, v, w or None, seconds)."""
    from sklearn.cross_decomposition import PLSSVD, PLSCanonical

    if method == "sklearn_plscanonical":
        model = PLSCanonical(n_components=1, scale=False)
        _, secs = _timed(lambda: model.fit(X, Y))
        return model.x_weights_[:, 0], model.y_weights_[:, 0], None, secs
    if method == "sklearn_plssvd":
        model = PLSSVD(n_components=1, scale=False)
        _, secs = _timed(lambda: model.fit(X, Y))
        return model.x_weights_[:, 0], model.y_weights_[:, 0], None, secs
    n, p = X.shape
    q = Y.shape[1]
    if method == "wspls":
        ks = {"k_u": 50, "k_v": 5, "k_w": max(1, n // 2)}
    else:
        ks = {"k_u": p, "k_v": q, "k_w": n}
    res, secs = _timed(lambda: _wspls_call(X, Y, ks, seed, dense=method == "wspls_dense"))
    return res[0], res[1], res[2], secs


def _wspls_call(X, Y, ks, seed, dense):
    """stmin wsPLS (ℓ∞ sample weights) on the already centred views; ``dense``: w ≡ 1, full k."""
    from stmin.sparse._pls import wspls

    if dense:
        res = wspls(X, Y, update_weights=False, center=False, random_state=seed)
        return res.u[:, 0], res.v[:, 0], None
    res = wspls(X, Y, ks["k_u"], ks["k_v"], ks["k_w"], center=False, random_state=seed)
    return res.u[:, 0], res.v[:, 0], res.W[:, 0]


def task_wspls_her2st(args, store: Records, command: str) -> None:
    methods = [m for m in METHODS["wspls_her2st"] if m in args.methods]
    for section in HER2_SECTIONS:
        name = f"wspls_her2st:{section}"
        if all((name, m, s) in store.done for m in methods for s in args.seeds):
            continue
        adata = sm.datasets.her2st(section, path=args.data_dir)
        Y, feat_names = _he_view(adata, section)
        adata = _log_hvg(adata, 1000)
        X = adata.X.toarray().astype(np.float64)
        X -= X.mean(0)
        Y = (Y - Y.mean(0)) / np.where(Y.std(0) > 0, Y.std(0), 1.0)
        store.note(
            name,
            {"data": f"HER2+ ST section {section}", "spots": adata.n_obs, "genes": adata.n_vars,
             "view2": f"{Y.shape[1]} H&E statistics (sm.pp.he_features, encoder='stats')"},
        )  # fmt: skip
        for m in methods:
            _wspls_fit(m, X[:60], Y[:60], 0)
        for seed in args.seeds:
            for m in methods:
                if (name, m, seed) in store.done:
                    continue
                u, v, w, secs = _wspls_fit(m, X, Y, seed)
                xs, ys = X @ u, Y @ v
                sel = np.ones(X.shape[0], bool) if w is None else w > 0
                rec = {
                    "dataset": name, "method": m, "seed": seed, "time_s": secs,
                    "cov": float(xs @ ys / X.shape[0]),
                    "corr": float(np.corrcoef(xs, ys)[0, 1]),
                    "cov_selected": float(xs[sel] @ ys[sel] / sel.sum()),
                    "corr_selected": float(np.corrcoef(xs[sel], ys[sel])[0, 1]),
                    "genes_selected": int(np.count_nonzero(u)),
                    "features_selected": int(np.count_nonzero(v)),
                    "spots_selected": int(sel.sum()), "n_spots": int(X.shape[0]),
                    "top_features": [feat_names[i] for i in np.argsort(-np.abs(v))[:3]],
                    "command": command,
                }  # fmt: skip
                store.add(rec)
                print(f"{name} {m} s{seed}: {secs:.3f}s cov {rec['cov']:.3f}", flush=True)


# ----------------------------------------------------------------------------------------------
# (d) network_logreg on pancreas cell types


def _logreg_fit(method: str, Xtr, ytr, lam: float, net):
    from sklearn.linear_model import LogisticRegression

    n = Xtr.shape[0]
    if method.startswith("sklearn"):
        solver = method.rsplit("_", 1)[1]
        kw = {"intercept_scaling": 100.0} if solver == "liblinear" else {}
        model = LogisticRegression(C=1.0 / (n * lam), l1_ratio=1.0, solver=solver, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, secs = _timed(lambda: model.fit(Xtr, ytr))
        return model.coef_.ravel(), float(model.intercept_[0]), secs
    penalty = "abs_network" if method == "netlr_abs" else "lasso"
    res, secs = _timed(lambda: sm.sparse.network_logreg(Xtr, ytr, net, penalty=penalty, lam=lam))
    return res.coef, res.intercept, secs


def task_logreg_pancreas(args, store: Records, command: str) -> None:
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    parts = [sm.datasets.scrna_clustering(f"baron_mouse{i}", path=args.data_dir) for i in (1, 2)]
    adata = ad.concat(parts, label="batch", keys=["mouse1", "mouse2"], index_unique="-")
    adata = _log_hvg(adata, 1000)
    X = adata.X.toarray().astype(np.float64)
    labels = adata.obs["cell_type"].astype(str).to_numpy()
    store.note(
        "logreg_pancreas",
        {"data": "Baron 2016 mouse pancreas 1 + 2", "cells": adata.n_obs, "genes": adata.n_vars,
         "types": {t: int((labels == t).sum()) for t in LOGREG_TYPES}},
    )  # fmt: skip
    methods = [m for m in METHODS["logreg_pancreas"] if m in args.methods]
    for cell_type in LOGREG_TYPES:
        name = f"logreg_pancreas:{cell_type}"
        y = (labels == cell_type).astype(int)
        for seed in args.seeds:
            if all((name, m, seed) in store.done for m in methods):
                continue
            tr, te = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y,
                                      random_state=seed)  # fmt: skip
            mu, sd = X[tr].mean(0), X[tr].std(0)
            sd[sd < 1e-12] = 1.0
            Xtr, Xte = (X[tr] - mu) / sd, (X[te] - mu) / sd
            lam = 0.05 * sm.sparse._logreg.lambda_max(Xtr, y[tr])
            net, net_secs = _timed(lambda x=Xtr: sm.sparse.network_from_correlation(x, 10))
            if seed == args.seeds[0] and cell_type == LOGREG_TYPES[0]:
                for m in methods:
                    _logreg_fit(m, Xtr[:300], y[tr][:300], lam, net)
            for m in methods:
                if (name, m, seed) in store.done:
                    continue
                coef, b, secs = _logreg_fit(m, Xtr, y[tr], lam, net)
                auc = roc_auc_score(y[te], Xte @ coef + b)
                lin = Xtr @ coef + b
                obj = float(np.mean(np.logaddexp(0, lin) - y[tr] * lin) + lam * np.abs(coef).sum())
                rec = {
                    "dataset": name, "method": m, "seed": seed, "time_s": secs,
                    "auc_test": float(auc), "n_selected": int(np.count_nonzero(coef)),
                    "lasso_objective": obj, "lam": lam, "n_train": len(tr),
                    "network_s": net_secs if m == "netlr_abs" else None, "command": command,
                }  # fmt: skip
                store.add(rec)
                print(f"{name} {m} s{seed}: {secs:.3f}s AUC {auc:.3f}", flush=True)


# ----------------------------------------------------------------------------------------------
# (e) SVD family on DLPFC


def _explained(X: np.ndarray, U: np.ndarray, d: np.ndarray, V: np.ndarray) -> float:
    resid = X - (U * d) @ V.T
    return float(1.0 - np.sum(resid**2) / np.sum(X**2))


def _gene_groups(X: np.ndarray, n_groups: int, seed: int) -> np.ndarray:
    """Co-expression groups: k-means (``n_groups``) on the genes' standardised profiles."""
    from sklearn.cluster import KMeans

    Z = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)
    return KMeans(n_groups, n_init=3, random_state=seed).fit_predict(Z.T)


def _svd_fit(method: str, X: np.ndarray, rank: int, seed: int, groups=None):
    """Return (U n×r, d r, V p×r, seconds)."""
    if method == "numpy_svd":
        (U, d, Vt), secs = _timed(lambda: np.linalg.svd(X, full_matrices=False))
        return U[:, :rank], d[:rank], Vt[:rank].T, secs
    if method == "scipy_svds":
        from scipy.sparse.linalg import svds

        v0 = np.random.default_rng(seed).standard_normal(min(X.shape))
        (U, d, Vt), secs = _timed(lambda: svds(X, k=rank, v0=v0))
        order = np.argsort(-d)
        return U[:, order], d[order], Vt[order].T, secs
    if method == "sklearn_tsvd":
        from sklearn.decomposition import TruncatedSVD

        model = TruncatedSVD(rank, random_state=seed)
        scores, secs = _timed(lambda: model.fit_transform(X))
        d = model.singular_values_
        return scores / d, d, model.components_.T, secs
    return _sparse_svd_call(method, X, rank, seed, groups)


def _sparse_svd_call(method, X, rank, seed, groups):
    from stmin.sparse._svd import group_sparse_svd, sparse_svd

    if method == "sparse_svd":
        fit = lambda: sparse_svd(X, rank, k_var=200, random_state=seed)  # noqa: E731
    elif method == "sparse_svd_dense":
        fit = lambda: sparse_svd(X, rank, random_state=seed)  # noqa: E731
    else:
        members = [np.flatnonzero(groups == g) for g in np.unique(groups)]
        fit = lambda: group_sparse_svd(X, members, 10, "gl0", rank, random_state=seed)  # noqa: E731
    res, secs = _timed(fit)
    return res.U, res.d, res.V, secs


def task_svd_dlpfc(args, store: Records, command: str) -> None:
    adata = sm.datasets.dlpfc("151673", path=args.data_dir)
    adata = _log_hvg(adata, 2000)
    X = adata.X.toarray().astype(np.float64)
    X -= X.mean(0)
    groups = _gene_groups(X, 100, 0)
    store.note(
        "svd_dlpfc",
        {"data": "DLPFC 151673 (Visium), centred log1p", "spots": adata.n_obs,
         "genes": adata.n_vars, "rank": 5, "genes_per_component": 200,
         "groups": "100 k-means gene groups (seed 0) on standardised profiles; 10 kept"},
    )  # fmt: skip
    methods = [m for m in METHODS["svd_dlpfc"] if m in args.methods]
    for m in methods:
        _svd_fit(m, X[:200, :300], 2, 0, groups[:300])
    for seed in args.seeds:
        for m in methods:
            if ("svd_dlpfc", m, seed) in store.done:
                continue
            U, d, V, secs = _svd_fit(m, X, 5, seed, groups)
            ev = [_explained(X, U[:, :r], d[:r], V[:, :r]) for r in range(1, 6)]
            rec = {
                "dataset": "svd_dlpfc", "method": m, "seed": seed, "time_s": secs,
                "explained": ev[-1], "explained_by_rank": ev,
                "genes_selected": int(np.count_nonzero(np.any(V != 0, axis=1))),
                "command": command,
            }  # fmt: skip
            store.add(rec)
            print(f"svd_dlpfc {m} s{seed}: {secs:.3f}s EV {ev[-1]:.4f}", flush=True)


# ----------------------------------------------------------------------------------------------
# report


def _ratio_cell(ok: pd.DataFrame, dataset_prefix: str, method: str) -> str:
    ref = COUNTERPART.get(method)
    if ref is None:
        return "–"
    g = ok[ok["dataset"].str.startswith(dataset_prefix)]
    ours = g[g["method"] == method].groupby("dataset")["time_s"].median()
    theirs = g[g["method"] == ref].groupby("dataset")["time_s"].median()
    both = ours.index.intersection(theirs.index)
    if both.empty:
        return "–"
    ratio = float(np.exp(np.mean(np.log(ours[both] / theirs[both]))))
    verdict = "yes" if ratio <= 2.0 else "**no**"
    return f"{ratio:.2f}× {NAMES[ref].split(' (')[0]} ({verdict})"


def _summary(ok: pd.DataFrame) -> list[str]:
    """One line per stmin method: median time against its counterpart's, same data, same run."""
    lines = ["## Summary: time per fit against the standard counterpart", ""]
    for task, methods in METHODS.items():
        g = ok[ok["dataset"].str.split(":").str[0] == task]
        for m in methods:
            ref = COUNTERPART.get(m)
            if ref is None or g[g["method"] == m].empty or g[g["method"] == ref].empty:
                continue
            ours = g.loc[g["method"] == m, "time_s"].median()
            theirs = g.loc[g["method"] == ref, "time_s"].median()
            lines.append(
                f"- `{task}` {NAMES[m]}: {ours:.3f} s vs {NAMES[ref]} {theirs:.3f} s (median "
                f"over runs); ratio {_ratio_cell(ok, task, m)}"
            )
    return [*lines, ""]


def _table(ok: pd.DataFrame, task: str, columns: dict[str, tuple[str, int]]) -> list[str]:
    g = ok[ok["dataset"].str.split(":").str[0] == task]
    if g.empty:
        return ["(no runs)", ""]
    head = [
        "method",
        "time per fit (s)",
        *[c[0] for c in columns.values()],
        "time vs counterpart (≤ 2×?)",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in METHODS[task]:
        r = g[g["method"] == m]
        if r.empty:
            continue
        cells = [NAMES[m], fmt(r["time_s"], 3)]
        cells += [fmt(r[col], digits) if col in r else "–" for col, (_, digits) in columns.items()]
        cells.append(_ratio_cell(ok, task, m))
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def write_report(store: Records, out: Path, csv: Path) -> None:
    df = pd.DataFrame(store.records)
    if df.empty:
        out.write_text("# Sparse family benchmark\n\n(no runs yet)\n")
        return
    ok = df[df["error"].isna()] if "error" in df else df
    flat = ok.drop(columns=[c for c in ("explained_by_rank", "top_features") if c in ok])
    flat.to_csv(csv, index=False)
    commands = list(dict.fromkeys(df["command"].dropna()))
    notes = store.notes
    lines = [
        "# Sparse family: stmin methods against their standard counterparts",
        "",
        "- commands (in this order; later ones add to the raw records): "
        + "; ".join(f"`{c}`" for c in commands),
        f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"- machine: {_machine()}; os.cpu_count() = {os.cpu_count()}; all fits in one process, "
        f"one after the other, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
        f"MKL_NUM_THREADS={os.environ.get('MKL_NUM_THREADS')}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')} (other jobs shared the "
        "machine, so absolute times are those of a busy 2-core box; ratios come from the same "
        "run)",
        f"- versions: {_versions()}",
        "- time per fit = the fitting call only, mean ± sd over seeds; the last column is the "
        "geometric mean over data sets of (median stmin time / median counterpart time), with "
        '"yes" when it is at most 2',
        "",
    ]
    lines += _summary(ok)
    lines += ["## Data", ""]
    for name, note in notes.items():
        lines.append(f"- `{name}`: " + ", ".join(f"{k} = {v}" for k, v in note.items()))
    lines.append("")

    lines += ["## (a) NMF family, Baron mouse pancreas 1 (clusters = argmax of H)", ""]
    lines += _table(ok, "nmf_pancreas", {"nmi": ("NMI", 3), "ari": ("ARI", 3),
                                          "rel_err": ("rel. error", 4), "n_iter": ("iterations", 0)})  # fmt: skip
    lines += ["## (b) GNMF, DLPFC 151673", ""]
    lines += _table(ok, "gnmf_dlpfc", {"ari_layers": ("ARI vs layers", 3),
                                        "layer_corr": ("layer specificity (mean best r)", 3),
                                        "moran_i": ("Moran's I (mean)", 3),
                                        "rel_err": ("rel. error", 4)})  # fmt: skip
    lines += ["## (c) wsPLS, HER2+ expression × H&E image statistics (6 sections)", ""]
    lines += [
        "Covariance/correlation of the first pair of scores `Xu`, `Yv` over all spots and over "
        "the spots wsPLS selects (`w > 0`; all spots for the others). Mean ± sd over the "
        "sections × seeds.",
        "",
    ]
    lines += _table(ok, "wspls_her2st", {"cov": ("cov (all)", 3), "corr": ("corr (all)", 3),
                                          "cov_selected": ("cov (selected)", 3),
                                          "corr_selected": ("corr (selected)", 3),
                                          "genes_selected": ("genes", 0),
                                          "features_selected": ("features", 0),
                                          "spots_selected": ("spots", 0)})  # fmt: skip
    lines += ["## (d) network_logreg, pancreas cell type vs rest (held-out 30 %)", ""]
    lines += [
        "Mean ± sd over the 5 cell types × seeds. `λ = 0.05 λ_max` of each training set, "
        "scikit-learn at `C = 1/(n λ)` (the same objective as stmin's lasso); the network "
        "(10-NN |correlation|) build time is not in the fit time (see `network_s` in the raw "
        "records). saga ran with scikit-learn's defaults (`max_iter=100`) and stopped before "
        "convergence (ConvergenceWarning), hence its larger objective; liblinear is the "
        "counterpart for the time ratio.",
        "",
    ]
    lines += _table(ok, "logreg_pancreas", {"auc_test": ("held-out AUC", 3),
                                             "n_selected": ("genes selected", 1),
                                             "lasso_objective": ("lasso objective", 5)})  # fmt: skip
    lines += ["## (e) SVD family, DLPFC 151673 (rank 5)", ""]
    lines += _table(ok, "svd_dlpfc", {"explained": ("explained variance (rank 5)", 4),
                                       "genes_selected": ("genes used", 0)})  # fmt: skip
    lines += failed_runs(df.to_dict("records"))
    out.write_text("\n".join(lines))


def main() -> None:
    args = parse_args(__doc__, TASKS, ALL_METHODS)
    command = command_line("sparse_methods.py")
    raw_dir = args.results / "sparse"
    store = Records.open(raw_dir, "sparse", args.fresh)
    report, csv = args.results / "sparse.md", raw_dir / "sparse_summary.csv"
    tasks = {
        "nmf_pancreas": task_nmf_pancreas,
        "gnmf_dlpfc": task_gnmf_dlpfc,
        "wspls_her2st": task_wspls_her2st,
        "logreg_pancreas": task_logreg_pancreas,
        "svd_dlpfc": task_svd_dlpfc,
    }
    for task in args.datasets:
        try:
            tasks[task](args, store, command)
        except Exception as exc:  # record and go on with the next task
            store.add({"dataset": task, "method": "(task)", "seed": -1,
                       "error": f"{type(exc).__name__}: {exc}"[:300], "command": command})  # fmt: skip
            print(f"{task} failed: {exc!r}", flush=True)
        write_report(store, report, csv)
    write_report(store, report, csv)
    print(json.dumps({"report": str(report)}))


if __name__ == "__main__":
    main()
