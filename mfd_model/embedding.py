"""The metadata embedding: a static hypernetwork from metadata to output-layer weights.

For each group ``g`` (biological, technical) the paper's ``psi^(g)`` maps every
experiment's metadata row to a weight vector of length ``C/2`` (docs/method.md section 4):

    W_g = concat( direct part  (O, d_direct)        : identity / rescale / rescale_indep,
                  interact part (O, C/2 - d_direct) : MLP(concat of per-column intermediates) )

The first ``d_direct`` latent units of the subspace are therefore tied one to one to
metadata values (unit ``target:CTCF`` is used by CTCF experiments only).
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .errors import ConfigError
from .metadata import ColumnSpec


class Rescale(nn.Module):
    """One learned scalar times the input (``rescale``). Shapes: (O, d) -> (O, d)."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


class RescaleIndependent(nn.Module):
    """A learned scale per input dimension, i.e. a diagonal matrix (``rescale_indep``). Shapes: (O, d) -> (O, d).

    With ``floor`` the scale is ``floor + softplus(scale)``, 1 at the start and never below ``floor``:
    a direct unit then always passes at least ``floor`` of its gradient to the trunk feature it
    names. A free scale can collapse to about 0 for a target not learned early, after which that
    target is hard to learn at all (docs/convergence.md section 11).
    """

    def __init__(self, dim: int, floor: float | None = None) -> None:
        super().__init__()
        self.floor = floor
        start = 1.0 if floor is None else math.log(math.expm1(1.0 - floor))   # the softplus of which is 1 - floor
        self.scale = nn.Parameter(torch.full((dim,), start))

    def effective_scale(self) -> torch.Tensor:
        """The scale applied, shape=(d,)."""
        return self.scale if self.floor is None else self.floor + F.softplus(self.scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.effective_scale()


def mlp(d_in: int, hidden: int, d_out: int) -> nn.Sequential:
    """``Linear(d_in, hidden) - ReLU - Linear(hidden, hidden) - ReLU - Linear(hidden, d_out)``."""
    return nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, d_out))


def intermediate(spec: ColumnSpec, width: int) -> tuple[nn.Module, int]:
    """The per-column transform ``f_k`` of the paper's Fig. 1b and its output width.

    ``embed``: MLP Linear(d, 2k)-ReLU-Linear(2k, 2k)-ReLU-Linear(2k, k); ``linear``: Linear(d, k);
    ``rescale``: one scalar; ``rescale_indep``: a diagonal; ``identity``: unchanged.
    """
    kind = spec.intermediate
    if kind == "embed":
        return mlp(width, 2 * spec.dim, spec.dim), spec.dim
    if kind == "linear":
        return nn.Linear(width, spec.dim), spec.dim
    if kind == "rescale":
        return Rescale(), width
    if kind == "rescale_indep":
        return RescaleIndependent(width, spec.floor), width
    return nn.Identity(), width


class GroupEmbedding(nn.Module):
    """``psi^(g)``: one group's encoded metadata -> its weight vectors.

    Args:
        direct_specs / direct_widths: the direct columns and their encoded widths.
        interact_specs / interact_widths: the interact columns and their encoded widths.
        half_dim: ``C/2``, the size of the subspace.
        hidden: ``h`` of the interaction MLP ``Linear(in, 2h)-ReLU-Linear(2h, 2h)-ReLU-Linear(2h, out)``.
        group: ``biological`` or ``technical`` (for error messages).
    """

    def __init__(self, direct_specs: Sequence[ColumnSpec], direct_widths: Sequence[int],
                 interact_specs: Sequence[ColumnSpec], interact_widths: Sequence[int],
                 half_dim: int, hidden: int, group: str) -> None:
        super().__init__()
        self.direct = nn.ModuleList(intermediate(s, w)[0] for s, w in zip(direct_specs, direct_widths))
        self.direct_dim = sum(direct_widths)
        self.interact_dim = half_dim - self.direct_dim
        if self.interact_dim < 0:
            raise ConfigError(
                f"the {group} direct columns have {self.direct_dim} values in total, more than the "
                f"{half_dim} units of the {group} subspace",
                fix=f"raise latent_dim to at least {2 * self.direct_dim}, or move columns to interact")
        if self.interact_dim > 0 and not interact_specs:
            raise ConfigError(
                f"the {group} subspace has {half_dim} units but its direct columns fill only {self.direct_dim} "
                f"and there are no interact columns for the other {self.interact_dim}",
                fix=f"add {group} interact columns, or set latent_dim to {2 * self.direct_dim}")
        self.interact = nn.ModuleList()
        mixed_width = 0
        for spec, width in zip(interact_specs, interact_widths):
            module, out = intermediate(spec, width)
            self.interact.append(module)
            mixed_width += out
        self.mixer = mlp(mixed_width, 2 * hidden, self.interact_dim) if self.interact_dim > 0 else None

    def forward(self, direct: Sequence[torch.Tensor], interact: Sequence[torch.Tensor]) -> torch.Tensor:
        """Args: per-column encoded metadata, each shape=(O, width). Returns: W_g, shape=(O, half_dim)."""
        parts = [f(x) for f, x in zip(self.direct, direct)]
        if self.mixer is not None:
            mixed = torch.cat([f(x) for f, x in zip(self.interact, interact)], dim=1)
            parts.append(self.mixer(mixed))
        return torch.cat(parts, dim=1)
