"""Zero-inflated negative binomial output heads and likelihood (DCA / scDeepCluster form)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ZINBHeads(nn.Module):
    """Mean, dispersion and dropout heads on a decoder's last hidden layer.

    ``μ = clamp(exp(·), 1e-5, 1e6)``, ``θ = clamp(softplus(·), 1e-4, 1e4)`` and the dropout
    logit ``π`` (``sigmoid(π)`` is the probability of a structural zero).

    Parameters
    ----------
    n_in
        Width of the hidden layer.
    n_genes
        Number of genes.
    """

    def __init__(self, n_in: int, n_genes: int):
        super().__init__()
        self.mean = nn.Linear(n_in, n_genes)
        self.dispersion = nn.Linear(n_in, n_genes)
        self.dropout = nn.Linear(n_in, n_genes)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return ``(mu, theta, pi_logits)``, each cells × genes."""
        mu = torch.exp(self.mean(h).clamp(max=13.8)).clamp(1e-5, 1e6)
        theta = F.softplus(self.dispersion(h)).clamp(1e-4, 1e4)
        return mu, theta, self.dropout(h)


def zinb_nll(
    x: torch.Tensor,
    mu: torch.Tensor,
    theta: torch.Tensor,
    pi_logits: torch.Tensor,
    eps: float = 1e-10,
) -> torch.Tensor:
    """Negative log-likelihood of counts ``x`` under ZINB(μ, θ, π), one value per entry.

    Parameters
    ----------
    x
        Raw counts.
    mu
        Means (already multiplied by the cells' size factors).
    theta
        Inverse dispersions.
    pi_logits
        Logits of the zero-inflation probability.
    eps
        Added inside the logarithms.
    """
    log_theta_mu = torch.log(theta + mu + eps)
    log_nb_zero = theta * (torch.log(theta + eps) - log_theta_mu)  # log NB(0 | mu, theta)
    log_not_pi = F.logsigmoid(-pi_logits)
    # zeros: log(π + (1 − π) NB(0))
    nll = -torch.logaddexp(F.logsigmoid(pi_logits), log_not_pi + log_nb_zero)
    # positive counts: log((1 − π) NB(x)); the log-gamma terms vanish at x = 0, so they are
    # evaluated only where x > 0 (counts are mostly zeros)
    idx = (x > 0.5).nonzero(as_tuple=True)
    xs, ts = x[idx], theta[idx]
    log_nb = (
        torch.lgamma(xs + ts)
        - torch.lgamma(ts)
        - torch.lgamma(xs + 1.0)
        + log_nb_zero[idx]
        + xs * (torch.log(mu[idx] + eps) - log_theta_mu[idx])
    )
    return nll.index_put(idx, -(log_not_pi[idx] + log_nb))
