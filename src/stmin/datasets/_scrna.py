"""Labelled single-cell RNA-seq data sets used to benchmark cell clustering."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from ._paths import DataFile, fetch, reading

_FOLDER = "scRNA_clustering"
_SCDEEPCLUSTER = (
    "https://raw.githubusercontent.com/ttgump/scDeepCluster/"
    "ff7f29d003be7112c6a3dcab37c44d461423647d/scRNA-seq%20data"
)
_SCDCC = (
    "https://raw.githubusercontent.com/ttgump/scDCC/"
    "142e4e0370f4134751e92a160f95f97fce8db369/data/Small_Datasets"
)
_BARON_NOTE = (
    "It is the GEO supplementary file of the same name (series GSE84133, Baron et al. 2016) "
    "compressed with gzip; GitHub LiShenghao813/AttentionAE-sc holds it zipped as "
    "'Data/Baron/Baron mouse{}.zip' (commit 2337cd9)."
)


@dataclass(frozen=True)
class _Dataset:
    """One labelled data set: its file, how it is stored and a short citation."""

    file: DataFile
    kind: str  # "csv": Baron's UMI table; "h5": scDeepCluster/scDCC HDF5 with `X` and `Y`
    source: str


def _baron(mouse: int, gsm: str) -> _Dataset:
    name = f"{gsm}_mouse{mouse}_umifm_counts.csv.gz"
    return _Dataset(
        DataFile(f"{_FOLDER}/Baron2016_mouse_pancreas/{name}", note=_BARON_NOTE.format(mouse)),
        "csv",
        f"Baron et al. 2016, Cell Systems 3:346 (GEO GSE84133, mouse {mouse} pancreas, inDrop)",
    )


DATASETS = {
    "baron_mouse1": _baron(1, "GSM2230761"),
    "baron_mouse2": _baron(2, "GSM2230762"),
    "worm_neuron": _Dataset(
        DataFile(
            f"{_FOLDER}/Cao2017_worm_neuron/worm_neuron_cell.h5",
            f"{_SCDEEPCLUSTER}/worm_neuron_cell.h5",
        ),
        "h5",
        "Cao et al. 2017, Science 357:661 (C. elegans neurons, sci-RNA-seq; as distributed "
        "with scDeepCluster, Tian et al. 2019)",
    ),
    "pbmc_4k": _Dataset(
        DataFile(
            f"{_FOLDER}/Zheng2017_10x_PBMC/10X_PBMC_top2000.h5",
            f"{_SCDCC}/10X_PBMC_top2000.h5",
        ),
        "h5",
        "Zheng et al. 2017, Nat. Commun. 8:14049 (10x PBMC 4k, 2,000 most variable genes; "
        "labels as distributed with scDCC, Tian et al. 2021)",
    ),
    "human_kidney": _Dataset(
        DataFile(
            f"{_FOLDER}/Young2018_human_kidney/human_kidney_counts_top2000.h5",
            f"{_SCDCC}/human_kidney_counts_top2000.h5",
        ),
        "h5",
        "Young et al. 2018, Science 361:594 (human kidney, 2,000 most variable genes; labels "
        "as distributed with scDCC, Tian et al. 2021)",
    ),
}


def _from_csv(file: Path) -> tuple[sp.csr_matrix, np.ndarray, pd.Index, pd.Index]:
    """Read Baron's table: cell id, ``barcode``, ``assigned_cluster``, then one column a gene."""
    df = pd.read_csv(file, index_col=0)
    labels = df.pop("assigned_cluster").astype(str).to_numpy()
    df = df.drop(columns="barcode")
    counts = sp.csr_matrix(df.to_numpy(dtype=np.float32))
    return counts, labels, pd.Index(df.index.astype(str)), pd.Index(df.columns.astype(str))


def _from_h5(file: Path) -> tuple[sp.csr_matrix, np.ndarray, pd.Index, pd.Index]:
    """Read an scDeepCluster/scDCC file: dense counts ``X`` (cells × genes), labels ``Y``."""
    import h5py

    with h5py.File(file, "r") as f:
        x, y = f["X"][()], f["Y"][()]
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"{file}: `X` {x.shape} and `Y` {y.shape} do not match")
    if not np.all(y == np.round(y)):
        raise ValueError(f"{file}: `Y` holds non-integer labels")
    counts = sp.csr_matrix(x.astype(np.float32, copy=False))
    labels = y.astype(np.int64).astype(str)
    cells = pd.Index([f"cell_{i}" for i in range(x.shape[0])])
    genes = pd.Index([f"gene_{j}" for j in range(x.shape[1])])
    return counts, labels, cells, genes


def _label_categorical(labels: np.ndarray) -> pd.Categorical:
    """Labels as a categorical; integer labels ("1", "2", …, "10") in numeric order."""
    labels = [str(label) for label in labels]
    categories = sorted(set(labels))
    if all(c.lstrip("-").isdigit() for c in categories):
        categories.sort(key=int)
    return pd.Categorical(labels, categories=categories)


def scrna_clustering(name: str, path: str | os.PathLike | None = None) -> AnnData:
    """Labelled scRNA-seq data set, a standard benchmark of single-cell clustering.

    =================  ==============  ======  ==============================================
    ``name``           cells × genes   labels  data
    =================  ==============  ======  ==============================================
    ``baron_mouse1``   822 × 14,878    13      mouse pancreas, inDrop (Baron et al. 2016)
    ``baron_mouse2``   1,064 × 14,878  13      mouse pancreas, inDrop (Baron et al. 2016)
    ``worm_neuron``    4,186 × 13,488  10      C. elegans neurons, sci-RNA-seq (Cao et al.
                                               2017), as in scDeepCluster
    ``pbmc_4k``        4,271 × 2,000   8       10x PBMC 4k (Zheng et al. 2017), 2,000 most
                                               variable genes, as in scDCC
    ``human_kidney``   5,685 × 2,000   11      human kidney (Young et al. 2018), 2,000 most
                                               variable genes, as in scDCC
    =================  ==============  ======  ==============================================

    The Baron labels are the authors' cell types; those of the other three are the integer
    classes distributed with scDeepCluster (Tian et al. 2019) and scDCC (Tian et al. 2021),
    without names.

    Parameters
    ----------
    name
        One of ``"baron_mouse1"``, ``"baron_mouse2"``, ``"worm_neuron"``, ``"pbmc_4k"``,
        ``"human_kidney"``.
    path
        Data folder holding the file under ``scRNA_clustering/`` (see the layout below);
        defaults to ``$STMIN_DATA_DIR``. Without either, the same path under
        ``pooch.os_cache("stmin")`` is used, and the three HDF5 files are downloaded there from
        GitHub (``ttgump/scDeepCluster``, ``ttgump/scDCC``). The Baron files have no download
        here: place the GEO supplementary files (GSE84133) there.

        - ``Baron2016_mouse_pancreas/GSM2230761_mouse1_umifm_counts.csv.gz``
        - ``Baron2016_mouse_pancreas/GSM2230762_mouse2_umifm_counts.csv.gz``
        - ``Cao2017_worm_neuron/worm_neuron_cell.h5``
        - ``Zheng2017_10x_PBMC/10X_PBMC_top2000.h5``
        - ``Young2018_human_kidney/human_kidney_counts_top2000.h5``

    Returns
    -------
    AnnData of cells × genes with

    - ``.X``: raw UMI counts (CSR, float32).
    - ``obs["cell_type"]``: categorical; Baron: the authors' ``assigned_cluster`` (e.g.
      ``"beta"``); otherwise the integer class as a string (e.g. ``"1"``), in numeric order.
    - ``var_names``: gene symbols (Baron, MGI) or ``"gene_0"``, ``"gene_1"``, … (the HDF5
      files carry no gene names); ``obs_names``: the cell ids (Baron) or ``"cell_0"``, ….
    - ``uns["dataset"]``: ``{"name": name, "source": short citation}``.

    Raises
    ------
    ValueError
        For an unknown ``name``.
    FileNotFoundError
        When the file is missing from the data folder, or cannot be downloaded; the message
        names the file, where to place it and its URL.
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(
            f"unknown scRNA-seq clustering data set {name!r}; valid names are: "
            f"{', '.join(DATASETS)}."
        )
    dataset = DATASETS[name]
    file = fetch(dataset.file, path)
    read = _from_csv if dataset.kind == "csv" else _from_h5
    with reading(file, f"the {name} data set"):
        counts, labels, cells, genes = read(file)
    adata = AnnData(
        X=counts,
        obs=pd.DataFrame({"cell_type": _label_categorical(labels)}, index=cells),
        var=pd.DataFrame(index=genes),
    )
    adata.uns["dataset"] = {"name": name, "source": dataset.source}
    return adata
