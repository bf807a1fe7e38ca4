import matplotlib.pyplot as plt
import numpy as np
import pytest

import stmin as sm


@pytest.fixture
def scored(labelled_section):
    """A section with a score and call as `detect_cancer_regions` writes them (no training)."""
    adata = labelled_section()
    left = adata.obsm["spatial"][:, 0] < np.median(adata.obsm["spatial"][:, 0])
    adata.obs["spacrd_score"] = np.where(left, 0.9, 0.1).astype(np.float32)
    adata.obs["spacrd"] = adata.obs["spacrd_score"] > 0.5
    adata.uns["spacrd"] = {"threshold": 0.5}
    return adata


def test_score_call_and_labels_panels(scored):
    fig = sm.pl.cancer_regions(scored, labels_key="label", show=False)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == ["cancer score", "call (score > 0.50)", "label"]
    call_colors = fig.axes[1].collections[0].get_facecolors()
    called = scored.obs["spacrd"].to_numpy()
    # the cancer spots and the others are drawn in two colours, one per call
    assert len({tuple(c) for c in call_colors[called]}) == 1
    assert {tuple(c) for c in call_colors[called]} != {tuple(c) for c in call_colors[~called]}
    plt.close(fig)
    fig = sm.pl.cancer_regions(scored, show=False)
    assert [ax.get_title() for ax in fig.axes][:2] == ["cancer score", "call (score > 0.50)"]
    assert "label" not in [ax.get_title() for ax in fig.axes]
    plt.close(fig)


def test_bad_input(scored):
    with pytest.raises(KeyError, match="spacrd2_score"):
        sm.pl.cancer_regions(scored, key="spacrd2", show=False)
    with pytest.raises(KeyError, match="nope"):
        sm.pl.cancer_regions(scored, labels_key="nope", show=False)
    bad = scored.copy()
    bad.obs["spacrd_score"] = bad.obs["spacrd_score"] * 3
    with pytest.raises(ValueError, match="probabilities"):
        sm.pl.cancer_regions(bad, show=False)
    bad = scored.copy()
    bad.obs["spacrd"] = bad.obs["spacrd"].astype(str)
    with pytest.raises(ValueError, match="boolean"):
        sm.pl.cancer_regions(bad, show=False)
