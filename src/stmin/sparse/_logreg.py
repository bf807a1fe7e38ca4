"""Network-regularised sparse logistic regression (AbsNet.LR; Min, Liu & Zhang 2016/2018).

The objective, with ``w`` the gene coefficients and ``b`` the (unpenalised) intercept, is

``F(w, b) = −(1/n) Σ_i [y_i η_i − log(1 + e^{η_i})] + λ‖w‖₁ + η·P(w)``,  ``η_i = x_iᵀw + b``,

with ``P(w) = 0`` (``"lasso"``), ``‖w‖²`` (``"elastic_net"``, ``M = I``), ``wᵀLw``
(``"network"``) or ``|w|ᵀL|w|`` (``"abs_network"``) for the Laplacian ``L`` of a gene network.
For a Laplacian, ``|w|ᵀL|w| = ½ Σ_jk A_jk (|w_j| − |w_k|)²``: linked genes are pulled towards equal
*magnitudes* whatever their signs, so the penalty is invariant to flipping a gene's sign.

Algorithm: an IRLS outer loop. At ``(w, b)`` the loss is replaced by the quadratic
``(1/2n) Σ_i D_ii (z_i − η_i)²`` with ``D_ii = max(p_i(1 − p_i), 1e-5)`` (``irls="exact"``) or the
curvature bound ``D = I/4`` (``irls="bound"``, a majorize-minimize step: the objective never
increases), and ``z_i = η_i + (y_i − p_i)/D_ii``. One unpenalised step on ``b`` and one cyclic
coordinate-descent sweep over the genes (:func:`~stmin.sparse._cd.cd_sweep`, closed-form
``w_j = S(r_j, λ + 2η Σ_{k≠j} M_jk |w_k|) / (B_jj + 2η M_jj)`` for the absolute penalty) follow.
The loop stops when the relative objective change falls below ``tol`` after more than three
iterations.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from .._validate import check_bool, check_choice, check_int, check_number
from ._cd import cd_sweep, coupling_vector, penalty_value, screen_coordinates
from ._checks import check_labels, check_matrix
from ._graph import check_graph, laplacian

Penalty = Literal["abs_network", "network", "elastic_net", "lasso"]
PENALTIES: tuple[str, ...] = ("abs_network", "network", "elastic_net", "lasso")
_MIN_WEIGHT = 1e-5


class NetworkLogRegResult(NamedTuple):
    """Output of :func:`network_logreg`.

    Attributes
    ----------
    coef
        Gene coefficients ``w`` (length ``p``).
    intercept
        The intercept ``b``.
    objective
        ``F`` at the start (``w = 0``, optimal ``b``) and after every outer iteration.
    n_iter
        Outer (IRLS) iterations run.
    converged
        Whether the relative objective change fell below ``tol``.
    lam, eta
        The penalty weights used (after defaults were filled in).
    classes
        ``(negative, positive)`` label values; ``y == classes[1]`` is the modelled event.
    """

    coef: np.ndarray
    intercept: float
    objective: list[float]
    n_iter: int
    converged: bool
    lam: float
    eta: float
    classes: tuple


def lambda_max(X, y) -> float:
    """The smallest ``λ`` at which ``w = 0`` solves every penalty variant: ``‖Xᵀ(y − ȳ)‖_∞ / n``."""
    X = check_matrix(X, "X")
    y01, _ = _labels(y, X.shape[0])
    resid = y01 - y01.mean()
    grad = X.T @ resid
    return float(np.max(np.abs(grad)) / X.shape[0])


def _labels(y, n: int) -> tuple[np.ndarray, tuple]:
    y = check_labels(y, n)
    if y.dtype.kind in "fc" and not np.isfinite(y).all():
        raise ValueError("`y` contains NaN or infinite values; drop those samples first.")
    classes = np.unique(y)
    return (y == classes[1]).astype(np.float64), (classes[0].item(), classes[1].item())


def _coupling_matrix(network, penalty: str, p: int, laplacian_kind: str | None):
    """The matrix ``M`` of the penalty ``η·P(w)`` (``None`` for the lasso)."""
    if penalty == "lasso":
        return None
    if penalty == "elastic_net":
        return sp.identity(p, format="csr", dtype=np.float64)
    if network is None:
        raise ValueError(
            f"penalty={penalty!r} needs a gene network: pass `network=` (a p × p adjacency), "
            "e.g. from `stmin.sparse.network_from_correlation(X)`."
        )
    if laplacian_kind is None:
        M = sp.csr_matrix(network, dtype=np.float64)
        if M.shape != (p, p):
            raise ValueError(f"`network` must be {p} × {p} (one row per gene), got {M.shape}.")
        if not np.isfinite(M.data).all():
            raise ValueError("`network` contains NaN or infinite values.")
        if abs(M - M.T).max() > 1e-10 * max(1.0, abs(M).max()):
            raise ValueError("`network` (used as M with laplacian=None) must be symmetric.")
        return M
    adj = check_graph(network, p, "network")
    return sp.csr_matrix(laplacian(adj, normalized=laplacian_kind == "normalized"))


def _loss(lin: np.ndarray, y01: np.ndarray) -> float:
    return float(np.mean(np.logaddexp(0.0, lin) - y01 * lin))


def _linear(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    nz = np.flatnonzero(w)
    if nz.size == 0:
        return np.full(X.shape[0], b)
    return X[:, nz] @ w[nz] + b


def network_logreg(
    X,
    y,
    network=None,
    *,
    penalty: Penalty = "abs_network",
    lam: float | None = None,
    eta: float | None = None,
    laplacian: Literal["normalized", "combinatorial"] | None = "normalized",
    irls: Literal["exact", "bound"] = "exact",
    max_iter: int = 100,
    tol: float = 1e-5,
    screen: bool = True,
) -> NetworkLogRegResult:
    """Sparse logistic regression with a (signed or absolute) network penalty.

    Minimises ``−(1/n) Σ_i loglik_i + lam·‖w‖₁ + eta·P(w)`` (see the module docstring) by IRLS
    with one cyclic coordinate-descent sweep per outer step; the intercept is not penalised.

    Parameters
    ----------
    X
        ``n × p`` design (samples × genes), dense or sparse (densified); standardise the columns
        beforehand if the penalty should treat genes alike.
    y
        ``n`` labels with exactly two distinct values; the larger one (``np.unique`` order) is
        the positive class.
    network
        ``p × p`` gene adjacency (non-negative, symmetrised) for ``"network"`` and
        ``"abs_network"``; turned into a Laplacian (see ``laplacian``). Ignored by the others.
    penalty
        ``"abs_network"`` (``|w|ᵀL|w|``), ``"network"`` (``wᵀLw``), ``"elastic_net"``
        (``‖w‖²``) or ``"lasso"`` (none).
    lam
        L1 weight ``λ``; default ``0.05·λ_max`` (:func:`lambda_max`, the smallest ``λ`` that
        selects nothing).
    eta
        Weight ``η`` of the quadratic/network term; default ``lam / 2`` (glmnet ``α = 0.5``).
        Must be 0 or ``None`` for the lasso. scikit-learn's
        ``LogisticRegression(C=C, l1_ratio=ρ)`` minimises ``C·Σ loss + ρ‖w‖₁ + (1−ρ)/2 ‖w‖²``,
        i.e. ``lam = ρ/(nC)`` and ``eta = (1−ρ)/(2nC)`` with ``penalty="elastic_net"``; glmnet's
        ``(λ₀, α)`` gives ``lam = αλ₀``, ``eta = (1−α)λ₀/2``.
    laplacian
        ``"normalized"`` (``I − D^{-1/2}AD^{-1/2}``), ``"combinatorial"`` (``D − A``), or
        ``None`` to use ``network`` itself as the symmetric matrix ``M``.
    irls
        ``"exact"`` weights ``p(1 − p)`` (Newton-like; an outer step that would raise the
        objective is redone with the bound weights) or ``"bound"`` (``1/4``; monotone MM).
    max_iter
        Maximum number of outer iterations.
    tol
        Stop when ``|ΔF| ≤ tol·|F|`` after more than three iterations.
    screen
        Visit, in each sweep, only the non-zero coordinates and the zero ones whose update at
        the start of the sweep would move them (the others would stay at 0).

    Returns
    -------
    :class:`NetworkLogRegResult` with ``coef``, ``intercept``, ``objective``, ``n_iter``,
    ``converged``, ``lam``, ``eta`` and ``classes``.
    """
    check_choice(penalty, "penalty", PENALTIES)
    check_choice(irls, "irls", ("exact", "bound"))
    check_choice(laplacian, "laplacian", ("normalized", "combinatorial", None))
    check_int(max_iter, "max_iter", min_value=1)
    check_number(tol, "tol", min_value=0, min_inclusive=False)
    check_bool(screen, "screen")
    if lam is not None:
        check_number(lam, "lam", min_value=0)
    if eta is not None:
        check_number(eta, "eta", min_value=0)
    X = check_matrix(X, "X")
    X = X.toarray() if sp.issparse(X) else X
    X = np.asfortranarray(X, dtype=np.float64)
    n, p = X.shape
    y01, classes = _labels(y, n)
    ybar = y01.mean()
    if lam is None:
        lam = 0.05 * float(np.max(np.abs(X.T @ (y01 - ybar))) / n)
    lam = float(lam)
    if penalty == "lasso":
        if eta not in (None, 0, 0.0):
            raise ValueError("`eta` is not used by penalty='lasso'; leave it None.")
        eta = 0.0
    elif eta is None:
        eta = lam / 2.0
    eta = float(eta)
    M = _coupling_matrix(network, penalty, p, laplacian)
    absolute = penalty == "abs_network"

    w = np.zeros(p)
    b = float(np.log(ybar / (1.0 - ybar)))
    lin = np.full(n, b)
    mv = coupling_vector(w, M, absolute)
    diag = M.diagonal() if M is not None else np.zeros(p)

    def objective(lin_, w_) -> float:
        return _loss(lin_, y01) + penalty_value(w_, lam, M, eta, absolute)

    def outer_step(w_, b_, lin_, mv_, bound: bool):
        prob = expit(lin_)
        d = np.full(n, 0.25) if bound else np.maximum(prob * (1.0 - prob), _MIN_WEIGHT)
        sd = np.sqrt(d / n)
        e = (y01 - prob) / np.sqrt(d * n)  # sqrt(D/n) ⊙ (z − η)
        db = float(sd @ e) / float(sd @ sd)  # exact, unpenalised intercept step
        b_ += db
        e -= sd * db
        if screen:
            r = X.T @ (sd * e)
            coords = screen_coordinates(r, w_, lam, mv_, diag, eta, absolute)
        else:
            coords = np.arange(p)
        if coords.size:
            A = np.asfortranarray(X[:, coords] * sd[:, None])
            cd_sweep(w_, lam, design=(A, e), coords=coords, M=M, eta=eta, absolute=absolute, mv=mv_)
        return w_, b_, _linear(X, w_, b_)

    history = [objective(lin, w)]
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        w_old, b_old, mv_old = w.copy(), b, mv.copy()
        w, b, lin = outer_step(w, b, lin, mv, bound=irls == "bound")
        f_new = objective(lin, w)
        if irls == "exact" and f_new > history[-1]:
            w, mv = w_old, mv_old
            w, b, lin = outer_step(w, b_old, _linear(X, w, b_old), mv, bound=True)
            f_new = objective(lin, w)
        f_old = history[-1]
        history.append(f_new)
        if n_iter > 3 and abs(f_old - f_new) <= tol * max(abs(f_old), 1e-300):
            converged = True
            break
    return NetworkLogRegResult(
        coef=w,
        intercept=float(b),
        objective=history,
        n_iter=n_iter,
        converged=converged,
        lam=lam,
        eta=eta,
        classes=classes,
    )


def network_from_correlation(
    X, n_neighbors: int = 10, *, absolute: bool = True, chunk_size: int = 1024
) -> sp.csr_matrix:
    """A k-nearest-neighbour gene network from Pearson correlations across samples.

    Each gene is linked to the ``n_neighbors`` genes with the largest ``|corr|``
    (``absolute=True``) or the largest positive correlation (``absolute=False``); the edge
    weight is ``|corr|`` (resp. ``max(corr, 0)``), and the graph is symmetrised by the maximum.

    Parameters
    ----------
    X
        ``n × p`` matrix (samples × genes), dense or sparse.
    n_neighbors
        Neighbours per gene, ``1 ≤ n_neighbors < p``.
    absolute
        Link strongly anti-correlated genes too (natural for ``penalty="abs_network"``).
    chunk_size
        Genes per block of the ``p × p`` correlation matrix held in memory.

    Returns
    -------
    Symmetric ``p × p`` CSR adjacency with zero diagonal (e.g. for ``adata.varp``).
    """
    X = check_matrix(X, "X")
    n, p = X.shape
    check_bool(absolute, "absolute")
    check_int(chunk_size, "chunk_size", min_value=1)
    if p < 2:
        raise ValueError(f"`X` has {p} gene; a gene network needs at least 2.")
    check_int(n_neighbors, "n_neighbors", min_value=1, max_value=p - 1)
    mean = np.asarray(X.mean(axis=0)).ravel()
    if sp.issparse(X):
        sq = np.asarray(X.multiply(X).mean(axis=0)).ravel()
    else:
        sq = np.einsum("ij,ij->j", X, X) / n
    std = np.sqrt(np.maximum(sq - mean**2, 0.0))
    inv = np.divide(1.0, std, out=np.zeros(p), where=std > 1e-12)
    Z = None if sp.issparse(X) else (X - mean) * inv
    rows, cols, vals = [], [], []
    for start in range(0, p, chunk_size):
        stop = min(start + chunk_size, p)
        if Z is None:
            gram = np.asarray((X[:, start:stop].T @ X).todense()) / n
            corr = (gram - np.outer(mean[start:stop], mean)) * np.outer(inv[start:stop], inv)
        else:
            corr = Z[:, start:stop].T @ Z / n
        score = np.abs(corr) if absolute else np.maximum(corr, 0.0)
        score[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        nbr = np.argpartition(-score, n_neighbors - 1, axis=1)[:, :n_neighbors]
        weight = np.take_along_axis(score, nbr, axis=1)
        rows.append(np.repeat(np.arange(start, stop), n_neighbors))
        cols.append(nbr.ravel())
        vals.append(np.clip(weight.ravel(), 0.0, 1.0))
    adj = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(p, p)
    )
    adj = adj.maximum(adj.T).tocsr()
    adj.eliminate_zeros()
    return adj
