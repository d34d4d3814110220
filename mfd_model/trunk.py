"""The sequence feature extractor: a Basenji2-style CNN (docs/method.md section 2).

    dinucleotides (N, 16, L)
      -> stem:   Conv1d(16 -> C/2, k=15, bias) -> residual ConvBlock(k=1) -> MaxPool(2)
      -> tower:  n x [ConvBlock(c_l -> c_l+1, k=5) -> residual ConvBlock(k=1) -> MaxPool(2)]
      -> dilated residual tower: m x [x + ConvBlock(C, C, k=3, dilation d_l) -> ConvBlock(C, C, k=1)]
      -> crop to the central bin -> ConvBlock(C -> C_embed, k=1)
      -> features (N, C_embed)

Each ``ConvBlock`` is pre-activation: BatchNorm1d -> GELU (tanh approximation) ->
Conv1d(padding="same", bias=False) [-> Dropout].
"""
from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig


class ConvBlock(nn.Sequential):
    """BatchNorm1d(c_in) -> GELU(tanh) -> Conv1d(c_in, c_out, k, 'same', no bias) [-> Dropout].

    Shapes: (N, c_in, L) -> (N, c_out, L).
    """

    def __init__(self, c_in: int, c_out: int, kernel_size: int, dilation: int = 1, dropout: float = 0.0) -> None:
        layers: list[nn.Module] = [
            nn.BatchNorm1d(c_in),
            nn.GELU(approximate="tanh"),
            nn.Conv1d(c_in, c_out, kernel_size, padding="same", dilation=dilation, bias=False),
        ]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        super().__init__(*layers)


class Residual(nn.Module):
    """``x + block(x)``."""

    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class BasenjiTrunk(nn.Module):
    """Dinucleotide-encoded DNA -> latent features of the central bin.

    Shapes: (N, 16, seq_len) -> (N, latent_dim).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        c = config.tower_channels
        p = config.dropout
        self.stem = nn.Sequential(
            nn.Conv1d(16, c[0], config.stem_kernel, padding="same"),
            Residual(ConvBlock(c[0], c[0], 1, dropout=p)),
            nn.MaxPool1d(2),
        )
        self.tower = nn.Sequential(*[
            nn.Sequential(
                ConvBlock(c[l], c[l + 1], config.tower_kernel, dropout=p),
                Residual(ConvBlock(c[l + 1], c[l + 1], 1, dropout=p)),
                nn.MaxPool1d(2),
            )
            for l in range(config.n_tower_layers)
        ])
        width = c[-1]
        self.dilated = nn.Sequential(*[
            Residual(nn.Sequential(
                ConvBlock(width, width, config.dilated_kernel, dilation=d, dropout=p),
                ConvBlock(width, width, 1, dropout=p),
            ))
            for d in config.dilations
        ])
        self.crop = (config.n_bins - 1) // 2
        self.embed = ConvBlock(width, config.latent_dim, 1, dropout=p)

    def positions(self, x16: torch.Tensor) -> torch.Tensor:
        """Per-bin features before the crop.

        Args:
            x16: shape=(N, 16, L), any L divisible by ``bin_size``.
        Returns:
            torch.Tensor, shape=(N, C, L / bin_size).
        """
        return self.dilated(self.tower(self.stem(x16)))

    def forward(self, x16: torch.Tensor) -> torch.Tensor:
        """Args: x16 shape=(N, 16, seq_len). Returns: shape=(N, latent_dim)."""
        h = self.positions(x16)
        if self.crop:
            h = h[:, :, self.crop:-self.crop]
        return self.embed(h).squeeze(-1)
