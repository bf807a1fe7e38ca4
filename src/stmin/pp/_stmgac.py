"""STMGAC's input pipeline (SEDR-style): counts → filtered, normalised, scaled HVGs → PCA."""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import scanpy as sc
import scipy.sparse as sp
from anndata import AnnData
from sklearn.decomposition import PCA

from .._constants import STMGAC_INPUT_STEM, embedding_key
from .._docs import d
from .._random import check_random_state
from .._settings import logger, torch_threads_kept
from .._validate import (
    check_adata,
    check_bool,
    check_choice,
    check_counts,
    check_int,
    check_key,
    check_number,
    get_layer,
    where,
)
from .._writer import call_params, write_result
from ._transform import RAW_COUNTS, zscore

InputMode = Literal["pca", "scaled"]
INPUT_MODES = get_args(InputMode)


def _check_options(
    n_top_genes, n_comps, mode, min_cells, min_counts, target_sum, log1p, random_state
):
    check_int(n_top_genes, "n_top_genes", min_value=2)
    check_int(n_comps, "n_comps", min_value=1)
    check_choice(mode, "mode", INPUT_MODES)
    check_int(min_cells, "min_cells", min_value=0)
    check_number(min_counts, "min_counts", min_value=0)
    check_number(target_sum, "target_sum", min_value=0, min_inclusive=False)
    check_bool(log1p, "log1p")
    check_random_state(random_state)


def stmgac_input(
    counts,
    *,
    n_top_genes: int = 2000,
    n_comps: int = 200,
    mode: InputMode = "pca",
    min_cells: int = 50,
    min_counts: int = 10,
    target_sum: float = 1e6,
    log1p: bool = False,
    random_state: int = 42,
) -> tuple[np.ndarray, np.ndarray]:
    """Functional core of :func:`stmgac_preprocess` on a spots × genes count matrix.

    Returns
    -------
    The model input (n_spots × d) and the boolean mask of the genes it was built from.
    """
    _check_options(
        n_top_genes, n_comps, mode, min_cells, min_counts, target_sum, log1p, random_state
    )
    counts = sp.csr_matrix(counts, dtype=np.float32)
    n_obs = counts.shape[0]
    cells_per_gene = np.asarray((counts > 0).sum(axis=0)).ravel()
    counts_per_gene = np.asarray(counts.sum(axis=0)).ravel()
    gene_ok = (cells_per_gene >= min(min_cells, n_obs)) & (counts_per_gene >= min_counts)
    if gene_ok.sum() < 2:
        raise ValueError(
            f"Only {int(gene_ok.sum())} genes are detected in ≥ {min_cells} spots with ≥ "
            f"{min_counts} counts; lower `min_cells`/`min_counts` or check the input counts."
        )
    if n_obs < 3:
        raise ValueError(f"The preprocessing needs at least 3 spots (got {n_obs}).")
    counts = counts[:, gene_ok]
    keep = np.arange(counts.shape[1])
    if n_top_genes < counts.shape[1]:
        with torch_threads_kept():
            hvg = sc.pp.highly_variable_genes(
                AnnData(counts), flavor="seurat_v3", n_top_genes=n_top_genes, inplace=False
            )["highly_variable"].to_numpy()
        keep = np.flatnonzero(hvg)
        gene_ok[np.flatnonzero(gene_ok)[~hvg]] = False
    # library sizes over all filtered genes, as normalize_total before the HVG subset
    lib = np.asarray(counts.sum(axis=1)).ravel()
    scale = np.divide(target_sum, lib, out=np.zeros_like(lib, dtype=np.float64), where=lib > 0)
    x = counts[:, keep].toarray() * scale[:, None].astype(np.float32)
    if log1p:
        np.log1p(x, out=x)
    x = zscore(x)
    if mode == "scaled":
        return x, gene_ok
    possible = max(1, min(x.shape[0] - 1, x.shape[1] - 1))
    if n_comps > possible:
        logger.info(
            f"stmgac_preprocess: `n_comps`={n_comps} is more than the {possible} components that "
            f"{x.shape[0]} spots × {x.shape[1]} genes allow; using {possible}."
        )
        n_comps = possible
    z = PCA(n_components=n_comps, random_state=random_state).fit_transform(x)
    return z.astype(np.float32), gene_ok


@d.dedent
def stmgac_preprocess(
    adata: AnnData,
    *,
    layer: str | None = None,
    n_top_genes: int = 2000,
    n_comps: int = 200,
    mode: InputMode = "pca",
    min_cells: int = 50,
    min_counts: int = 10,
    target_sum: float = 1e6,
    log1p: bool = False,
    random_state: int = 42,
    key_added: str = STMGAC_INPUT_STEM,
    copy: bool = False,
) -> AnnData | None:
    """STMGAC's preprocessing of raw counts, as the original code runs it.

    Genes detected in fewer than ``min_cells`` spots or with fewer than ``min_counts`` counts are
    dropped; counts are scaled to ``target_sum`` per spot; the ``n_top_genes`` most variable
    genes (Seurat v3 flavour, on the raw counts) are kept and z-scored; a PCA (scikit-learn,
    seeded) gives ``n_comps`` components. ``adata.X`` is left untouched.

    Parameters
    ----------
    adata
        Spots × genes AnnData with raw counts in ``.X`` or ``layers[layer]``.
    %(layer)s
    n_top_genes
        Number of highly variable genes (2,000 for DLPFC in the paper, 3,000 elsewhere); all
        filtered genes are kept when there are fewer.
    n_comps
        Number of principal components (``mode="pca"``); at most one less than the number of
        spots or of selected genes (fewer are computed, with a log message, when they are fewer).
    mode
        ``"pca"`` (the paper's clustering mode) or ``"scaled"`` (its imputation mode: the
        scaled HVG matrix itself is the model input).
    min_cells, min_counts
        Gene filters.
    target_sum
        Library size after normalisation (10⁶, as the original).
    log1p
        Log-transform after normalisation. The paper's text says log-normalisation but its code
        does not log; ``False`` reproduces the code.
    random_state
        Seed of the PCA.
    key_added
        Stem of the keys written (default ``"stmgac_input"``, read by
        :meth:`stmin.model.STMGAC.setup_anndata`).
    %(copy)s

    Returns
    -------
    %(returns_copy)s Writes ``obsm[f"X_{key_added}"]`` (float32, spots × d) and
    ``uns[key_added]`` (``params``, ``genes``: the genes the input was built from).
    """
    params = call_params(locals())
    check_adata(adata)
    _check_options(
        n_top_genes, n_comps, mode, min_cells, min_counts, target_sum, log1p, random_state
    )
    check_key(key_added)
    check_bool(copy, "copy")
    counts = get_layer(adata, layer)
    check_counts(counts, where("adata", layer), hint=RAW_COUNTS)
    x, genes = stmgac_input(
        counts,
        n_top_genes=n_top_genes,
        n_comps=n_comps,
        mode=mode,
        min_cells=min_cells,
        min_counts=min_counts,
        target_sum=target_sum,
        log1p=log1p,
        random_state=random_state,
    )
    adata = adata.copy() if copy else adata
    write_result(
        adata,
        key_added,
        params,
        obsm={embedding_key(key_added): x},
        record={"genes": adata.var_names[genes].tolist()},
    )
    return adata if copy else None
