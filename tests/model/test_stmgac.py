import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scvi
import torch

import stmin as sm

FAST = {"accelerator": "cpu", "enable_progress_bar": False}


@pytest.fixture
def prepared(small_section):
    sm.pp.spatial_graph(small_section, n_neighs=12)
    sm.pp.stmgac_preprocess(small_section, n_comps=30)
    return small_section


def _trained(adata, seed=0, epochs=2, **kwargs):
    scvi.settings.seed = seed
    sm.model.STMGAC.setup_anndata(adata)
    model = sm.model.STMGAC(adata, n_clusters=5, t_step=1, **kwargs)
    model.train(max_epochs=epochs, **FAST)
    return model


def test_train_and_getters(prepared):
    model = _trained(prepared, epochs=3)
    assert model.is_trained
    z = model.get_latent_representation()
    assert z.shape == (prepared.n_obs, 16) and np.isfinite(z).all()
    recon = model.get_reconstruction()
    assert recon.shape == prepared.obsm["X_stmgac_input"].shape
    labels = model.predict_domains()
    assert isinstance(labels, pd.Categorical) and len(labels) == prepared.n_obs
    assert len(labels.categories) <= 5
    raw = model.predict_domains(n_clusters=3, refine=None, method="kmeans")
    assert len(raw.categories) == 3
    hist = model.history
    for key in ("train_loss", "sce_loss_train", "latent_loss_train", "triplet_loss_train"):
        assert key in hist and len(hist[key]) == 3
    # the triplet term is active: anchors were mined
    assert float(hist["triplet_loss_train"].iloc[-1, 0]) > 0


def test_losses_decrease_on_real_section(prepared):
    model = _trained(prepared, epochs=40)
    loss = model.history["train_loss"].to_numpy().ravel()
    assert loss[-5:].mean() < loss[:5].mean()


def test_teacher_is_ema_of_student(prepared):
    scvi.settings.seed = 0
    sm.model.STMGAC.setup_anndata(prepared)
    model = sm.model.STMGAC(prepared, n_clusters=5)
    init = {k: p.detach().clone() for k, p in model.module.encoder.named_parameters()}
    model.train(max_epochs=1, **FAST)
    student = dict(model.module.encoder.named_parameters())
    teacher = dict(model.module.teacher.named_parameters())
    assert all(not p.requires_grad for p in teacher.values())
    for k, p0 in init.items():
        expected = 0.998 * p0 + 0.002 * student[k].detach()
        torch.testing.assert_close(teacher[k].detach(), expected)
    assert any(not torch.equal(student[k].detach(), init[k]) for k in init)


def test_two_seeded_runs_identical(prepared):
    z1 = _trained(prepared, seed=3).get_latent_representation()
    z2 = _trained(prepared, seed=3).get_latent_representation()
    np.testing.assert_array_equal(z1, z2)
    z3 = _trained(prepared, seed=4).get_latent_representation()
    assert not np.array_equal(z1, z3)


def test_save_load_round_trip(prepared, tmp_path):
    model = _trained(prepared)
    z = model.get_latent_representation()
    model.save(tmp_path / "stmgac", overwrite=True)
    loaded = sm.model.STMGAC.load(tmp_path / "stmgac", adata=prepared)
    np.testing.assert_array_equal(loaded.get_latent_representation(), z)
    assert loaded.module.n_clusters == 5


def test_double_normalisation_option(prepared):
    model = _trained(prepared, gcn_norm="double")
    assert np.isfinite(model.get_latent_representation()).all()


def test_new_adata_uses_its_own_graph(prepared):
    model = _trained(prepared)
    sub = prepared[: prepared.n_obs // 2].copy()
    sm.pp.spatial_graph(sub, n_neighs=12)
    z = model.get_latent_representation(sub)
    assert z.shape == (sub.n_obs, 16)


def test_gradient_reaches_every_trainable_parameter(prepared):
    sm.model.STMGAC.setup_anndata(prepared)
    model = sm.model.STMGAC(prepared, n_clusters=5)
    module = model.module.train()
    x = torch.tensor(prepared.obsm["X_stmgac_input"])
    inf = module.inference(x)
    gen = module.generative(inf["z"], inf["masked"], inf["kept"])
    module.loss({}, inf, gen, epoch=0).loss.backward()
    for name, p in module.named_parameters():
        if p.requires_grad and not name.endswith("running_mean"):
            assert p.grad is not None, name


def test_setup_errors(prepared):
    with pytest.raises(KeyError, match="stmgac_preprocess"):
        sm.model.STMGAC.setup_anndata(ad.AnnData(prepared.X.copy()))
    with pytest.raises(KeyError, match="obsm\\['X_nope'\\]"):
        sm.model.STMGAC.setup_anndata(prepared, use_rep="X_nope")
    with pytest.raises(KeyError, match="layers\\['nope'\\]"):
        sm.model.STMGAC.setup_anndata(prepared, use_rep=None, layer="nope")
    with pytest.raises(KeyError, match="spatial_graph"):
        sm.model.STMGAC.setup_anndata(prepared, connectivity_key="knn_connectivities")
    nan = prepared.copy()
    nan.obsm["X_stmgac_input"][0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sm.model.STMGAC.setup_anndata(nan)
    with pytest.raises(ValueError, match="view"):
        sm.model.STMGAC.setup_anndata(prepared[:100])
    sm.model.STMGAC.setup_anndata(prepared)
    with pytest.raises(ValueError, match="n_clusters"):
        sm.model.STMGAC(prepared, n_clusters=1)
    with pytest.raises(ValueError, match="n_clusters"):
        sm.model.STMGAC(prepared, n_clusters=prepared.n_obs + 1)
    with pytest.raises(ValueError, match="mask_rate"):
        sm.model.STMGAC(prepared, n_clusters=5, mask_rate=1.0)
    with pytest.raises(ValueError, match="gcn_norm"):
        sm.model.STMGAC(prepared, n_clusters=5, gcn_norm="triple")
    model = sm.model.STMGAC(prepared, n_clusters=5)
    with pytest.raises(ValueError, match="max_epochs"):
        model.train(max_epochs=0)


def test_module_orders_rows_by_index_and_scores_in_eval_mode(prepared):
    model = _trained(prepared)
    module = model.module.eval()
    x = torch.tensor(prepared.obsm["X_stmgac_input"])
    perm = torch.randperm(x.shape[0])
    with torch.no_grad():
        z = module.inference(x)["z"]
        z_perm = module.inference(x[perm], indices=perm.float().unsqueeze(1))["z"]
        torch.testing.assert_close(z_perm, z)
        _, _, out = module({"X": x, "ind_x": torch.arange(x.shape[0]).float().unsqueeze(1)})
    assert torch.isfinite(out.loss) and out.n_obs_minibatch == x.shape[0]
    with pytest.raises(ValueError, match="whole graph"):
        module.inference(x[:10])
