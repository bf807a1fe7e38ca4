import anndata as ad
import pytest

import stmin as sm


@pytest.fixture(scope="module")
def hippocampus(shared_data):
    folder = shared_data / "rctd_toy_deconvolution"
    return (
        ad.read_h5ad(folder / "hippocampus_scRNA_reference_downsampled.h5ad"),
        ad.read_h5ad(folder / "hippocampus_visium_downsampled.h5ad"),
    )


def test_proportions_plot(hippocampus):
    """Maps of known proportions: pseudo-spots placed on the real spots' coordinates."""
    ref, st = hippocampus
    spots = sm.pp.pseudo_spots(ref, "cell_type", st.n_obs, library_sizes=st, random_state=0)
    st = st.copy()
    st.obsm["true_proportions"] = spots.obsm["proportions"].set_axis(st.obs_names)
    fig = sm.pl.proportions(st, "true_proportions", ["CA1", "CA3"], show=False)
    assert [ax.get_title() for ax in fig.axes[:3]] == ["CA1", "CA3", "dominant type"]
    fig = sm.pl.proportions(st, "true_proportions", dominant=False, show=False)
    assert sum(ax.get_title() != "" for ax in fig.axes) == ref.obs["cell_type"].nunique()
    with pytest.raises(KeyError, match="not columns"):
        sm.pl.proportions(st, "true_proportions", "Unknown", show=False)
    with pytest.raises(KeyError, match="DataFrame of proportions"):
        sm.pl.proportions(st, "macd_proportions", show=False)
