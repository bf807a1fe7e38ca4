"""Run stmin MACD on a reference and spots (.h5ad) and write proportions as JSON.

Same protocol as the deconvolution peer runners in ``peers/``: the timing covers marker
selection, simulation, training and prediction, not interpreter start-up, imports or reading
the inputs; the peak memory is this process's high-water mark.

    python benchmarks/run_macd.py --reference ref.h5ad --spatial st.h5ad --labels-key cell_type \
        --seed 0 --output out.json [--variant default|released|scvi] [--max-epochs 200]

Variants: ``default`` (working domain heads, masking of the real spots), ``released`` (the
released code's behaviour: inert one-unit-LayerNorm heads, masking of the simulated spots),
``scvi`` (default model on the original's input: the posterior mean of a scVI model with a
2,048-d latent, 2 layers, ZINB, gene-batch dispersion, fitted on pseudo-spots and real spots
with the domain as batch, ``--scvi-epochs`` epochs).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import anndata as ad
import torch
from peers._run import peak_rss_mb

import stmin as sm

VARIANTS = {
    "default": {},
    "released": {"adversarial": "released", "mask_domain": "simulated"},
    "scvi": {},
}


def _scvi_features(
    model: sm.model.MACD, n_latent: int, max_epochs: int, seed: int
) -> sm.model.MACD:
    """A MACD model on the same training spots with a scVI latent as input (the original's)."""
    import scvi

    data = model.adata.copy()
    scvi.settings.seed = seed
    scvi.model.SCVI.setup_anndata(data, batch_key="domain")
    vae = scvi.model.SCVI(
        data, n_layers=2, n_latent=n_latent, gene_likelihood="zinb", dispersion="gene-batch"
    )
    vae.train(
        max_epochs=max_epochs, batch_size=4096, early_stopping=True, enable_progress_bar=False
    )
    data.obsm["X_scvi"] = vae.get_latent_representation()
    sm.model.MACD.setup_anndata(data, features_key="X_scvi")
    return sm.model.MACD(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reference", required=True)
    parser.add_argument("--spatial", required=True)
    parser.add_argument("--labels-key", default="cell_type")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", required=True)
    parser.add_argument("--variant", choices=list(VARIANTS), default="default")
    parser.add_argument("--max-epochs", type=int, default=200)
    parser.add_argument("--scvi-latent", type=int, default=2048)
    parser.add_argument("--scvi-epochs", type=int, default=400)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("scvi").setLevel(logging.WARNING)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    torch.set_num_threads(1)
    ref, st = ad.read_h5ad(args.reference), ad.read_h5ad(args.spatial)

    t0 = time.perf_counter()
    import scvi

    scvi.settings.seed = args.seed
    model = sm.model.MACD.from_reference(
        st, ref, args.labels_key, random_state=args.seed, **VARIANTS[args.variant]
    )
    settings = {"variant": args.variant, "max_epochs": args.max_epochs, **VARIANTS[args.variant]}
    settings["n_genes"] = int(model.adata.n_vars)
    if args.variant == "scvi":
        model = _scvi_features(model, args.scvi_latent, args.scvi_epochs, args.seed)
        settings.update(scvi_latent=args.scvi_latent, scvi_max_epochs=args.scvi_epochs)
    t_features = time.perf_counter() - t0
    scvi.settings.seed = args.seed
    model.train(max_epochs=args.max_epochs, enable_progress_bar=False)
    props = model.get_proportions(None if args.variant == "scvi" else st)
    wall = time.perf_counter() - t0
    settings["preparation_s"] = round(t_features, 1)
    result = {
        "tool": "stmin_macd",
        "version": sm.__version__,
        "cell_types": [str(c) for c in props.columns],
        "spots": [str(s) for s in props.index],
        "proportions": props.to_numpy().round(6).tolist(),
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "settings": settings,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result))
    print(
        f"stmin MACD ({args.variant}): {wall:.1f} s, peak {result['peak_rss_mb']} MiB",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
