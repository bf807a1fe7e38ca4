"""Command line: ``stmin demo`` and ``stmin run <method> IN.h5ad -o OUT.h5ad``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ._constants import CONNECTIVITIES_KEY, ToolKey

_DEMO_LABELS = "layer_guess"  # the manual layers of the bundled DLPFC section


def _int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer ≥ {low}, got {value}")
        return value

    return parse


def _writable_file(path: str) -> Path:
    """``path`` if its folder exists and it is not a folder itself; raise otherwise."""
    out = Path(path)
    if out.is_dir():
        raise ValueError(f"the output {path!r} is a folder; give a file name such as out.h5ad")
    if not out.parent.is_dir():
        raise FileNotFoundError(
            f"the output folder {str(out.parent)!r} does not exist; create it first"
        )
    return out


def _read_h5ad(path: str):
    import anndata as ad

    if not Path(path).is_file():
        raise FileNotFoundError(f"the input file {path!r} does not exist")
    try:
        return ad.read_h5ad(path)
    except Exception as err:  # h5py, anndata and OS errors all mean "cannot read it"
        raise ValueError(f"cannot read {path!r} as an .h5ad file ({type(err).__name__}: {err})") from None


def _demo(args: argparse.Namespace) -> int:
    import stmin as sm

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {args.out!r} is a file; give a folder")
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
        sm.pp.spatial_graph(adata, n_neighs=args.n_neighs)
    sm.tl.stmgac(
        adata,
        n_clusters=args.n_clusters,
        layer=args.layer,
        use_rep=args.use_rep,
        connectivity_key=args.connectivity_key,
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
    demo.add_argument("--seed", type=_int_at_least(0), default=0)
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
    run.add_argument("--layer", default=None, help="layer with raw counts (default: .X)")
    run.add_argument("--use-rep", default=None, help="obsm key to use instead of the preprocessing")
    run.add_argument(
        "--refine", type=_int_at_least(0), default=30, help="refinement neighbours (0: none)"
    )
    run.add_argument("--max-epochs", type=_int_at_least(1), default=500)
    run.add_argument("--accelerator", default="auto")
    run.add_argument("--seed", type=_int_at_least(0), default=0)
    run.set_defaults(func=_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``stmin`` command."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (KeyError, ValueError, TypeError, OSError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"stmin: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
