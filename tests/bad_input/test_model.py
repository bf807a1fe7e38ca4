"""Bad input to the model classes: setup, construction, getters, save and load."""

import numpy as np
import pytest
import scipy.sparse as sp

import stmin as sm

QUIET = {"accelerator": "cpu", "enable_progress_bar": False}


@pytest.fixture
def trained(stmgac_section):
    sm.model.STMGAC.setup_anndata(stmgac_section)
    model = sm.model.STMGAC(stmgac_section, n_clusters=5)
    model.train(max_epochs=2, **QUIET)
    return model


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"use_rep": "X_missing"}, KeyError, "X_missing"),
        ({"connectivity_key": "nope"}, KeyError, "nope"),
        ({"use_rep": "X_stmgac_input", "layer": "counts"}, ValueError, "either"),
    ],
)
def test_setup_errors(stmgac_section, kwargs, error, match):
    with pytest.raises(error, match=match):
        sm.model.STMGAC.setup_anndata(stmgac_section, **kwargs)


def test_setup_writes_nothing_into_obs(stmgac_section):
    stmgac_section.obs["_indices"] = "a user column"
    before = list(stmgac_section.obs.columns)
    sm.model.STMGAC.setup_anndata(stmgac_section)
    assert list(stmgac_section.obs.columns) == before
    assert (stmgac_section.obs["_indices"] == "a user column").all()


def test_graph_without_edges(stmgac_section):
    stmgac_section.obsp["empty"] = sp.csr_matrix((stmgac_section.n_obs, stmgac_section.n_obs))
    with pytest.raises(ValueError, match="no edges"):
        sm.model.STMGAC.setup_anndata(stmgac_section, connectivity_key="empty")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mask_rate": 1.5}, "mask_rate"),
        ({"replace_rate": -0.1}, "replace_rate"),
        ({"loss_weights": (1, 1)}, "loss_weights"),
        ({"loss_weights": (1, -1, 1)}, "loss_weights"),
        ({"gcn_norm": "triple"}, "gcn_norm"),
        ({"n_latent": 0}, "n_latent"),
        ({"n_hidden": (64, -1)}, "n_hidden"),
        ({"dropout": 1.0}, "dropout"),
        ({"top_k": 0}, "top_k"),
        ({"n_clusters": 1}, "n_clusters"),
    ],
)
def test_stmgac_init_errors(stmgac_section, kwargs, match):
    sm.model.STMGAC.setup_anndata(stmgac_section)
    args = {"n_clusters": 5, **kwargs}
    with pytest.raises(ValueError, match=match):
        sm.model.STMGAC(stmgac_section, **args)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cluster_method": "gmmm"}, "cluster_method"),
        ({"refine": 10_000}, "refine"),
        ({"random_state": "seed"}, "random_state"),
        ({"n_clusters": 1}, "n_clusters"),
    ],
)
def test_get_labels_errors(trained, kwargs, match):
    with pytest.raises(ValueError, match=match):
        trained.get_labels(**kwargs)


def test_save_twice_names_overwrite(trained, tmp_path):
    trained.save(tmp_path / "m")
    with pytest.raises(ValueError, match="overwrite=True"):
        trained.save(tmp_path / "m")
    trained.save(tmp_path / "m", overwrite=True)
    with pytest.raises(TypeError, match="path"):
        trained.save(3)


def test_load_errors(trained, stmgac_section, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        sm.model.STMGAC.load(tmp_path / "nowhere", stmgac_section)
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(FileNotFoundError, match=r"model\.pt"):
        sm.model.STMGAC.load(tmp_path / "empty_dir", stmgac_section)
    trained.save(tmp_path / "m")
    model_file = tmp_path / "m" / "model.pt"
    good = model_file.read_bytes()
    for broken in (b"", good[: len(good) // 2], b"not a model at all" * 10):
        model_file.write_bytes(broken)
        with pytest.raises(ValueError, match="corrupted"):
            sm.model.STMGAC.load(tmp_path / "m", stmgac_section)
    model_file.write_bytes(good)
    with pytest.raises(ValueError, match="needs `adata`"):
        sm.model.STMGAC.load(tmp_path / "m")
    with pytest.raises(ValueError, match="STMGAC model"):
        sm.model.STG3Net.load(tmp_path / "m", stmgac_section)
    loaded = sm.model.STMGAC.load(tmp_path / "m", stmgac_section)
    np.testing.assert_allclose(
        loaded.get_latent_representation(), trained.get_latent_representation(), atol=1e-6
    )


def test_macd_loads_without_data(hippocampus, tmp_path):
    ref, st = hippocampus
    model = sm.model.MACD.from_reference(st, ref, "cell_type", n_spots=200, n_hidden=16, n_latent=8)
    model.train(max_epochs=1, batch_size=256, **QUIET)
    model.save(tmp_path / "macd")
    loaded = sm.model.MACD.load(tmp_path / "macd")
    np.testing.assert_allclose(
        loaded.get_proportions().to_numpy(), model.get_proportions().to_numpy(), atol=1e-6
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mask_rate": 1.0}, "mask_rate"),
        ({"mask_domain": "both"}, "mask_domain"),
        ({"adversarial": "yes"}, "adversarial"),
        ({"n_latent": 1}, "n_latent"),
    ],
)
def test_macd_init_errors(hippocampus, kwargs, match):
    ref, st = hippocampus
    with pytest.raises(ValueError, match=match):
        sm.model.MACD.from_reference(st, ref, "cell_type", n_spots=100, **kwargs)


def test_macd_getters_check_new_data(hippocampus):
    ref, st = hippocampus
    model = sm.model.MACD.from_reference(st, ref, "cell_type", n_spots=200, n_hidden=16, n_latent=8)
    model.train(max_epochs=1, batch_size=256, **QUIET)
    with pytest.raises(ValueError, match="lacks"):
        model.get_proportions(st[:, :10].copy())
    with pytest.raises(TypeError, match="AnnData"):
        model.get_proportions(st.X)
    with pytest.raises(ValueError, match="batch_size"):
        model.get_proportions(batch_size=0)


def test_scasdc_setup_warns_when_it_writes_size_factors(bundled, caplog):
    cells = bundled[:200].copy()
    sm.pp.cell_graph(cells, n_neighbors=5)
    with caplog.at_level("WARNING", logger="stmin"):
        sm.model.ScASDC.setup_anndata(cells, connectivity_key="cell_connectivities")
    assert "size_factors" in caplog.text and "size_factors" in cells.obs


@pytest.mark.parametrize("model_cls", [sm.model.STMGAC, sm.model.ScASDC, sm.model.MclSTExp])
def test_setup_refuses_what_is_not_an_anndata(model_cls, stmgac_section):
    with pytest.raises(TypeError, match="AnnData"):
        model_cls.setup_anndata(stmgac_section.X)


def test_empty_hidden_layers(stmgac_section):
    sm.model.STMGAC.setup_anndata(stmgac_section)
    with pytest.raises(ValueError, match="n_hidden"):
        sm.model.STMGAC(stmgac_section, n_clusters=3, n_hidden=[])


def test_getters_before_training_and_on_other_data(stmgac_section):
    sm.model.STMGAC.setup_anndata(stmgac_section)
    model = sm.model.STMGAC(stmgac_section, n_clusters=3)
    with pytest.raises(RuntimeError, match=r"model\.train\(\)"):
        model.get_latent_representation()
    with pytest.raises(RuntimeError, match=r"model\.train\(\)"):
        model.get_labels()
    model.train(max_epochs=1, **QUIET)
    other = stmgac_section.copy()
    del other.obsm["X_stmgac_input"]
    with pytest.raises(KeyError, match="set up like the model's training data"):
        model.get_latent_representation(other)
    narrow = stmgac_section.copy()
    narrow.obsm["X_stmgac_input"] = narrow.obsm["X_stmgac_input"][:, :5]
    with pytest.raises(ValueError, match="set up like the model's training data"):
        model.get_latent_representation(narrow)
    with pytest.raises(TypeError, match="AnnData"):
        model.get_latent_representation(stmgac_section.X)


SMALL_SPACRD = {"n_hidden": 32, "n_embed": 16, "n_latent": 4, "n_heads": 2}


def _spacrd_refs(labelled_section, image_key=None):
    """Two tiny labelled sections (64 spots, 40 genes) with "invasive cancer" on the left."""
    return [labelled_section(s, seed=i, image_key=image_key) for i, s in enumerate("ab")]


def _relabel(refs, old, new):
    for ref in refs:
        label = ref.obs["label"].astype(object)
        ref.obs["label"] = label.where(label != old, new)


def _set_x(ref, i, value):
    ref.X = ref.X.tocsr(copy=True)
    ref.X.data[i] = value


def _rename_genes(refs):
    refs[1].var_names = [f"x{i}" for i in range(refs[1].n_vars)]


def _duplicate_gene(refs):
    refs[0].var_names = ["g0", "g0", *refs[0].var_names[2:]]


def _drop_image(refs):
    del refs[1].obsm["X_img"]


def _narrow_image(refs):
    refs[0].obsm["X_img"] = refs[0].obsm["X_img"][:, :8]


def _nan_image(refs):
    refs[1].obsm["X_img"][3, 2] = np.nan


def _patches(refs):
    for ref in refs:
        ref.obsm["X_img"] = np.zeros((ref.n_obs, 4, 4, 3), dtype=np.uint8)


def _nan_coords(refs):
    refs[1].obsm["spatial"][5, 0] = np.nan


def _tiny_section(refs):
    refs.append(refs[0][:5].copy())


@pytest.mark.parametrize(
    ("change", "kwargs", "error", "match"),
    [
        (None, {"positive": "tumour"}, ValueError, r"\['tumour'\] are not labels"),
        (None, {"positive": []}, ValueError, "`positive` must name"),
        (None, {"positive": "undetermined"}, ValueError, "no positive spots"),
        (
            lambda r: _relabel(r, "connective tissue", "invasive cancer"),
            {},
            ValueError,
            "no negative spots",
        ),
        (None, {"labels_key": "region"}, KeyError, r"obs\['region'\]"),
        (None, {"labels_key": ""}, ValueError, "labels_key"),
        (None, {"spatial_key": "xy"}, KeyError, r"obsm\['xy'\]"),
        (None, {"layer": "counts"}, KeyError, r"layers\['counts'\]"),
        (None, {"n_neighbors": 100}, ValueError, "fewer than `n_neighbors`=100"),
        (_tiny_section, {}, ValueError, r"reference\[2\]` has 5 spots"),
        (None, {"n_neighbors": 0}, ValueError, "n_neighbors"),
        (None, {"n_top_genes": 0}, ValueError, "n_top_genes"),
        (_rename_genes, {}, ValueError, "share no genes"),
        (None, {"genes": ["x1", "x2"]}, ValueError, "None of `genes`"),
        (_duplicate_gene, {}, ValueError, "var_names_make_unique"),
        (lambda r: _set_x(r[1], 0, np.nan), {}, ValueError, r"reference\[1\]\.X` contains 1 NaN"),
        (lambda r: _set_x(r[1], 0, -1), {}, ValueError, "negative values"),
        (lambda r: _set_x(r[0], 0, 0.5), {}, ValueError, "not integer-valued"),
        (_nan_coords, {}, ValueError, "NaN or infinite coordinates"),
        (_drop_image, {"image_key": "X_img"}, ValueError, r"missing from \['reference\[1\]'\]"),
        (_narrow_image, {"image_key": "X_img"}, ValueError, r"differ in width \(\[8, 16\]\)"),
        (_nan_image, {"image_key": "X_img"}, ValueError, r"obsm\['X_img'\]` contains 1 NaN"),
        (_patches, {"image_key": "X_img"}, ValueError, "holds patches"),
        (None, {"image_key": ""}, ValueError, "image_key"),
        (None, {"n_heads": 7}, ValueError, "multiple of `n_heads`"),
        (None, {"dropout": 1.0}, ValueError, "dropout"),
        (None, {"temperature": 0}, ValueError, "temperature"),
        (None, {"kl_weight": -1}, ValueError, "kl_weight"),
        (None, {"n_hiden": 8}, ValueError, "unknown key .n_hiden."),
    ],
)
def test_spacrd_from_references_errors(labelled_section, change, kwargs, error, match):
    refs = _spacrd_refs(labelled_section, image_key="X_img")
    if change is not None:
        change(refs)
    args = {"labels_key": "label", "positive": "invasive cancer", **kwargs}
    with pytest.raises(error, match=match):
        sm.model.SpaCRD.from_references(refs, **args)


def test_spacrd_references_must_be_anndata(labelled_section):
    with pytest.raises(TypeError, match="AnnData"):
        sm.model.SpaCRD.from_references("a1.h5ad", "label", "invasive cancer")
    with pytest.raises(ValueError, match="empty"):
        sm.model.SpaCRD.from_references([], "label", "invasive cancer")


def test_spacrd_image_key_on_no_reference_is_named_as_such(labelled_section):
    refs = _spacrd_refs(labelled_section)
    with pytest.raises(ValueError, match="missing from") as err:
        sm.model.SpaCRD.from_references(refs, "label", "invasive cancer", image_key="X_img")
    assert "present elsewhere" not in str(err.value)


def _spacrd_training_data(labelled_section):
    refs = _spacrd_refs(labelled_section, image_key="X_img")
    model = sm.model.SpaCRD.from_references(refs, "label", "invasive cancer", image_key="X_img")
    return model.adata.copy()


@pytest.mark.parametrize(
    ("change", "kwargs", "error", "match"),
    [
        (lambda a: a.obs.__setitem__("labels", 2), {}, ValueError, "1, 0 or -1 only"),
        (lambda a: a.obs.__setitem__("labels", 1), {}, ValueError, "both classes"),
        (None, {"labels_key": "classes"}, KeyError, r"obs\['classes'\]"),
        (None, {"sets_key": "nope"}, KeyError, r"obsm\['nope'\]"),
        (
            lambda a: a.obsm.__setitem__("sets", a.obsm["sets"][:, ::-1].copy()),
            {},
            ValueError,
            "own index first",
        ),
        (
            lambda a: a.obsm.__setitem__("sets", a.obsm["sets"] + a.n_obs),
            {},
            ValueError,
            "row indices",
        ),
        (None, {"image_key": "X_none"}, KeyError, r"obsm\['X_none'\]"),
        (
            lambda a: a.obsm["X_img"].__setitem__((0, 0), np.nan),
            {"image_key": "X_img"},
            ValueError,
            "NaN",
        ),
    ],
)
def test_spacrd_setup_errors(labelled_section, change, kwargs, error, match):
    adata = _spacrd_training_data(labelled_section)
    if change is not None:
        change(adata)
    with pytest.raises(error, match=match):
        sm.model.SpaCRD.setup_anndata(adata, **kwargs)


@pytest.fixture
def spacrd_image(labelled_section):
    """A small SpaCRD image model trained for one epoch per stage, and a target section."""
    refs = _spacrd_refs(labelled_section, image_key="X_img")
    model = sm.model.SpaCRD.from_references(
        refs, "label", "invasive cancer", image_key="X_img", **SMALL_SPACRD
    )
    model.train(max_epochs=1, align_epochs=1, batch_size=32, **QUIET)
    return model, labelled_section("t", seed=2, image_key="X_img")


def test_spacrd_getters_before_training(labelled_section):
    refs = _spacrd_refs(labelled_section)
    model = sm.model.SpaCRD.from_references(refs, "label", "invasive cancer")
    with pytest.raises(RuntimeError, match=r"model\.train\(\)"):
        model.get_scores(refs[0])
    with pytest.raises(RuntimeError, match=r"model\.train\(\)"):
        model.get_latent_representation(refs[0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_epochs": 0}, "max_epochs"),
        ({"align_epochs": -1}, "align_epochs"),
        ({"warmup_epochs": -1}, "warmup_epochs"),
        ({"warmup_epochs": 1.5}, "warmup_epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"lr": 0}, "lr"),
    ],
)
def test_spacrd_train_errors(labelled_section, kwargs, match):
    refs = _spacrd_refs(labelled_section, image_key="X_img")
    model = sm.model.SpaCRD.from_references(refs, "label", "invasive cancer", image_key="X_img")
    with pytest.raises(ValueError, match=match):
        model.train(**{**QUIET, **kwargs})
    assert not model.is_trained_


def _target_without_image(t):
    del t.obsm["X_img"]


@pytest.mark.parametrize(
    ("change", "kwargs", "error", "match"),
    [
        (lambda t: t._inplace_subset_var(t.var_names[5:]), {}, ValueError, "lacks"),
        (
            lambda t: t.obsm.__setitem__("X_img", t.obsm["X_img"][:, :8]),
            {},
            ValueError,
            "has 8 features; the model was trained on 16",
        ),
        (_target_without_image, {}, KeyError, r"obsm\['X_img'\]"),
        (lambda t: t.obsm["X_img"].__setitem__((0, 0), np.nan), {}, ValueError, "NaN"),
        (lambda t: _set_x(t, 0, np.nan), {}, ValueError, r"adata\.X` contains 1 NaN"),
        (lambda t: _set_x(t, 0, -3), {}, ValueError, "negative values"),
        (lambda t: t.obsm["spatial"].__setitem__((2, 1), np.nan), {}, ValueError, "coordinates"),
        (lambda t: t._inplace_subset_obs(t.obs_names[:4]), {}, ValueError, "fewer than"),
        (None, {"spatial_key": "xy"}, KeyError, r"obsm\['xy'\]"),
        (None, {"layer": "counts"}, KeyError, r"layers\['counts'\]"),
        (None, {"batch_size": 0}, ValueError, "batch_size"),
        (
            lambda t: setattr(t, "var_names", ["g0", "g0", *t.var_names[2:]]),
            {},
            ValueError,
            "var_names_make_unique",
        ),
    ],
)
def test_spacrd_get_scores_errors(spacrd_image, change, kwargs, error, match):
    model, target = spacrd_image
    if change is not None:
        change(target)
    with pytest.raises(error, match=match):
        model.get_scores(target, **kwargs)
    with pytest.raises(error, match=match):
        model.get_latent_representation(target, **kwargs)


def test_spacrd_getters_check_their_arguments(spacrd_image):
    model, target = spacrd_image
    with pytest.raises(TypeError, match="AnnData"):
        model.get_scores(target.X)
    with pytest.raises(ValueError, match="representation"):
        model.get_latent_representation(target, representation="z")


def test_spacrd_label_value_lists(labelled_section, stmin_logs):
    refs = _spacrd_refs(labelled_section)
    model = sm.model.SpaCRD.from_references(
        refs, "label", np.array(["invasive cancer"]), exclude=None, n_top_genes=None
    )
    classes = model.adata.obs["labels"].to_numpy()
    undetermined = np.concatenate([r.obs["label"].astype(str) == "undetermined" for r in refs])
    assert (classes[undetermined] == 0).all()  # exclude=None: only missing labels are left out
    with pytest.raises(TypeError, match="`exclude` must be a label value or a list"):
        sm.model.SpaCRD.from_references(refs, "label", "invasive cancer", exclude=3)
    sm.model.SpaCRD.from_references(refs, "label", ["invasive cancer", "cancer in sito"])
    assert "'cancer in sito'] occur in no reference" in stmin_logs.text
