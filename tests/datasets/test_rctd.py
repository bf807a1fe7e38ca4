import numpy as np
import pytest

from stmin import datasets
from stmin._validate import check_counts


@pytest.mark.parametrize(
    ("tissue", "spots", "cells", "n_types"),
    [("hippocampus", (313, 276), (510, 307), 17), ("lymph_node", (1000, 2000), (330, 10237), 11)],
)
def test_visium_with_reference(shared_data, tissue, spots, cells, n_types):
    st, ref = datasets.visium_with_reference(tissue, path=shared_data)
    assert st.shape == spots and ref.shape == cells
    assert st.obsm["spatial"].shape == (spots[0], 2)
    assert ref.obs["cell_type"].nunique() == n_types
    assert (ref.obs["cell_type"].value_counts() == 30).all()
    check_counts(st.X, "spots")
    check_counts(ref.X, "cells")
    assert np.asarray(st.X.sum(1)).min() > 0


def test_unknown_tissue_and_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="lymph_node"):
        datasets.visium_with_reference("brain")
    with pytest.raises(FileNotFoundError, match="no public download"):
        datasets.visium_with_reference("hippocampus", path=tmp_path)
