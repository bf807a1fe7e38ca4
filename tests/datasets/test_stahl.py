import re
import sys
import types

import numpy as np
import pandas as pd
import pytest
import scanpy as sc
import scipy.sparse as sp

from stmin import datasets
from stmin._validate import check_counts
from stmin.datasets import _paths, _stahl

RELPATH = "breast_cancer_ST_Stahl2016/BC_Stahl2016_layers1-4.h5ad"
RDA_URL = (
    "https://raw.githubusercontent.com/JEFworks-Lab/MERINGUE/"
    "ca9e2ccabd95680d9ca0b323a8a507c038f2ea13/data/BCL.rda"
)


@pytest.fixture(scope="module")
def stahl(shared_data):
    return datasets.stahl2016_breast_cancer(path=shared_data)


def _fake_rdata(source):
    """A stand-in for the package ``rdata`` that yields MERINGUE's ``BCL`` as ``rdata`` does.

    ``rdata`` (checked with 1.1.0 on the real data/BCL.rda) hands the ``dgCMatrix``
    constructor the S4 slots as attributes (``i``, ``p``, ``x``, ``Dim``, ``Dimnames``) and
    converts ``pos`` to a DataFrame indexed by spot name with a float ``slice`` column.
    """
    genes_by_spots = sp.csc_matrix(source.X.T, dtype=np.float64)
    attrs = {
        "i": genes_by_spots.indices.astype(np.int32),
        "p": genes_by_spots.indptr.astype(np.int32),
        "Dim": np.array(genes_by_spots.shape, dtype=np.int32),
        "Dimnames": [source.var_names.to_numpy(dtype=str), source.obs_names.to_numpy(dtype=str)],
        "x": genes_by_spots.data,
        "factors": [],
        "class": np.array(["dgCMatrix"]),
    }
    pos = pd.DataFrame(
        {
            "x": source.obsm["spatial"][:, 0],
            "y": source.obsm["spatial"][:, 1],
            "slice": source.obs["slice"].astype(int).astype(float).to_numpy(),
        },
        index=source.obs_names.to_numpy(dtype=object),
    )
    parsed = []

    def convert(data, constructor_dict):
        counts = constructor_dict["dgCMatrix"](types.SimpleNamespace(), attrs)
        return {"BCL": {"pos": pos.iloc[::-1], "counts": counts}}  # pos in another order

    return types.SimpleNamespace(
        parser=types.SimpleNamespace(parse_file=lambda file: parsed.append(file) or file),
        conversion=types.SimpleNamespace(DEFAULT_CLASS_MAP={}, convert=convert),
        parsed=parsed,
    )


def _assert_same(adata, expected):
    assert adata.shape == expected.shape
    assert sp.isspmatrix_csr(adata.X) and adata.X.dtype == np.float32
    assert (adata.X != expected.X).nnz == 0
    assert adata.obs.equals(expected.obs)
    assert adata.var_names.equals(expected.var_names)
    np.testing.assert_array_equal(adata.obsm["spatial"], expected.obsm["spatial"])


def test_local_file(stahl, shared_data):
    adata = stahl
    assert adata.shape == (1031, 13360)
    assert sp.isspmatrix_csr(adata.X) and adata.X.dtype == np.float32
    check_counts(adata.X, "X")
    np.testing.assert_allclose(adata.X.sum() / adata.n_obs, 3090, rtol=0.01)
    assert list(adata.obs.columns) == ["slice"]
    assert list(adata.obs["slice"].cat.categories) == ["1", "2", "3", "4"]
    assert adata.obs["slice"].value_counts(sort=False).tolist() == [254, 251, 264, 262]
    assert all(
        name.startswith(f"L{s}-")
        for name, s in zip(adata.obs_names, adata.obs["slice"], strict=True)
    )
    assert adata.obs_names.is_unique and adata.var_names.is_unique
    assert adata.obsm["spatial"].shape == (1031, 2)
    assert adata.obsm["spatial"].dtype == np.float64
    # MERINGUE centred every section: unaligned, each around the origin
    for s in "1234":
        xy = adata.obsm["spatial"][(adata.obs["slice"] == s).to_numpy()]
        np.testing.assert_allclose(xy.mean(axis=0), 0, atol=1e-6)
    src = sc.read_h5ad(shared_data / RELPATH)
    assert (adata.X != src.X).nnz == 0
    np.testing.assert_array_equal(adata.obsm["spatial"], src.obsm["spatial"])


def test_from_env(stahl, shared_data, monkeypatch):
    monkeypatch.setenv("STMIN_DATA_DIR", str(shared_data))
    _assert_same(datasets.stahl2016_breast_cancer(), stahl)


def test_missing_under_path(tmp_path):
    expected = tmp_path / RELPATH
    with pytest.raises(FileNotFoundError, match=re.escape(f"Expected it at {expected}")) as err:
        datasets.stahl2016_breast_cancer(path=tmp_path)
    assert RDA_URL in str(err.value) and "rdata" in str(err.value)


def test_without_rdata_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "rdata", None)  # `import rdata` raises ImportError
    with pytest.raises(ImportError, match="pip install rdata") as err:
        datasets.stahl2016_breast_cancer()
    assert str(tmp_path / "cache" / RELPATH) in str(err.value)
    assert not (tmp_path / "cache").exists()  # nothing was downloaded


def test_download_fails_offline(monkeypatch, tmp_path):
    monkeypatch.setattr(_stahl, "_import_rdata", lambda: types.SimpleNamespace())
    with pytest.raises(FileNotFoundError, match="could not download") as err:
        datasets.stahl2016_breast_cancer()
    message = str(err.value)
    assert f"BCL.rda from {RDA_URL}" in message
    assert str(tmp_path / "cache" / "breast_cancer_ST_Stahl2016" / "BCL.rda") in message


def test_download_and_convert_matches_local_file(stahl, monkeypatch, tmp_path):
    fake = _fake_rdata(stahl)
    served = []

    def serve(url, dest):
        served.append(url)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(b"BZh9 stand-in for BCL.rda")

    monkeypatch.setattr(_paths, "_download", serve)
    monkeypatch.setattr(_stahl, "_import_rdata", lambda: fake)
    adata = datasets.stahl2016_breast_cancer()
    assert served == [RDA_URL]
    assert fake.parsed == [tmp_path / "cache" / "breast_cancer_ST_Stahl2016" / "BCL.rda"]
    _assert_same(adata, stahl)
    datasets.stahl2016_breast_cancer()  # the second call reads the cached file
    assert len(served) == 1


def test_conversion_prefixes_bare_barcodes(stahl):
    part = stahl[stahl.obs["slice"].isin(["2", "3"]).to_numpy()]
    bare = [name.split("-", 1)[1] for name in part.obs_names]
    counts = sp.csc_matrix(part.X.T)
    pos = pd.DataFrame(
        {
            "x": part.obsm["spatial"][:, 0],
            "y": part.obsm["spatial"][:, 1],
            "slice": part.obs["slice"].astype(int).to_numpy(),
        }
    )  # unnamed rows, integer slice ids
    adata = _stahl._bcl_to_anndata(counts, [part.var_names.to_numpy(), np.array(bare)], pos)
    assert adata.obs_names.equals(part.obs_names)
    assert (adata.X != part.X).nnz == 0
    assert adata.obs["slice"].value_counts(sort=False).tolist() == [0, 251, 264, 0]


def test_conversion_rejects_mismatched_shapes(stahl):
    counts = sp.csc_matrix(stahl.X.T)
    pos = pd.DataFrame({"x": [0.0], "y": [0.0], "slice": [1.0]})
    with pytest.raises(ValueError, match="do not match"):
        _stahl._bcl_to_anndata(counts, [stahl.var_names, stahl.obs_names], pos)
