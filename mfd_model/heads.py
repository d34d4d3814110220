"""Output heads: the MFD hypernetwork head (paper Eq. 2) and the baseline linear head.

MFD:       logit[j, i] = s_bio[j] . w_bio[i] + s_tech[j] . w_tech[i] + b[i]
           with (w_bio, w_tech) = (psi_bio(M), psi_tech(M)) recomputed from the fixed metadata
           at every forward pass, so experiments with identical metadata share weights and
           differ only by their free bias b[i].
Baseline:  logit[j, i] = s[j] . w[i] + b[i] with free weights (no metadata).
"""
from __future__ import annotations

import torch
from torch import nn

from .embedding import GroupEmbedding
from .metadata import EncodedMetadata, MetadataEncoder


class MFDHead(nn.Module):
    """Metadata-conditioned output layer.

    The encoded metadata is held in buffers, so the state dict carries it.

    Args:
        encoder: the fitted metadata encoder (gives the column specs).
        metadata: the encoded metadata of the O experiments.
        half_dim: size of each latent subspace.
        hidden: ``h`` of the interaction MLPs.
    """

    def __init__(self, encoder: MetadataEncoder, metadata: EncodedMetadata, half_dim: int, hidden: int) -> None:
        super().__init__()
        self.n_experiments = metadata.n_experiments
        self.groups = nn.ModuleDict()
        self._buffer_names: dict[str, tuple[list[str], list[str]]] = {}
        for group in ("biological", "technical"):
            spec = encoder.schema.group(group)
            enc = metadata.group(group)
            self.groups[group] = GroupEmbedding(
                spec.direct, [a.shape[1] for a in enc.direct],
                spec.interact, [a.shape[1] for a in enc.interact],
                half_dim, hidden, group)
            direct_names, interact_names = [], []
            for role, arrays, names in (("direct", enc.direct, direct_names), ("interact", enc.interact, interact_names)):
                for k, array in enumerate(arrays):
                    name = f"metadata_{group}_{role}_{k}"
                    self.register_buffer(name, torch.as_tensor(array, dtype=torch.float32))
                    names.append(name)
            self._buffer_names[group] = (direct_names, interact_names)
        self.bias = nn.Parameter(torch.zeros(self.n_experiments))

    def group_weights(self, group: str) -> torch.Tensor:
        """``W_group``, shape=(O, half_dim)."""
        direct_names, interact_names = self._buffer_names[group]
        return self.groups[group]([getattr(self, n) for n in direct_names],
                                  [getattr(self, n) for n in interact_names])

    def weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(W_bio, W_tech)``, each shape=(O, half_dim)."""
        return self.group_weights("biological"), self.group_weights("technical")

    def forward(self, bio: torch.Tensor, tech: torch.Tensor) -> torch.Tensor:
        """Args: bio, tech shape=(N, half_dim). Returns: logits shape=(N, O)."""
        w_bio, w_tech = self.weights()
        return bio @ w_bio.T + tech @ w_tech.T + self.bias


class BaselineHead(nn.Module):
    """Plain linear output layer without metadata. Shapes: (N, latent_dim) -> (N, O)."""

    def __init__(self, latent_dim: int, n_experiments: int) -> None:
        super().__init__()
        self.linear = nn.Linear(latent_dim, n_experiments)
        self.n_experiments = n_experiments

    @property
    def bias(self) -> torch.Tensor:
        return self.linear.bias

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear(features)
