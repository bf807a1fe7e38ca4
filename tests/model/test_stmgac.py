import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scvi
import torch

import stmin as sm

FAST = {"accelerator": "cpu", "enable_progress_bar": False}


def _trained(adata, seed=0, epochs=2, **kwargs):
    scvi.settings.seed = seed
    sm.model.STMGAC.setup_anndata(adata)
    model = sm.model.STMGAC(adata, n_clusters=5, t_step=1, **kwargs)
    model.train(max_epochs=epochs, **FAST)
    return model


def test_train_and_getters(stmgac_section):
    model = _trained(stmgac_section, epochs=3)
    assert model.is_trained
    z = model.get_latent_representation()
    assert z.shape == (stmgac_section.n_obs, 16) and np.isfinite(z).all()
    recon = model.get_reconstruction()
    assert recon.shape == stmgac_section.obsm["X_stmgac_input"].shape
    labels = model.get_labels()
    assert isinstance(labels, pd.Categorical) and len(labels) == stmgac_section.n_obs
    assert len(labels.categories) <= 5
    raw = model.get_labels(n_clusters=3, refine=None, cluster_method="kmeans")
    assert len(raw.categories) == 3
    hist = model.history
    for key in ("train_loss", "sce_loss_train", "latent_loss_train", "triplet_loss_train"):
        assert key in hist and len(hist[key]) == 3
    # the triplet term is active: anchors were mined
    assert float(hist["triplet_loss_train"].iloc[-1, 0]) > 0


def test_losses_decrease_on_real_section(stmgac_section):
    model = _trained(stmgac_section, epochs=40)
    loss = model.history["train_loss"].to_numpy().ravel()
    assert loss[-5:].mean() < loss[:5].mean()


def test_teacher_is_ema_of_student(stmgac_section):
    scvi.settings.seed = 0
    sm.model.STMGAC.setup_anndata(stmgac_section)
    model = sm.model.STMGAC(stmgac_section, n_clusters=5)
    init = {k: p.detach().clone() for k, p in model.module.encoder.named_parameters()}
    model.train(max_epochs=1, **FAST)
    student = dict(model.module.encoder.named_parameters())
    teacher = dict(model.module.teacher.named_parameters())
    assert all(not p.requires_grad for p in teacher.values())
    for k, p0 in init.items():
        expected = 0.998 * p0 + 0.002 * student[k].detach()
        torch.testing.assert_close(teacher[k].detach(), expected)
    assert any(not torch.equal(student[k].detach(), init[k]) for k in init)


def test_two_seeded_runs_identical(stmgac_section):
    z1 = _trained(stmgac_section, seed=3).get_latent_representation()
    z2 = _trained(stmgac_section, seed=3).get_latent_representation()
    np.testing.assert_array_equal(z1, z2)
    z3 = _trained(stmgac_section, seed=4).get_latent_representation()
    assert not np.array_equal(z1, z3)


def test_save_load_round_trip(stmgac_section, tmp_path):
    model = _trained(stmgac_section)
    z = model.get_latent_representation()
    model.save(tmp_path / "stmgac", overwrite=True)
    loaded = sm.model.STMGAC.load(tmp_path / "stmgac", adata=stmgac_section)
    np.testing.assert_array_equal(loaded.get_latent_representation(), z)
    assert loaded.module.n_clusters == 5


def test_double_normalisation_option(stmgac_section):
    model = _trained(stmgac_section, gcn_norm="double")
    assert np.isfinite(model.get_latent_representation()).all()


def test_new_adata_uses_its_own_graph(stmgac_section):
    model = _trained(stmgac_section)
    x = stmgac_section.obsm["spatial"][:, 0]
    left = x < np.median(x)  # a spatially contiguous half
    sub = stmgac_section[left].copy()
    sm.pp.spatial_graph(sub, n_neighs=12)
    z = model.get_latent_representation(sub)
    assert z.shape == (sub.n_obs, 16)
    # spots whose neighbourhood the cut leaves alone keep their embedding; the others change
    full = model.get_latent_representation()[left]
    same = np.isclose(z, full, atol=1e-4).all(axis=1)
    assert 0.5 < same.mean() < 1.0


def test_gradient_reaches_every_trainable_parameter(stmgac_section):
    sm.model.STMGAC.setup_anndata(stmgac_section)
    model = sm.model.STMGAC(stmgac_section, n_clusters=5)
    module = model.module.train()
    x = torch.tensor(stmgac_section.obsm["X_stmgac_input"])
    inf = module.inference(x)
    gen = module.generative(inf["z"], inf["masked"], inf["kept"])
    module.loss({}, inf, gen, epoch=0).loss.backward()
    for name, p in module.named_parameters():
        if p.requires_grad and not name.endswith("running_mean"):
            assert p.grad is not None, name


def test_setup_errors(stmgac_section):
    with pytest.raises(KeyError, match="stmgac_preprocess"):
        sm.model.STMGAC.setup_anndata(ad.AnnData(stmgac_section.X.copy()))
    with pytest.raises(KeyError, match="obsm\\['X_nope'\\]"):
        sm.model.STMGAC.setup_anndata(stmgac_section, use_rep="X_nope")
    with pytest.raises(KeyError, match="layers\\['nope'\\]"):
        sm.model.STMGAC.setup_anndata(stmgac_section, use_rep=None, layer="nope")
    with pytest.raises(KeyError, match="spatial_graph"):
        sm.model.STMGAC.setup_anndata(stmgac_section, connectivity_key="knn_connectivities")
    nan = stmgac_section.copy()
    nan.obsm["X_stmgac_input"][0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sm.model.STMGAC.setup_anndata(nan)
    with pytest.raises(ValueError, match="view"):
        sm.model.STMGAC.setup_anndata(stmgac_section[:100])
    sm.model.STMGAC.setup_anndata(stmgac_section)
    with pytest.raises(ValueError, match="n_clusters"):
        sm.model.STMGAC(stmgac_section, n_clusters=1)
    with pytest.raises(ValueError, match="n_clusters"):
        sm.model.STMGAC(stmgac_section, n_clusters=stmgac_section.n_obs + 1)
    with pytest.raises(ValueError, match="mask_rate"):
        sm.model.STMGAC(stmgac_section, n_clusters=5, mask_rate=1.0)
    with pytest.raises(ValueError, match="gcn_norm"):
        sm.model.STMGAC(stmgac_section, n_clusters=5, gcn_norm="triple")
    model = sm.model.STMGAC(stmgac_section, n_clusters=5)
    with pytest.raises(ValueError, match="max_epochs"):
        model.train(max_epochs=0)


def test_module_takes_the_whole_graph_in_adata_order_and_scores_in_eval_mode(stmgac_section):
    model = _trained(stmgac_section)
    module = model.module.eval()
    x = torch.tensor(stmgac_section.obsm["X_stmgac_input"])
    with torch.no_grad():
        z = module.inference(x)["z"]
        # rows arrive in adata order: row i of the batch is node i of the graph
        np.testing.assert_allclose(z.numpy(), model.get_latent_representation(), atol=1e-6)
        _, _, out = module({"X": x})
    # evaluation scores every node (no masking)
    assert torch.isfinite(out.loss) and out.n_obs_minibatch == x.shape[0]
    assert out.reconstruction_loss["reconstruction_loss"].shape == (x.shape[0],)
    with pytest.raises(ValueError, match="whole graph"):
        module.inference(x[:10])
    with pytest.raises(ValueError, match="whole graph"):
        module({"X": x[:-1]})
