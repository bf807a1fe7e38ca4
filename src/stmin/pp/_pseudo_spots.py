"""Pseudo-spots: mixtures of reference cells with known cell-type proportions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from .._random import check_random_state
from .._validate import (
    check_adata,
    check_choice,
    check_counts,
    check_int,
    check_keys,
    check_number,
    get_layer,
    where,
)
from ._transform import RAW_COUNTS

MODES = ("unbalance", "sqrt", "balance")
PROPORTIONS_KEY = "proportions"


def gene_columns(var_names: pd.Index, genes) -> np.ndarray:
    """Positions of ``genes`` (a list of names, all present, none repeated) in ``var_names``."""
    genes = pd.Index(check_keys(genes, "genes"))
    if not genes.is_unique:
        raise ValueError(
            f"`genes` lists some genes twice (e.g. {genes[genes.duplicated()][:3].tolist()})."
        )
    missing = genes.difference(var_names)
    if len(missing):
        raise ValueError(
            f"{len(missing)} of `genes` are not in `adata_sc.var_names` (e.g. "
            f"{list(missing[:5])}); pass genes of the reference."
        )
    return var_names.get_indexer(genes)


def _check_draws(cells_per_spot, types_per_spot) -> None:
    """Check ``cells_per_spot`` = (mean, sd, min, max) and ``types_per_spot`` = (mean, sd)."""
    for value, name, n in (
        (cells_per_spot, "cells_per_spot", 4),
        (types_per_spot, "types_per_spot", 2),
    ):
        if isinstance(value, str) or not hasattr(value, "__len__") or len(value) != n:
            form = "(mean, sd, min, max)" if n == 4 else "(mean, sd)"
            raise ValueError(f"`{name}` must be {n} numbers {form} (got {value!r}).")
        check_number(value[0], f"{name}[0] (mean)")
        check_number(value[1], f"{name}[1] (sd)", min_value=0)
    check_int(cells_per_spot[2], "cells_per_spot[2] (min)", min_value=1)
    check_int(cells_per_spot[3], "cells_per_spot[3] (max)", min_value=1)
    if cells_per_spot[2] > cells_per_spot[3]:
        raise ValueError(f"`cells_per_spot` needs 1 ≤ min ≤ max (got {tuple(cells_per_spot)}).")


def _library_sizes(library_sizes) -> np.ndarray:
    """``library_sizes`` as a 1-D array of finite, non-negative numbers."""
    try:
        sizes = np.asarray(library_sizes, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            "`library_sizes` must be an AnnData of real spots or an array of their library "
            f"sizes (got {type(library_sizes).__name__})."
        ) from None
    if sizes.ndim != 1:
        raise ValueError(
            f"`library_sizes` must be 1-D, one library size per real spot (got shape {sizes.shape})."
        )
    if not np.isfinite(sizes).all() or (sizes < 0).any():
        raise ValueError(
            "`library_sizes` must hold finite, non-negative library sizes (total counts per spot)."
        )
    return sizes


def cell_type_labels(adata: AnnData, labels_key: str, min_cells: int = 1) -> pd.Categorical:
    """Validated cell-type labels of a reference: present, complete, ≥ 2 types of ≥ ``min_cells``."""
    if not isinstance(labels_key, str) or labels_key not in adata.obs:
        raise KeyError(
            f"`adata_sc.obs[{labels_key!r}]` not found; pass `labels_key=` naming the column of "
            f"cell-type labels (available: {list(adata.obs.columns)})."
        )
    labels = adata.obs[labels_key]
    if labels.isna().any():
        raise ValueError(
            f"`adata_sc.obs[{labels_key!r}]` has {int(labels.isna().sum())} missing labels; "
            "drop those cells first."
        )
    labels = pd.Categorical(labels.astype(str))
    labels = labels.remove_unused_categories()
    if len(labels.categories) < 2:
        raise ValueError(
            f"`adata_sc.obs[{labels_key!r}]` has a single cell type "
            f"({list(labels.categories)}); deconvolution needs at least two."
        )
    sizes = pd.Series(labels).value_counts()
    small = sizes[sizes < min_cells]
    if len(small):
        raise ValueError(
            f"Cell types of `adata_sc.obs[{labels_key!r}]` with fewer than {min_cells} cells: "
            f"{dict(small)}. Drop those cells or merge the types into a related type."
        )
    return labels


def library_size_model(library_sizes: np.ndarray) -> tuple[float, float]:
    """Log-normal fit (mean and sd of log library size) of the real spots' library sizes."""
    sizes = np.asarray(library_sizes, dtype=float)
    sizes = sizes[np.isfinite(sizes) & (sizes > 0)]
    if sizes.size < 2:
        raise ValueError(
            "`library_sizes` needs at least two spots with counts to fit their library sizes."
        )
    logs = np.log(sizes)
    return float(logs.mean()), float(logs.std())


def _downsample(counts: sp.csr_matrix, targets: np.ndarray, gen: np.random.Generator):
    """Draw ``targets[i]`` reads without replacement from row ``i`` where it has more."""
    counts = counts.tocsr(copy=True)
    totals = np.asarray(counts.sum(1)).ravel()
    for i in np.flatnonzero(targets < totals):
        start, end = counts.indptr[i], counts.indptr[i + 1]
        colors = np.rint(counts.data[start:end]).astype(np.int64)
        counts.data[start:end] = gen.multivariate_hypergeometric(
            colors, int(targets[i]), method="marginals"
        )
    counts.eliminate_zeros()
    return counts


def pseudo_spots(
    adata_sc: AnnData,
    labels_key: str,
    n_spots: int = 10_000,
    *,
    layer: str | None = None,
    genes: Sequence[str] | None = None,
    library_sizes: AnnData | np.ndarray | None = None,
    cells_per_spot: tuple[float, float, int, int] = (10, 5, 1, 20),
    types_per_spot: tuple[float, float] = (5, 2.5),
    modes: Sequence[str] = MODES,
    random_state: int | None = 0,
) -> AnnData:
    """Simulate spots by summing reference cells of known types (the Spoint/MACD simulator).

    Each pseudo-spot draws a number of cells ``⌈N(μ, σ)⌉`` clipped to ``[min, max]`` and a
    number of cell types ``⌈N(μ, σ)⌉`` clipped to ``[1, cells]``; picks its types with
    probability ∝ frequency (``"unbalance"``), ∝ √frequency (``"sqrt"``) or uniformly
    (``"balance"``), the modes sharing the spots equally; and draws its cells uniformly among
    the chosen types, then uniformly within each type. Its counts are the sum of the cells'
    counts; with ``library_sizes``, each spot is down-sampled without replacement to a library
    size drawn from a log-normal fitted to the real spots (only where that is smaller).

    Parameters
    ----------
    adata_sc
        Annotated reference: cells × genes, raw counts in ``.X`` or ``layers[layer]``.
    labels_key
        ``adata_sc.obs`` column of cell types.
    n_spots
        Number of pseudo-spots.
    layer
        Layer of ``adata_sc`` with the counts.
    genes
        Genes to keep (default: all, or those shared with ``library_sizes`` when it is an
        AnnData).
    library_sizes
        Real spots (an AnnData with raw counts, its library sizes taken over ``genes``) or their
        library sizes; ``None`` keeps the summed counts.
    cells_per_spot
        ``(mean, sd, min, max)`` of the number of cells per spot ((10, 5, 1, 20)).
    types_per_spot
        ``(mean, sd)`` of the number of cell types per spot ((5, 2.5)).
    modes
        Type-sampling modes, sharing the spots equally.
    random_state
        Seed.

    Returns
    -------
    AnnData of pseudo-spots × genes: ``.X`` counts (CSR), ``obsm["proportions"]`` (DataFrame,
    one column per cell type, in sorted order; rows sum to 1), ``obs["mode"]``,
    ``obs["n_cells"]``, and ``uns["pseudo_spots"]`` (the parameters).
    """
    check_adata(adata_sc, "adata_sc", allow_view=True, unique_vars=True)
    check_int(n_spots, "n_spots", min_value=1)
    modes = check_keys(modes, "modes")
    for mode in modes:
        check_choice(mode, "modes", MODES)
    _check_draws(cells_per_spot, types_per_spot)
    random_state = check_random_state(random_state)
    mean_c, sd_c, min_c, max_c = cells_per_spot
    labels = cell_type_labels(adata_sc, labels_key)
    counts = get_layer(adata_sc, layer, "adata_sc")
    check_counts(counts, where("adata_sc", layer), hint=RAW_COUNTS)
    var_names = adata_sc.var_names
    if genes is not None:
        genes = pd.Index(check_keys(genes, "genes"))
    targets_model = None
    if isinstance(library_sizes, AnnData):
        check_adata(library_sizes, "library_sizes", allow_view=True, unique_vars=True)
        real_counts = get_layer(library_sizes, None, "library_sizes")
        check_counts(
            real_counts,
            "`library_sizes.X`",
            integer=False,
            hint="Pass the real spots with their raw counts in `.X`.",
        )
        if genes is None:
            genes = var_names.intersection(library_sizes.var_names, sort=False)
        shared = genes.intersection(library_sizes.var_names, sort=False)
        if len(shared) == 0:
            raise ValueError(
                "The reference and `library_sizes` share no genes: check that both use the same "
                "gene identifiers in `var_names`."
            )
        real = real_counts[:, library_sizes.var_names.get_indexer(shared)]
        targets_model = library_size_model(np.asarray(real.sum(1)).ravel())
    elif library_sizes is not None:
        targets_model = library_size_model(_library_sizes(library_sizes))
    if genes is not None:
        counts = counts[:, gene_columns(var_names, genes)]
        var_names = genes

    gen = np.random.default_rng(random_state)
    types = np.asarray(labels.categories)
    codes = labels.codes
    freq = np.bincount(codes, minlength=len(types)).astype(float)
    members = [np.flatnonzero(codes == t) for t in range(len(types))]
    probs = {
        "unbalance": freq / freq.sum(),
        "sqrt": np.sqrt(freq) / np.sqrt(freq).sum(),
        "balance": np.full(len(types), 1 / len(types)),
    }
    spot_modes = np.array(modes)[np.arange(n_spots) * len(modes) // n_spots]
    n_cells = np.clip(np.ceil(gen.normal(mean_c, sd_c, n_spots)), min_c, max_c).astype(int)
    n_types = np.ceil(gen.normal(types_per_spot[0], types_per_spot[1], n_spots))
    n_types = np.clip(n_types, 1, np.minimum(n_cells, len(types))).astype(int)

    rows, cells, type_counts = [], [], np.zeros((n_spots, len(types)))
    for i in range(n_spots):
        chosen = gen.choice(len(types), n_types[i], replace=False, p=probs[spot_modes[i]])
        picks = chosen[gen.integers(0, len(chosen), n_cells[i])]
        np.add.at(type_counts[i], picks, 1)
        cells.extend(members[t][gen.integers(0, len(members[t]))] for t in picks)
        rows.extend([i] * n_cells[i])
    mix = sp.csr_matrix(
        (np.ones(len(rows)), (np.array(rows), np.array(cells))), shape=(n_spots, adata_sc.n_obs)
    )
    counts = sp.csr_matrix(counts, dtype=np.float64)
    spots = (mix @ counts).tocsr()
    if targets_model is not None:
        mu, sigma = targets_model
        spots = _downsample(spots, np.floor(gen.lognormal(mu, sigma, n_spots)), gen)

    names = [f"pseudo_{i}" for i in range(n_spots)]
    out = AnnData(
        sp.csr_matrix(spots, dtype=np.float32),
        obs=pd.DataFrame(
            {"mode": pd.Categorical(spot_modes, categories=list(modes)), "n_cells": n_cells},
            index=names,
        ),
        var=pd.DataFrame(index=pd.Index(var_names, dtype=str)),
    )
    order = np.argsort(types, kind="stable")
    out.obsm[PROPORTIONS_KEY] = pd.DataFrame(
        (type_counts / n_cells[:, None])[:, order], index=names, columns=types[order]
    )
    out.uns["pseudo_spots"] = {
        "labels_key": labels_key,
        "n_spots": int(n_spots),
        "cells_per_spot": [float(v) for v in cells_per_spot],
        "types_per_spot": [float(v) for v in types_per_spot],
        "modes": list(modes),
        "library_size_lognormal": None if targets_model is None else list(targets_model),
        "random_state": random_state,
    }
    if out.uns["pseudo_spots"]["library_size_lognormal"] is None:
        del out.uns["pseudo_spots"]["library_size_lognormal"]
    if random_state is None:
        del out.uns["pseudo_spots"]["random_state"]
    return out
