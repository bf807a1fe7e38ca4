"""What the benchmark drivers share: command line, resumable raw records, number formatting."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent


def parse_args(doc: str, datasets: list[str], methods: list[str], extra: list[str] = ()):
    """Parse ``--datasets --methods --seeds --data-dir --results --fresh``.

    ``extra`` methods may be named but are not run by default.
    """
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", nargs="+", default=list(datasets), choices=list(datasets))
    parser.add_argument("--methods", nargs="+", default=methods, choices=methods + list(extra))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    default_dir = os.environ.get("STMIN_DATA_DIR", str(HERE.parent.parent / "shared" / "data"))
    parser.add_argument("--data-dir", type=Path, default=Path(default_dir))
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--fresh", action="store_true", help="ignore earlier raw records")
    return parser.parse_args()


def command_line(script: str) -> str:
    """The command that was run, as it would be typed from the repository root."""
    return f"python benchmarks/{script} " + " ".join(sys.argv[1:])


@dataclass
class Records:
    """Raw records of one benchmark (``<stem>_raw.jsonl``) and its data notes, resumable.

    Runs recorded without an error are kept and skipped (``done``) unless ``fresh``; failed
    runs are dropped so that they are tried again.
    """

    raw_path: Path
    notes_path: Path
    records: list[dict]
    notes: dict
    done: set

    @classmethod
    def open(cls, results: Path, stem: str, fresh: bool) -> Records:
        results.mkdir(parents=True, exist_ok=True)
        raw_path = results / f"{stem}_raw.jsonl"
        notes_path = results / f"{stem}_data.json"
        records, notes = [], {}
        if not fresh:
            if raw_path.exists():
                lines = raw_path.read_text().splitlines()
                records = [json.loads(x) for x in lines if x.strip()]
            if notes_path.exists():
                notes = json.loads(notes_path.read_text())
        done = {(r["dataset"], r["method"], r["seed"]) for r in records if not r.get("error")}
        records = [r for r in records if (r["dataset"], r["method"], r["seed"]) in done]
        if fresh:
            raw_path.unlink(missing_ok=True)
        return cls(raw_path, notes_path, records, notes, done)

    def add(self, rec: dict) -> None:
        """Keep ``rec`` and append it to the raw file."""
        self.records.append(rec)
        with self.raw_path.open("a") as f:
            f.write(json.dumps(rec) + "\n")

    def note(self, name: str, value: dict) -> None:
        """Store the description of data set ``name``."""
        self.notes[name] = value
        self.notes_path.write_text(json.dumps(self.notes, indent=1))


def fmt(values, digits: int = 3) -> str:
    """``mean ± sd`` over seeds (sample sd), the value for one run, ``–`` for none."""
    values = pd.Series(values, dtype=float).dropna()
    if values.empty:
        return "–"
    if len(values) == 1:
        return f"{values.iloc[0]:.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def failed_runs(records: list[dict]) -> list[str]:
    """Markdown lines listing the runs recorded with an error (none: no lines)."""
    errors = [r for r in records if isinstance(r.get("error"), str) and r["error"]]
    if not errors:
        return []
    lines = ["## Failed runs", "", "| data set | method | seed | error |", "|---|---|---|---|"]
    lines += [f"| {r['dataset']} | {r['method']} | {r['seed']} | {r['error']} |" for r in errors]
    return [*lines, ""]
