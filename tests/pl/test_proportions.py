import pytest

import stmin as sm


def test_proportions_plot(hippocampus):
    """Maps of known proportions: pseudo-spots placed on the real spots' coordinates."""
    ref, st = hippocampus
    spots = sm.pp.pseudo_spots(ref, "cell_type", st.n_obs, library_sizes=st, random_state=0)
    st.obsm["true_proportions"] = spots.obsm["proportions"].set_axis(st.obs_names)
    fig = sm.pl.proportions(st, "true_proportions", ["CA1", "CA3"], show=False)
    assert [ax.get_title() for ax in fig.axes[:3]] == ["CA1", "CA3", "dominant type"]
    fig = sm.pl.proportions(st, "true_proportions", dominant=False, show=False)
    assert sum(ax.get_title() != "" for ax in fig.axes) == ref.obs["cell_type"].nunique()
    with pytest.raises(KeyError, match="not columns"):
        sm.pl.proportions(st, "true_proportions", "Unknown", show=False)
    with pytest.raises(KeyError, match="DataFrame of proportions"):
        sm.pl.proportions(st, "macd_deconvolve", show=False)
