import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import stmin as sm


def test_domains_over_image(small_section, tmp_path):
    small_section.obs["pred"] = small_section.obs["layer_guess"].astype(str)
    fig = sm.pl.domains(small_section, ["layer_guess", "pred"], save=tmp_path / "d.png")
    assert (tmp_path / "d.png").stat().st_size > 10_000
    ax = fig.axes[0]
    assert ax.images, "the H&E image should be drawn"
    assert len(ax.collections[0].get_offsets()) == small_section.n_obs
    plt.close(fig)


def test_domains_without_image(small_section):
    del small_section.uns["spatial"]
    small_section.obs.loc[small_section.obs_names[:5], "layer_guess"] = np.nan
    fig = sm.pl.domains(small_section, "layer_guess", show=False)
    assert not fig.axes[0].images
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "NA" in labels
    plt.close(fig)


def test_domains_errors(small_section):
    with pytest.raises(KeyError, match="stmgac"):
        sm.pl.domains(small_section, "stmgac")
    with pytest.raises(KeyError, match="hires"):
        sm.pl.domains(small_section, "layer_guess", img_key="hires")


def test_training_history_from_model_and_uns(small_section, tmp_path):
    sm.pp.spatial_graph(small_section, n_neighs=12)
    sm.tl.stmgac(
        small_section,
        n_clusters=4,
        max_epochs=3,
        accelerator="cpu",
        train_kwargs={"enable_progress_bar": False},
    )
    fig = sm.pl.training_history(small_section.uns["stmgac"], save=tmp_path / "h.png")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["train_loss", "sce_loss", "latent_loss", "triplet_loss"]
    plt.close(fig)
    with pytest.raises(KeyError, match="available"):
        sm.pl.training_history(small_section.uns["stmgac"], keys=["nope"])
    with pytest.raises(ValueError, match="history"):
        sm.pl.training_history({})
