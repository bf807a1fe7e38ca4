"""SpaCRD: training data built from labelled sections, two-stage training, scores, save and load."""

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

import stmin as sm
from stmin._random import seeded
from stmin.model.spacrd._module import SpaCRDModule

TRAIN = {"accelerator": "cpu", "enable_progress_bar": False}
SHORT = {"max_epochs": 2, "align_epochs": 1, "batch_size": 32, **TRAIN}
CANCER = "invasive cancer"


def _sections(labelled_section, image_key=None):
    """Two labelled references and a target, synthetic (64 spots each)."""
    refs = [labelled_section(s, seed=i, image_key=image_key) for i, s in enumerate("ab")]
    return refs, labelled_section("t", seed=2, image_key=image_key)


def _trained(refs, seed=0, **kwargs):
    with seeded(seed):
        model = sm.model.SpaCRD.from_references(refs, "label", CANCER, **kwargs)
        model.train(**SHORT)
    return model


def _snapshot(adata):
    return (
        list(adata.obs.columns),
        adata.obs["label"].astype(str).tolist(),
        sorted(adata.obsm),
        sorted(adata.uns),
        list(adata.var_names),
        adata.X.toarray().copy(),
        {k: np.array(v, copy=True) for k, v in adata.obsm.items()},
    )


def _same(a, b) -> bool:
    *meta_a, x_a, obsm_a = a
    *meta_b, x_b, obsm_b = b
    return (
        meta_a == meta_b
        and np.array_equal(x_a, x_b)
        and all(np.array_equal(obsm_a[k], obsm_b[k]) for k in obsm_a)
    )


def test_from_references_builds_the_training_data(labelled_section):
    refs, _ = _sections(labelled_section)
    before = [_snapshot(r) for r in refs]
    model = sm.model.SpaCRD.from_references(refs, "label", CANCER, n_top_genes=25)
    assert all(_same(b, _snapshot(r)) for b, r in zip(before, refs, strict=True))
    train = model.adata
    assert train.n_obs == 128 and train.n_vars == 25
    assert set(train.var_names) <= set(refs[0].var_names)
    assert model.n_neighbors == 7 and model.image_key is None
    assert "expression only" in model._model_summary_string and not model.is_trained_
    # expression: log1p(1e4 · counts / library size), scaled to [0, 1] per gene and section
    x = np.asarray(train.X)
    counts = refs[0].X.toarray()
    log = np.log1p(1e4 * counts / counts.sum(1, keepdims=True))[
        :, refs[0].var_names.get_indexer(train.var_names)
    ]
    span = log.max(0) - log.min(0)
    np.testing.assert_allclose(x[:64], (log - log.min(0)) / span, atol=1e-5)
    for block in (x[:64], x[64:]):
        np.testing.assert_allclose(block.min(0), 0, atol=1e-6)
        np.testing.assert_allclose(block.max(0), 1, atol=1e-6)
    # classes: 1 cancer, 0 other, -1 excluded ("undetermined") or missing
    labels = train.obs["labels"].to_numpy()
    for i, ref in enumerate(refs):
        raw = ref.obs["label"].astype(object).to_numpy()
        expected = np.where(raw == CANCER, 1, 0)
        expected[(raw == "undetermined") | ref.obs["label"].isna().to_numpy()] = -1
        assert np.array_equal(labels[64 * i : 64 * (i + 1)], expected)
    assert (labels == -1).sum() == 6
    # each spot's set: itself first, then its six nearest spots of the same section
    sets = train.obsm["sets"]
    assert sets.shape == (128, 7)
    assert np.array_equal(sets[:, 0], np.arange(128))
    for i, ref in enumerate(refs):
        block = sets[64 * i : 64 * (i + 1)] - 64 * i
        assert ((block >= 0) & (block < 64)).all()
        dist = cdist(ref.obsm["spatial"], ref.obsm["spatial"])
        nearest = np.argsort(dist, axis=1)[:, :7]
        assert all(set(a) == set(b) for a, b in zip(block, nearest, strict=True))


def test_exclude_and_positive_lists(labelled_section):
    refs, _ = _sections(labelled_section)
    model = sm.model.SpaCRD.from_references(refs, "label", [CANCER], exclude=())
    labels = model.adata.obs["labels"].to_numpy()
    assert (labels == -1).sum() == 2  # only the missing labels are left out
    assert (labels[[0, 63]] == 0).all()  # "undetermined" now counts as not cancer
    model = sm.model.SpaCRD.from_references(refs, "label", [CANCER, "undetermined"], exclude=())
    labels = model.adata.obs["labels"].to_numpy()
    assert (labels[[0, 63]] == 1).all()  # "undetermined" now counts as cancer
    assert model.preprocessing_["positive"] == [CANCER, "undetermined"]
    assert model.preprocessing_["exclude"] == []
    model = sm.model.SpaCRD.from_references(refs, "label", CANCER, exclude="connective tissue")
    labels = model.adata.obs["labels"].to_numpy()[:64]
    other = (refs[0].obs["label"] == "connective tissue").to_numpy()
    assert (labels[other] == -1).all() and labels[0] == 0  # a single string is one label


def test_excluded_spots_are_neighbours_never_centres(labelled_section, monkeypatch):
    refs, _ = _sections(labelled_section)
    model = sm.model.SpaCRD.from_references(refs, "label", CANCER, n_top_genes=None)
    n_labelled = int((model.adata.obs["labels"] >= 0).sum())
    seen = {"centres": [], "rows": []}
    loss = SpaCRDModule.loss

    def spy(self, tensors, *args, **kwargs):
        labels = tensors["labels"].reshape(-1)
        seen["centres"].append(labels[tensors["centers"]].cpu())
        seen["rows"].append(labels.cpu())
        return loss(self, tensors, *args, **kwargs)

    monkeypatch.setattr(SpaCRDModule, "loss", spy)
    model.train(**SHORT)
    centres, rows = torch.cat(seen["centres"]), torch.cat(seen["rows"])
    assert len(centres) == 2 * n_labelled  # each labelled spot once per epoch
    assert (centres >= 0).all()
    assert (rows == -1).any()  # the excluded spots still take part as neighbours


def test_train_and_scores_expression_only(labelled_section):
    refs, target = _sections(labelled_section)
    model = _trained(refs)
    assert model.is_trained_
    history = model.history
    assert {"train_loss", "bce_train", "kl_train", "reconstruction_train"} <= set(history)
    assert len(history["train_loss"]) == 2
    assert not hasattr(model, "align_history_")  # no alignment stage without images
    score = model.get_scores(target)
    assert score.shape == (target.n_obs,) and np.isfinite(score).all()
    assert ((score >= 0) & (score <= 1)).all() and score.std() > 0
    logit = model.get_scores(target, logits=True)
    np.testing.assert_allclose(score, 1 / (1 + np.exp(-logit)), rtol=1e-5)
    fused = model.get_latent_representation(target)
    mean = model.get_latent_representation(target, representation="mean")
    assert fused.shape == (target.n_obs, 512) and mean.shape == (target.n_obs, 64)
    assert np.isfinite(fused).all() and np.isfinite(mean).all()
    # image features on the target do not matter without an image model
    target.obsm["X_img"] = np.random.default_rng(0).normal(size=(target.n_obs, 16))
    np.testing.assert_array_equal(model.get_scores(target), score)
    with pytest.raises(ValueError, match="representation"):
        model.get_latent_representation(target, representation="z")


def test_scores_are_per_spot(labelled_section):
    """A spot's score depends on its own set only: not on the batch, nor on the spot order."""
    refs, target = _sections(labelled_section)
    model = _trained(refs)
    score = model.get_scores(target)
    np.testing.assert_allclose(model.get_scores(target, batch_size=5), score, atol=1e-6)
    order = np.random.default_rng(1).permutation(target.n_obs)
    np.testing.assert_allclose(model.get_scores(target[order].copy()), score[order], atol=1e-6)
    # a target whose genes come in another order, with extra genes, gets the same scores
    wider = target[:, ::-1].copy()
    np.testing.assert_allclose(model.get_scores(wider), score, atol=1e-6)


def test_image_mode(labelled_section):
    refs, target = _sections(labelled_section, image_key="X_img")
    with seeded(0):
        model = sm.model.SpaCRD.from_references(refs, "label", CANCER, image_key="X_img")
        assert model.image_key == "X_img"
        summary = model._model_summary_string
        assert "expression and image" in summary and "16 image features" in summary
        assert model.adata.obsm["X_img"].shape == (128, 16)
        image = model.adata.obsm["X_img"]
        assert image.min() == 0 and image.max() == 1  # scaled within each section
        model.train(max_epochs=2, align_epochs=3, batch_size=32, **TRAIN)
    assert len(model.align_history_["train_loss"]) == 3  # the alignment stage
    assert "align_train" in model.align_history_
    assert len(model.history["train_loss"]) == 2  # the detection stage's own history
    score = model.get_scores(target)
    assert score.shape == (target.n_obs,) and np.isfinite(score).all()
    assert ((score >= 0) & (score <= 1)).all()
    assert model.get_latent_representation(target).shape == (target.n_obs, 512)
    # the image enters the score
    shuffled = target.copy()
    shuffled.obsm["X_img"] = np.random.default_rng(0).permutation(target.obsm["X_img"])
    assert not np.allclose(model.get_scores(shuffled), score)
    with seeded(0):
        skipped = sm.model.SpaCRD.from_references(refs, "label", CANCER, image_key="X_img")
        skipped.train(max_epochs=1, align_epochs=0, batch_size=32, **TRAIN)
    assert not hasattr(skipped, "align_history_")


def test_save_load_round_trip(labelled_section, tmp_path):
    refs, target = _sections(labelled_section, image_key="X_img")
    for adata in (*refs, target):  # non-default keys, remembered by the saved model
        adata.obsm["xy"] = adata.obsm.pop("spatial")
        adata.layers["counts"] = adata.X.copy()
        adata.X = adata.X * 0.5  # not counts: the model must read the layer
    model = _trained(refs, image_key="X_img", spatial_key="xy", layer="counts")
    score = model.get_scores(target)
    model.save(tmp_path / "spacrd")
    loaded = sm.model.SpaCRD.load(tmp_path / "spacrd")  # the training data is saved with it
    assert loaded.is_trained_ and loaded.image_key == "X_img" and loaded.n_neighbors == 7
    assert list(loaded.adata.var_names) == list(model.adata.var_names)
    np.testing.assert_array_equal(loaded.get_scores(target), score)
    np.testing.assert_array_equal(
        loaded.get_latent_representation(target), model.get_latent_representation(target)
    )


def test_layer_reads_the_same_counts_as_x(labelled_section):
    refs, target = _sections(labelled_section)
    plain = _trained(refs).get_scores(target)
    for adata in (*refs, target):
        adata.layers["counts"] = adata.X.copy()
        adata.X = adata.X * 0.5
    np.testing.assert_array_equal(_trained(refs, layer="counts").get_scores(target), plain)


def test_seeded_runs_are_equal(labelled_section):
    refs, target = _sections(labelled_section, image_key="X_img")
    runs = [_trained(refs, seed, image_key="X_img").get_scores(target) for seed in (0, 0, 1)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.allclose(runs[0], runs[2])


def test_n_neighbors_and_model_settings(labelled_section):
    refs, target = _sections(labelled_section)
    with seeded(0):
        model = sm.model.SpaCRD.from_references(
            refs, "label", CANCER, n_neighbors=3, n_hidden=32, n_embed=16, n_latent=4, n_heads=2
        )
        model.train(**SHORT)
    assert model.n_neighbors == 3 and model.adata.obsm["sets"].shape == (128, 3)
    assert "sets of 3 spots" in model._model_summary_string
    assert model.get_latent_representation(target).shape == (target.n_obs, 16)
    assert model.get_latent_representation(target, representation="mean").shape == (64, 4)
    assert model.get_scores(target).shape == (64,)


def test_real_sections(her2st_labelled):
    """Real HER2+ sections: 'undetermined' spots are left out, both label sets are read."""
    c1, d1, b1 = (her2st_labelled[s] for s in ("C1", "D1", "B1"))
    c1.obs["label"] = c1.obs["label"].astype(object)
    c1.obs.iloc[:3, c1.obs.columns.get_loc("label")] = np.nan
    before = _snapshot(d1)
    with seeded(0):
        model = sm.model.SpaCRD.from_references(
            {"C1": c1, "D1": d1}, "label", ["invasive cancer"], n_top_genes=200, genes=b1.var_names
        )
        model.train(**SHORT)
    assert _same(before, _snapshot(d1))
    assert model.adata.n_vars == 200 and set(model.adata.var_names) <= set(b1.var_names)
    labels = model.adata.obs["labels"].to_numpy()
    raw = np.r_[c1.obs["label"].astype(str), d1.obs["label"].astype(str)]
    excluded = (raw == "undetermined") | (raw == "nan")
    assert (raw == "nan").sum() == 3 and (raw == "undetermined").sum() > 50
    assert np.array_equal(labels == -1, excluded)
    assert np.array_equal(labels == 1, raw == "invasive cancer")
    score = model.get_scores(b1)
    assert score.shape == (b1.n_obs,) and np.isfinite(score).all()


def test_stacked_spots_each_head_their_own_set(labelled_section):
    """Ten spots at one position: each is still first in its set, with six other spots."""
    refs, _ = _sections(labelled_section)
    refs[0].obsm["spatial"][:10] = 0.0
    sets = sm.model.SpaCRD.from_references(refs, "label", CANCER).adata.obsm["sets"]
    assert np.array_equal(sets[:, 0], np.arange(128))
    assert all(len(set(row)) == 7 for row in sets)
    assert set(sets[:10].ravel()) <= set(range(10))  # the stacked spots are each other's nearest
