"""Run peer spatial-domain tools, each in its own virtual environment, via subprocess.

Standard library only: this module is imported both by the benchmark harness (main project
Python) and by the ``run_<tool>.py`` runners (each peer's own venv Python).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

PEERS_DIR = Path(__file__).resolve().parent
ENVS_DIR = Path(os.environ.get("PEER_ENVS_DIR", PEERS_DIR.parent / ".envs"))  # as setup_envs.sh
WORK_DIR = PEERS_DIR.parent / ".work" / "peers"

# tool name -> module its runner imports (used to check that a venv is usable)
PEERS = {
    "graphst": "GraphST",
    "spagcn": "SpaGCN",
    "banksy": "banksy",
    "cellcharter": "cellcharter",
    # the original STMGAC research code; its source copy comes from setup_stmgac_original.sh
    "stmgac_original": "torch_geometric",
}

# the same for every method, ours included: OpenMP pools (PyTorch intra-op, scikit-learn) run one
# thread, as advised on a 2-core machine; BLAS libraries (MKL, OpenBLAS) keep their defaults
THREAD_ENV = {"OMP_NUM_THREADS": "1"}


def env_python(tool: str) -> Path:
    """Path of the Python interpreter of ``tool``'s virtual environment."""
    return ENVS_DIR / tool / "bin" / "python"


def _child_env(tool: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(THREAD_ENV)
    env["VIRTUAL_ENV"] = str(ENVS_DIR / tool)
    env["PYTHONNOUSERSITE"] = "1"
    env["MPLBACKEND"] = "Agg"
    return env


def available_peers() -> list[str]:
    """Peers whose venv exists and whose package imports there (checked in parallel)."""
    procs = {
        tool: subprocess.Popen(
            [str(env_python(tool)), "-c", f"import {module}"],
            env=_child_env(tool),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for tool, module in PEERS.items()
        if env_python(tool).exists()
    }
    found = []
    for tool, proc in procs.items():
        try:
            ok = proc.wait(timeout=300) == 0
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            ok = False
        if ok:
            found.append(tool)
    return found


def _failure_reason(log_path: Path, returncode: int) -> str:
    """Last non-empty log line (the exception, for a Python traceback)."""
    lines = [ln.strip() for ln in log_path.read_text(errors="replace").splitlines() if ln.strip()]
    last = lines[-1][:300] if lines else "no output"
    return f"killed by signal {-returncode}: {last}" if returncode < 0 else last


def run_peer(
    tool: str,
    h5ad_path: str,
    n_clusters: int,
    seed: int = 0,
    timeout: int = 3600,
    out_dir: str | None = None,
) -> dict:
    """Run ``run_<tool>.py`` in the tool's venv and return its JSON result plus ``returncode``.

    Output JSON and a stderr log go to ``out_dir`` (default ``benchmarks/.work/peers``).
    Never raises for a failed run: returns ``{"tool", "error", "returncode", ...}`` instead.
    """
    if tool not in PEERS:
        return {"tool": tool, "error": f"unknown peer (known: {', '.join(PEERS)})"}
    python = env_python(tool)
    if not python.exists():
        return {"tool": tool, "error": f"venv missing: {python} (run setup_envs.sh)"}
    if not Path(h5ad_path).is_file():
        return {"tool": tool, "error": f"input not found: {h5ad_path}"}
    out = Path(out_dir) if out_dir else WORK_DIR
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{tool}_{Path(h5ad_path).stem}_k{n_clusters}_s{seed}"
    json_path, log_path = out / f"{stem}.json", out / f"{stem}.log"
    json_path.unlink(missing_ok=True)
    cmd = [
        str(python),
        str(PEERS_DIR / f"run_{tool}.py"),
        "--input", str(Path(h5ad_path).resolve()),
        "--n-clusters", str(n_clusters),
        "--seed", str(seed),
        "--output", str(json_path),
    ]  # fmt: skip
    base = {"tool": tool, "output": str(json_path), "log": str(log_path)}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_child_env(tool),
            start_new_session=True,
        )
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return {**base, "returncode": None, "error": f"timeout after {timeout} s"}
    if returncode != 0:
        return {**base, "returncode": returncode, "error": _failure_reason(log_path, returncode)}
    try:
        result = json.loads(json_path.read_text())
    except (OSError, ValueError) as exc:
        return {**base, "returncode": returncode, "error": f"bad result file: {exc}"}
    return {**base, **result, "returncode": returncode}


# ---- helpers for the runners (executed inside each peer's venv) ----


def parse_runner_args(description: str) -> argparse.Namespace:
    """Command line shared by all runners."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--input", required=True, help="h5ad with raw counts and obsm['spatial']")
    parser.add_argument("--n-clusters", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", required=True, help="JSON result path")
    return parser.parse_args()


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB.

    Read from ``VmHWM`` in ``/proc/self/status``: unlike ``getrusage``'s ``ru_maxrss``, which on
    Linux keeps the high-water mark of the parent process it was forked from, it covers only this
    program. Falls back to ``ru_maxrss`` where ``/proc`` is missing.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_result(
    output: str,
    tool: str,
    version: str,
    labels: list[str],
    t_start: float,
    settings: dict,
) -> None:
    """Write the runner's JSON result; ``t_start`` is a ``time.perf_counter()`` value."""
    wall_s = time.perf_counter() - t_start
    result = {
        "tool": tool,
        "version": version,
        "labels": [str(x) for x in labels],
        "wall_s": round(wall_s, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "settings": settings,
    }
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text(json.dumps(result))
    print(
        f"{tool} {version}: {len(set(result['labels']))} clusters, "
        f"{wall_s:.1f} s, peak RSS {result['peak_rss_mb']} MiB",
        file=sys.stderr,
    )
