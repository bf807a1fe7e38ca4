"""Command line: ``stmin demo`` and ``stmin run <method> IN.h5ad -o OUT.h5ad``."""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

from ._constants import CONNECTIVITIES_KEY, SPATIAL_KEY, ToolKey

_DEMO_LABELS = "layer_guess"  # the manual layers of the bundled DLPFC section
_MAX_SEED = 2**32 - 1

# arguments of the Python API that errors may name, and the options that set them
_OPTIONS = {
    "n_clusters": "--n-clusters",
    "n_neighs": "--n-neighs",
    "refine": "--refine",
    "layer": "--layer",
    "use_rep": "--use-rep",
    "connectivity_key": "--connectivity-key",
    "spatial_key": "--spatial-key",
    "max_epochs": "--max-epochs",
    "accelerator": "--accelerator",
    "random_state": "--seed",
}


def _int_between(low: int, high: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bound = f"≥ {low}" if high is None else f"between {low} and {high}"
            raise argparse.ArgumentTypeError(f"expected an integer {bound}, got {value}")
        return value

    return parse


def _int_at_least(low: int):
    return _int_between(low)


def _writable_file(path: str) -> Path:
    """``path`` if a file can be written there: not a folder, in an existing, writable folder."""
    out = Path(path).expanduser()
    if out.is_dir():
        raise ValueError(f"the output {path!r} is a folder; give a file name such as out.h5ad")
    if not out.parent.is_dir():
        raise FileNotFoundError(
            f"the output folder {str(out.parent)!r} does not exist; create it first"
        )
    if not os.access(out.parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise PermissionError(f"cannot write the output {path!r}: permission denied")
    return out


def _writable_folder(path: str) -> Path:
    """``path`` if it is (or can be created as) a writable folder; raise otherwise."""
    out = Path(path).expanduser()
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {path!r} is a file; give a folder")
    parent = out
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"--out {path!r} lies under the file {str(parent)!r}; give a folder")
    if not os.access(parent, os.W_OK):
        raise PermissionError(
            f"cannot write into {str(parent)!r} (--out {path!r}): permission denied"
        )
    return out


def _read_h5ad(path: str):
    import anndata as ad

    file = Path(path).expanduser()
    if file.is_dir():
        raise ValueError(f"the input {path!r} is a folder; give an .h5ad file")
    if not file.is_file():
        raise FileNotFoundError(f"the input file {path!r} does not exist")
    try:
        return ad.read_h5ad(file)
    except Exception as err:  # h5py, anndata and OS errors all mean "cannot read it"
        detail = str(err).splitlines()[0] if str(err) else ""
        raise ValueError(
            f"cannot read {path!r} as an .h5ad file ({type(err).__name__}: {detail})"
        ) from None


def _with_options(message: str) -> str:
    """``message`` with the command-line option next to each Python argument it names."""
    for name, option in _OPTIONS.items():

        def note(match: re.Match, option: str = option) -> str:
            hint = f"omit {option}" if match.group(1) == "=None" else option
            return f"{match.group(0)} ({hint})"

        message = re.sub(rf"`{name}(=[^`]*)?`", note, message, count=1)
    return message


def _demo(args: argparse.Namespace) -> int:
    import stmin as sm

    out = _writable_folder(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    adata = sm.datasets.dlpfc_151673()
    adata = adata[adata.obs[_DEMO_LABELS].notna()].copy()
    print(f"DLPFC 151673 (bundled): {adata.n_obs} annotated spots × {adata.n_vars} genes")
    sm.pp.spatial_graph(adata, n_neighs=12)
    sm.tl.stmgac(
        adata,
        n_clusters=7,
        max_epochs=args.max_epochs,
        accelerator=args.accelerator,
        random_state=args.seed,
    )
    wall = time.perf_counter() - start
    scores = sm.metrics.domain_scores(adata, ToolKey.STMGAC, _DEMO_LABELS)
    sm.pl.domains(
        adata,
        [_DEMO_LABELS, ToolKey.STMGAC],
        title=["manual layers", "STMGAC"],
        save=out / "domains.png",
    )
    adata.write_h5ad(out / "result.h5ad")
    print(
        f"STMGAC, {args.max_epochs} epochs: ARI {scores['ari']:.3f}, NMI {scores['nmi']:.3f}, "
        f"CHAOS {scores['chaos']:.4f}, PAS {scores['pas']:.3f}; {wall:.1f} s"
    )
    print(f"wrote {out / 'domains.png'} and {out / 'result.h5ad'}")
    return 0


def _run(args: argparse.Namespace) -> int:
    import stmin as sm

    output = _writable_file(args.output)
    adata = _read_h5ad(args.input)
    if args.connectivity_key not in adata.obsp:
        if args.connectivity_key != CONNECTIVITIES_KEY:
            raise KeyError(
                f"`adata.obsp[{args.connectivity_key!r}]` not found in {args.input!r} "
                f"(graphs stored: {list(adata.obsp)}); drop --connectivity-key to build the "
                "spatial graph from obsm['spatial']."
            )
        sm.pp.spatial_graph(adata, n_neighs=args.n_neighs, spatial_key=args.spatial_key)
    sm.tl.stmgac(
        adata,
        n_clusters=args.n_clusters,
        layer=args.layer,
        use_rep=args.use_rep,
        connectivity_key=args.connectivity_key,
        spatial_key=args.spatial_key,
        refine=args.refine or None,
        max_epochs=args.max_epochs,
        accelerator=args.accelerator,
        random_state=args.seed,
    )
    adata.write_h5ad(output)
    key = ToolKey.STMGAC
    print(f"wrote {output}: obsm['X_{key}'], obs['{key}'], uns['{key}']")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``stmin`` argument parser."""
    parser = argparse.ArgumentParser(prog="stmin", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="train STMGAC on the bundled DLPFC section")
    demo.add_argument("--out", default="stmin_demo", help="output folder (default: stmin_demo)")
    demo.add_argument("--max-epochs", type=_int_at_least(1), default=500)
    demo.add_argument("--accelerator", default="auto")
    demo.add_argument("--seed", type=_int_between(0, _MAX_SEED), default=0)
    demo.set_defaults(func=_demo)

    run = sub.add_parser("run", help="run a method on an .h5ad file")
    run.add_argument("method", choices=[ToolKey.STMGAC])
    run.add_argument("input", help="input .h5ad (raw counts, obsm['spatial'])")
    run.add_argument("-o", "--output", required=True, help="output .h5ad")
    run.add_argument("--n-clusters", type=_int_at_least(2), required=True)
    run.add_argument(
        "--n-neighs",
        type=_int_at_least(1),
        default=12,
        help="neighbours of the graph built when none is stored",
    )
    run.add_argument("--connectivity-key", default=CONNECTIVITIES_KEY)
    run.add_argument("--spatial-key", default=SPATIAL_KEY, help="obsm key of the spot coordinates")
    run.add_argument("--layer", default=None, help="layer with raw counts (default: .X)")
    run.add_argument("--use-rep", default=None, help="obsm key to use instead of the preprocessing")
    run.add_argument(
        "--refine", type=_int_at_least(0), default=30, help="refinement neighbours (0: none)"
    )
    run.add_argument("--max-epochs", type=_int_at_least(1), default=500)
    run.add_argument("--accelerator", default="auto")
    run.add_argument("--seed", type=_int_between(0, _MAX_SEED), default=0)
    run.set_defaults(func=_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``stmin`` command."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (KeyError, ValueError, TypeError, OSError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"stmin: error: {_with_options(str(message))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
