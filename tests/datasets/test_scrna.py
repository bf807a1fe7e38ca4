import re
import shutil

import numpy as np
import pytest
import scipy.sparse as sp

from stmin import datasets
from stmin._validate import check_counts
from stmin.datasets import _paths

SCDCC = (
    "https://raw.githubusercontent.com/ttgump/scDCC/"
    "142e4e0370f4134751e92a160f95f97fce8db369/data/Small_Datasets"
)
# name -> (cells, genes, label -> number of cells for a few labels, number of labels)
EXPECTED = {
    "baron_mouse1": ((822, 14878), {"beta": 343, "ductal": 236, "B_cell": 2}, 13),
    "baron_mouse2": ((1064, 14878), {"beta": 551, "alpha": 182, "T_cell": 3}, 13),
    "worm_neuron": ((4186, 13488), {"1": 842, "3": 1015, "10": 70}, 10),
    "pbmc_4k": ((4271, 2000), {"1": 1292, "8": 135}, 8),
    "human_kidney": ((5685, 2000), {"0": 1201, "6": 1498, "3": 60}, 11),
}


@pytest.fixture(scope="module")
def loaded(shared_data):
    """Each data set read once for the whole module."""
    cache = {}

    def load(name):
        if name not in cache:
            cache[name] = datasets.scrna_clustering(name, path=shared_data)
        return cache[name]

    return load


@pytest.mark.parametrize("name", list(EXPECTED))
def test_scrna_clustering(loaded, name):
    shape, sizes, n_labels = EXPECTED[name]
    adata = loaded(name)
    assert adata.shape == shape
    assert sp.isspmatrix_csr(adata.X) and adata.X.dtype == np.float32
    check_counts(adata.X, "X")
    assert adata.X.sum() > 0 and (adata.X.sum(axis=1) > 0).all()
    labels = adata.obs["cell_type"]
    assert labels.dtype == "category" and labels.notna().all()
    assert labels.nunique() == n_labels == len(labels.cat.categories)
    counts = labels.value_counts()
    assert {label: counts[label] for label in sizes} == sizes
    assert adata.obs_names.is_unique and adata.var_names.is_unique
    assert adata.uns["dataset"]["name"] == name and adata.uns["dataset"]["source"]


def test_scrna_names(loaded):
    baron = loaded("baron_mouse1")
    assert baron.obs_names[0] == "mouse1_lib1.final_cell_0001"
    assert baron.var_names[:2].tolist() == ["0610007P14Rik", "0610009B22Rik"]
    assert "Ins1" in baron.var_names
    assert loaded("baron_mouse2").var_names.equals(baron.var_names)
    kidney = loaded("human_kidney")
    assert kidney.obs_names[:2].tolist() == ["cell_0", "cell_1"]
    assert kidney.var_names[-1] == "gene_1999"
    assert list(kidney.obs["cell_type"].cat.categories) == [str(i) for i in range(11)]


def test_scrna_unknown_name():
    message = "unknown scRNA-seq clustering data set 'baron_human'; valid names are: baron_mouse1"
    with pytest.raises(ValueError, match=re.escape(message)):
        datasets.scrna_clustering("baron_human", path="unused")


def test_scrna_missing_file(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    expected = empty / "scRNA_clustering" / "Zheng2017_10x_PBMC" / "10X_PBMC_top2000.h5"
    with pytest.raises(FileNotFoundError, match=re.escape(str(expected))) as err:
        datasets.scrna_clustering("pbmc_4k", path=empty)
    assert f"{SCDCC}/10X_PBMC_top2000.h5" in str(err.value)

    with pytest.raises(FileNotFoundError, match="no public download exists") as err:
        datasets.scrna_clustering("baron_mouse2", path=empty)
    assert "GSM2230762_mouse2_umifm_counts.csv.gz" in str(err.value)
    assert "GSE84133" in str(err.value)


def test_scrna_baron_has_no_download():
    with pytest.raises(FileNotFoundError, match="has no public download") as err:
        datasets.scrna_clustering("baron_mouse1")
    assert "GSE84133" in str(err.value)


def test_scrna_downloads_into_cache(loaded, shared_data, monkeypatch, tmp_path):
    served = []

    def serve(url, dest):
        served.append(url)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shared_data / "scRNA_clustering" / "Young2018_human_kidney" / dest.name, dest)

    monkeypatch.setattr(_paths, "_download", serve)
    adata = datasets.scrna_clustering("human_kidney")
    assert served == [f"{SCDCC}/human_kidney_counts_top2000.h5"]
    assert (tmp_path / "cache" / "scRNA_clustering" / "Young2018_human_kidney").is_dir()
    expected = loaded("human_kidney")
    assert (adata.X != expected.X).nnz == 0
    assert adata.obs.equals(expected.obs)
