"""Cell-type deconvolution benchmark: stmin MACD against the tools users pick today.

Ground truth from real cells no method sees: each labelled reference is split, stratified by
cell type, into a reference half (given to every method) and a held-out half; test spots are
pseudo-spots simulated from the held-out half (``sm.pp.pseudo_spots``, seed 1, the same
simulator MACD trains on but a different seed and other cells), 1,000 per data set, down-sampled
to real Visium library sizes. Every method sees the reference half and the test spots' counts,
never their proportions.

Data sets (``--data-dir``, default ``../shared/data``):

- ``hippocampus``: mouse hippocampus reference of the RCTD vignette (510 cells, 17 types × 30),
  test-spot genes and library sizes from its Visium spots (over the shared genes);
- ``lymph_node``: human lymph-node reference of the RCTD vignette (330 cells, 11 types × 30),
  the same with its Visium spots;
- ``pancreas``: Baron et al. 2016 mouse pancreas (both mice, 1,886 cells, 13 types), genes seen
  in ≥ 10 cells; no pancreas Visium exists here, so library sizes follow the total UMI of the
  hippocampus Visium spots (``obs["nUMI"]``, a real Visium distribution over all genes).

Methods (each in its own process; wall time = everything after reading the inputs; peak memory
= the process's high-water mark): ``macd`` (stmin, defaults), ``macd_released`` (the released
code's inert domain heads and masking of simulated spots), ``tangram``, ``destvi``,
``stereoscope``, ``cell2location`` (spatial step shortened to ``--c2l-epochs``), ``nnls``;
not run by default: ``cell2location_default`` (30,000 epochs, the documented default) and
``macd_scvi`` (MACD on a 2,048-d scVI latent, the original's input). Peer settings: the
docstring of ``run_deconv_peer.py``; their environments: ``peers/setup_deconv_envs.sh``.

Writes ``benchmarks/results/deconvolution.md`` and raw records ``deconvolution_raw.jsonl``
(resumed unless ``--fresh``); inputs and per-run JSON/logs under ``benchmarks/.work/``.

    python benchmarks/deconvolution.py --seeds 0 --jobs 2
    python benchmarks/deconvolution.py --datasets hippocampus --methods cell2location_default --seeds 0
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import anndata as ad
from _harness import Records, command_line, failed_runs, fmt
from domains import _machine
from peers._run import THREAD_ENV

import stmin as sm

DATASETS = ["hippocampus", "lymph_node", "pancreas"]
METHODS = ["macd", "macd_released", "tangram", "destvi", "stereoscope", "cell2location", "nnls"]
EXTRA = ["cell2location_default", "macd_scvi"]
NAMES = {
    "macd": "stmin MACD",
    "macd_released": "stmin MACD, released-code heads and masking",
    "macd_scvi": "stmin MACD on a 2,048-d scVI latent",
    "tangram": "Tangram",
    "destvi": "DestVI (scvi-tools)",
    "stereoscope": "Stereoscope (scvi-tools)",
    "cell2location": "cell2location, short schedule",
    "cell2location_default": "cell2location, default 30,000 epochs",
    "nnls": "NNLS (floor)",
}
LABELS = "cell_type"
N_TEST_SPOTS = 1000
WORK = HERE / ".work" / "deconvolution"


def _split(cells: ad.AnnData, seed: int = 0) -> tuple[ad.AnnData, ad.AnnData]:
    """Reference half and held-out half, stratified by cell type."""
    rng = np.random.default_rng(seed)
    labels = cells.obs[LABELS].astype(str).to_numpy()
    in_ref = np.zeros(cells.n_obs, bool)
    for t in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == t))
        in_ref[idx[: len(idx) // 2]] = True
    return cells[in_ref].copy(), cells[~in_ref].copy()


def _load(name: str, data_dir: Path) -> tuple[ad.AnnData, object, list[str], str]:
    """Labelled cells, library sizes (AnnData of real spots or array), genes, their source."""
    if name in ("hippocampus", "lymph_node"):
        spots, cells = sm.datasets.visium_with_reference(name, path=data_dir)
        genes = list(cells.var_names.intersection(spots.var_names, sort=False))
        return cells, spots, genes, f"its Visium spots ({spots.n_obs}), over the shared genes"
    cells = ad.concat(
        [sm.datasets.scrna_clustering(f"baron_mouse{m}", path=data_dir) for m in (1, 2)],
        index_unique=None,
    )
    cells.obs[LABELS] = cells.obs[LABELS].astype(str)
    detected = np.asarray((cells.X > 0).sum(0)).ravel() >= 10
    genes = list(cells.var_names[detected])
    hippo, _ = sm.datasets.visium_with_reference("hippocampus", path=data_dir)
    return cells, hippo.obs["nUMI"].to_numpy(), genes, "total UMI of the hippocampus Visium spots"


def prepare(name: str, data_dir: Path) -> dict:
    """Write reference, test spots and truth for one data set; return its description."""
    folder = WORK / name
    folder.mkdir(parents=True, exist_ok=True)
    cells, library_sizes, genes, lib_note = _load(name, data_dir)
    ref, held = _split(cells)
    spots = sm.pp.pseudo_spots(
        held, LABELS, N_TEST_SPOTS, genes=genes, library_sizes=library_sizes, random_state=1
    )
    truth = spots.obsm["proportions"]
    test = ad.AnnData(spots.X, obs=pd.DataFrame(index=spots.obs_names), var=spots.var)
    ref.write_h5ad(folder / "reference.h5ad")
    test.write_h5ad(folder / "spots.h5ad")
    truth.to_csv(folder / "truth.csv")
    return {
        "reference_cells": int(ref.n_obs),
        "held_out_cells": int(held.n_obs),
        "cell_types": int(truth.shape[1]),
        "test_spots": int(test.n_obs),
        "genes": len(genes),
        "library_sizes": lib_note,
        "median_test_library": float(np.median(np.asarray(test.X.sum(1)).ravel())),
    }


ENVS = HERE / ".envs"
OWN_ENV = {"tangram": "deconv-tangram", "cell2location": "deconv-cell2location"}


def _python(tool: str) -> str:
    """The interpreter that has ``tool``: its own venv, else the project's."""
    return str(ENVS / OWN_ENV[tool] / "bin" / "python") if tool in OWN_ENV else sys.executable


def _subprocess(cmd: list[str], stem: Path, timeout: int, extra_env: dict | None = None) -> dict:
    """Run a runner; return its JSON result or ``{"error": ...}``."""
    json_path, log_path = stem.with_suffix(".json"), stem.with_suffix(".log")
    json_path.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update({**THREAD_ENV, "MPLBACKEND": "Agg", **(extra_env or {})})
    with open(log_path, "w") as log:
        try:
            proc = subprocess.run(
                [*cmd, "--output", str(json_path)],
                stdout=log, stderr=subprocess.STDOUT, env=env, timeout=timeout,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return {"error": f"timeout after {timeout} s"}
    if proc.returncode != 0:
        tail = [x for x in log_path.read_text(errors="replace").splitlines() if x.strip()]
        return {"error": tail[-1][:300] if tail else f"exit {proc.returncode}"}
    return json.loads(json_path.read_text())


def run_method(
    method: str, name: str, seed: int, c2l_epochs: int, destvi_epochs: int | None, timeout: int
) -> dict:
    """Run one method on one prepared data set and score it."""
    folder = WORK / name
    out = folder / "runs"
    out.mkdir(exist_ok=True)
    inputs = [
        "--reference", str(folder / "reference.h5ad"), "--spatial", str(folder / "spots.h5ad"),
        "--labels-key", LABELS, "--seed", str(seed),
    ]  # fmt: skip
    stem = out / f"{method}_s{seed}"
    if method.startswith("macd"):
        variant = {"macd": "default", "macd_released": "released", "macd_scvi": "scvi"}[method]
        cmd = [sys.executable, str(HERE / "run_macd.py"), *inputs, "--variant", variant]
    else:
        tool = "cell2location" if method.startswith("cell2location") else method
        cmd = [_python(tool), str(HERE / "run_deconv_peer.py"), "--tool", tool, *inputs]
        if method == "cell2location":
            cmd += ["--max-epochs", str(c2l_epochs)]
        if method == "destvi" and destvi_epochs:
            cmd += ["--max-epochs", str(destvi_epochs)]
    res = _subprocess(cmd, stem, timeout)
    rec = {"dataset": name, "method": method, "seed": seed}
    if res.get("error"):
        return {**rec, "error": res["error"]}
    truth = pd.read_csv(folder / "truth.csv", index_col=0)
    pred = pd.DataFrame(res["proportions"], index=res["spots"], columns=res["cell_types"])
    scores = sm.metrics.deconvolution_scores(truth, pred)
    return {
        **rec,
        **{k: round(v, 5) for k, v in scores.items()},
        "wall_s": res["wall_s"],
        "peak_rss_mb": res["peak_rss_mb"],
        "version": res.get("version"),
        "settings": res.get("settings"),
    }


def _schedules(sub: pd.DataFrame) -> list[str]:
    """Notes on the long schedules: DestVI's epochs, cell2location's default time and ratio."""
    notes = []
    settings = dict(zip(sub["method"], sub["settings"], strict=True))
    walls = sub.groupby("method")["wall_s"].mean()
    if "destvi" in settings:
        notes.append(f"DestVI spatial epochs: {settings['destvi']['destvi_epochs']:,}.")
    c2l_default = walls.get("cell2location_default")
    short = settings.get("cell2location") or {}
    if c2l_default is None and "spatial_training_s" in short:
        spatial = short["spatial_training_s"]
        c2l_default = walls["cell2location"] - spatial + spatial * 30000 / short["spatial_epochs"]
        how = (
            f"≈ {c2l_default:,.0f} s, extrapolated from the {short['spatial_epochs']:,}-epoch "
            f"run ({spatial:,.0f} s of spatial training)"
        )
    elif c2l_default is not None:
        how = f"{c2l_default:,.0f} s, measured"
    if c2l_default is not None and "macd" in walls:
        notes.append(
            f"cell2location at its default 30,000 epochs: {how}; stmin MACD "
            f"({walls['macd']:,.0f} s) is {c2l_default / walls['macd']:.1f}× faster."
        )
    return notes


def _table(records: list[dict], notes: dict, argv: str, c2l_epochs: int) -> str:
    ok = pd.DataFrame([r for r in records if not r.get("error")])
    lines = [
        "# Cell-type deconvolution: stmin MACD and peers",
        "",
        f"Command: `{argv}`  ",
        f"Machine: {_machine()}; every method in its own process, `OMP_NUM_THREADS=1`.  ",
        f"Date: {time.strftime('%Y-%m-%d')}; Python {platform.python_version()}; "
        f"stmin {sm.__version__}.",
        "",
        "Test spots: pseudo-spots of held-out real cells (see the script's docstring). "
        "PCC, SSIM, RMSE: per cell type across spots, then averaged; JSD: per spot, averaged; "
        "AS: the rank-aggregated accuracy score over PCC, SSIM, RMSE and JSD within a data set "
        "(1 = best on all four). Mean ± sd over seeds where several ran.",
        "",
        "| data set | reference cells | held-out cells | types | test spots | genes | library sizes |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, n in notes.items():
        lines.append(
            f"| {name} | {n['reference_cells']} | {n['held_out_cells']} | {n['cell_types']} | "
            f"{n['test_spots']} | {n['genes']} | {n['library_sizes']} (median {n['median_test_library']:.0f}) |"
        )
    lines.append("")
    if ok.empty:
        return "\n".join([*lines, *failed_runs(records)])
    for name in [d for d in DATASETS if d in set(ok["dataset"])]:
        sub = ok[ok["dataset"] == name]
        means = sub.groupby("method")[["pcc", "ssim", "rmse", "jsd"]].mean()
        score = sm.metrics.accuracy_score(means) if len(means) > 1 else pd.Series(1.0, means.index)
        lines += [
            f"## {name}",
            "",
            "| method | PCC | JSD | RMSE | SSIM | AS | wall (s) | peak memory (MiB) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        order = means.sort_values("pcc", ascending=False).index
        for method in order:
            r = sub[sub["method"] == method]
            lines.append(
                f"| {NAMES[method]} | {fmt(r['pcc'])} | {fmt(r['jsd'])} | {fmt(r['rmse'])} | "
                f"{fmt(r['ssim'])} | {score[method]:.2f} | {fmt(r['wall_s'], 0)} | "
                f"{fmt(r['peak_rss_mb'], 0)} |"
            )
        lines += [*_schedules(sub), ""]
    lines += [f"cell2location short schedule: {c2l_epochs} spatial epochs.", ""]
    return "\n".join([*lines, *failed_runs(records)])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    parser.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS + EXTRA)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("STMIN_DATA_DIR", HERE.parent.parent / "shared" / "data")),
    )
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--jobs", type=int, default=1, help="runs at once (one core each)")
    parser.add_argument("--c2l-epochs", type=int, default=3000)
    parser.add_argument(
        "--destvi-epochs", type=int, default=None, help="DestVI spatial epochs (default 2,000)"
    )
    parser.add_argument("--timeout", type=int, default=4 * 3600)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    records = Records.open(args.results, "deconvolution", args.fresh)
    for name in args.datasets:
        if name not in records.notes or not (WORK / name / "truth.csv").exists():
            records.note(name, prepare(name, args.data_dir))
    todo = [
        (m, d, s) for d in args.datasets for m in args.methods for s in args.seeds
        if (d, m, s) not in records.done
    ]  # fmt: skip
    table_path = args.results / "deconvolution.md"
    argv = command_line("deconvolution.py")

    def work(job):
        rec = run_method(*job, args.c2l_epochs, args.destvi_epochs, args.timeout)
        records.add(rec)
        print(json.dumps({k: v for k, v in rec.items() if k != "settings"}), flush=True)
        table_path.write_text(_table(records.records, records.notes, argv, args.c2l_epochs))

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(work, todo))
    table_path.write_text(_table(records.records, records.notes, argv, args.c2l_epochs))


if __name__ == "__main__":
    main()
