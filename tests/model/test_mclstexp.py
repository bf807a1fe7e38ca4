import numpy as np
import pandas as pd
import pytest
import scvi
import torch

import stmin as sm
from stmin.model.mclstexp import expression_transform
from stmin.model.mclstexp._model import retrieve
from stmin.nn._projection import clip_loss

TRAIN = {"accelerator": "cpu", "enable_progress_bar": False}


def _reference(he_section, encoder="stats"):
    adata = he_section("ref", n_side=6)
    sm.pp.he_patches(adata, size=16)
    sm.pp.he_features(adata, encoder)
    return adata


def test_expression_transform():
    counts = torch.tensor([[1.0, 3.0, 0.0], [0.0, 0.0, 0.0]])
    out = expression_transform(counts)
    assert torch.allclose(out[0], torch.log10(1 + torch.tensor([2500.0, 7500.0, 0.0])))
    assert torch.equal(out[1], torch.zeros(3))  # a spot without panel counts


def test_clip_loss_gradient_reaches_both_sides():
    a = torch.randn(8, 4, requires_grad=True)
    b = torch.randn(8, 4, requires_grad=True)
    loss = clip_loss(a, b).mean()
    loss.backward()
    assert a.grad.abs().sum() > 0 and b.grad.abs().sum() > 0
    aligned = clip_loss(10 * torch.eye(8), 10 * torch.eye(8)).mean()
    assert aligned < loss


def test_retrieve_top1_returns_the_nearest_value():
    keys = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    values = torch.tensor([[1.0], [2.0], [3.0]])
    queries = torch.tensor([[0.1, 2.0], [-3.0, 0.2]])
    assert torch.equal(retrieve(queries, keys, values, 1), torch.tensor([[2.0], [3.0]]))
    both = retrieve(torch.tensor([[1.0, 1.0]]), keys, values, 2)  # equidistant: the mean
    assert torch.allclose(both, torch.tensor([[1.5]]))


def test_train_predict_save_load(he_section, tmp_path):
    ref = _reference(he_section)
    query = he_section("query", n_side=4, seed=1)
    sm.pp.he_patches(query, size=16)
    sm.pp.he_features(query)
    sm.model.MclSTExp.setup_anndata(ref, image_key="X_he_stats")
    scvi.settings.seed = 0
    model = sm.model.MclSTExp(ref, n_layers=1, n_latent=16)
    model.train(max_epochs=30, batch_size=16, lr=1e-3, **TRAIN)
    loss = model.history["train_loss"].iloc[:, 0].to_numpy()
    assert loss[-5:].mean() < loss[:5].mean()  # the contrastive loss trains
    assert model.get_latent_representation(modality="spot").shape == (ref.n_obs, 16)
    assert model.get_latent_representation(query, modality="image").shape == (query.n_obs, 16)
    pred = model.get_expression(query, top_k=5)
    assert isinstance(pred, pd.DataFrame)
    assert list(pred.index) == list(query.obs_names) and list(pred.columns) == list(ref.var_names)
    model.save(tmp_path / "m", overwrite=True)
    loaded = sm.model.MclSTExp.load(tmp_path / "m", adata=ref)
    pd.testing.assert_frame_equal(loaded.get_expression(query, top_k=5), pred)


def test_seeded_runs_are_equal(he_section):
    ref = _reference(he_section)
    sm.model.MclSTExp.setup_anndata(ref, image_key="X_he_stats")
    preds = []
    for _ in range(2):
        scvi.settings.seed = 3
        model = sm.model.MclSTExp(ref, n_layers=1, n_latent=8)
        model.train(max_epochs=2, batch_size=16, **TRAIN)
        preds.append(model.get_latent_representation(modality="image"))
    assert np.array_equal(*preds)


def test_end_to_end_patches_train_the_encoder(he_section):
    ref = he_section("ref", n_side=4)
    sm.pp.he_patches(ref, size=16)
    torch.manual_seed(0)
    encoder = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()
    )
    encoder.out_dim = 4
    sm.model.MclSTExp.setup_anndata(ref, image_key="he_patches")
    model = sm.model.MclSTExp(ref, n_layers=1, n_latent=8, encoder=encoder)
    before = model.module.image_encoder[0].weight.detach().clone()
    model.train(max_epochs=2, batch_size=8, lr=1e-2, **TRAIN)
    assert not torch.equal(before, model.module.image_encoder[0].weight.detach().cpu())
    assert model.get_expression(ref, top_k=3).shape == (ref.n_obs, ref.n_vars)


def test_setup_errors(he_section):
    ref = _reference(he_section)
    with pytest.raises(KeyError, match="he_features"):
        sm.model.MclSTExp.setup_anndata(ref, image_key="X_uni")
    bad = ref.copy()
    bad.obsm["X_he_stats"][0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sm.model.MclSTExp.setup_anndata(bad)
    bad = ref.copy()
    bad.X = bad.X * 0.5
    with pytest.raises(ValueError, match="raw counts"):
        sm.model.MclSTExp.setup_anndata(bad)
    bad = ref.copy()
    bad.X = bad.X * 0
    with pytest.raises(ValueError, match="no counts"):
        sm.model.MclSTExp.setup_anndata(bad)
    bad = ref.copy()
    del bad.obs["array_x"]
    with pytest.raises(KeyError, match="array_coords_keys"):
        sm.model.MclSTExp.setup_anndata(bad)
    bad = ref.copy()
    bad.obs["array_x"] = bad.obs["array_x"] - 0.5
    with pytest.raises(ValueError, match="integer grid positions"):
        sm.model.MclSTExp.setup_anndata(bad)


def test_predict_errors(he_section):
    ref = _reference(he_section)
    sm.model.MclSTExp.setup_anndata(ref)
    model = sm.model.MclSTExp(ref, n_layers=0, position=False, n_latent=8)
    model.train(max_epochs=1, batch_size=16, **TRAIN)
    query = ref.copy()
    query.obsm["X_he_stats"] = query.obsm["X_he_stats"][:, :5]
    with pytest.raises(ValueError, match="same encoder"):
        model.get_expression(query)
    with pytest.raises(ValueError, match="top_k"):
        model.get_expression(ref, top_k=0)
    with pytest.raises(ValueError, match="distance"):
        model.get_expression(ref, distance="cosine")
