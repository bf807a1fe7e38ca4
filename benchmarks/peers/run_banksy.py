"""BANKSY (Python, pybanksy) spatial domains, run inside ``benchmarks/.envs/banksy``.

Follows Banksy_py's DLPFC notebook (``DLPFC_concatenate_multisample.ipynb`` in
prabhakarlab/Banksy_py, run here on one section): ``filter_utils.normalize_total`` (no log),
the input genes as features (the notebook uses the BANKSY R package's HVGs, which is what the
DLPFC ``*_top5000hvg.h5ad`` files hold), ``initialize_banksy`` with ``k_geom=6`` and
``scaled_gaussian`` decay, ``max_m=0`` (no AGF), ``lambda=0.2``, 20 PCs, Leiden
(``RBConfigurationVertexPartition``) on the package's 50-NN shared-nearest-neighbour graph
(``LeidenPartition``, as ``run_Leiden_partition`` builds it); then ``refine_once`` with 6
neighbours (the notebook's final refinement step), whose labels are returned. The notebook
fixes the resolution at 0.6; here 0.6 is tried first and, if it does not give K clusters, the
resolution is bisected on [0, 3] (the package's own ``max_labels`` search uses a fixed step,
oscillates and can miss K). mclust (R) is not used. ``--seed`` seeds numpy/random (notebook:
0) and is the Leiden seed (notebook: 1234). The histology image is not used.
"""

import random
import time
from importlib.metadata import version

import anndata as ad
import leidenalg
import numpy as np
from _run import parse_runner_args, write_result
from banksy.embed_banksy import generate_banksy_matrix
from banksy.initialize_banksy import initialize_banksy
from banksy.main import LeidenPartition
from banksy_utils import filter_utils
from banksy_utils.refine_clusters import refine_once
from banksy_utils.umap_pca import pca_umap

SETTINGS = {
    "k_geom": 6,
    "nbr_weight_decay": "scaled_gaussian",
    "max_m": 0,
    "lambda": 0.2,
    "pca_dims": 20,
    "num_nn": 50,
    "normalize": "normalize_total (median library size, no log)",
    "clustering": "leiden: 0.6, else bisection on [0, 3] for K",
    "refine": "refine_once(num_neigh=6)",
}
COORD_KEYS = ("x_pixel", "y_pixel", "coord_xy")
TUTORIAL_RESOLUTION = 0.6
MAX_RES, MAX_STEPS = 3.0, 16


def leiden_with_k(partitioner: LeidenPartition, k: int, seed: int) -> tuple[float, object]:
    """Resolution and labels giving ``k`` clusters (closest count if never exact)."""
    tried = {}
    lo, hi, res = 0.0, MAX_RES, TUTORIAL_RESOLUTION
    for _ in range(MAX_STEPS):
        tried[res], _ = partitioner.partition(
            resolution=res,
            partition_metric=leidenalg.RBConfigurationVertexPartition,
            n_iterations=-1,
            seed=seed,
        )
        n = tried[res].num_labels
        if n == k:
            break
        lo, hi = (res, hi) if n < k else (lo, res)
        res = (lo + hi) / 2
    best = min(tried, key=lambda r: (abs(tried[r].num_labels - k), abs(r - TUTORIAL_RESOLUTION)))
    return best, tried[best]


def main() -> None:
    """Build the BANKSY matrix, cluster it into ``--n-clusters`` domains and refine."""
    args = parse_runner_args(__doc__.splitlines()[0])
    adata = ad.read_h5ad(args.input)
    adata.var_names_make_unique()
    random.seed(args.seed)
    np.random.seed(args.seed)
    t0 = time.perf_counter()
    adata = filter_utils.normalize_total(adata)
    xy = np.asarray(adata.obsm["spatial"], dtype=float)
    adata.obs[COORD_KEYS[0]], adata.obs[COORD_KEYS[1]] = xy[:, 1], xy[:, 0]
    adata.obsm[COORD_KEYS[2]] = xy[:, ::-1].copy()
    banksy_dict = initialize_banksy(
        adata, COORD_KEYS, SETTINGS["k_geom"],
        nbr_weight_decay=SETTINGS["nbr_weight_decay"], max_m=SETTINGS["max_m"],
        plt_edge_hist=False, plt_nbr_weights=False, plt_agf_angles=False, plt_theta=False,
    )  # fmt: skip
    banksy_dict, _ = generate_banksy_matrix(
        adata, banksy_dict, [SETTINGS["lambda"]], max_m=SETTINGS["max_m"], verbose=False
    )
    pca_dims = SETTINGS["pca_dims"]
    pca_umap(banksy_dict, pca_dims=[pca_dims], plt_remaining_var=False)
    banksy_adata = banksy_dict[SETTINGS["nbr_weight_decay"]][SETTINGS["lambda"]]["adata"]
    partitioner = LeidenPartition(
        banksy_adata.obsm[f"reduced_pc_{pca_dims}"], num_nn=SETTINGS["num_nn"]
    )
    resolution, label = leiden_with_k(partitioner, args.n_clusters, args.seed)
    refined, _, _ = refine_once(
        adata, raw_labels=list(label.dense), truth_labels=None,
        coord_keys=COORD_KEYS, num_neigh=SETTINGS["k_geom"],
    )  # fmt: skip
    settings = {
        **SETTINGS,
        "resolution": resolution,
        "n_clusters_raw": int(label.num_labels),
        "leiden_seed": args.seed,
    }
    write_result(args.output, "banksy", version("pybanksy"), refined, t0, settings)


if __name__ == "__main__":
    main()
