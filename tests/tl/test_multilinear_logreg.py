import anndata as ad
import numpy as np
import pytest

import stmin as sm
from stmin.sparse._mslr import multilinear_logreg as mslr_core


def _adata(n_obs=150, n_rings=4, n_vars=12, seed=0):
    g = np.random.default_rng(seed)
    T = g.standard_normal((n_obs, n_rings, n_vars))
    w_ring = np.array([1.0, 0.6, 0.0, 0.0])
    w_gene = np.zeros(n_vars)
    w_gene[[2, 7]] = [1.5, -1.0]
    s = np.einsum("mij,i,j->m", T, w_ring, w_gene)
    adata = ad.AnnData(np.abs(T[:, 0, :]))
    adata.obs_names = [f"s{i}" for i in range(n_obs)]
    adata.var_names = [f"g{i}" for i in range(n_vars)]
    adata.obs["label"] = np.where(s + 0.3 * g.standard_normal(n_obs) > 0, "b_tumour", "a_normal")
    adata.obsm["rings"] = T
    return adata


def test_writes_keys_and_gene_mode(tmp_path):
    adata = _adata()
    sm.tl.multilinear_logreg(
        adata, "label", "rings", n_nonzero=(2, 2), mode_names=["ring", "gene"], max_iter=2000
    )
    rec = adata.uns["multilinear_logreg"]
    assert set(rec["w"]) == {"ring", "gene"}
    assert np.count_nonzero(rec["w"]["ring"]) <= 2
    coef = adata.var["multilinear_logreg_coef"]
    np.testing.assert_array_equal(coef.to_numpy(), rec["w"]["gene"])
    assert set(np.flatnonzero(coef.to_numpy())) == {2, 7}
    proba = adata.obs["multilinear_logreg_proba"].to_numpy()
    assert ((proba >= 0) & (proba <= 1)).all()
    assert np.mean((proba > 0.5) == (adata.obs["label"] == "b_tumour")) > 0.85
    assert rec["classes"] == ["a_normal", "b_tumour"] and rec["gene_mode"] == 1
    assert np.all(np.diff(rec["objective"]) <= 1e-12)
    core = mslr_core(adata.obsm["rings"], adata.obs["label"].to_numpy(), (2, 2), max_iter=2000)
    np.testing.assert_allclose(proba, core.proba)
    adata.write_h5ad(tmp_path / "mslr.h5ad")


def test_no_gene_mode_and_copy():
    adata = _adata()
    adata.obsm["t"] = adata.obsm["rings"][:, :3, :4]
    out = sm.tl.multilinear_logreg(adata, "label", "t", key_added="m", max_iter=200, copy=True)
    assert "m_coef" not in out.var and "m" not in adata.uns
    assert out.uns["m"]["gene_mode"] == -1
    assert set(out.uns["m"]["w"]) == {"mode0", "mode1"}


def test_errors():
    adata = _adata(n_obs=40)
    with pytest.raises(KeyError, match="missing"):
        sm.tl.multilinear_logreg(adata, "missing", "rings")
    with pytest.raises(KeyError, match="nope"):
        sm.tl.multilinear_logreg(adata, "label", "nope")
    adata.obs["one"] = "x"
    with pytest.raises(ValueError, match="two classes"):
        sm.tl.multilinear_logreg(adata, "one", "rings")
    with pytest.raises(ValueError, match="mode_names"):
        sm.tl.multilinear_logreg(adata, "label", "rings", mode_names=["a"])
    with pytest.raises(ValueError, match="n_vars"):
        sm.tl.multilinear_logreg(adata, "label", "rings", gene_mode=0)
    with pytest.raises(ValueError, match="n_nonzero"):
        sm.tl.multilinear_logreg(adata, "label", "rings", n_nonzero=(5, 2))
