"""The independence penalty between the biological and technical subspaces (paper Eq. 3-4).

Two adversarial MLPs try to predict each subspace from the other:

    q_bio_from_tech : s_tech -> s_bio        q_tech_from_bio : s_bio -> s_tech

and their success is measured by ``R2`` — the sum over dimensions of the squared Pearson
correlation (over the batch) between prediction and target:

    penalty = R2(q_bio_from_tech(s_tech), s_bio) + R2(q_tech_from_bio(s_bio), s_tech)

The sequence model minimises ``BCE + lambda * penalty``; the adversaries, on detached
features, minimise ``-penalty``. Unlike the original code, the two directions use two
separate predictors. The Frobenius norm of the cross-correlation matrix is offered as
a cheap linear alternative and as a diagnostic.
"""
from __future__ import annotations

import torch
from torch import nn

EPS = 1e-8


def _zscore(x: torch.Tensor) -> torch.Tensor:
    """Column-wise z-score over the batch (population std). Shapes: (N, d) -> (N, d)."""
    centered = x - x.mean(dim=0, keepdim=True)
    return centered / (centered.pow(2).mean(dim=0, keepdim=True).sqrt() + EPS)


def r2_penalty(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Sum over dimensions of the squared Pearson correlation between matching columns.

    ``diag(z_p^T z_t / N)`` clipped to [-1, 1], squared and summed (docs/method.md section 5):
    0 for unrelated columns, ``d`` for identical ones.

    Args:
        prediction, target: shape=(N, d), N >= 2.
    Returns:
        scalar tensor in [0, d].
    """
    corr = (_zscore(prediction) * _zscore(target)).mean(dim=0)
    return corr.clamp(-1.0, 1.0).pow(2).sum()


def cross_correlation_penalty(bio: torch.Tensor, tech: torch.Tensor) -> torch.Tensor:
    """Squared Frobenius norm of the cross-correlation matrix ``z_bio^T z_tech / N``.

    The sum of squared Pearson correlations over all (bio unit, tech unit) pairs; only
    linear dependence is seen. Shapes: (N, d1), (N, d2) -> scalar.
    """
    cross = _zscore(bio).T @ _zscore(tech) / bio.shape[0]
    return cross.pow(2).sum()


class Adversary(nn.Module):
    """``Linear(in, h)-BN-LeakyReLU-[Linear(h, h)-BN-LeakyReLU] x (layers-1)-Linear(h, out)``.

    Shapes: (N, d_in) -> (N, d_out).
    """

    def __init__(self, d_in: int, d_out: int, hidden: int = 1024, layers: int = 3) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        width = d_in
        for _ in range(layers):
            blocks += [nn.Linear(width, hidden), nn.BatchNorm1d(hidden), nn.LeakyReLU()]
            width = hidden
        blocks.append(nn.Linear(width, d_out))
        self.net = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class IndependencePenalty(nn.Module):
    """The two adversaries and the adversarial R2 of paper Eq. 3.

    Args:
        half_dim: size of each subspace.
        hidden, layers: adversary width and depth.
    """

    def __init__(self, half_dim: int, hidden: int = 1024, layers: int = 3) -> None:
        super().__init__()
        self.bio_from_tech = Adversary(half_dim, half_dim, hidden, layers)
        self.tech_from_bio = Adversary(half_dim, half_dim, hidden, layers)

    def forward(self, bio: torch.Tensor, tech: torch.Tensor) -> torch.Tensor:
        """``R2(q_bio_from_tech(tech), bio) + R2(q_tech_from_bio(bio), tech)``: a scalar in [0, 2 * half_dim]."""
        return r2_penalty(self.bio_from_tech(tech), bio) + r2_penalty(self.tech_from_bio(bio), tech)
