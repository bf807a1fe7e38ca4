"""Bad input to sm.pl ends in a clear stmin error before anything is drawn, and no plot writes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import stmin as sm

BAD_INTS = [0, -1, 1.5, "abc", True, None]
LIBRARY = "151673"


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture
def plot_data(grid_adata):
    """The synthetic grid with an embedding, two slices, proportions and predictions."""
    rng = np.random.default_rng(0)
    adata = grid_adata
    adata.obs["score"] = np.linspace(0.0, 1.0, adata.n_obs)
    adata.obs["slice"] = pd.Categorical(np.where(np.arange(adata.n_obs) < 150, "a", "b"))
    adata.obsm["X_emb"] = rng.normal(size=(adata.n_obs, 4))
    adata.obsm["props"] = pd.DataFrame(
        rng.dirichlet(np.ones(3), adata.n_obs), index=adata.obs_names, columns=["A", "B", "C"]
    )
    adata.obsm["predict_from_he"] = pd.DataFrame(
        rng.random((adata.n_obs, 3)), index=adata.obs_names, columns=["g0", "g1", "g2"]
    )
    adata.uns["predict_from_he"] = {
        "genes": ["g0", "g1", "g2"],
        "expression_space": {"target_sum": 1e4, "log_base": 10.0},
    }
    return adata


PLOTS = {
    "domains": lambda a, show=False, **kw: sm.pl.domains(a, "domain", show=show, **kw),
    "slices": lambda a, show=False, **kw: sm.pl.slices(a, "slice", "domain", show=show, **kw),
    "embedding_umap": lambda a, show=False, **kw: sm.pl.embedding_umap(
        a, "domain", use_rep="X_emb", show=show, **kw
    ),
    "proportions": lambda a, show=False, **kw: sm.pl.proportions(a, "props", show=show, **kw),
    "gene_maps": lambda a, show=False, **kw: sm.pl.gene_maps(a, "g0", show=show, **kw),
}
ANY_PLOT = pytest.mark.parametrize("plot", PLOTS.values(), ids=PLOTS.keys())
TISSUE_PLOTS = pytest.mark.parametrize(
    "plot",
    [PLOTS["domains"], PLOTS["proportions"], PLOTS["gene_maps"]],
    ids=["domains", "proportions", "gene_maps"],
)


def _keys(adata) -> tuple:
    return (
        list(adata.obs.columns),
        sorted(adata.obsm),
        sorted(adata.obsp),
        sorted(adata.uns),
        sorted(adata.layers),
    )


# -- the AnnData and the save path, for every plot -------------------------------------------


@ANY_PLOT
def test_not_an_anndata(plot_data, plot):
    with pytest.raises(TypeError, match="`adata` must be an AnnData"):
        plot(plot_data.to_df())


@ANY_PLOT
def test_empty_anndata(plot_data, plot):
    with pytest.raises(ValueError, match="`adata` is empty"):
        plot(plot_data[:0].copy())


@ANY_PLOT
def test_duplicate_obs_names(plot_data, plot):
    plot_data.obs_names = ["spot"] * plot_data.n_obs
    with pytest.raises(ValueError, match="obs_names"):
        plot(plot_data)


@ANY_PLOT
def test_a_view_is_plotted_and_nothing_is_written(plot_data, plot, monkeypatch):
    # the layout itself is not under test here: skip UMAP's (slow) optimisation
    monkeypatch.setattr(
        "stmin.pl._umap._umap_coords", lambda rep, *args: np.asarray(rep)[:, :2].copy()
    )
    before = _keys(plot_data)
    assert plot(plot_data[:200]) is not None
    assert _keys(plot_data) == before


@ANY_PLOT
@pytest.mark.parametrize(
    ("save", "error", "match"),
    [
        ("missing/plot.png", FileNotFoundError, "does not exist; create it first"),
        (".", ValueError, "is a folder"),
        ("plot.xyz", ValueError, "extension '.xyz'"),
        (3, ValueError, "save"),
    ],
)
def test_save_path_is_checked_before_drawing(plot_data, plot, tmp_path, save, error, match):
    save = tmp_path / save if isinstance(save, str) else save
    n_figures = len(plt.get_fignums())
    with pytest.raises(error, match=match):
        plot(plot_data, save=save)
    assert len(plt.get_fignums()) == n_figures  # nothing drawn


@ANY_PLOT
def test_show_must_be_a_bool(plot_data, plot):
    with pytest.raises(ValueError, match="`show` must be True, False or None"):
        plot(plot_data, show="yes")


# -- shared options --------------------------------------------------------------------------


@pytest.mark.parametrize("plot", [p for k, p in PLOTS.items() if k != "gene_maps"])
@pytest.mark.parametrize("ncols", BAD_INTS)
def test_ncols(plot_data, plot, ncols):
    with pytest.raises(ValueError, match="ncols"):
        plot(plot_data, ncols=ncols)


@TISSUE_PLOTS
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"spot_scale": 0}, ValueError, "spot_scale"),
        ({"spot_scale": "x"}, ValueError, "spot_scale"),
        ({"spot_scale": np.nan}, ValueError, "spot_scale"),
        ({"img_key": "hi-res"}, ValueError, "img_key"),
        ({"show_image": "no"}, ValueError, "show_image"),
        ({"spatial_key": "nope"}, KeyError, r"obsm\['nope'\]"),
        ({"library_id": "zz"}, KeyError, r"uns\['spatial'\]"),
    ],
)
def test_spot_options(plot_data, plot, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot(plot_data, **kwargs)


# -- the tissue image ------------------------------------------------------------------------


@pytest.fixture
def tissue(small_section):
    return small_section


def _lowres(adata):
    return adata.uns["spatial"][LIBRARY]["images"]["lowres"]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda img: img[..., :2], r"RGB or RGBA image"),
        (lambda img: object(), "numeric image array"),
        (
            lambda img: np.where(np.arange(img.size).reshape(img.shape) == 0, np.nan, img / 255),
            "NaN",
        ),
        (lambda img: img.astype(np.uint16) * 257, "16-bit"),
    ],
    ids=["two-channel", "object", "nan-in-float", "uint16"],
)
def test_bad_tissue_images(tissue, make, match):
    tissue.uns["spatial"][LIBRARY]["images"]["lowres"] = make(_lowres(tissue))
    with pytest.raises(ValueError, match=r"images'\]\['lowres'\]`.*" + match):
        sm.pl.domains(tissue, "layer_guess", show=False)


def test_grayscale_and_unit_float_images_are_drawn(tissue):
    image = _lowres(tissue)
    tissue.uns["spatial"][LIBRARY]["images"]["lowres"] = image[..., 0]
    assert sm.pl.domains(tissue, "layer_guess", show=False) is not None
    tissue.uns["spatial"][LIBRARY]["images"]["lowres"] = image / 255.0
    assert sm.pl.domains(tissue, "layer_guess", show=False) is not None


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda lib: lib["scalefactors"].update(tissue_lowres_scalef="x"), ValueError, "scalef"),
        (lambda lib: lib["scalefactors"].update(spot_diameter_fullres=-3), ValueError, "spot_"),
        (lambda lib: lib.update(images="x"), ValueError, r"\['images'\]` must be a dict"),
        (lambda lib: lib.update(scalefactors=[1]), ValueError, r"\['scalefactors'\]` must be"),
    ],
)
def test_bad_library_entries(tissue, change, error, match):
    change(tissue.uns["spatial"][LIBRARY])
    with pytest.raises(error, match=match):
        sm.pl.domains(tissue, "layer_guess", show=False)


def test_image_choices(tissue):
    with pytest.raises(KeyError, match="No image 'hires'"):
        sm.pl.domains(tissue, "layer_guess", img_key="hires", show=False)
    tissue.uns["spatial"]["other"] = tissue.uns["spatial"][LIBRARY]
    with pytest.raises(ValueError, match=r"several libraries .*library_id="):
        sm.pl.domains(tissue, "layer_guess", show=False)


# -- domains ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("color", "error", "match"),
    [
        ("nope", KeyError, r"obs\['nope'\]"),
        (3, ValueError, "color"),
        ([], ValueError, "color"),
        ("score", ValueError, "continuous numbers"),
    ],
)
def test_domains_color(plot_data, color, error, match):
    with pytest.raises(error, match=match):
        sm.pl.domains(plot_data, color, show=False)


def test_titles_match_panels(plot_data):
    with pytest.raises(ValueError, match="`title` holds 1 titles for 2 panels"):
        sm.pl.domains(plot_data, ["domain", "slice"], title=["one"], show=False)
    with pytest.raises(ValueError, match="`title` holds 1 titles for 2 panels"):
        sm.pl.embedding_umap(
            plot_data, ["domain", "slice"], use_rep="X_emb", title="one", show=False
        )


def test_integer_labels_and_numpy_ncols_are_fine(plot_data):
    plot_data.obs["cluster"] = np.arange(plot_data.n_obs) % 3
    fig = sm.pl.domains(plot_data, ["cluster", "domain"], ncols=np.int64(2), show=False)
    assert len(fig.axes) == 2


# -- slices ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_key": "nope"}, KeyError, "nope"),
        ({"color": ["domain"]}, ValueError, "color"),
        ({"size": True}, ValueError, "size"),
        ({"size": -1}, ValueError, "size"),
        ({"palette": "notacmap"}, ValueError, "palette"),
        ({"palette": ["nocolour", "red"]}, ValueError, "palette.*not matplotlib colours"),
        ({"palette": 3}, ValueError, "palette"),
        ({"palette": {"0": "red"}}, ValueError, "palette.*categories"),
        ({"title": 3}, ValueError, "title"),
    ],
)
def test_slices_options(plot_data, kwargs, error, match):
    args = {"batch_key": "slice", "color": "domain", **kwargs}
    with pytest.raises(error, match=match):
        sm.pl.slices(plot_data, show=False, **args)


def test_stored_colours_are_checked(plot_data):
    plot_data.uns["domain_colors"] = ["notacolour", "red", "blue"]
    with pytest.raises(ValueError, match=r"uns\['domain_colors'\]"):
        sm.pl.slices(plot_data, "slice", "domain", show=False)


# -- UMAP --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        *[({"n_neighbors": v}, ValueError, "n_neighbors") for v in (1, 0, 1.5, 10**9)],
        *[({"random_state": v}, ValueError, "random_state") for v in ("abc", [1, 2], -1, 1.5)],
        ({"min_dist": -1}, ValueError, "min_dist"),
        ({"min_dist": 100.0}, ValueError, "min_dist"),
        ({"min_dist": "x"}, ValueError, "min_dist"),
        ({"use_rep": "nope"}, KeyError, r"obsm\['nope'\]"),
        ({"use_rep": None}, ValueError, "use_rep"),
        ({"size": 0}, ValueError, "size"),
        ({"color": []}, ValueError, "color"),
    ],
)
def test_umap_options(plot_data, kwargs, error, match):
    args = {"color": "domain", "use_rep": "X_emb", **kwargs}
    with pytest.raises(error, match=match):
        sm.pl.embedding_umap(plot_data, show=False, **args)


def test_umap_nan_embedding(plot_data):
    plot_data.obsm["X_emb"][0, 0] = np.nan
    with pytest.raises(ValueError, match=r"obsm\['X_emb'\]` contains 1 NaN"):
        sm.pl.embedding_umap(plot_data, "domain", use_rep="X_emb", show=False)


# -- proportions and gene maps ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda p: p.to_numpy(), ValueError, "must be a DataFrame"),
        (lambda p: p.assign(A=np.r_[np.nan, p["A"].to_numpy()[1:]]), ValueError, "NaN"),
        (lambda p: -p, ValueError, "negative proportions"),
        (lambda p: p.astype(str), ValueError, "non-numeric"),
    ],
    ids=["ndarray", "nan", "negative", "strings"],
)
def test_bad_proportions(plot_data, change, error, match):
    plot_data.obsm["props"] = change(plot_data.obsm["props"])
    with pytest.raises(error, match=match):
        sm.pl.proportions(plot_data, "props", show=False)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"key": "nope"}, KeyError, r"obsm\['nope'\]"),
        ({"cell_types": ["Z"]}, KeyError, "Z"),
        ({"cell_types": [], "dominant": False}, ValueError, "nothing to plot"),
        ({"cell_types": 3}, ValueError, "cell_types"),
        ({"dominant": "x"}, ValueError, "dominant"),
        ({"cmap": "nocmap"}, ValueError, "cmap"),
    ],
)
def test_proportions_options(plot_data, kwargs, error, match):
    with pytest.raises(error, match=match):
        sm.pl.proportions(plot_data, **{"key": "props", **kwargs}, show=False)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda a: a.obsm.pop("predict_from_he"), KeyError, "predict_from_he"),
        (lambda a: a.uns.update(predict_from_he="x"), ValueError, r"uns\['predict_from_he'\]"),
        (
            lambda a: a.uns["predict_from_he"]["expression_space"].update(target_sum="x"),
            ValueError,
            "target_sum",
        ),
        (lambda a: a.X.data.__setitem__(0, np.nan), ValueError, r"`adata.X` contains 1 NaN"),
        (lambda a: a.X.data.__setitem__(0, -5), ValueError, "`adata.X` contains negative"),
        (
            lambda a: a.obsm["predict_from_he"].iloc.__setitem__((0, 0), np.nan),
            ValueError,
            r"obsm\['predict_from_he'\]` contains 1 NaN",
        ),
        (lambda a: setattr(a, "var_names", ["g0"] * a.n_vars), ValueError, "var_names"),
    ],
    ids=["no-prediction", "record", "space", "nan-counts", "negative", "nan-pred", "dup-genes"],
)
def test_gene_maps_inputs(plot_data, change, error, match):
    change(plot_data)
    with pytest.raises(error, match=match):
        sm.pl.gene_maps(plot_data, "g0", show=False)


@pytest.mark.parametrize(
    ("genes", "error", "match"),
    [(["zz"], KeyError, "zz"), ([], ValueError, "genes"), (3, ValueError, "genes")],
)
def test_gene_maps_genes(plot_data, genes, error, match):
    with pytest.raises(error, match=match):
        sm.pl.gene_maps(plot_data, genes, show=False)


# -- training history ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "kwargs", "error", "match"),
    [
        (None, {}, ValueError, "No training history"),
        ({"train_loss": "abc"}, {}, ValueError, "'train_loss' must be a sequence of numbers"),
        ({"train_loss": np.zeros((3, 2))}, {}, ValueError, "'train_loss'"),
        ({"train_loss": [1.0, 0.5]}, {"keys": ["x"]}, KeyError, "x"),
        ({"train_loss": [1.0, 0.5]}, {"keys": []}, ValueError, "keys"),
        ({"train_loss": [1.0, 0.5]}, {"log_y": "x"}, ValueError, "log_y"),
        ({"train_loss": [-1.0, 0.5]}, {"log_y": True}, ValueError, "log_y"),
    ],
)
def test_training_history(history, kwargs, error, match):
    with pytest.raises(error, match=match):
        sm.pl.training_history(history, show=False, **kwargs)


def test_training_history_single_key_string():
    fig = sm.pl.training_history({"train_loss": [1.0, 0.5], "x": [2, 1]}, "x", show=False)
    assert len(fig.axes) == 1
