"""Check that mclSTExp trains end to end on a GPU (``accelerator="gpu"``) and time one fold.

One fold of the HER2+ leave-one-section-out benchmark (``he_expression.py``): the held-out
section (default C4) is predicted from the five other sections with images (B4, C2–C6), on the
785-gene panel. Runs, with seed 0:

- ``end_to_end``: DenseNet-121 (random initialisation, as no weights can be downloaded) trained
  end to end with the spot Transformer on the 224-px patches, with augmentation, 90 epochs —
  the paper's recipe;
- ``frozen_stats``: the CPU default (frozen stats features), for comparison on the same device.

Prints one line per run and writes ``gpu_check_he.json`` (scores, wall time, device) to ``--out``.
Needs well under 8 minutes on one H100.

    python benchmarks/gpu_check_he.py --data-dir ../shared/data --out benchmarks/results/gpu
"""

from __future__ import annotations

import argparse
import json
import logging
import time
import warnings
from pathlib import Path

import numpy as np
import torch

import stmin as sm
from stmin.model.mclstexp import expression_transform

SECTIONS = ["B4", "C2", "C3", "C4", "C5", "C6"]
QUIET = {"enable_progress_bar": False}


def main() -> None:
    """Run the two trainings on the GPU and write the scores."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--held-out", default="C4", choices=SECTIONS)
    parser.add_argument("--epochs", type=int, default=90)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    logging.getLogger("stmin").setLevel(logging.WARNING)
    if not torch.cuda.is_available():
        raise SystemExit("no GPU visible to PyTorch")
    args.out.mkdir(parents=True, exist_ok=True)
    panel = (args.data_dir / "gene_lists/her2st_hist2st_785.txt").read_text().split()
    t0 = time.perf_counter()
    sections = {s: sm.datasets.her2st(s, path=args.data_dir) for s in SECTIONS}
    for adata in sections.values():
        sm.pp.he_patches(adata)
    genes = [g for g in panel if all(g in a.var_names for a in sections.values())]
    prep_s = time.perf_counter() - t0
    query = sections[args.held_out]
    refs = [a for s, a in sections.items() if s != args.held_out]
    counts = query[:, genes].X.toarray()
    truth = expression_transform(torch.as_tensor(counts, dtype=torch.float64)).numpy()
    results = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "held_out": args.held_out,
        "n_genes": len(genes),
        "n_reference_spots": int(sum(r.n_obs for r in refs)),
        "patches_s": round(prep_s, 1),
        "runs": [],
    }
    runs = {
        "end_to_end": {"image_key": "he_patches", "encoder": "densenet121"},
        "frozen_stats": {"encoder": "stats"},
    }
    for name, kwargs in runs.items():
        torch.cuda.synchronize()
        start = time.perf_counter()
        sm.tl.predict_from_he(
            query,
            refs,
            genes=genes,
            max_epochs=args.epochs,
            accelerator="gpu",
            devices=1,
            random_state=0,
            key_added=name,
            train_kwargs=QUIET,
            **kwargs,
        )
        torch.cuda.synchronize()
        wall = time.perf_counter() - start
        scores = sm.metrics.expression_scores(truth, query.obsm[name][genes].to_numpy())
        loss = query.uns[name]["history"]["train_loss"]
        row = {"run": name, "wall_s": round(wall, 1), **{k: round(v, 4) for k, v in scores.items()}}
        row["loss_first_last"] = [round(float(loss[0]), 4), round(float(loss[-1]), 4)]
        row["peak_gpu_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        results["runs"].append(row)
        print(json.dumps(row), flush=True)
    results["pcc_random_baseline"] = float(
        np.nanmean(sm.metrics.gene_pcc(truth, np.random.default_rng(0).permutation(truth)))
    )
    (args.out / "gpu_check_he.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
