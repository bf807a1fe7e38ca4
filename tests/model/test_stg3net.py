import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import scvi
import torch
from scvi import REGISTRY_KEYS

import stmin as sm

FAST = {"accelerator": "cpu", "enable_progress_bar": False}


@pytest.fixture
def prepared(slices):
    sm.pp.stmgac_preprocess(slices, n_comps=30, key_added="stg3net_input")
    return slices


def _model(adata, seed=0, **kwargs):
    scvi.settings.seed = seed
    sm.model.STG3Net.setup_anndata(adata, batch_key="slice")
    kwargs = {"start_step": 2, "t_step": 2, **kwargs}
    return sm.model.STG3Net(adata, n_clusters=5, **kwargs)


def test_train_mines_anchors_and_getters(prepared):
    model = _model(prepared)
    model.train(max_epochs=6, **FAST)
    hist = model.history
    for key in ("sce_loss_train", "triplet_loss_train", "discriminator_loss_train"):
        assert len(hist[key]) == 6
    assert float(hist["triplet_loss_train"].iloc[0, 0]) == 0  # before start_step
    assert float(hist["triplet_loss_train"].iloc[-1, 0]) > 0
    anchors = pd.DataFrame(model.anchor_history_)
    assert anchors["epoch"].tolist() == [2, 4]
    assert (anchors["pairs"] > 0).all() and (anchors["anchors"] > 0).all()
    z = model.get_latent_representation()
    assert z.shape == (prepared.n_obs, 16) and np.isfinite(z).all()
    labels = model.get_labels()
    assert isinstance(labels, pd.Categorical) and len(labels) == prepared.n_obs


def _encoder_grads(model, adata):
    module = model.module
    module.train()
    x = torch.as_tensor(adata.obsm["X_stg3net_input"])
    batch = torch.as_tensor(adata.obs["slice"].cat.codes.to_numpy().copy()).float().reshape(-1, 1)
    torch.manual_seed(0)
    inf = module.inference(x, batch)
    out = module.loss({}, inf, module.generative(inf["z"]))
    module.zero_grad()
    out.loss.backward()
    return [p.grad.clone() for p in module.encoder.parameters()], out


@pytest.mark.parametrize("adversarial", ["grl", "none"])
def test_adversarial_gradient_reaches_encoder_reversed(prepared, adversarial):
    model = _model(prepared, loss_weights=(0.0, 0.0, 1.0), adversarial=adversarial)
    grads, _ = _encoder_grads(model, prepared)
    disc_grads = [p.grad for p in model.module.discriminator.parameters()]
    assert all(g is not None and g.abs().sum() > 0 for g in disc_grads)
    if adversarial == "none":
        assert all(g.abs().sum() == 0 for g in grads)
        return
    assert sum(float(g.abs().sum()) for g in grads) > 0
    # the encoder receives exactly minus the gradient of the discriminator's loss
    module = model.module
    x = torch.as_tensor(prepared.obsm["X_stg3net_input"])
    batch = torch.as_tensor(prepared.obs["slice"].cat.codes.to_numpy().copy()).long()
    torch.manual_seed(0)
    view_z = module.inference(x, batch.float().reshape(-1, 1))["z"]
    module.generative(view_z)  # same random draws as the full step
    ce = torch.nn.functional.cross_entropy(module.discriminator(view_z), batch)
    module.zero_grad()
    ce.backward()
    for g_adv, p in zip(grads, module.encoder.parameters(), strict=True):
        torch.testing.assert_close(g_adv, -p.grad, rtol=1e-4, atol=1e-6)


def test_discriminator_trains(prepared):
    model = _model(prepared, start_step=1000)
    model.train(max_epochs=30, **FAST)
    loss = model.history["discriminator_loss_train"].to_numpy().ravel()
    assert np.ptp(loss) > 1e-3  # the adversarial game moves


def test_seeded_runs_identical_and_save_load(prepared, tmp_path):
    a = _model(prepared, seed=3)
    a.train(max_epochs=5, **FAST)
    b = _model(prepared, seed=3)
    b.train(max_epochs=5, **FAST)
    np.testing.assert_array_equal(a.get_latent_representation(), b.get_latent_representation())
    a.save(tmp_path / "m", overwrite=True)
    c = sm.model.STG3Net.load(tmp_path / "m", adata=prepared)
    np.testing.assert_array_equal(a.get_latent_representation(), c.get_latent_representation())


def test_refine_stays_within_slice(prepared):
    model = _model(prepared)
    model.train(max_epochs=2, **FAST)
    raw = np.asarray(model.get_labels(refine=None))
    refined = np.asarray(model.get_labels(refine=6))
    codes = model.get_from_registry(prepared, REGISTRY_KEYS.BATCH_KEY).ravel()
    coords = prepared.obsm["spatial"]
    for s in np.unique(codes):
        idx = codes == s
        expected = sm.tl.refine_labels(raw[idx], coords[idx], 6)
        np.testing.assert_array_equal(refined[idx], expected)


def test_setup_errors(prepared):
    with pytest.raises(KeyError, match="batch_key"):
        sm.model.STG3Net.setup_anndata(prepared, batch_key="donor")
    one = prepared.copy()
    one.obs["slice"] = "only"
    with pytest.raises(ValueError, match="1 slice"):
        sm.model.STG3Net.setup_anndata(one, batch_key="slice")
    mixed = prepared.copy()
    sm.pp.spatial_graph(mixed, n_neighs=12)  # ignores the slices
    with pytest.raises(ValueError, match="library_key='slice'"):
        sm.model.STG3Net.setup_anndata(mixed, batch_key="slice")
    bare = prepared.copy()
    del bare.obsm["X_stg3net_input"]
    with pytest.raises(KeyError, match="stmgac_preprocess"):
        sm.model.STG3Net.setup_anndata(bare, batch_key="slice")
    empty = prepared.copy()
    empty.obsp["spatial_connectivities"] = sp.csr_matrix((empty.n_obs, empty.n_obs))
    with pytest.raises(ValueError, match="no edges"):
        sm.model.STG3Net.setup_anndata(empty, batch_key="slice")
