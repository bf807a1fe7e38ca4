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


def _every_tool(section, hippocampus, he_pair, labelled_section):
    """One valid call per sm.tl function (none reaches training: see `_no_training`)."""
    ref_sc, st = hippocampus
    ref, query = he_pair
    labelled = [labelled_section(s, seed=i) for i, s in enumerate(("a", "b", "t"))]
    section.obsm["X_emb"] = np.random.default_rng(0).normal(size=(section.n_obs, 4))
    section.obs["group"] = np.where(np.arange(section.n_obs) % 2, "a", "b")
    counts = section.copy()
    return {
        "stmgac": lambda **kw: sm.tl.stmgac(section, 5, **kw),
        "scasdc_cluster": lambda **kw: sm.tl.scasdc_cluster(section[:300].copy(), 5, **kw),
        "macd_deconvolve": lambda **kw: sm.tl.macd_deconvolve(st, ref_sc, "cell_type", **kw),
        "predict_from_he": lambda **kw: sm.tl.predict_from_he(query, ref, **kw),
        "detect_cancer_regions": lambda **kw: sm.tl.detect_cancer_regions(
            labelled[2], labelled[:2], "label", "invasive cancer", **kw
        ),
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
        "detect_cancer_regions",
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
def test_every_tool_checks_key_added_and_copy(
    section, hippocampus, he_pair, labelled_section, tool, kwargs, match
):
    call = _every_tool(section, hippocampus, he_pair, labelled_section)[tool]
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


def _cancer_sections(labelled_section, image_key=None):
    """Two tiny labelled references and a target (64 spots, 40 genes each)."""
    refs = [labelled_section(s, seed=i, image_key=image_key) for i, s in enumerate("ab")]
    return refs, labelled_section("t", seed=2, image_key=image_key)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"threshold": "gmm"}, ValueError, "'mixture' or a score"),
        ({"threshold": "abc"}, ValueError, "'mixture' or a score"),
        ({"threshold": 0}, ValueError, "threshold"),
        ({"threshold": 1}, ValueError, "threshold"),
        ({"threshold": 1.5}, ValueError, "threshold"),
        ({"threshold": np.nan}, ValueError, "threshold"),
        ({"threshold": True}, ValueError, "threshold"),
        ({"threshold": None}, ValueError, "threshold"),
        ({"random_state": "abc"}, ValueError, "random_state"),
        ({"random_state": -1}, ValueError, "random_state"),
        ({"random_state": 1.5}, ValueError, "random_state"),
        ({"max_epochs": 0}, ValueError, "max_epochs"),
        ({"accelerator": "gpuu"}, ValueError, "accelerator"),
        ({"devices": 0}, ValueError, "devices"),
        ({"labels_key": "typo"}, KeyError, "typo"),
        ({"labels_key": ""}, ValueError, "labels_key"),
        ({"positive": "tumour"}, ValueError, "tumour"),
        ({"positive": "undetermined"}, ValueError, "no positive spots"),
        ({"n_top_genes": 0}, ValueError, "n_top_genes"),
        ({"spatial_key": "nowhere"}, KeyError, "nowhere"),
        ({"layer": "counts"}, KeyError, "counts"),
        ({"image_key": ""}, ValueError, "image_key"),
        ({"image_key": "X_missing"}, ValueError, r"obsm\['X_missing'\]` is missing"),
        ({"model_kwargs": {"n_hiden": 3}}, ValueError, "n_hiden"),
        ({"model_kwargs": {"adata": 3}}, ValueError, "adata"),
        ({"model_kwargs": {"n_heads": 7}}, ValueError, "n_heads"),
        ({"model_kwargs": [1]}, ValueError, "model_kwargs"),
        ({"train_kwargs": {"lrr": 0.1}}, ValueError, "lrr"),
        ({"train_kwargs": {"max_epochs": 3}}, ValueError, "max_epochs"),
        ({"train_kwargs": {"align_epochs": -1}}, ValueError, "align_epochs"),
    ],
)
def test_detect_cancer_regions_options(labelled_section, kwargs, error, match):
    refs, target = _cancer_sections(labelled_section)
    args = {"labels_key": "label", "positive": "invasive cancer", **kwargs}
    with pytest.raises(error, match=match):
        sm.tl.detect_cancer_regions(target, refs, **args)


def test_detect_cancer_regions_refuses_a_reference_as_target(labelled_section):
    refs, target = _cancer_sections(labelled_section)
    for query, reference in (
        (refs[0], refs),
        (refs[0], refs[0]),
        (refs[0], {"a": refs[0]}),
        (target, [refs[1], target]),
    ):
        with pytest.raises(ValueError, match="leaks"):
            sm.tl.detect_cancer_regions(query, reference, "label", "invasive cancer")
    with pytest.raises(ValueError, match="leaks"):  # a copy of a reference is the same section
        sm.tl.detect_cancer_regions(refs[1].copy(), refs, "label", "invasive cancer")


def test_detect_cancer_regions_refuses_a_reference_with_other_coordinates(labelled_section):
    refs, _ = _cancer_sections(labelled_section)
    for ref in refs:
        ref.obsm["xy"] = ref.obsm.pop("spatial")
    with pytest.raises(ValueError, match="leaks"):
        sm.tl.detect_cancer_regions(
            refs[0].copy(), refs, "label", "invasive cancer", spatial_key="xy"
        )


def test_detect_cancer_regions_image_features_everywhere(labelled_section):
    refs, target = _cancer_sections(labelled_section, image_key="X_img")
    no_image = target.copy()
    del no_image.obsm["X_img"]
    with pytest.raises(ValueError, match=r"missing from \['adata'\]"):
        sm.tl.detect_cancer_regions(no_image, refs, "label", "invasive cancer", image_key="X_img")
    del refs[1].obsm["X_img"]
    with pytest.raises(ValueError, match=r"missing from \['reference\[1\]'\]"):
        sm.tl.detect_cancer_regions(target, refs, "label", "invasive cancer", image_key="X_img")
    refs, target = _cancer_sections(labelled_section, image_key="X_img")
    refs[0].obsm["X_img"][4, 4] = np.nan
    with pytest.raises(ValueError, match=r"reference\[0\]\.obsm\['X_img'\]` contains 1 NaN"):
        sm.tl.detect_cancer_regions(target, refs, "label", "invasive cancer", image_key="X_img")


def test_detect_cancer_regions_genes(labelled_section):
    refs, target = _cancer_sections(labelled_section)
    other = target.copy()
    other.var_names = [f"x{i}" for i in range(other.n_vars)]
    with pytest.raises(ValueError, match="None of `genes` is measured"):
        sm.tl.detect_cancer_regions(other, refs, "label", "invasive cancer")
    dup = target.copy()
    dup.var_names = ["g0", "g0", *dup.var_names[2:]]
    with pytest.raises(ValueError, match="var_names_make_unique"):
        sm.tl.detect_cancer_regions(dup, refs, "label", "invasive cancer")
    refs[1].var_names = ["g0", "g0", *refs[1].var_names[2:]]
    with pytest.raises(ValueError, match=r"reference\[1\]\.var_names_make_unique"):
        sm.tl.detect_cancer_regions(target, refs, "label", "invasive cancer")


def _set_x(adata, value):
    adata.X = adata.X.tocsr(copy=True)
    adata.X.data[0] = value


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda r: _set_x(r, np.nan), "NaN"),
        (lambda r: _set_x(r, -1), "negative"),
        (lambda r: _set_x(r, 0.5), "raw counts"),
        (lambda r: r.obsm["spatial"].__setitem__((0, 0), np.nan), "coordinates"),
    ],
)
def test_detect_cancer_regions_checks_reference_data(labelled_section, change, match):
    refs, target = _cancer_sections(labelled_section)
    change(refs[1])
    with pytest.raises(ValueError, match=match):
        sm.tl.detect_cancer_regions(target, refs, "label", "invasive cancer")


def _narrow_image(t):
    t.obsm["X_img"] = t.obsm["X_img"][:, :8]


def _move_coordinates(t):
    t.obsm["xy"] = t.obsm.pop("spatial")


@pytest.mark.parametrize(
    ("change", "kwargs", "error", "match"),
    [
        pytest.param(lambda t: _set_x(t, np.nan), {}, ValueError, "NaN"),
        pytest.param(lambda t: _set_x(t, -1), {}, ValueError, "negative"),
        pytest.param(lambda t: _set_x(t, 0.5), {}, ValueError, "raw counts"),
        pytest.param(
            lambda t: t.obsm["spatial"].__setitem__((0, 0), np.nan),
            {},
            ValueError,
            "coordinates",
        ),
        pytest.param(_move_coordinates, {}, KeyError, r"obsm\['spatial'\]"),
        pytest.param(
            lambda t: t.obsm["X_img"].__setitem__((0, 0), np.nan),
            {"image_key": "X_img"},
            ValueError,
            "NaN",
        ),
        pytest.param(
            _narrow_image,
            {"image_key": "X_img"},
            ValueError,
            "same encoder",
        ),
        pytest.param(
            lambda t: t._inplace_subset_obs(t.obs_names[:4]),
            {},
            ValueError,
            "n_neighbors",
        ),
    ],
)
def test_detect_cancer_regions_checks_target_data(labelled_section, change, kwargs, error, match):
    refs, target = _cancer_sections(labelled_section, image_key="X_img")
    change(target)
    with pytest.raises(error, match=match):
        sm.tl.detect_cancer_regions(target, refs, "label", "invasive cancer", **kwargs)


def test_detect_cancer_regions_errors_leave_the_input_alone(labelled_section):
    refs, target = _cancer_sections(labelled_section)
    before = (set(target.obs), set(target.obsm), set(target.uns))
    with pytest.raises(ValueError):
        sm.tl.detect_cancer_regions(target, refs, "label", "invasive cancer", threshold="gmm")
    assert (set(target.obs), set(target.obsm), set(target.uns)) == before
    assert all(set(r.obs) == {"label"} and set(r.obsm) == {"spatial"} for r in refs)
