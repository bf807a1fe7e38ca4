"""Check that stmin's models train on a GPU (``accelerator="gpu"``) and time them there.

Runs, each once with seed 0, on one GPU: STMGAC on the bundled DLPFC 151673 section (500 epochs,
the paper's setting), and scASDC on the five labelled scRNA-seq sets of
``sm.datasets.scrna_clustering`` twice, with stmin's default architecture and with the paper's
(layer widths 1000-1000-4000, wide heads, dense attention over all cells). Prints one line per
run and writes ``gpu_check.json`` (ARI, wall time, device) into ``--out``.

    python benchmarks/gpu_check.py --data-dir ../shared/data --out benchmarks/results/gpu
"""

from __future__ import annotations

import argparse
import json
import logging
import time
import warnings
from pathlib import Path

import torch

import stmin as sm

DATASETS = ["baron_mouse1", "baron_mouse2", "worm_neuron", "pbmc_4k", "human_kidney"]
PAPER = {"n_hidden": (1000, 1000, 4000), "wide_heads": True, "attention": "full"}
QUIET = {"enable_progress_bar": False}


def _timed(fn) -> float:
    torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--no-stmgac", action="store_true", help="only the scASDC runs")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    logging.getLogger("stmin").setLevel(logging.WARNING)
    if not torch.cuda.is_available():
        raise SystemExit("no GPU visible to PyTorch")
    args.out.mkdir(parents=True, exist_ok=True)
    device = torch.cuda.get_device_name(0)
    results = {"device": device, "torch": torch.__version__, "runs": []}

    def record(name, dataset, seed, run):
        """Run ``run()`` -> (ARI, seconds); keep the error and go on if it fails."""
        try:
            ari, seconds = run()
            row = {"method": name, "dataset": dataset, "seed": seed, "ari": round(ari, 4)}
            row["wall_s"] = round(seconds, 1)
        except Exception as err:
            row = {"method": name, "dataset": dataset, "seed": seed}
            row["error"] = f"{type(err).__name__}: {err}"
        results["runs"].append(row)
        print(json.dumps(row), flush=True)
        (args.out / "gpu_check.json").write_text(json.dumps(results, indent=1))

    def stmgac():
        adata = sm.datasets.dlpfc_151673()
        adata = adata[adata.obs["layer_guess"].notna()].copy()
        sm.pp.spatial_graph(adata, n_neighs=12)
        seconds = _timed(
            lambda: sm.tl.stmgac(
                adata, 7, accelerator="gpu", devices=1, random_state=0, train_kwargs=QUIET
            )
        )
        return sm.metrics.ari(adata.obs["layer_guess"], adata.obs["stmgac"]), seconds

    def scasdc(dataset, kwargs, seed):
        cells = sm.datasets.scrna_clustering(dataset, path=args.data_dir)
        k = cells.obs["cell_type"].nunique()
        seconds = _timed(
            lambda: sm.tl.scasdc_cluster(
                cells,
                n_clusters=k,
                accelerator="gpu",
                devices=1,
                random_state=seed,
                model_kwargs=kwargs,
                train_kwargs=QUIET,
            )
        )
        return sm.metrics.ari(cells.obs["cell_type"], cells.obs["scasdc_cluster"]), seconds

    if not args.no_stmgac:
        record("stmgac", "dlpfc_151673", 0, stmgac)
    for seed in args.seeds:
        for name, kwargs in (("scasdc", None), ("scasdc_paper", PAPER)):
            for dataset in DATASETS:
                run = lambda d=dataset, kw=kwargs, s=seed: scasdc(d, kw, s)  # noqa: E731
                record(name, dataset, seed, run)


if __name__ == "__main__":
    main()
