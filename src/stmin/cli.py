"""Command line: ``stmin demo`` and ``stmin run <method> IN.h5ad -o OUT.h5ad``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _demo(args: argparse.Namespace) -> int:
    import stmin as sm

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    adata = sm.datasets.dlpfc_151673()
    adata = adata[adata.obs["layer_guess"].notna()].copy()
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
    scores = sm.metrics.domain_scores(adata, "stmgac", "layer_guess")
    sm.pl.domains(
        adata,
        ["layer_guess", "stmgac"],
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
    import anndata as ad

    import stmin as sm

    adata = ad.read_h5ad(args.input)
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
    adata.write_h5ad(args.output)
    print(f"wrote {args.output}: obsm['X_stmgac'], obs['stmgac'], uns['stmgac']")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``stmin`` argument parser."""
    parser = argparse.ArgumentParser(prog="stmin", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="train STMGAC on the bundled DLPFC section")
    demo.add_argument("--out", default="stmin_demo", help="output folder (default: stmin_demo)")
    demo.add_argument("--max-epochs", type=int, default=500)
    demo.add_argument("--accelerator", default="auto")
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=_demo)

    run = sub.add_parser("run", help="run a method on an .h5ad file")
    run.add_argument("method", choices=["stmgac"])
    run.add_argument("input", help="input .h5ad (raw counts, obsm['spatial'])")
    run.add_argument("-o", "--output", required=True, help="output .h5ad")
    run.add_argument("--n-clusters", type=int, required=True)
    run.add_argument(
        "--n-neighs", type=int, default=12, help="neighbours of the graph built when none is stored"
    )
    run.add_argument("--connectivity-key", default="spatial_connectivities")
    run.add_argument("--layer", default=None, help="layer with raw counts (default: .X)")
    run.add_argument("--use-rep", default=None, help="obsm key to use instead of the preprocessing")
    run.add_argument("--refine", type=int, default=30, help="refinement neighbours (0: none)")
    run.add_argument("--max-epochs", type=int, default=500)
    run.add_argument("--accelerator", default="auto")
    run.add_argument("--seed", type=int, default=0)
    run.set_defaults(func=_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``stmin`` command."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (KeyError, ValueError, FileNotFoundError) as err:
        print(f"stmin: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
