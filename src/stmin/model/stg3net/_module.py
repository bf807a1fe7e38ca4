"""STG3Net torch module: shared masked graph autoencoder, slice discriminator, G2N triplets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from scvi import REGISTRY_KEYS
from scvi.module.base import BaseModuleClass, LossOutput
from torch import nn

from ..._cluster import cluster_embedding
from ...nn import (
    BatchDiscriminator,
    GraphBlock,
    GraphEncoder,
    SparseGraph,
    Triplets,
    cross_slice_pairs,
    g2n_triplets,
    mask_nodes,
    reverse_gradient,
    scaled_cosine_error,
    triplet_loss,
)
from ...train import whole_graph

Adversarial = Literal["grl", "none"]


class STG3NetModule(BaseModuleClass):
    """Masked graph autoencoder over several slices with batch correction (Fang et al., 2024).

    One training step: mask ``mask_rate`` of the nodes (token or random replacement); encode the
    masked block-diagonal graph; decode and score the masked nodes with the scaled cosine
    error; a discriminator predicts each node's slice from the embedding through a gradient
    reversal layer (``adversarial="grl"``), so the encoder learns to hide the slice; from epoch
    ``start_step`` on, a triplet loss pulls together G2N anchor pairs (mutually similar nodes of
    different slices with the same pseudo-label), re-mined every ``t_step`` epochs.

    Parameters
    ----------
    n_input
        Input features per node.
    graph
        Normalised block-diagonal spatial adjacency of all slices.
    n_batches
        Number of slices.
    n_clusters
        Pseudo-label clusters used to filter the anchor pairs.
    n_hidden, n_gcn_hidden, n_latent, dropout
        Encoder architecture (STMGAC's backbone).
    mask_rate, replace_rate
        Node masking.
    sce_t
        Exponent of the scaled cosine error.
    loss_weights
        Weights of the reconstruction, triplet and adversarial losses.
    adversarial
        ``"grl"``: the discriminator's gradient reaches the encoder reversed. ``"none"``: the
        discriminator trains on a detached embedding and only reports how well slices can be
        told apart (the released code's effective behaviour).
    n_anchor_neighbors, anchor_drop_rate
        G2N candidates per node in the other slices and their drop probability.
    start_step, t_step
        First epoch of the triplet loss and the anchor refresh period.
    triplet_margin
        Margin of the triplet loss.
    """

    def __init__(
        self,
        n_input: int,
        graph: SparseGraph,
        n_batches: int,
        n_clusters: int,
        *,
        n_hidden: Sequence[int] = (64, 32),
        n_gcn_hidden: int = 64,
        n_latent: int = 16,
        dropout: float = 0.2,
        mask_rate: float = 0.5,
        replace_rate: float = 0.1,
        sce_t: float = 2.0,
        loss_weights: Sequence[float] = (0.7, 1.0, 0.1),
        adversarial: Adversarial = "grl",
        n_anchor_neighbors: int = 50,
        anchor_drop_rate: float = 0.5,
        start_step: int = 500,
        t_step: int = 50,
        triplet_margin: float = 1.0,
    ):
        super().__init__()
        self.graph = graph
        self.n_batches = n_batches
        self.n_clusters = n_clusters
        self.mask_rate = mask_rate
        self.replace_rate = replace_rate
        self.sce_t = sce_t
        self.w_recon, self.w_triplet, self.w_adv = (float(w) for w in loss_weights)
        self.adversarial = adversarial
        self.n_anchor_neighbors = n_anchor_neighbors
        self.anchor_drop_rate = anchor_drop_rate
        self.start_step = start_step
        self.t_step = t_step
        self.triplet_margin = triplet_margin

        self.encoder = GraphEncoder(n_input, n_hidden, n_gcn_hidden, n_latent, dropout)
        self.enc_to_dec = nn.Linear(n_latent, n_latent, bias=False)
        nn.init.xavier_uniform_(self.enc_to_dec.weight)
        self.decoder = GraphBlock(n_latent, n_input, act="identity", dropout=dropout)
        self.discriminator = BatchDiscriminator(n_latent, n_batches, dropout=dropout)
        self.input_token = nn.Parameter(torch.zeros(1, n_input))
        self._triplets: Triplets | None = None
        self.anchor_log: list[dict] = []
        """One entry per anchor refresh: epoch, pairs and anchors found."""

    def _get_inference_input(self, tensors):
        return {
            "x": tensors[REGISTRY_KEYS.X_KEY],
            "batch": tensors[REGISTRY_KEYS.BATCH_KEY],
        }

    def _get_generative_input(self, tensors, inference_outputs):
        return {"z": inference_outputs["z"]}

    def inference(self, x, batch) -> dict:
        """Embed the nodes; in training mode, of a masked graph."""
        n = self.graph.n_nodes
        x = whole_graph(x, n)
        batch = batch.reshape(-1).long()
        if not self.training:
            return {"x": x, "batch": batch, "z": self.encoder(x, self.graph), "masked": None}
        view = mask_nodes(x, self.mask_rate, self.input_token, self.replace_rate)
        return {
            "x": x,
            "batch": batch,
            "z": self.encoder(view.x, self.graph),
            "masked": view.masked,
        }

    def generative(self, z: torch.Tensor) -> dict:
        """Decode the embedding into the input space."""
        return {"reconstruction": self.decoder(self.enc_to_dec(z), self.graph)}

    @torch.no_grad()
    def _mine(self, x: torch.Tensor, batch: torch.Tensor, epoch: int) -> None:
        """Cluster the unmasked embedding and mine G2N triplets from it."""
        self.encoder.eval()
        try:
            z = self.encoder(x, self.graph)
        finally:
            self.encoder.train()
        seed = int(torch.randint(2**31 - 1, (1,)).item())
        rng = np.random.default_rng(seed)
        labels = cluster_embedding(z.cpu().numpy(), self.n_clusters, random_state=seed)
        codes = batch.cpu().numpy()
        pairs = cross_slice_pairs(
            z, codes, labels, k=self.n_anchor_neighbors, drop_rate=self.anchor_drop_rate, rng=rng
        )
        self._triplets = g2n_triplets(pairs, codes, rng=rng, device=z.device)
        self.anchor_log.append(
            {"epoch": epoch, "pairs": int(pairs.i.size), "anchors": len(self._triplets)}
        )

    def loss(self, tensors, inference_outputs, generative_outputs, epoch: int = 0) -> LossOutput:
        """Weighted sum of the scaled cosine, triplet and adversarial losses."""
        x, z, batch = inference_outputs["x"], inference_outputs["z"], inference_outputs["batch"]
        masked = inference_outputs["masked"]
        if masked is None:  # evaluation mode: score every node
            masked = torch.arange(x.shape[0], device=x.device)
        recon = scaled_cosine_error(
            generative_outputs["reconstruction"].index_select(0, masked),
            x.index_select(0, masked),
            t=self.sce_t,
            reduce=False,
        )
        use_triplets = self.w_triplet > 0 and epoch >= self.start_step
        if (
            use_triplets
            and self.training
            and (self._triplets is None or (epoch - self.start_step) % self.t_step == 0)
        ):
            self._mine(x, batch, epoch)
        if use_triplets and self._triplets is not None:
            triplet = triplet_loss(z, self._triplets, margin=self.triplet_margin)
        else:
            triplet = z.sum() * 0.0
        z_disc = reverse_gradient(z) if self.adversarial == "grl" else z.detach()
        logits = self.discriminator(z_disc)
        adv = F.cross_entropy(logits, batch)
        total = self.w_recon * recon.mean() + self.w_triplet * triplet + self.w_adv * adv
        accuracy = (logits.argmax(dim=1) == batch).float().mean()
        return LossOutput(
            loss=total,
            reconstruction_loss=recon,
            extra_metrics={
                "sce_loss": recon.mean().detach(),
                "triplet_loss": triplet.detach(),
                "discriminator_loss": adv.detach(),
                "discriminator_accuracy": accuracy.detach(),
            },
        )
