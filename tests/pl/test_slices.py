import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex

import stmin as sm

PALETTE = ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf"]


@pytest.fixture
def two_slices(_bundled):
    """575 annotated real spots split at the median x into two pseudo-slices with own frames."""
    obs = _bundled.obs
    keep = (obs["array_row"] < 25) & (obs["array_col"] < 60) & obs["layer_guess"].notna()
    adata = _bundled[keep.to_numpy()].copy()
    del adata.uns["spatial"]
    x = adata.obsm["spatial"][:, 0]
    right = x > np.median(x)
    adata.obs["slice"] = np.where(right, "B", "A")
    adata.obs["slice"] = adata.obs["slice"].astype("category")
    adata.obsm["spatial"][right] -= adata.obsm["spatial"][right].min(axis=0)  # own frame
    layers = _bundled.obs["layer_guess"].cat.categories  # L1…L6, WM; L6 and WM absent here
    adata.obs["layer_guess"] = adata.obs["layer_guess"].cat.set_categories(layers)
    adata.uns["layer_guess_colors"] = PALETTE
    return adata


def _panels(fig):
    return [ax for ax in fig.axes if ax.get_title() in {"A", "B"}]


def _category_colors(fig, adata, key):
    """Category → set of face colours drawn for it, over all panels."""
    seen: dict = {}
    for ax in _panels(fig):
        labels = adata.obs.loc[adata.obs["slice"] == ax.get_title(), key].astype(str)
        faces = ax.collections[0].get_facecolors()
        assert len(faces) == len(labels)
        for label, face in zip(labels, faces, strict=True):
            seen.setdefault(label, set()).add(to_hex(face))
    return seen


def test_slices_categorical(two_slices, tmp_path):
    fig = sm.pl.slices(two_slices, "slice", "layer_guess", save=tmp_path / "s.png")
    assert (tmp_path / "s.png").stat().st_size > 10_000
    with_data = [ax for ax in fig.axes if ax.collections]
    assert len(with_data) == len(fig.axes) == 2
    assert [ax.get_title() for ax in with_data] == ["A", "B"]
    for ax in with_data:
        assert ax.yaxis_inverted() and ax.get_aspect() == 1.0
        assert not ax.get_xticks().size and not ax.get_yticks().size
        assert ax.get_legend() is None
    sizes = two_slices.obs["slice"].value_counts()
    assert [len(ax.collections[0].get_offsets()) for ax in with_data] == [sizes["A"], sizes["B"]]
    # one shared legend: the categories present, coloured from uns["layer_guess_colors"]
    assert len(fig.legends) == 1
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["L1", "L2", "L3", "L4", "L5"]
    assert [to_hex(h.get_facecolor()) for h in legend.legend_handles] == PALETTE[:5]
    # the same colour for a category in every panel
    seen = _category_colors(fig, two_slices, "layer_guess")
    assert {k: v.pop() for k, v in seen.items() if len(v) == 1} == dict(
        zip(["L1", "L2", "L3", "L4", "L5"], PALETTE[:5], strict=True)
    )
    plt.close(fig)


def test_slices_numeric_palette_and_layout(two_slices):
    counts = np.asarray(two_slices.X.sum(axis=1)).ravel()
    two_slices.obs["total_counts"] = counts
    fig = sm.pl.slices(two_slices, "slice", "total_counts", ncols=1, title="UMIs", show=False)
    panels = _panels(fig)
    assert len(panels) == 2 and not fig.legends
    assert panels[0].get_position().y0 > panels[1].get_position().y0  # one column
    (cbar_ax,) = [ax for ax in fig.axes if ax not in panels]
    assert cbar_ax.get_ylabel() == "total_counts"
    assert cbar_ax.get_ylim() == pytest.approx((counts.min(), counts.max()))
    assert fig.get_suptitle() == "UMIs"
    plt.close(fig)

    two_slices.obs["pred"] = two_slices.obs["layer_guess"].astype(str)
    lut = {f"L{i}": c for i, c in zip(range(1, 6), PALETTE[::-1], strict=False)}
    fig = sm.pl.slices(two_slices, "slice", "pred", palette=lut, size=50.0, show=False)
    seen = _category_colors(fig, two_slices, "pred")
    assert all(v == {lut[k]} for k, v in seen.items())
    plt.close(fig)


def test_slices_errors(two_slices):
    with pytest.raises(KeyError, match="batch_key"):
        sm.pl.slices(two_slices, "section", "layer_guess")
    with pytest.raises(KeyError, match=r"stg3net.*color="):
        sm.pl.slices(two_slices, "slice", "stg3net")
    with pytest.raises(KeyError, match=r"spatial_key="):
        sm.pl.slices(two_slices, "slice", "layer_guess", spatial_key="X_spatial")
    with pytest.raises(ValueError, match="ncols"):
        sm.pl.slices(two_slices, "slice", "layer_guess", ncols=0)
    with pytest.raises(ValueError, match="no colour"):
        sm.pl.slices(two_slices, "slice", "layer_guess", palette={"L1": "red"})


def _keys(adata):
    return {
        "obs": list(adata.obs),
        "obsm": list(adata.obsm),
        "obsp": list(adata.obsp),
        "uns": list(adata.uns),
        "var": list(adata.var),
        "varm": list(adata.varm),
        "layers": list(adata.layers),
    }


def test_embedding_umap_leaves_adata_unchanged(two_slices):
    import scanpy as sc

    pcs = sc.pp.pca(np.log1p(two_slices.X.toarray()), n_comps=10, random_state=0)
    two_slices.obsm["X_int"] = pcs
    two_slices.obs["stg3net"] = two_slices.obs["layer_guess"].astype(str).astype("category")
    two_slices.uns["stg3net_colors"] = PALETTE[:5]
    before = _keys(two_slices)
    fig = sm.pl.embedding_umap(
        two_slices, ["slice", "stg3net"], use_rep="X_int", n_neighbors=10, show=False
    )
    assert _keys(two_slices) == before
    np.testing.assert_array_equal(two_slices.obsm["X_int"], pcs)
    assert [ax.get_title() for ax in fig.axes] == ["slice", "stg3net"]
    for ax in fig.axes:
        xy = ax.collections[0].get_offsets()
        assert xy.shape == (two_slices.n_obs, 2) and np.isfinite(xy).all()
    # categorical colours follow uns[f"{key}_colors"] (the same lookup as `slices`)
    legend = fig.axes[1].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["L1", "L2", "L3", "L4", "L5"]
    assert [to_hex(h.get_facecolor()) for h in legend.legend_handles] == PALETTE[:5]
    lut = dict(zip(["L1", "L2", "L3", "L4", "L5"], PALETTE, strict=False))
    faces = [to_hex(f) for f in fig.axes[1].collections[0].get_facecolors()]
    assert faces == [lut[v] for v in two_slices.obs["stg3net"]]
    # no uns colours for "slice": scanpy's default palette, one legend entry per slice
    from scanpy.plotting.palettes import default_20

    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["A", "B"]
    assert [to_hex(h.get_facecolor()) for h in legend.legend_handles] == [
        to_hex(c) for c in default_20[:2]
    ]
    plt.close(fig)


def test_embedding_umap_errors(two_slices):
    with pytest.raises(KeyError, match="X_int"):
        sm.pl.embedding_umap(two_slices, "slice", use_rep="X_int")
    two_slices.obsm["X_int"] = np.zeros((two_slices.n_obs, 3))
    with pytest.raises(KeyError, match="stg3net"):
        sm.pl.embedding_umap(two_slices, ["slice", "stg3net"], use_rep="X_int")
    with pytest.raises(ValueError, match="n_neighbors"):
        sm.pl.embedding_umap(two_slices, "slice", use_rep="X_int", n_neighbors=10_000)
    with pytest.raises(ValueError, match="title"):
        sm.pl.embedding_umap(two_slices, ["slice"], use_rep="X_int", title=["a", "b"])
