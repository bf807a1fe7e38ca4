"""Spatial-domain benchmark: stmin STMGAC against baselines and peer tools on real data.

Runs every method on every data set and seed in its own process (so wall time and peak memory
are comparable), scores the labels against the manual annotation and writes
``benchmarks/results/domains.md`` plus the raw records ``benchmarks/results/domains_raw.jsonl``.

Data: DLPFC 151673–151675 (Visium, ``layer_guess``, 7 layers; unannotated spots dropped as in
the paper) and the HER2+ sections with pathologist labels (ST; spots labelled "undetermined"
dropped; the number of domains is the number of labels left). Read with ``sm.datasets`` from
``--data-dir`` (default: ``$STMIN_DATA_DIR`` or ``../shared/data``).

Peers (GraphST, SpaGCN, BANKSY, CellCharter) run in their own virtual environments made by
``benchmarks/peers/setup_envs.sh``; a peer whose environment is missing is reported as such.

    python benchmarks/domains.py                      # everything, 3 seeds
    python benchmarks/domains.py --methods stmgac --datasets 151673 --seeds 0
"""

from __future__ import annotations

import argparse
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

from peers._run import PEERS, THREAD_ENV, run_peer

import stmin as sm

DLPFC = ["151673", "151674", "151675"]
HER2ST = ["A1", "B1", "C1", "D1", "E1", "F1", "G2", "H1"]
OURS = ["stmgac", "pca_kmeans", "leiden"]
METHOD_NAMES = {
    "stmgac": "stmin STMGAC",
    "pca_kmeans": "PCA + k-means",
    "leiden": "Leiden (k matched)",
    "graphst": "GraphST",
    "spagcn": "SpaGCN",
    "banksy": "BANKSY",
    "cellcharter": "CellCharter",
}
# graph size and refinement per platform, as in the STMGAC paper (Visium: 12 neighbours and a
# 30-spot majority vote; ST: 6 neighbours, no refinement)
PLATFORM = {"visium": {"n_neighs": 12, "refine": 30}, "st": {"n_neighs": 6, "refine": 0}}


def _load(name: str, data_dir: Path):
    if name in DLPFC:
        adata = sm.datasets.dlpfc(name, path=data_dir)
        truth, platform_ = "layer_guess", "visium"
        keep = adata.obs[truth].notna().to_numpy()
    else:
        adata = sm.datasets.her2st(name, path=data_dir)
        truth, platform_ = "label", "st"
        keep = (adata.obs[truth].notna() & (adata.obs[truth] != "undetermined")).to_numpy()
    adata = adata[keep].copy()
    adata.obs[truth] = adata.obs[truth].astype(str)
    return adata, truth, platform_


def _run_ours(method: str, path: Path, k: int, seed: int, platform_: str, out: Path) -> dict:
    out.parent.mkdir(parents=True, exist_ok=True)
    cfg = PLATFORM[platform_]
    cmd = [
        sys.executable, str(HERE / "run_stmin.py"), "--method", method, "--input", str(path),
        "--n-clusters", str(k), "--seed", str(seed), "--output", str(out),
        "--n-neighs", str(cfg["n_neighs"]), "--refine", str(cfg["refine"]),
    ]  # fmt: skip
    env = {**os.environ, **THREAD_ENV}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    return json.loads(out.read_text())


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {platform.system()} {platform.release()}"


def _fmt(values: pd.Series, digits: int = 3) -> str:
    values = values.dropna()
    if values.empty:
        return "–"
    if len(values) == 1:
        return f"{values.iloc[0]:.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def write_report(records: list[dict], out: Path) -> None:
    """Write the markdown table of ``records`` (listing the commands that produced them)."""
    df = pd.DataFrame(records)
    commands = list(dict.fromkeys(r.get("command", "?") for r in records))
    ok = df[df["error"].isna()] if "error" in df else df
    lines = [
        "# Spatial domains: stmin STMGAC and peers",
        "",
        "- commands (run in this order; later ones add to the raw records): "
        + "; ".join(f"`{c}`" for c in commands),
        f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"- machine: {_machine()}; every run in its own process with `OMP_NUM_THREADS=1` (BLAS libraries at their defaults)",
        f"- stmin {sm.__version__}, Python {platform.python_version()}",
        "- data: DLPFC 151673–151675 (top-5,000-HVG counts of the public files, `layer_guess`, "
        "7 layers, unannotated spots dropped); HER2+ sections with pathologist labels "
        '("undetermined" spots dropped; k = number of labels left)',
        "- ARI/NMI against the manual labels; wall time = preprocessing + training + clustering "
        "(no imports, no file reading); peak memory = peak RSS of the process; mean ± sd over seeds",
        "",
    ]
    for group, names in (("DLPFC (Visium)", DLPFC), ("HER2+ (ST)", HER2ST)):
        sub = ok[ok["dataset"].isin(names)]
        if sub.empty:
            continue
        lines += [f"## {group}: mean over sections", ""]
        lines += ["| method | mean ARI | mean NMI | mean wall (s) | max peak memory (MiB) | runs |"]
        lines += ["|---|---|---|---|---|---|"]
        for method, g in sub.groupby("method", sort=False):
            per_seed = g.groupby("seed")[["ari", "nmi"]].mean()
            lines.append(
                f"| {METHOD_NAMES.get(method, method)} | {_fmt(per_seed['ari'])} | "
                f"{_fmt(per_seed['nmi'])} | {g['wall_s'].mean():.1f} | "
                f"{g['peak_rss_mb'].max():.0f} | {len(g)} |"
            )
        lines += ["", f"## {group}: per section", ""]
        lines += ["| section | spots | k | method | ARI | NMI | wall (s) | peak memory (MiB) |"]
        lines += ["|---|---|---|---|---|---|---|---|"]
        for (dataset, method), g in sub.groupby(["dataset", "method"], sort=False):
            lines.append(
                f"| {dataset} | {int(g['n_obs'].iloc[0])} | {int(g['k'].iloc[0])} | "
                f"{METHOD_NAMES.get(method, method)} | {_fmt(g['ari'])} | {_fmt(g['nmi'])} | "
                f"{_fmt(g['wall_s'], 1)} | {g['peak_rss_mb'].max():.0f} |"
            )
        lines.append("")
    failed = df[df["error"].notna()] if "error" in df else df.iloc[:0]
    if not failed.empty:
        lines += [
            "## Runs that failed",
            "",
            "| section | method | seed | error |",
            "|---|---|---|---|",
        ]
        for _, r in failed.iterrows():
            lines.append(
                f"| {r['dataset']} | {r['method']} | {r['seed']} | {str(r['error'])[:200]} |"
            )
        lines.append("")
    out.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", nargs="+", default=DLPFC + HER2ST)
    parser.add_argument("--methods", nargs="+", default=OURS + list(PEERS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    default_dir = os.environ.get("STMIN_DATA_DIR", str(HERE.parent.parent / "shared" / "data"))
    parser.add_argument("--data-dir", type=Path, default=Path(default_dir))
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--fresh", action="store_true", help="ignore earlier raw records")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per peer run")
    args = parser.parse_args()
    command = "python benchmarks/domains.py " + " ".join(sys.argv[1:])

    work = HERE / ".work" / "domains"
    work.mkdir(parents=True, exist_ok=True)
    args.results.mkdir(parents=True, exist_ok=True)
    raw_path = args.results / "domains_raw.jsonl"
    records = (
        []
        if args.fresh or not raw_path.exists()
        else [json.loads(x) for x in raw_path.read_text().splitlines()]
    )
    done = {(r["dataset"], r["method"], r["seed"]) for r in records if not r.get("error")}
    records = [r for r in records if (r["dataset"], r["method"], r["seed"]) in done]

    for name in args.datasets:
        adata, truth, platform_ = _load(name, args.data_dir)
        k = adata.obs[truth].nunique()
        path = work / f"{name}.h5ad"
        ad_out = adata.copy()
        ad_out.obs = ad_out.obs[[truth]]
        ad_out.write_h5ad(path)
        for method in args.methods:
            for seed in args.seeds:
                if (name, method, seed) in done:
                    continue
                out = work / f"{method}_{name}_s{seed}.json"
                if method in OURS:
                    res = _run_ours(method, path, k, seed, platform_, out)
                else:
                    res = run_peer(
                        method, str(path), k, seed, timeout=args.timeout, out_dir=str(work)
                    )
                rec = {
                    "dataset": name,
                    "method": method,
                    "seed": seed,
                    "n_obs": adata.n_obs,
                    "k": k,
                    "command": command,
                }
                if res.get("error"):
                    rec["error"] = res["error"]
                else:
                    labels = np.asarray(res["labels"])
                    rec |= {
                        "ari": sm.metrics.ari(adata.obs[truth], labels),
                        "nmi": sm.metrics.nmi(adata.obs[truth], labels),
                        "wall_s": res["wall_s"],
                        "peak_rss_mb": res["peak_rss_mb"],
                        "version": res.get("version"),
                        "settings": res.get("settings"),
                    }
                records.append(rec)
                with raw_path.open("a" if raw_path.exists() and not args.fresh else "w") as f:
                    f.write(json.dumps(rec) + "\n")
                args.fresh = False
                msg = (
                    rec.get("error")
                    or f"ARI {rec['ari']:.3f}, {rec['wall_s']:.1f} s, {rec['peak_rss_mb']:.0f} MiB"
                )
                print(f"{name} {method} seed {seed}: {msg}", flush=True)
                write_report(records, args.results / "domains.md")
    write_report(records, args.results / "domains.md")


if __name__ == "__main__":
    main()
