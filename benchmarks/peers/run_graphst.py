"""GraphST spatial domains (CPU), run inside ``benchmarks/.envs/graphst``.

Follows GraphST's tutorial "Tutorial 1: 10X Visium" (human DLPFC 151673, linked from the
GraphST README: https://deepst-tutorials.readthedocs.io/):
``GraphST.GraphST(adata, device)`` with package defaults (its own preprocessing: 3,000
seurat_v3 HVGs, normalize_total 1e4, log1p, scale without centring; 3-NN spatial graph;
600 epochs, lr 1e-3, 64-dim output), then ``clustering`` on the 20-PC embedding. The
tutorial's default clusterer is R mclust (with label refinement, radius 50), which needs R;
we use the tutorial's documented non-R branch instead: leiden with the resolution search
``start=0.1, end=2.0, increment=0.01`` and ``refinement=False``, exactly as the tutorial
calls it. The histology image is not used (GraphST does not use it). ``--seed`` is passed as
GraphST's ``random_seed`` (package default 41); the leiden search itself uses GraphST's
fixed ``random_state=0``.
"""

import time
from importlib.metadata import version

import anndata as ad
import torch
from _run import parse_runner_args, write_result
from GraphST import GraphST
from GraphST.utils import clustering

SETTINGS = {
    "device": "cpu",
    "epochs": 600,
    "n_top_genes": 3000,
    "clustering": "leiden",
    "res_search": [0.1, 2.0, 0.01],
    "refinement": False,
    "n_pcs": 20,
}


def main() -> None:
    """Train GraphST and cluster its embedding into ``--n-clusters`` domains."""
    args = parse_runner_args(__doc__.splitlines()[0])
    adata = ad.read_h5ad(args.input)
    adata.var_names_make_unique()
    if "highly_variable" in adata.var:  # GraphST then skips its own preprocessing
        del adata.var["highly_variable"]
    t0 = time.perf_counter()
    model = GraphST.GraphST(
        adata, device=torch.device("cpu"), epochs=SETTINGS["epochs"], random_seed=args.seed
    )
    out = model.train()
    start, end, step = SETTINGS["res_search"]
    clustering(
        out,
        args.n_clusters,
        method="leiden",
        start=start,
        end=end,
        increment=step,
        refinement=False,
    )
    assert (out.obs_names == adata.obs_names).all()
    labels = out.obs["domain"].astype(str).tolist()
    settings = {**SETTINGS, "n_clusters": args.n_clusters, "random_seed": args.seed}
    write_result(args.output, "graphst", version("GraphST"), labels, t0, settings)


if __name__ == "__main__":
    main()
