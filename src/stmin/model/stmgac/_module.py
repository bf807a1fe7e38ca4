"""STMGAC torch module: masked graph autoencoder with an EMA teacher and mined triplets."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from scvi import REGISTRY_KEYS
from scvi.module.base import BaseModuleClass, LossOutput
from torch import nn

from ...nn import (
    GraphBlock,
    GraphEncoder,
    SparseGraph,
    Triplets,
    ema_update,
    make_teacher,
    mask_nodes,
    mine_triplets,
    scaled_cosine_error,
    triplet_loss,
)
from ...train import whole_graph


def _xavier_linear(n_in: int, n_out: int) -> nn.Linear:
    layer = nn.Linear(n_in, n_out, bias=False)
    nn.init.xavier_uniform_(layer.weight)
    return layer


class STMGACModule(BaseModuleClass):
    """Masked graph autoencoder with contrastive augmentation (Fang et al., BIBM 2024).

    One training step: mask ``mask_rate`` of the nodes; the online encoder embeds the masked
    graph; the EMA teacher embeds the complementary view (the kept nodes masked); the projected
    online latent of the masked nodes regresses the teacher's (MSE); the decoder reconstructs
    the masked nodes' input from the projected latent with the kept nodes zeroed (scaled cosine
    error); a triplet loss pulls together mined latent/spatial positives.

    Parameters
    ----------
    n_input
        Input features per node.
    graph
        Normalised spatial adjacency.
    n_clusters
        Clusters of the k-means runs used in anchor mining.
    n_hidden, n_gcn_hidden, n_latent, n_project, dropout
        Architecture (defaults of the paper).
    mask_rate, replace_rate
        Node masking.
    momentum
        EMA momentum of the teacher.
    sce_t
        Exponent of the scaled cosine error.
    top_k, t_step, n_kmeans, kmeans_iter
        Anchor mining: latent neighbours, refresh period (epochs), k-means runs and iterations.
    loss_weights
        Weights of the reconstruction, latent-matching and triplet losses.
    triplet_margin
        Margin of the triplet loss.
    """

    def __init__(
        self,
        n_input: int,
        graph: SparseGraph,
        n_clusters: int,
        *,
        n_hidden: Sequence[int] = (64, 32),
        n_gcn_hidden: int = 64,
        n_latent: int = 16,
        n_project: int = 32,
        dropout: float = 0.2,
        mask_rate: float = 0.7,
        replace_rate: float = 0.1,
        momentum: float = 0.998,
        sce_t: float = 2.0,
        top_k: int = 30,
        t_step: int = 50,
        n_kmeans: int = 5,
        kmeans_iter: int = 20,
        loss_weights: Sequence[float] = (0.5, 0.1, 0.1),
        triplet_margin: float = 1.0,
    ):
        super().__init__()
        self.graph = graph
        self.n_clusters = n_clusters
        self.mask_rate = mask_rate
        self.replace_rate = replace_rate
        self.momentum = momentum
        self.sce_t = sce_t
        self.top_k = top_k
        self.t_step = t_step
        self.n_kmeans = n_kmeans
        self.kmeans_iter = kmeans_iter
        self.w_recon, self.w_latent, self.w_triplet = (float(w) for w in loss_weights)
        self.triplet_margin = triplet_margin

        self.encoder = GraphEncoder(n_input, n_hidden, n_gcn_hidden, n_latent, dropout)
        self.teacher = make_teacher(self.encoder)
        self.enc_to_dec = _xavier_linear(n_latent, n_latent)
        self.projector = GraphBlock(n_latent, n_project, act="relu", dropout=dropout)
        self.projector_out = _xavier_linear(n_project, n_latent)
        self.decoder = GraphBlock(n_latent, n_input, act="identity", dropout=dropout)
        self.input_token = nn.Parameter(torch.zeros(1, n_input))
        self.latent_token = nn.Parameter(torch.zeros(1, n_latent))
        self._triplets: Triplets | None = None

    def _get_inference_input(self, tensors):
        return {
            "x": tensors[REGISTRY_KEYS.X_KEY],
        }

    def _get_generative_input(self, tensors, inference_outputs):
        return {k: inference_outputs[k] for k in ("z", "masked", "kept")}

    def inference(self, x: torch.Tensor) -> dict:
        """Embed the nodes; in training mode, of a masked graph, plus the teacher's view."""
        x = whole_graph(x, self.graph.n_nodes)
        if not self.training:
            return {"x": x, "z": self.encoder(x, self.graph), "masked": None, "kept": None}
        view = mask_nodes(x, self.mask_rate, self.input_token, self.replace_rate)
        z = self.encoder(view.x, self.graph)
        with torch.no_grad():
            token = self.input_token.to(x.dtype).expand(view.kept.numel(), -1)
            z_teacher = self.teacher(x.index_copy(0, view.kept, token), self.graph)
        return {"x": x, "z": z, "z_teacher": z_teacher, "masked": view.masked, "kept": view.kept}

    def project(self, h: torch.Tensor) -> torch.Tensor:
        """Projector: graph block then a bias-free linear map back to the latent size."""
        return self.projector_out(self.projector(h, self.graph))

    def generative(self, z: torch.Tensor, masked=None, kept=None) -> dict:
        """Project the latent and decode it into the input space."""
        h = self.enc_to_dec(z)
        if masked is not None:
            h = h.index_copy(0, masked, self.latent_token.to(h.dtype).expand(masked.numel(), -1))
        projected = self.project(h)
        dec_in = projected if kept is None else projected.index_fill(0, kept, 0.0)
        return {"projected": projected, "reconstruction": self.decoder(dec_in, self.graph)}

    def loss(self, tensors, inference_outputs, generative_outputs, epoch: int = 0) -> LossOutput:
        """Weighted sum of the scaled cosine, latent-matching and triplet losses."""
        x, z = inference_outputs["x"], inference_outputs["z"]
        masked = inference_outputs["masked"]
        if masked is None:  # evaluation mode: score every node
            masked = torch.arange(x.shape[0], device=x.device)
            z_teacher = self.teacher(x, self.graph)
        else:
            z_teacher = inference_outputs["z_teacher"]
        recon = scaled_cosine_error(
            generative_outputs["reconstruction"].index_select(0, masked),
            x.index_select(0, masked),
            t=self.sce_t,
            reduce=False,
        )
        latent = F.mse_loss(
            generative_outputs["projected"].index_select(0, masked),
            z_teacher.index_select(0, masked),
        )
        if (
            self.w_triplet > 0
            and self.training
            and (self._triplets is None or epoch % self.t_step == 0)
        ):
            self._triplets = mine_triplets(
                z.detach(),
                z_teacher,
                self.graph.matrix,
                top_k=self.top_k,
                n_clusters=self.n_clusters,
                n_kmeans=self.n_kmeans,
                kmeans_iter=self.kmeans_iter,
            )
        if self.w_triplet > 0 and self._triplets is not None:
            triplet = triplet_loss(z, self._triplets, margin=self.triplet_margin)
        else:
            triplet = z.sum() * 0.0
        total = self.w_recon * recon.mean() + self.w_latent * latent + self.w_triplet * triplet
        return LossOutput(
            loss=total,
            reconstruction_loss=recon,
            extra_metrics={
                "sce_loss": recon.mean().detach(),
                "latent_loss": latent.detach(),
                "triplet_loss": triplet.detach(),
            },
        )

    @torch.no_grad()
    def on_train_step_end(self) -> None:
        """EMA update of the teacher after every optimiser step."""
        ema_update(self.teacher, self.encoder, self.momentum)
