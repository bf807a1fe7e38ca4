"""Multi-slice integration benchmark: stmin STG3Net against per-slice STMGAC, Harmony and scVI.

Each method runs on the concatenated slices in its own process (``run_integration.py``), so
wall time and peak memory are comparable. Scores: ARI/NMI of the joint labels against the
manual layers (over all slices, and per slice), and batch mixing of the embedding: iLISI
(median; 1 = slices apart, number of slices = fully mixed), F1-LISI and batch ASW (both against
the manual layers). Writes ``benchmarks/results/integration.md`` and the raw records
``integration_raw.jsonl``; resumes from earlier records unless ``--fresh``.

Data (read with ``sm.datasets`` from ``--data-dir``, default ``$STMIN_DATA_DIR`` or
``../shared/data``): DLPFC 151673–151675 (one donor; 7 layers, unannotated spots dropped; the
genes shared by the three files) and the four Ståhl 2016 breast-cancer ST sections (no labels:
5 domains, mixing only).

    python benchmarks/integration.py                               # everything
    python benchmarks/integration.py --datasets dlpfc --methods stg3net --seeds 0
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _harness import Records, command_line, failed_runs, fmt, parse_args
from domains import _machine
from peers._run import THREAD_ENV

import stmin as sm

METHODS = ["stg3net", "stg3net_noadv", "stmgac_per_slice", "harmony_gmm", "scvi_gmm"]
NAMES = {
    "stg3net": "stmin STG3Net (adversarial: GRL)",
    "stg3net_noadv": "stmin STG3Net (no adversarial gradient, as released)",
    "stmgac_per_slice": "stmin STMGAC, each slice alone",
    "harmony_gmm": "PCA + Harmony + GMM",
    "scvi_gmm": "scVI (batch-aware) + GMM",
}
DATASETS = {
    "dlpfc": {"n_neighs": 12, "k": 7, "truth": "layer_guess"},
    "stahl2016": {"n_neighs": 6, "k": 5, "truth": None},
}


def _load(name: str, data_dir: Path):
    if name == "dlpfc":
        parts = {}
        for section in ("151673", "151674", "151675"):
            a = sm.datasets.dlpfc(section, path=data_dir)
            a = a[a.obs["layer_guess"].notna()].copy()
            a.obs["layer_guess"] = a.obs["layer_guess"].astype(str)
            parts[section] = a
        genes = {s: a.n_vars for s, a in parts.items()}
        adata = sm.pp.concat_slices(parts, batch_key="slice")
        note = (
            "genes per file "
            + ", ".join(f"{s}: {n}" for s, n in genes.items())
            + f"; shared by all three: {adata.n_vars}"
        )
        return adata, note
    adata = sm.datasets.stahl2016_breast_cancer(path=data_dir)
    return adata, f"{adata.n_vars} genes (one matrix for all four sections)"


def _run(method, path, cfg, seed, out):
    out.unlink(missing_ok=True)
    cmd = [
        sys.executable, str(HERE / "run_integration.py"), "--method", method,
        "--input", str(path), "--batch-key", "slice", "--n-clusters", str(cfg["k"]),
        "--seed", str(seed), "--output", str(out), "--n-neighs", str(cfg["n_neighs"]),
    ]  # fmt: skip
    proc = subprocess.run(cmd, env={**os.environ, **THREAD_ENV}, capture_output=True, text=True)
    if proc.returncode != 0 or not out.exists():
        lines = proc.stderr.strip().splitlines()
        return {"error": lines[-1] if lines else f"failed (exit code {proc.returncode})"}
    return json.loads(out.read_text())


def _scores(adata, truth, labels, z) -> dict:
    batch = adata.obs["slice"].astype(str).to_numpy()
    rec = {
        "ilisi": sm.metrics.ilisi(z, batch),
        "ilisi_scaled": sm.metrics.ilisi(z, batch, scaled=True),
    }
    if truth is not None:
        y = adata.obs[truth].to_numpy()
        rec |= {
            "ari": sm.metrics.ari(y, labels),
            "nmi": sm.metrics.nmi(y, labels),
            "ari_per_slice": {
                s: sm.metrics.ari(y[batch == s], labels[batch == s]) for s in np.unique(batch)
            },
            "f1_lisi": sm.metrics.f1_lisi(z, batch, y),
            "batch_asw": sm.metrics.batch_asw(z, batch, y),
        }
    return rec


def write_report(records: list[dict], notes: dict, out: Path) -> None:
    """Write the markdown tables of ``records``."""
    commands = list(dict.fromkeys(r.get("command", "?") for r in records))
    lines = [
        "# Multi-slice integration: stmin STG3Net and peers",
        "",
        "- commands (in this order; later ones add to the raw records): "
        + "; ".join(f"`{c}`" for c in commands),
        f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"- machine: {_machine()}; every run in its own process with `OMP_NUM_THREADS=1`",
        f"- stmin {sm.__version__}, Python {platform.python_version()}",
        "- ARI/NMI: joint labels against the manual layers over all slices; per slice in the "
        "second table. iLISI: median over spots (1 = slices apart, 3 = fully mixed for three "
        "slices); F1-LISI and batch ASW against the manual layers (1 = best). Wall time = "
        "preprocessing + training + clustering; mean ± sd over seeds",
        "",
    ]
    df = pd.DataFrame([r for r in records if not r.get("error")])
    for name, note in notes.items():
        lines += [f"## {name}", "", f"- data: {note}", ""]
        if df.empty or name not in set(df["dataset"]):
            lines += ["(no runs yet)", ""]
            continue
        sub = df[df["dataset"] == name]
        has_truth = "ari" in sub and sub["ari"].notna().any()
        head = ["method", "runs", "iLISI", "wall (s)", "peak memory (MiB)"]
        if has_truth:
            head[2:2] = ["ARI", "NMI", "F1-LISI", "batch ASW"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for method in [m for m in METHODS if m in set(sub["method"])]:
            g = sub[sub["method"] == method]
            row = [NAMES[method], str(len(g)), fmt(g["ilisi"], 2), fmt(g["wall_s"], 1)]
            row.append(f"{g['peak_rss_mb'].max():.0f}")
            if has_truth:
                row[2:2] = [fmt(g[c]) for c in ("ari", "nmi", "f1_lisi", "batch_asw")]
            lines.append("| " + " | ".join(row) + " |")
        if has_truth:
            slices = sorted(next(iter(sub["ari_per_slice"])).keys())
            lines += ["", "| method | " + " | ".join(f"ARI {s}" for s in slices) + " |"]
            lines.append("|---|" + "---|" * len(slices))
            for method in [m for m in METHODS if m in set(sub["method"])]:
                g = sub[sub["method"] == method]
                per = pd.DataFrame(list(g["ari_per_slice"]))
                lines.append(
                    f"| {NAMES[method]} | " + " | ".join(fmt(per[s]) for s in slices) + " |"
                )
        lines.append("")
    lines += failed_runs(records)
    out.write_text("\n".join(lines))


def main() -> None:
    args = parse_args(__doc__, list(DATASETS), METHODS)
    command = command_line("integration.py")
    work = HERE / ".work" / "integration"
    work.mkdir(parents=True, exist_ok=True)
    store = Records.open(args.results, "integration", args.fresh)
    report = args.results / "integration.md"

    for name in args.datasets:
        cfg = DATASETS[name]
        adata, note = _load(name, args.data_dir)
        store.note(name, note)
        path = work / f"{name}.h5ad"
        adata.write_h5ad(path)
        for method in args.methods:
            for seed in args.seeds:
                if (name, method, seed) in store.done:
                    continue
                out = work / f"{method}_{name}_s{seed}.json"
                res = _run(method, path, cfg, seed, out)
                rec = {"dataset": name, "method": method, "seed": seed, "command": command}
                if res.get("error"):
                    rec["error"] = res["error"]
                else:
                    labels = np.asarray(res["labels"])
                    z = np.load(out.with_suffix(".npy"))
                    rec |= _scores(adata, cfg["truth"], labels, z)
                    rec |= {"wall_s": res["wall_s"], "peak_rss_mb": res["peak_rss_mb"]}
                store.add(rec)
                msg = rec.get("error") or (
                    f"ARI {rec.get('ari', float('nan')):.3f}, iLISI {rec['ilisi']:.2f}, "
                    f"{rec['wall_s']:.1f} s"
                )
                print(f"{name} {method} seed {seed}: {msg}", flush=True)
                write_report(store.records, store.notes, report)
    write_report(store.records, store.notes, report)


if __name__ == "__main__":
    main()
