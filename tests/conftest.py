import logging
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")


def _find_shared_data() -> Path | None:
    """Locate the shared real-data folder (``../shared/data`` seen from the repository)."""
    env = os.environ.get("STMIN_SHARED_DATA")
    candidates = [Path(env)] if env else []
    root = Path(__file__).resolve().parents[1]
    candidates += [root.parent / "shared" / "data", root / "shared" / "data"]
    for c in candidates:
        if (c / "DLPFC").is_dir():
            return c
    return None


SHARED_DATA = _find_shared_data()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the public data sets in the layout of ``shared/data``; skips when absent."""
    if SHARED_DATA is None:
        pytest.skip(
            "real data folder `../shared/data` not found (set STMIN_SHARED_DATA to its path)"
        )
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    torch.set_num_threads(1)
    yield


@pytest.fixture
def stmin_logs(caplog):
    """``caplog`` recording the ``stmin`` logger from the INFO level on.

    The logger's ``propagate`` flag is set for the test and put back as it was afterwards.
    """
    logger = logging.getLogger("stmin")
    propagate = logger.propagate
    logger.propagate = True
    try:
        with caplog.at_level(logging.INFO, logger="stmin"):
            yield caplog
    finally:
        logger.propagate = propagate


@pytest.fixture
def grid_adata():
    """A tiny synthetic hex-free square grid (edge cases only): 3 domains in stripes."""
    import anndata as ad
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    nx, ny = 20, 15
    xx, yy = np.meshgrid(np.arange(nx), np.arange(ny))
    coords = np.c_[xx.ravel(), yy.ravel()].astype(float)
    domain = np.digitize(coords[:, 0], [7, 14])
    n_genes = 60
    means = rng.gamma(2.0, 2.0, size=(3, n_genes))
    counts = rng.poisson(means[domain]).astype(np.float32)
    adata = ad.AnnData(sp.csr_matrix(counts))
    adata.obs_names = [f"s{i}" for i in range(adata.n_obs)]
    adata.var_names = [f"g{i}" for i in range(n_genes)]
    adata.obsm["spatial"] = coords
    adata.obs["domain"] = domain.astype(str)
    return adata


@pytest.fixture(scope="session")
def _bundled():
    import stmin as sm

    return sm.datasets.dlpfc_151673()


@pytest.fixture
def bundled(_bundled):
    """The real DLPFC 151673 section shipped in the wheel (3,639 spots × 3,000 genes)."""
    return _bundled.copy()


@pytest.fixture
def small_section(_bundled):
    """A real corner of the bundled section (annotated spots with array row < 30 and column < 70)."""
    obs = _bundled.obs
    keep = (obs["array_row"] < 30) & (obs["array_col"] < 70) & obs["layer_guess"].notna()
    return _bundled[keep.to_numpy()].copy()


@pytest.fixture
def two_slices(small_section):
    """The real corner of the bundled section cut into two slices with their own coordinates."""
    left = (small_section.obs["array_col"] < 35).to_numpy()
    adata = small_section.copy()
    adata.obs["slice"] = np.where(left, "left", "right")
    adata.obs["slice"] = adata.obs["slice"].astype("category")
    coords = adata.obsm["spatial"].astype(float).copy()
    for part in (left, ~left):  # each slice in its own frame: the two frames overlap
        coords[part] -= coords[part].min(axis=0)
    adata.obsm["spatial"] = coords
    return adata


@pytest.fixture
def section(small_section):
    """``small_section`` with its 12-neighbour spatial graph (the paper's DLPFC setting)."""
    import stmin as sm

    sm.pp.spatial_graph(small_section, n_neighs=12)
    return small_section


@pytest.fixture
def stmgac_section(section):
    """``section`` with the STMGAC input: 30 PCs in ``obsm["X_stmgac_input"]``."""
    import stmin as sm

    sm.pp.stmgac_preprocess(section, n_comps=30)
    return section


@pytest.fixture
def slices(two_slices):
    """``two_slices`` with a 12-neighbour spatial graph built within each slice."""
    import stmin as sm

    sm.pp.spatial_graph(two_slices, n_neighs=12, library_key="slice")
    return two_slices


@pytest.fixture(scope="session")
def _cells(shared_data):
    """The first 200 cells of Baron mouse 1, loaded once: do not modify (use ``cells``)."""
    import stmin as sm

    return sm.datasets.scrna_clustering("baron_mouse1", path=shared_data)[:200].copy()


@pytest.fixture
def cells(_cells):
    """Real single cells: the first 200 cells of Baron mouse 1 (raw counts)."""
    return _cells.copy()


@pytest.fixture(scope="session")
def _hippocampus(shared_data):
    """The RCTD mouse hippocampus pair, loaded once: do not modify (use ``hippocampus``)."""
    import anndata as ad

    folder = shared_data / "rctd_toy_deconvolution"
    return (
        ad.read_h5ad(folder / "hippocampus_scRNA_reference_downsampled.h5ad"),
        ad.read_h5ad(folder / "hippocampus_visium_downsampled.h5ad"),
    )


@pytest.fixture
def hippocampus(_hippocampus):
    """Copies of the real RCTD hippocampus pair: (reference 510 cells, Visium 313 spots)."""
    ref, st = _hippocampus
    return ref.copy(), st.copy()


@pytest.fixture
def he_section(tmp_path):
    """Factory of tiny synthetic H&E sections (see ``_synthetic_section``)."""

    def make(name: str = "s1", n_side: int = 6, seed: int = 0):
        return _synthetic_section(tmp_path, name, n_side, seed)

    return make


@pytest.fixture
def he_pair(he_section):
    """A synthetic reference and query H&E section with 16-px patches and ``"stats"`` features."""
    import stmin as sm

    ref, query = he_section("ref"), he_section("query", seed=1)
    for adata in (ref, query):
        sm.pp.he_patches(adata, size=16)
        sm.pp.he_features(adata)
    return ref, query


def _synthetic_section(tmp_path, name: str, n_side: int, seed: int):
    """A ``n_side²``-spot grid over a 240-px RGB image whose pixels encode their position.

    Expression follows the image: spots over darker (more "nuclear") tissue express gene 0 more.
    The full-resolution image is written to ``tmp_path``; ``hires`` is the same at half size.
    """
    import anndata as ad
    import scipy.sparse as sp
    from PIL import Image

    rng = np.random.default_rng(seed)
    side = 240
    yy, xx = np.mgrid[0:side, 0:side]
    image = np.stack([xx % 256, yy % 256, (xx + yy) % 256], -1).astype(np.uint8)
    path = tmp_path / f"{name}.png"
    Image.fromarray(image).save(path)
    pos = np.arange(n_side)
    ax, ay = (a.ravel() for a in np.meshgrid(pos, pos))
    pixels = np.c_[30 + 36 * ax, 30 + 36 * ay].astype(float)
    darkness = 1 - image[pixels[:, 1].astype(int), pixels[:, 0].astype(int)].mean(1) / 255
    means = np.c_[1 + 20 * darkness, np.full(len(ax), 5.0), 2 + 10 * (1 - darkness)]
    counts = rng.poisson(np.repeat(means, 4, axis=1)).astype(np.float32)
    adata = ad.AnnData(sp.csr_matrix(counts))
    adata.obs_names = [f"{name}_{i}" for i in range(adata.n_obs)]
    adata.var_names = [f"g{j}" for j in range(adata.n_vars)]
    adata.obs["array_x"], adata.obs["array_y"] = ax, ay
    adata.obsm["spatial"] = pixels
    hires = np.asarray(Image.fromarray(image).resize((side // 2, side // 2)))
    adata.uns["spatial"] = {
        name: {
            "images": {"hires": hires},
            "scalefactors": {"tissue_hires_scalef": 0.5, "spot_diameter_fullres": 20.0},
            "metadata": {"image_path": str(path)},
        }
    }
    return adata


@pytest.fixture
def labelled_section():
    """Factory of tiny synthetic labelled sections (see ``_labelled_section``)."""

    def make(name: str = "s1", n_side: int = 8, seed: int = 0, image_key: str | None = None):
        return _labelled_section(name, n_side, seed, image_key)

    return make


def _labelled_section(name: str, n_side: int, seed: int, image_key: str | None):
    """A ``n_side²``-spot jittered grid whose left half is cancer (edge cases and mechanics).

    ``obs["label"]`` holds "invasive cancer" (left half) or "connective tissue", with spot 0
    and the last spot "undetermined" and spot 1 missing (NaN). Genes 0–9 are higher in cancer,
    genes 10–19 lower. With ``image_key``, 16 image features whose first four follow the
    label are stored in ``obsm[image_key]``.
    """
    import anndata as ad
    import pandas as pd
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    pos = np.arange(n_side, dtype=float)
    xx, yy = (a.ravel() for a in np.meshgrid(pos, pos))
    coords = 100 * np.c_[xx, yy] + rng.uniform(-5, 5, size=(xx.size, 2))  # no tied distances
    cancer = xx < n_side / 2
    n_genes = 40
    means = rng.gamma(2.0, 2.0, size=(xx.size, n_genes))
    means[:, :10] *= np.where(cancer, 4.0, 0.5)[:, None]
    means[:, 10:20] *= np.where(cancer, 0.5, 4.0)[:, None]
    counts = rng.poisson(means).astype(np.float32)
    adata = ad.AnnData(sp.csr_matrix(counts))
    adata.obs_names = [f"{name}_{i}" for i in range(adata.n_obs)]
    adata.var_names = [f"g{j}" for j in range(n_genes)]
    adata.obsm["spatial"] = coords
    label = np.where(cancer, "invasive cancer", "connective tissue").astype(object)
    label[[0, -1]] = "undetermined"
    label[1] = np.nan
    adata.obs["label"] = pd.Categorical(label)
    if image_key is not None:
        features = rng.normal(size=(adata.n_obs, 16))
        features[:, :4] += 2.0 * cancer[:, None]
        adata.obsm[image_key] = features.astype(np.float32)
    return adata


HER2ST_LABELLED = ("B1", "C1", "D1", "G2")


@pytest.fixture(scope="session")
def _her2st_labelled(shared_data):
    """Labelled HER2+ sections B1, C1, D1 and G2, loaded once: do not modify."""
    import stmin as sm

    return {s: sm.datasets.her2st(s, path=shared_data) for s in HER2ST_LABELLED}


@pytest.fixture
def her2st_labelled(_her2st_labelled):
    """Copies of the real labelled HER2+ sections B1 (295 spots), C1 (176), D1 (306), G2 (467).

    ``obs["label"]`` holds the pathologist's regions ("invasive cancer", "cancer in situ",
    "connective tissue", …, "undetermined").
    """
    return {s: adata.copy() for s, adata in _her2st_labelled.items()}
