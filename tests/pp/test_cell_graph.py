import numpy as np
import pytest
import scipy.sparse as sp

import stmin as sm
from stmin.pp import knn_graph
from stmin.pp._cell_graph import _ncos_neighbors


def test_ncos_graph_matches_brute_force():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 40))
    b = (x > 0) / np.maximum((x > 0).sum(1, keepdims=True), 1)
    sim = b @ b.T
    np.fill_diagonal(sim, -np.inf)
    found = _ncos_neighbors(x, 5)
    # the neighbours found have the 5 highest similarities (ties may be broken either way)
    chosen = np.sort(np.take_along_axis(sim, found, 1), axis=1)
    np.testing.assert_allclose(chosen, np.sort(sim, axis=1)[:, -5:])
    adj = knn_graph(x, 5, "ncos")
    assert (adj != adj.T).nnz == 0
    assert adj.diagonal().sum() == 0
    assert all(set(found[i]) <= set(adj[i].indices) for i in range(60))


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_sklearn_metrics(metric):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 8))
    adj = knn_graph(x, 4, metric)
    assert adj.shape == (50, 50) and adj.diagonal().sum() == 0
    assert np.asarray(adj.sum(1)).min() >= 4


def test_cell_graph_writes_keys_and_checks(cells):
    adata = cells
    sm.pp.cell_graph(adata, n_neighbors=8)
    assert sp.issparse(adata.obsp["cell_connectivities"])
    assert adata.uns["cell_neighbors"]["params"]["n_neighbors"] == 8
    with pytest.raises(ValueError, match="n_neighbors"):
        sm.pp.cell_graph(adata, n_neighbors=200)
    with pytest.raises(ValueError, match="metric"):
        sm.pp.cell_graph(adata, metric="manhattan")
    with pytest.raises(KeyError, match="X_pca"):
        sm.pp.cell_graph(adata, use_rep="X_pca")


def test_scasdc_preprocess_errors(cells):
    adata = cells[:100].copy()
    empty = adata.copy()
    empty.X = sp.csr_matrix(empty.shape, dtype=np.float32)
    with pytest.raises(ValueError, match="no counts"):
        sm.pp.scasdc_preprocess(empty)
    nan = adata.copy()
    nan.X = nan.X.toarray()
    nan.X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sm.pp.scasdc_preprocess(nan)
    neg = adata.copy()
    neg.X = -neg.X
    with pytest.raises(ValueError, match="negative"):
        sm.pp.scasdc_preprocess(neg)
