import numpy as np
import pandas as pd
import pytest
import scvi
import torch

import stmin as sm

FAST = {"enable_progress_bar": False}
# domain codes of the categorical registered by `MACD.from_reference` (["simulated", "real"])
SIMULATED, REAL = 0, 1


@pytest.fixture(scope="module")
def trained(_hippocampus):
    ref, st = _hippocampus
    scvi.settings.seed = 0
    model = sm.model.MACD.from_reference(
        st, ref, "cell_type", n_spots=600, n_hidden=64, n_latent=32
    )
    model.train(max_epochs=4, batch_size=256, **FAST)
    return model


def test_marker_genes_follow_the_rule(hippocampus, caplog):
    ref, st = hippocampus
    shared = ref.var_names.intersection(st.var_names)
    markers = sm.pp.marker_genes(ref, "cell_type", genes=shared, n_top=5, min_markers=0)
    assert 0 < len(markers) <= 5 * ref.obs["cell_type"].nunique()
    assert set(markers) <= set(shared)
    # the thresholds only remove genes: a looser rule keeps a superset
    looser = sm.pp.marker_genes(ref, "cell_type", genes=shared, n_top=50, min_markers=0)
    assert set(markers) <= set(looser)
    with caplog.at_level("WARNING", logger="stmin"):
        relaxed = sm.pp.marker_genes(ref, "cell_type", genes=shared, n_top=5, min_markers=10_000)
    assert "fold change" in caplog.text
    assert set(markers) <= set(relaxed)


def test_from_reference_builds_both_domains(trained, hippocampus):
    ref, st = hippocampus
    data = trained.adata
    assert (data.obs["domain"] == "simulated").sum() == 600
    assert (data.obs["domain"] == "real").sum() == st.n_obs
    assert list(data.obs["domain"].cat.categories) == ["simulated", "real"]
    assert trained.module.simulated_code == SIMULATED
    types = sorted(ref.obs["cell_type"].astype(str).unique())
    assert trained.cell_types == types
    assert set(data.var_names) <= set(ref.var_names) & set(st.var_names)
    real = data.obs["domain"] == "real"
    x_real = data[real.to_numpy()].X.toarray()
    assert np.array_equal(x_real, st[data.obs["spot"][real], data.var_names].X.toarray())


def test_proportions_of_real_spots(trained, hippocampus):
    _, st = hippocampus
    props = trained.get_proportions()
    assert list(props.index) == list(st.obs_names)
    assert list(props.columns) == trained.cell_types
    assert np.allclose(props.sum(1), 1) and (props.to_numpy() >= 0).all()
    again = trained.get_proportions(st)
    assert np.allclose(props.to_numpy(), again.to_numpy(), atol=1e-6)
    assert trained.get_latent_representation().shape == (st.n_obs, 32)
    for key in ("prediction_train", "reconstruction_train", "discriminator_train"):
        assert np.isfinite(trained.history[key].to_numpy(dtype=float)).all()


def _batch(model, n=64):
    data = model.adata
    rows = np.r_[0:n, data.n_obs - n : data.n_obs]
    x = torch.as_tensor(data.X[rows].toarray())
    domain = torch.as_tensor(
        np.where(data.obs["domain"].to_numpy()[rows] == "real", REAL, SIMULATED)
    )
    return x, domain


@pytest.mark.parametrize("adversarial", ["grl", "released"])
def test_domain_heads_reach_the_encoder_only_when_they_work(trained, adversarial):
    module = sm.model.MACDModule(
        trained.module.encoder[0].in_features,
        len(trained.cell_types),
        n_hidden=32,
        n_latent=16,
        adversarial=adversarial,
    )
    x, domain = _batch(trained)
    losses = module.alignment_loss(x, domain)
    (losses["discriminator"] + losses["classifier"]).backward()
    grad = module.encoder[0].weight.grad
    if adversarial == "grl":
        assert grad is not None and grad.abs().sum() > 0
        assert module.discriminator[-1].weight.grad.abs().sum() > 0
    else:  # the released heads end in LayerNorm over one unit: constant output, no gradient
        assert grad is None or grad.abs().sum() == 0


def test_gradient_reversal_flips_the_encoder_gradient(trained):
    torch.manual_seed(0)
    module = sm.model.MACDModule(trained.module.encoder[0].in_features, 3, n_hidden=32, n_latent=16)
    x, domain = _batch(trained)
    h = module.encoder(module.features(x))
    target = torch.where(domain == SIMULATED, 0.995, 0.005)
    bio = h[:, module.n_split :]

    def encoder_grad(z):
        module.zero_grad()
        logits = module.discriminator(z).squeeze(-1)
        torch.nn.functional.binary_cross_entropy_with_logits(logits, target).backward(
            retain_graph=True
        )
        return module.encoder[0].weight.grad.clone()

    reversed_grad = encoder_grad(sm.nn.reverse_gradient(bio))
    plain_grad = encoder_grad(bio)
    assert torch.allclose(reversed_grad, -plain_grad, atol=1e-6)


def test_domain_loss_changes_while_training(hippocampus):
    ref, st = hippocampus
    scvi.settings.seed = 1
    model = sm.model.MACD.from_reference(
        st, ref, "cell_type", n_spots=400, n_hidden=64, n_latent=32
    )
    before = [p.detach().clone() for p in model.module.discriminator.parameters()]
    model.train(max_epochs=6, batch_size=128, **FAST)
    curve = model.history["discriminator_train"].to_numpy(dtype=float).ravel()
    assert np.ptp(curve) > 1e-3
    after = list(model.module.discriminator.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))


def test_masking_hits_the_chosen_domain(trained):
    x, domain = _batch(trained)
    for mask_domain, masked in (("real", REAL), ("simulated", SIMULATED)):
        module = sm.model.MACDModule(
            x.shape[1], 3, n_hidden=16, n_latent=8, mask_domain=mask_domain
        )
        calls: list[int] = []
        module.decoder.register_forward_hook(
            lambda m, inp, out, calls=calls: calls.append(inp[0].shape[0])
        )
        module.alignment_loss(x, domain)
        assert calls == [int((domain == masked).sum())]
    features = module.features(x)
    dropped = (module.mask(features) == 0) & (features != 0)
    assert 0.2 < dropped.sum() / (features != 0).sum() < 0.4


def test_save_and_load(trained, tmp_path):
    trained.save(tmp_path / "macd", save_anndata=True)
    loaded = sm.model.MACD.load(tmp_path / "macd")
    assert np.allclose(loaded.get_proportions(), trained.get_proportions(), atol=1e-6)


def test_setup_anndata_errors(trained):
    data = trained.adata.copy()
    with pytest.raises(KeyError, match="nope"):
        sm.model.MACD.setup_anndata(data, domain_key="nope")
    bad = data.copy()
    bad.obs["domain"] = bad.obs["domain"].astype(str).replace("real", "spatial")
    with pytest.raises(ValueError, match="spatial"):
        sm.model.MACD.setup_anndata(bad)
    bad = data.copy()
    bad.obsm["proportions"] = bad.obsm["proportions"] * 2
    with pytest.raises(ValueError, match="sum to 1"):
        sm.model.MACD.setup_anndata(bad)
    with pytest.raises(ValueError, match="mask_domain"):
        sm.model.MACD(trained.adata, mask_domain="both")


def test_new_spots_need_the_model_genes(trained, hippocampus):
    _, st = hippocampus
    with pytest.raises(ValueError, match="lacks"):
        trained.get_proportions(st[:, st.var_names[:5]].copy())
    pd.testing.assert_index_equal(trained.get_proportions(st[:10]).index, st.obs_names[:10])
