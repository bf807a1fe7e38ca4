import numpy as np
import pandas as pd
import pytest
import scvi
import torch

import stmin as sm

FAST = {"accelerator": "cpu", "enable_progress_bar": False}
SMALL = {"n_hidden": (32, 32, 64)}


@pytest.fixture(scope="module")
def _baron(shared_data):
    """Real cells: the first 300 cells of Baron mouse 2, 1,000 most variable genes kept later."""
    return sm.datasets.scrna_clustering("baron_mouse2", path=shared_data)[:300].copy()


@pytest.fixture
def baron(_baron):
    return _baron.copy()


@pytest.fixture
def prepared(baron):
    sm.pp.scasdc_preprocess(baron, n_top_genes=500)
    return baron


def _trained(adata, seed=0, epochs=2, **kwargs):
    scvi.settings.seed = seed
    sm.model.ScASDC.setup_anndata(adata)
    model = sm.model.ScASDC(adata, n_clusters=6, **{**SMALL, **kwargs})
    model.train(max_epochs=epochs, pretrain_epochs=2, **FAST)
    return model


def test_preprocess_keys(prepared):
    assert prepared.n_vars == 500
    assert prepared.obsp["cell_connectivities"].shape == (300, 300)
    assert (prepared.obs["size_factors"] > 0).all()
    assert prepared.var["highly_variable"].all()


def test_train_getters_and_history(prepared):
    model = _trained(prepared, epochs=3)
    z = model.get_latent_representation()
    assert z.shape == (300, 10) and np.isfinite(z).all()
    proba = model.get_labels(soft=True)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    labels = model.get_labels()
    assert isinstance(labels, pd.Categorical) and len(labels.categories) == 6
    assert len(model.history["train_loss"]) == 3
    assert "zinb_loss_train" in model.pretrain_history_
    for key in ("kl_loss_train", "kl_gcn_loss_train", "graph_kl_loss_train", "zinb_loss_train"):
        assert key in model.history


def test_every_loss_term_reaches_the_weights(prepared):
    sm.model.ScASDC.setup_anndata(prepared)
    model = sm.model.ScASDC(prepared, n_clusters=6, **SMALL)
    module = model.module
    module.centers.data.normal_()
    counts, sf = model._features(), model._size_factors()
    inference = module.inference(counts, sf)
    generative = module.generative(**{k: inference[k] for k in ("x", "z", "h2", "d1", "d3")})
    loss = module.loss({}, inference, generative)
    for name, param in (
        ("kl_loss", module.centers),
        ("kl_gcn_loss", module.gcn5.linear.weight),
        ("graph_kl_loss", module.gcn9.linear.weight),
        ("zinb_loss", module.zinb.dropout.weight),
    ):
        term = _term(module, name, inference, generative)
        (grad,) = torch.autograd.grad(term, param, retain_graph=True)
        assert grad.abs().sum() > 0, name
    assert torch.isfinite(loss.loss)


def _term(module, name, inference, generative):
    """Recompute one loss term with its graph (extra_metrics are detached)."""
    weights = {"kl_loss": 0, "kl_gcn_loss": 1, "graph_kl_loss": 2, "zinb_loss": 4}
    saved = (module.w_kl, module.w_kl_gcn, module.w_graph, module.w_graph_mse, module.w_zinb)
    only = [0.0] * 5
    only[weights[name]] = 1.0
    module.w_kl, module.w_kl_gcn, module.w_graph, module.w_graph_mse, module.w_zinb = only
    try:
        total = module.loss({}, inference, generative).loss
        # the feature MSE (weight 1) is always in: remove it for terms that do not involve it
        return total - torch.nn.functional.mse_loss(generative["x_hat"], inference["x"])
    finally:
        module.w_kl, module.w_kl_gcn, module.w_graph, module.w_graph_mse, module.w_zinb = saved


def test_full_and_graph_attention_both_run(prepared):
    full = _trained(prepared.copy(), attention="full", wide_heads=True)
    graph = _trained(prepared.copy(), attention="graph", wide_heads=True)
    assert full.get_labels().shape == (300,)
    proba = full.get_labels(soft=True)
    assert np.isfinite(proba).all() and np.allclose(proba.sum(1), 1, atol=1e-5)
    # same seed and weights at the start: only the attention's reach differs, and it matters
    assert not np.allclose(proba, graph.get_labels(soft=True), atol=1e-4)


def test_seeded_runs_are_equal(prepared):
    a = _trained(prepared.copy(), seed=3).get_latent_representation()
    b = _trained(prepared.copy(), seed=3).get_latent_representation()
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_save_load_round_trip(prepared, tmp_path):
    model = _trained(prepared)
    model.save(tmp_path / "m", overwrite=True)
    loaded = sm.model.ScASDC.load(tmp_path / "m", adata=prepared)
    np.testing.assert_allclose(
        loaded.get_latent_representation(), model.get_latent_representation(), atol=1e-5
    )
    assert (loaded.get_labels() == model.get_labels()).all()


def test_setup_errors(baron):
    with pytest.raises(KeyError, match="cell_connectivities"):
        sm.model.ScASDC.setup_anndata(baron)
    norm = baron.copy()
    norm.X = norm.X.multiply(1.0 / (np.asarray(norm.X.sum(1)) + 1)).tocsr()
    with pytest.raises(ValueError, match="raw counts"):
        sm.model.ScASDC.setup_anndata(norm)
    with pytest.raises(KeyError, match="layers"):
        sm.model.ScASDC.setup_anndata(baron, layer="counts")


def test_model_argument_errors(prepared):
    sm.model.ScASDC.setup_anndata(prepared)
    with pytest.raises(ValueError, match="n_clusters"):
        sm.model.ScASDC(prepared, n_clusters=301)
    with pytest.raises(ValueError, match="n_hidden"):
        sm.model.ScASDC(prepared, n_clusters=3, n_hidden=(10, 10))
    with pytest.raises(ValueError, match="attention"):
        sm.model.ScASDC(prepared, n_clusters=3, attention="dense")


def test_pretraining_avoids_a_last_batch_of_one(baron):
    cells = baron[:257].copy()  # 257 = 256 + 1
    sm.pp.scasdc_preprocess(cells, n_top_genes=200)
    sm.model.ScASDC.setup_anndata(cells)
    model = sm.model.ScASDC(cells, n_clusters=3, **SMALL)
    model.train(max_epochs=1, pretrain_epochs=1, **FAST)
    assert model.is_trained
