"""Original STMGAC research code (wenwenmin/STMGAC) on CPU, in ``benchmarks/.envs/stmgac_original``.

What runs, in order, following ``Tutorial/RUN_DLPFC.ipynb`` of wenwenmin/STMGAC (HEAD 86c4a40):

* the original's code, imported from an extracted copy of its ``STMGAC/`` folder outside this
  project (``$STMGAC_ORIGINAL_SRC``, default ``$PEER_ENVS_DIR/stmgac_original_src`` with
  ``PEER_ENVS_DIR`` defaulting to ``benchmarks/.envs``, made by
  ``setup_stmgac_original.sh``): the spatial graph ``STMGAC/Func.py::graph_construction`` with
  ``k_cutoff`` from ``Config/DLPFC.yaml`` (built on all input spots, before gene filtering), and
  the model/training ``STMGAC/MGAC.py::Mgac`` + ``STMGAC/Models.py`` with ``Config/DLPFC.yaml``
  (500 epochs, mask rate 0.7, loss weights 0.5/0.1/0.1, ...), then ``Mgac.process()`` for the
  16-d embedding. ``STMGAC/__init__.py`` and ``Utils.py`` (R/rpy2, harmonypy, squidpy, POT) are
  not imported: the modules are loaded by file path under a stub ``STMGAC`` package.
* the tutorial's preprocessing, re-typed here with the same scanpy/sklearn calls: dense raw-count
  layer ``count``; ``filter_genes(min_cells=50)``; ``filter_genes(min_counts=10)``;
  ``normalize_total(target_sum=1e6)`` (no log, as in the code); seurat_v3 HVGs (``top_genes``
  from the config) on the ``count`` layer; ``scale``; sklearn ``PCA(200, random_state=42)``.
* ours (not the original's): clustering of the embedding with
  ``GaussianMixture(n_components=K, covariance_type="tied", random_state=seed)`` (the analogue
  of the tutorial's R ``mclust`` model "EEE", seed 666), then a vectorised re-implementation of
  the original's ``refine_label(radius=30)``: each spot takes the majority label of its 30
  nearest other spots (Euclidean on ``obsm["spatial"]``); a tie goes to the tied label seen
  first in distance order, as ``max(list, key=list.count)`` does in the original. The refined
  labels are returned; the raw embedding is saved as ``<output stem>_embedding.npy`` so that it
  can be re-clustered.

Deviations from the tutorial: GMM instead of R mclust (R is unavailable); CPU instead of CUDA
(the original's ``use_deterministic_algorithms(True)`` and cudnn flags are left as they are);
the config's ``seed`` (3407) is replaced by ``--seed`` (``roundseed`` 0); torch 2.13.0 (CPU) and
torch_geometric 2.8.1 without torch_sparse/torch_scatter instead of torch 2.2.2+cu118 and
PyG 2.5.2 (``GCNConv`` still receives the original's ``torch.sparse`` COO ``adj_norm`` and
normalises it again through ``gcn_norm``'s torch-sparse branch, as in 2.5.2); the spots are
taken as given (the tutorial drops unannotated DLPFC spots before building the graph: do that
in the input file); neighbour order among equidistant spots in the refinement may differ from
the original's ``argsort``.
"""

import importlib
import os
import sys
import time
import types
from importlib.metadata import version
from pathlib import Path

import anndata as ad
import numpy as np
import scanpy as sc
import scipy.sparse as sp
import torch
import yaml
from _run import parse_runner_args, write_result
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors

ENVS_DIR = Path(os.environ.get("PEER_ENVS_DIR", Path(__file__).resolve().parent.parent / ".envs"))
DEFAULT_SRC = ENVS_DIR / "stmgac_original_src"  # as setup_stmgac_original.sh
CONFIG_NAME = "DLPFC.yaml"
N_PCS = 200
PCA_SEED = 42
REFINE_NEIGHBOURS = 30


def load_original(src: Path) -> tuple[types.ModuleType, types.ModuleType]:
    """Import the original ``STMGAC.Func`` and ``STMGAC.MGAC`` without the package ``__init__``."""
    pkg_dir = src / "STMGAC"
    if not (pkg_dir / "MGAC.py").is_file():
        sys.exit(f"original STMGAC source not found under {src} (set STMGAC_ORIGINAL_SRC)")
    pkg = types.ModuleType("STMGAC")
    pkg.__path__ = [str(pkg_dir)]
    sys.modules["STMGAC"] = pkg
    return importlib.import_module("STMGAC.Func"), importlib.import_module("STMGAC.MGAC")


def preprocess(adata: ad.AnnData, top_genes: int) -> ad.AnnData:
    """The DLPFC tutorial's preprocessing; returns the HVG AnnData with ``obsm['X_pca']``."""
    adata.layers["count"] = adata.X.toarray() if sp.issparse(adata.X) else np.array(adata.X)
    sc.pp.filter_genes(adata, min_cells=50)
    sc.pp.filter_genes(adata, min_counts=10)
    sc.pp.normalize_total(adata, target_sum=1e6)
    sc.pp.highly_variable_genes(adata, flavor="seurat_v3", layer="count", n_top_genes=top_genes)
    adata = adata[:, adata.var["highly_variable"]].copy()
    sc.pp.scale(adata)
    adata.obsm["X_pca"] = PCA(n_components=N_PCS, random_state=PCA_SEED).fit_transform(adata.X)
    return adata


def refine_labels(labels: np.ndarray, coords: np.ndarray, n_neigh: int) -> np.ndarray:
    """Majority label among each spot's ``n_neigh`` nearest other spots (first-seen tie-break)."""
    codes, inverse = np.unique(labels, return_inverse=True)
    idx = NearestNeighbors(n_neighbors=n_neigh).fit(coords).kneighbors(return_distance=False)
    neigh = inverse[idx]  # (n_spots, n_neigh), nearest first
    hits = neigh[:, :, None] == np.arange(len(codes))[None, None, :]
    counts = hits.sum(axis=1)
    first_seen = np.where(hits.any(axis=1), hits.argmax(axis=1), n_neigh)
    tied = counts == counts.max(axis=1, keepdims=True)
    return codes[np.where(tied, first_seen, n_neigh + 1).argmin(axis=1)]


def main() -> None:
    """Train the original STMGAC on one section and write GMM + refined domain labels."""
    args = parse_runner_args(__doc__.splitlines()[0])
    src = Path(os.environ.get("STMGAC_ORIGINAL_SRC", DEFAULT_SRC)).resolve()
    func, mgac = load_original(src)
    config = yaml.safe_load((src / "Config" / CONFIG_NAME).read_text())
    config["seed"] = args.seed
    commit_file = src / "SOURCE_COMMIT"
    commit = commit_file.read_text().strip()[:7] if commit_file.is_file() else "unknown"

    adata = ad.read_h5ad(args.input)
    adata.var_names_make_unique()
    t0 = time.perf_counter()
    n_genes_in = adata.n_vars
    graph_dict = func.graph_construction(adata, config["data"]["k_cutoff"])
    adata = preprocess(adata, config["data"]["top_genes"])
    t_pre = time.perf_counter()

    device = torch.device("cpu")
    net = mgac.Mgac(adata, graph_dict=graph_dict, num_clusters=args.n_clusters, device=device,
                    config=config)  # fmt: skip
    net.trian()  # sic: the original's method name
    enc_rep, _ = net.process()
    emb = enc_rep.detach().cpu().numpy()
    t_train = time.perf_counter()
    emb_path = Path(args.output).with_name(Path(args.output).stem + "_embedding.npy")
    emb_path.parent.mkdir(parents=True, exist_ok=True)
    np.save(emb_path, emb)

    gmm = GaussianMixture(n_components=args.n_clusters, covariance_type="tied",
                          random_state=args.seed)  # fmt: skip
    raw = gmm.fit_predict(emb)
    refined = refine_labels(raw, np.asarray(adata.obsm["spatial"], dtype=float), REFINE_NEIGHBOURS)
    settings = {
        "source": f"wenwenmin/STMGAC@{commit}",
        "config": config,
        "mode": config["mode"],
        "device": str(device),
        "n_spots": adata.n_obs,
        "n_genes_in": n_genes_in,
        "n_hvg": adata.n_vars,
        "n_pcs": N_PCS,
        "pca_random_state": PCA_SEED,
        "graph_nnz": int(graph_dict["adj_norm"]._nnz()),
        "clustering": "sklearn GaussianMixture(covariance_type='tied')",
        "refine_neighbours": REFINE_NEIGHBOURS,
        "n_clusters_raw": len(set(raw.tolist())),
        "embedding": str(emb_path),
        "seed": args.seed,
        "time_preprocess_s": round(t_pre - t0, 3),
        "time_train_s": round(t_train - t_pre, 3),
        "torch": torch.__version__,
        "torch_geometric": version("torch_geometric"),
        "faiss_cpu": version("faiss-cpu"),
    }
    write_result(args.output, "stmgac_original", commit, refined.tolist(), t0, settings)


if __name__ == "__main__":
    main()
