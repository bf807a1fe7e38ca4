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
