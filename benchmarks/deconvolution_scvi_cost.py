"""Cost of MACD's original feature step: a scVI model with a 2,048-d latent on the training spots.

MACD's released code embeds pseudo-spots and real spots with scVI (2 layers, 2,048-d latent,
ZINB, gene-batch dispersion, domain as batch; up to 1,000 epochs, batch 4,096) before its own
network. This times 10 epochs of that model on the training spots that ``sm.model.MACD``
builds for the data sets prepared by ``deconvolution.py`` (run that first) and extrapolates to
1,000 epochs, to compare with a whole stmin MACD run on log-normalised marker genes.

    python benchmarks/deconvolution_scvi_cost.py > benchmarks/results/deconvolution_scvi_cost.txt
"""

import logging
import sys
import time
import warnings
from pathlib import Path

import anndata as ad
import scvi
import torch

import stmin as sm

WORK = Path(__file__).resolve().parent / ".work" / "deconvolution"

warnings.filterwarnings("ignore")
logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
torch.set_num_threads(1)
print("command: python benchmarks/deconvolution_scvi_cost.py; one thread", flush=True)
for name in sys.argv[1:] or ["hippocampus", "lymph_node"]:
    ref = ad.read_h5ad(WORK / name / "reference.h5ad")
    st = ad.read_h5ad(WORK / name / "spots.h5ad")
    data = sm.model.MACD.from_reference(st, ref, "cell_type").adata.copy()
    scvi.settings.seed = 0
    scvi.model.SCVI.setup_anndata(data, batch_key="domain")
    vae = scvi.model.SCVI(
        data, n_layers=2, n_latent=2048, gene_likelihood="zinb", dispersion="gene-batch"
    )
    t0 = time.perf_counter()
    vae.train(max_epochs=10, batch_size=4096, enable_progress_bar=False)
    per_epoch = (time.perf_counter() - t0) / 10
    print(
        f"{name}: {data.n_obs} spots × {data.n_vars} genes; scVI (2,048-d latent) "
        f"{per_epoch:.2f} s/epoch → 1,000 epochs ≈ {per_epoch * 1000:.0f} s",
        flush=True,
    )
