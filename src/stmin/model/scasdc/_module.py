"""scASDC torch module: ZINB autoencoder + attention-fused GCN branch + DEC self-supervision."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from scvi import REGISTRY_KEYS
from scvi.module.base import BaseModuleClass, LossOutput
from torch import nn

from ...nn import (
    CellAttention,
    GCNConv,
    SparseGraph,
    ZINBHeads,
    sampled_dot,
    soft_assignment,
    target_distribution,
    zinb_nll,
)
from ...train import whole_graph

SIZE_FACTOR = "size_factor"
"""Registry key of the per-cell size factors."""

Stage = Literal["pretrain", "joint"]


def _dense(n_in: int, n_out: int, act: bool = True) -> nn.Sequential:
    layers = [nn.Linear(n_in, n_out), nn.BatchNorm1d(n_out)]
    return nn.Sequential(*layers, nn.ReLU()) if act else nn.Sequential(*layers)


class ScASDCModule(BaseModuleClass):
    """Attention-enhanced structural deep clustering (Min et al., arXiv:2408.05258).

    The autoencoder (content branch) embeds the z-scored log-expression; a GCN branch over the
    cell graph mirrors it, adding the encoder's layer at each depth and mixing cells with
    multi-head attention; its last layer gives the cluster probabilities. Training minimises

    ``w_kl·KL(P‖Q) + w_kl_gcn·KL(P‖P_gcn) + MSE(x̂, x) + w_graph·KL_graph + w_graph_mse·MSE(r, x)
    + w_zinb·ZINB``

    where ``Q`` is the Student-t assignment of the latent to the cluster centres, ``P`` its
    sharpened target, ``P_gcn`` the GCN softmax, ``r`` the decoder-side GCN output, ``KL_graph``
    the divergence of ``sigmoid(r rᵀ)`` from the normalised graph on its edges (``/N²`` as in
    the paper's ``batchmean`` over the flattened matrix), and ZINB the likelihood of the raw
    counts. In the pretraining stage only the autoencoder is trained (``MSE + w_zinb·ZINB``).

    Parameters
    ----------
    n_input
        Genes.
    graph
        Row-normalised cell graph with self-loops.
    n_clusters
        Clusters.
    gene_mean, gene_std
        Moments that z-score ``log1p(counts / size_factor)``.
    n_hidden
        Encoder widths (the decoder mirrors them).
    n_latent
        Embedding size.
    n_heads
        Attention heads.
    wide_heads
        Give every head the full layer width (the paper's "wide" attention) instead of
        splitting the width across the heads.
    attention
        ``"graph"``: cells attend to their graph neighbours; ``"full"``: to all cells.
    loss_weights
        ``(w_kl, w_kl_gcn, w_graph, w_graph_mse, w_zinb)``.
    """

    def __init__(
        self,
        n_input: int,
        graph: SparseGraph,
        n_clusters: int,
        gene_mean: np.ndarray,
        gene_std: np.ndarray,
        *,
        n_hidden: Sequence[int] = (1000, 1000, 4000),
        n_latent: int = 10,
        n_heads: int = 8,
        wide_heads: bool = False,
        attention: Literal["graph", "full"] = "graph",
        loss_weights: Sequence[float] = (0.1, 0.01, 0.01, 0.01, 0.5),
    ):
        super().__init__()
        h1, h2, h3 = n_hidden
        self.graph = graph
        self.n_clusters = n_clusters
        self.attention = attention
        self.w_kl, self.w_kl_gcn, self.w_graph, self.w_graph_mse, self.w_zinb = (
            float(w) for w in loss_weights
        )
        self.register_buffer("gene_mean", torch.as_tensor(gene_mean, dtype=torch.float32))
        self.register_buffer("gene_std", torch.as_tensor(gene_std, dtype=torch.float32))
        # content branch
        self.enc1, self.enc2, self.enc3 = _dense(n_input, h1), _dense(h1, h2), _dense(h2, h3)
        self.enc_z = _dense(h3, n_latent, act=False)
        self.dec1, self.dec2, self.dec3 = _dense(n_latent, h3), _dense(h3, h2), _dense(h2, h1)
        self.dec_out = nn.Linear(h1, n_input)
        self.zinb = ZINBHeads(h1, n_input)
        # structural branch
        self.gcn1 = GCNConv(n_input, h2, bias=False)
        self.attn1 = CellAttention(h2, n_heads, h2 if wide_heads else None)
        self.gcn3 = GCNConv(h2, n_latent, bias=False)
        self.attn2 = CellAttention(n_latent, n_heads, n_latent if wide_heads else None)
        self.gcn5 = GCNConv(n_latent, n_clusters, bias=False)
        self.gcn6 = GCNConv(n_clusters, h3, bias=False)
        self.gcn7 = GCNConv(h3, h1, bias=False)
        self.gcn9 = GCNConv(h1, n_input, bias=False)
        self.centers = nn.Parameter(torch.zeros(n_clusters, n_latent))

    def _get_inference_input(self, tensors):
        return {
            "counts": tensors[REGISTRY_KEYS.X_KEY],
            "size_factor": tensors[SIZE_FACTOR],
        }

    def _get_generative_input(self, tensors, inference_outputs):
        return {k: inference_outputs[k] for k in ("x", "z", "h2", "d1", "d3")}

    def scaled_input(self, counts: torch.Tensor, size_factor: torch.Tensor) -> torch.Tensor:
        """Z-scored ``log1p(counts / size_factor)``."""
        return (torch.log1p(counts / size_factor.view(-1, 1)) - self.gene_mean) / self.gene_std

    def _edges(self):
        return None if self.attention == "full" else (self.graph.rows, self.graph.cols)

    def inference(self, counts, size_factor, stage: Stage = "joint") -> dict:
        """Run the autoencoder (on every cell, in graph order, unless pretraining)."""
        if stage == "joint":
            counts = whole_graph(counts, self.graph.n_nodes)
        x = self.scaled_input(counts, size_factor)
        h1 = self.enc1(x)
        h2 = self.enc2(h1)
        z = self.enc_z(self.enc3(h2))
        d1 = self.dec1(z)
        d3 = self.dec3(self.dec2(d1))
        return {
            "x": x,
            "counts": counts,
            "size_factor": size_factor,
            "z": z,
            "h2": h2,
            "d1": d1,
            "d3": d3,
        }

    def generative(self, x, z, h2, d1, d3, stage: Stage = "joint") -> dict:
        """Decode; in the joint stage also run the attention-fused GCN branch."""
        out = {"x_hat": self.dec_out(d3), "zinb": self.zinb(d3)}
        if stage == "pretrain":
            return out
        edges, graph = self._edges(), self.graph
        a1 = self.attn1(F.relu(self.gcn1(x, graph)) + h2, edges)
        a2 = self.attn2(F.relu(self.gcn3(a1, graph)) + z, edges)
        logits = self.gcn5(a2, graph)
        r = F.relu(self.gcn6(logits, graph))
        r = F.relu(self.gcn7(r + d1, graph))
        r = F.relu(self.gcn9(r + d3, graph))
        out.update(logits=logits, r=r)
        return out

    def loss(
        self, tensors, inference_outputs, generative_outputs, stage: Stage = "joint"
    ) -> LossOutput:
        """The paper's weighted loss (autoencoder terms only while pretraining)."""
        x, z = inference_outputs["x"], inference_outputs["z"]
        mu, theta, pi = generative_outputs["zinb"]
        mse = F.mse_loss(generative_outputs["x_hat"], x)
        zinb = zinb_nll(
            inference_outputs["counts"],
            mu * inference_outputs["size_factor"].view(-1, 1),
            theta,
            pi,
        ).mean()
        metrics = {"mse_loss": mse.detach(), "zinb_loss": zinb.detach()}
        total = mse + self.w_zinb * zinb
        if stage == "joint":
            q = soft_assignment(z, self.centers)
            p = target_distribution(q.detach())
            kl = F.kl_div(q.clamp_min(1e-12).log(), p, reduction="batchmean")
            log_p_gcn = F.log_softmax(generative_outputs["logits"], dim=1)
            kl_gcn = F.kl_div(log_p_gcn, p, reduction="batchmean")
            r = generative_outputs["r"]
            graph = self.graph
            a_pred = torch.sigmoid(sampled_dot(graph.adj, r, r))
            target = graph.weights
            kl_graph = (target * (target.log() - a_pred.clamp_min(1e-12).log())).sum()
            kl_graph = kl_graph / graph.n_nodes**2
            graph_mse = F.mse_loss(r, x)
            total = (
                total
                + self.w_kl * kl
                + self.w_kl_gcn * kl_gcn
                + self.w_graph * kl_graph
                + self.w_graph_mse * graph_mse
            )
            metrics.update(
                kl_loss=kl.detach(),
                kl_gcn_loss=kl_gcn.detach(),
                graph_kl_loss=kl_graph.detach(),
                graph_mse_loss=graph_mse.detach(),
            )
        return LossOutput(loss=total, n_obs_minibatch=x.shape[0], extra_metrics=metrics)
