"""Bad input to the sm.tl wrappers ends in a clear error raised before any training."""

import numpy as np
import pytest

import stmin as sm
from stmin.train import TrainingMixin

TRAIN = {"enable_progress_bar": False}


@pytest.fixture(autouse=True)
def _no_training(monkeypatch):
    """Any error below must come before training: training itself fails the test."""

    def refuse(self, *args, **kwargs):
        raise AssertionError("training started before the bad input was caught")

    monkeypatch.setattr(TrainingMixin, "train", refuse)


BAD_SEEDS = ["abc", [1, 2], -1, 1.5, True]
BAD_EPOCHS = [0, -3, 1.5, True, "10"]


@pytest.mark.parametrize("seed", BAD_SEEDS)
def test_stmgac_random_state(section, seed):
    with pytest.raises(ValueError, match="random_state"):
        sm.tl.stmgac(section, n_clusters=5, random_state=seed)


@pytest.mark.parametrize("epochs", BAD_EPOCHS)
def test_stmgac_max_epochs(section, epochs):
    with pytest.raises(ValueError, match="max_epochs"):
        sm.tl.stmgac(section, n_clusters=5, max_epochs=epochs)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"cluster_method": "gmn"}, ValueError, "cluster_method"),
        ({"refine": 10_000}, ValueError, "refine"),
        ({"refine": -2}, ValueError, "refine"),
        ({"input_mode": "scaledd"}, ValueError, "input_mode"),
        ({"n_top_genes": -10}, ValueError, "n_top_genes"),
        ({"n_top_genes": 1}, ValueError, "n_top_genes"),
        ({"n_clusters": 1}, ValueError, "n_clusters"),
        ({"n_clusters": 2.5}, ValueError, "n_clusters"),
        ({"n_clusters": 10_000}, ValueError, "n_clusters"),
        ({"connectivity_key": "missing"}, KeyError, "missing"),
        ({"use_rep": "X_missing"}, KeyError, "X_missing"),
        ({"layer": "missing"}, KeyError, "missing"),
        ({"spatial_key": "nowhere"}, KeyError, "nowhere"),
        ({"accelerator": "gpuu"}, ValueError, "accelerator"),
        ({"devices": 0}, ValueError, "devices"),
        ({"model_kwargs": {"mask_rat": 0.5}}, ValueError, "mask_rat"),
        ({"model_kwargs": {"n_clusters": 3}}, ValueError, "n_clusters"),
        ({"model_kwargs": [1]}, ValueError, "model_kwargs"),
        ({"train_kwargs": {"lrr": 0.1}}, ValueError, "lrr"),
        ({"train_kwargs": {"max_epochs": 3}}, ValueError, "max_epochs"),
    ],
)
def test_stmgac_options(section, kwargs, error, match):
    args = {"n_clusters": 5, **kwargs}
    with pytest.raises(error, match=match):
        sm.tl.stmgac(section, **args)


def test_stmgac_refuses_bad_adata(section):
    with pytest.raises(TypeError, match="AnnData"):
        sm.tl.stmgac(section.X, n_clusters=5)
    with pytest.raises(ValueError, match="view"):
        sm.tl.stmgac(section[:50], n_clusters=5)
    dup = section.copy()
    dup.obs_names = ["a"] * dup.n_obs
    with pytest.raises(ValueError, match="obs_names"):
        sm.tl.stmgac(dup, n_clusters=5)
    normalised = section.copy()
    normalised.X = normalised.X * 0.5
    with pytest.raises(ValueError, match="raw counts"):
        sm.tl.stmgac(normalised, n_clusters=5)


def test_errors_leave_the_input_alone(section):
    before = (set(section.obsm), set(section.obs), set(section.uns), set(section.obsp))
    with pytest.raises(ValueError):
        sm.tl.stmgac(section, n_clusters=5, cluster_method="nope")
    assert (set(section.obsm), set(section.obs), set(section.uns), set(section.obsp)) == before


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_key": "missing"}, KeyError, "missing"),
        ({"random_state": "abc"}, ValueError, "random_state"),
        ({"max_epochs": 0}, ValueError, "max_epochs"),
        ({"cluster_method": "k-means"}, ValueError, "cluster_method"),
        ({"refine": 500}, ValueError, "refine"),
        ({"model_kwargs": {"adversarial": "gr"}}, ValueError, "adversarial"),
    ],
)
def test_stg3net_options(slices, kwargs, error, match):
    args = {"batch_key": "slice", "n_clusters": 4, **kwargs}
    with pytest.raises(error, match=match):
        sm.tl.stg3net(slices, **args)


def test_stg3net_needs_a_graph_within_slices(two_slices):
    sm.pp.spatial_graph(two_slices, n_neighs=6)  # built across the overlapping slices
    with pytest.raises(ValueError, match="different slices"):
        sm.tl.stg3net(two_slices, "slice", 4)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"random_state": -1}, ValueError, "random_state"),
        ({"n_neighbors": 0}, ValueError, "n_neighbors"),
        ({"n_neighbors": 10_000}, ValueError, "n_neighbors"),
        ({"n_top_genes": 0}, ValueError, "n_top_genes"),
        ({"pretrain_epochs": -1}, ValueError, "pretrain_epochs"),
        ({"max_epochs": 1.0}, ValueError, "max_epochs"),
        ({"layer": "counts"}, KeyError, "counts"),
        ({"model_kwargs": {"attention": "dense"}}, ValueError, "attention"),
        ({"train_kwargs": {"batch_size": 10}}, ValueError, "batch_size"),
    ],
)
def test_scasdc_options(bundled, kwargs, error, match):
    cells = bundled[:300].copy()
    args = {"n_clusters": 5, **kwargs}
    with pytest.raises(error, match=match):
        sm.tl.scasdc_cluster(cells, **args)


def test_scasdc_refuses_normalised_data(bundled):
    cells = bundled[:300].copy()
    cells.X = cells.X.astype(np.float32) / 3.0
    with pytest.raises(ValueError, match="raw counts"):
        sm.tl.scasdc_cluster(cells, n_clusters=5)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"labels_key": "typo"}, KeyError, "typo"),
        ({"random_state": 1.5}, ValueError, "random_state"),
        ({"n_spots": 0}, ValueError, "n_spots"),
        ({"n_top_markers": 0}, ValueError, "n_top_markers"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"mask_domain": "reall"}, ValueError, "mask_domain"),
        ({"adversarial": "grll"}, ValueError, "adversarial"),
        ({"layer": "counts"}, KeyError, "counts"),
        ({"reference_layer": "counts"}, KeyError, "counts"),
        ({"model_kwargs": {"n_hiden": 3}}, ValueError, "n_hiden"),
    ],
)
def test_macd_options(hippocampus, kwargs, error, match):
    ref, st = hippocampus
    args = {"labels_key": "cell_type", **kwargs}
    with pytest.raises(error, match=match):
        sm.tl.macd_deconvolve(st, ref, **args)


def test_macd_duplicate_gene_names(hippocampus):
    ref, st = hippocampus
    dup = st.copy()
    dup.var_names = [dup.var_names[0]] * 2 + list(dup.var_names[2:])
    with pytest.raises(ValueError, match="var_names_make_unique"):
        sm.tl.macd_deconvolve(dup, ref, "cell_type")
    dup_ref = ref.copy()
    dup_ref.var_names = [dup_ref.var_names[0]] * 2 + list(dup_ref.var_names[2:])
    with pytest.raises(ValueError, match="var_names_make_unique"):
        sm.tl.macd_deconvolve(st, dup_ref, "cell_type")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"method": "hist2st"}, ValueError, "method"),
        ({"top_k": 0}, ValueError, "top_k"),
        ({"distance": "cos"}, ValueError, "distance"),
        ({"random_state": "x"}, ValueError, "random_state"),
        ({"max_epochs": -1}, ValueError, "max_epochs"),
        ({"genes": ["g0", "nope"]}, ValueError, "nope"),
        ({"image_key": "X_missing"}, KeyError, "X_missing"),
        ({"array_coords_keys": ["x"]}, ValueError, "array_coords_keys"),
        ({"model_kwargs": {"n_layer": 1}}, ValueError, "n_layer"),
    ],
)
def test_predict_from_he_options(he_pair, kwargs, error, match):
    ref, query = he_pair
    with pytest.raises(error, match=match):
        sm.tl.predict_from_he(query, ref, **kwargs)


def test_predict_from_he_duplicate_gene_names(he_pair):
    ref, query = he_pair
    ref.var_names = ["g0", "g0", *ref.var_names[2:]]
    with pytest.raises(ValueError, match="var_names_make_unique"):
        sm.tl.predict_from_he(query, ref)


def test_predict_from_he_features_of_another_width(he_pair):
    ref, query = he_pair
    query.obsm["X_he_stats"] = query.obsm["X_he_stats"][:, :10]
    model = sm.model.MclSTExp.from_references([ref])
    model.is_trained_ = True  # the check comes before any embedding
    with pytest.raises(ValueError, match="trained on"):
        model.get_expression(query)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"cluster_method": "gm"}, ValueError, "cluster_method"),
        ({"refine": 10_000}, ValueError, "refine"),
        ({"random_state": -5}, ValueError, "random_state"),
        ({"use_rep": "X_none"}, KeyError, "X_none"),
        ({"n_clusters": 0}, ValueError, "n_clusters"),
    ],
)
def test_cluster_domains_options(section, kwargs, error, match):
    section.obsm["X_emb"] = np.random.default_rng(0).normal(size=(section.n_obs, 4))
    args = {"n_clusters": 3, "use_rep": "X_emb", **kwargs}
    with pytest.raises(error, match=match):
        sm.tl.cluster_domains(section, **args)


def _every_tool(section, hippocampus, he_pair):
    """One valid call per sm.tl function (none reaches training: see `_no_training`)."""
    ref_sc, st = hippocampus
    ref, query = he_pair
    section.obsm["X_emb"] = np.random.default_rng(0).normal(size=(section.n_obs, 4))
    section.obs["group"] = np.where(np.arange(section.n_obs) % 2, "a", "b")
    counts = section.copy()
    return {
        "stmgac": lambda **kw: sm.tl.stmgac(section, 5, **kw),
        "scasdc_cluster": lambda **kw: sm.tl.scasdc_cluster(section[:300].copy(), 5, **kw),
        "macd_deconvolve": lambda **kw: sm.tl.macd_deconvolve(st, ref_sc, "cell_type", **kw),
        "predict_from_he": lambda **kw: sm.tl.predict_from_he(query, ref, **kw),
        "cluster_domains": lambda **kw: sm.tl.cluster_domains(section, 3, use_rep="X_emb", **kw),
        "sparse_svd": lambda **kw: sm.tl.sparse_svd(counts, **kw),
        "sparse_nmf": lambda **kw: sm.tl.sparse_nmf(counts, 2, **kw),
        "network_logreg": lambda **kw: sm.tl.network_logreg(counts, "group", **kw),
    }


@pytest.mark.parametrize(
    "tool",
    [
        "stmgac",
        "scasdc_cluster",
        "macd_deconvolve",
        "predict_from_he",
        "cluster_domains",
        "sparse_svd",
        "sparse_nmf",
        "network_logreg",
    ],
)
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"key_added": 3}, "key_added"), ({"key_added": ""}, "key_added"), ({"copy": "yes"}, "copy")],
)
def test_every_tool_checks_key_added_and_copy(section, hippocampus, he_pair, tool, kwargs, match):
    call = _every_tool(section, hippocampus, he_pair)[tool]
    with pytest.raises(ValueError, match=match):
        call(**kwargs)


def test_macd_genes_must_be_names(hippocampus):
    ref, st = hippocampus
    with pytest.raises(ValueError, match="genes"):
        sm.tl.macd_deconvolve(st, ref, "cell_type", genes=[])
    with pytest.raises(ValueError, match="genes"):
        sm.tl.macd_deconvolve(st, ref, "cell_type", genes=[1, 2])
    with pytest.raises(ValueError, match="not in both"):
        sm.tl.macd_deconvolve(st, ref, "cell_type", genes="NOT_A_GENE")


def test_sparse_wrappers_name_their_own_arguments(section):
    with pytest.raises(ValueError, match="n_var_nonzero"):
        sm.tl.sparse_svd(section, n_var_nonzero=0)
    with pytest.raises(ValueError, match="n_obs_nonzero"):
        sm.tl.sparse_svd(section, n_obs_nonzero=section.n_obs + 1)
    with pytest.raises(ValueError, match="foo"):
        sm.tl.sparse_nmf(section, 2, foo=1)
    with pytest.raises(ValueError, match="orthogonal"):
        sm.tl.sparse_nmf(section, 2, orthogonal="yes")
    section.obs["group"] = np.where(np.arange(section.n_obs) % 2, "a", "b")
    with pytest.raises(ValueError, match="standardize"):
        sm.tl.network_logreg(section, "group", standardize="x")


def test_predict_from_he_checks_the_encoder_first(he_pair, tmp_path):
    ref, query = he_pair
    with pytest.raises(ValueError, match="no weights"):
        sm.tl.predict_from_he(query, ref, weights_path=tmp_path / "w.pt")
    with pytest.raises(FileNotFoundError, match="weights_path"):
        sm.tl.predict_from_he(query, ref, encoder="densenet121", weights_path=tmp_path / "w.pt")
    with pytest.raises(ValueError, match="image encoder"):
        sm.tl.predict_from_he(query, ref, encoder="resnet")
    with pytest.raises(ValueError, match="patch_key"):
        sm.tl.predict_from_he(query, ref, patch_key="")
