"""MFD: one-hot DNA -> dinucleotides -> Basenji2 trunk -> BatchNorm -> (bio | tech) -> hypernetwork head.

Deliberate choices (see docs/method.md; each is a documented decision, not an accident):

* the public input is 4-channel one-hot DNA ``(N, 4, L)``; the dinucleotide encoding is the
  model's first, parameter-free and differentiable step (:mod:`mfd_model.encoding`); integer
  base codes ``(N, L)`` are accepted too and one-hot encoded on the model's device;
* the latent features are ordered **biological first, technical second** (the paper's
  ``s(1) = bio``; the original code put the technical half first);
* ``forward`` returns probabilities, as the Kipoi zoo expects; ``logits`` gives the logits
  used for training;
* the baseline model (``head: baseline``) has the same trunk, no feature BatchNorm and a
  free linear head, as in the original code;
* the default latent size is ``channels`` (the original: ``2 * channels``), because latent
  features wider than the last activation layer make the technical half a linear function of
  the biological half (see :class:`~mfd_model.config.ModelConfig`);
* training options beyond the paper (defaults off): several adversary updates per model update
  and a warm-up without the penalty (``mfd_model.train.config.TrainingParams``).
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from .config import ModelConfig
from .encoding import dinucleotide_encode, dinucleotides_from_codes, one_hot
from .errors import ConfigError, MFDError
from .heads import BaselineHead, MFDHead
from .metadata import MetadataEncoder, MetadataTable
from .trunk import BasenjiTrunk

GROUP_PREFIX = {"biological": "bio", "technical": "tech"}
_CODE_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


class MFDModel(nn.Module):
    """The MFD network (or its baseline) for ``O`` experiments.

    Args:
        config: architecture hyperparameters.
        experiment_names: the O output labels, in output order.
        encoder: fitted metadata encoder (required for ``head: mfd``).
        table: the metadata table of the O experiments (required for ``head: mfd``; optional
            for the baseline, where it only serves selections by metadata).
        info: free-form provenance (what data, which command) kept with the weights.

    Shapes:
        input ``x``: (N, 4, seq_len) one-hot DNA, ACGT order (N positions all zero or 0.25), or
        (N, seq_len) integer base codes (0..3 = ACGT, anything else N; :mod:`mfd_model.encoding`);
        output: (N, O) probabilities.
    """

    def __init__(self, config: ModelConfig, experiment_names: Sequence[str],
                 encoder: MetadataEncoder | None = None, table: MetadataTable | None = None,
                 info: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.config = config
        self.experiment_names = list(experiment_names)
        self.encoder = encoder
        self.table = table
        self.info = dict(info or {})
        self.trunk = BasenjiTrunk(config)
        if config.head == "mfd":
            if encoder is None or table is None:
                raise ConfigError("an MFD head needs a metadata table and schema",
                                  fix="pass encoder= and table=, or use head: baseline")
            metadata = encoder.transform(table)
            if metadata.experiment_names != self.experiment_names:
                raise ConfigError("experiment names differ from the metadata table's id column",
                                  fix="build the model from the same metadata table")
            self.feature_norm: nn.Module = nn.BatchNorm1d(config.latent_dim)
            self.head: nn.Module = MFDHead(encoder, metadata, config.half_dim, config.interact_hidden)
            self.direct_unit_names = {g: metadata.group(g).direct_names for g in GROUP_PREFIX}
        else:
            self.feature_norm = nn.Identity()
            self.head = BaselineHead(config.latent_dim, len(self.experiment_names))
            self.direct_unit_names = {g: [] for g in GROUP_PREFIX}

    # ------------------------------------------------------------------ properties
    @property
    def is_mfd(self) -> bool:
        return self.config.head == "mfd"

    @property
    def n_experiments(self) -> int:
        return len(self.experiment_names)

    @property
    def unit_names(self) -> list[str]:
        """A name per latent unit, length ``latent_dim``.

        MFD: ``bio/target:CTCF`` ... for direct units, ``bio/interact_k`` for the others, then
        the technical half likewise (``tech/assay:DNase-seq`` ...). Baseline: ``unit_k``.
        """
        if not self.is_mfd:
            return [f"unit_{k}" for k in range(self.config.latent_dim)]
        names = []
        for group, prefix in GROUP_PREFIX.items():
            direct = self.direct_unit_names[group]
            names += [f"{prefix}/{n}" for n in direct]
            names += [f"{prefix}/interact_{k}" for k in range(self.config.half_dim - len(direct))]
        return names

    def unit_index(self, name: str, group: str | None = None) -> int:
        """Index into the full latent vector of a unit named by a ``direct`` metadata value.

        ``name`` may be the full unit name (``bio/target:CTCF``), ``column:value``
        (``target:CTCF``) or the bare value (``CTCF``) when that is unambiguous; ``group``
        (``bio`` / ``tech`` / ``biological`` / ``technical``) narrows the search.
        """
        names = self.unit_names
        if name in names:
            return names.index(name)
        prefixes = [GROUP_PREFIX.get(group, group)] if group else list(GROUP_PREFIX.values())
        matches = [i for i, full in enumerate(names)
                   if any(full.startswith(p + "/") for p in prefixes)
                   and (full.split("/", 1)[1] == name or full.split(":", 1)[-1] == name)]
        if len(matches) == 1:
            return matches[0]
        direct = [n for n in names if ":" in n]
        if not matches:
            raise MFDError(f"no latent unit named {name!r}",
                           fix=f"use one of: {', '.join(direct) or 'unit indices (this model has no direct units)'}")
        raise MFDError(f"latent unit name {name!r} is ambiguous: {', '.join(names[i] for i in matches)}",
                       fix="use the full name, or pass group='bio' / 'tech'")

    # ------------------------------------------------------------------ the forward pass
    def _check_input(self, x: torch.Tensor) -> torch.Tensor:
        """One-hot DNA (N, 4, seq_len) in the parameters' dtype; integer codes (N, seq_len) are
        one-hot encoded here, on their device."""
        if not isinstance(x, torch.Tensor):
            x = torch.as_tensor(x)
        dtype = next(self.parameters()).dtype
        if x.ndim == 2 and x.dtype in _CODE_DTYPES and x.shape[1] == self.config.seq_len:
            return one_hot(x, dtype=dtype)
        expected = (4, self.config.seq_len)
        if x.ndim != 3 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"MFD expects one-hot DNA of shape (N, 4, {self.config.seq_len}) in ACGT order "
                             f"(or integer base codes of shape (N, {self.config.seq_len})), got {tuple(x.shape)}")
        return x.to(dtype) if x.dtype != dtype else x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Latent features ``s = [s_bio, s_tech]``.

        Args:
            x: one-hot DNA, shape=(N, 4, seq_len), or base codes, shape=(N, seq_len).
        Returns:
            torch.Tensor, shape=(N, latent_dim).
        """
        return self.feature_norm(self.trunk(self._order2(x)))

    def _order2(self, x: torch.Tensor) -> torch.Tensor:
        """The trunk's input (N, 16, seq_len): integer codes straight to dinucleotides (one scatter,
        no one-hot in between: the variant scorer's int8 windows), one-hot through
        :func:`~mfd_model.encoding.dinucleotide_encode` (differentiable, for attribution)."""
        if not isinstance(x, torch.Tensor):
            x = torch.as_tensor(x)
        if x.ndim == 2 and x.dtype in _CODE_DTYPES and x.shape[1] == self.config.seq_len:
            return dinucleotides_from_codes(x, next(self.parameters(), torch.empty(0)).dtype)
        return dinucleotide_encode(self._check_input(x))

    def split_features(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(s_bio, s_tech)``, each shape=(N, half_dim), from features shape=(N, latent_dim)."""
        self._require_mfd("split features into biological and technical halves")
        h = self.config.half_dim
        return features[:, :h], features[:, h:]

    def biological_features(self, x: torch.Tensor) -> torch.Tensor:
        """``s_bio``, shape=(N, half_dim)."""
        return self.split_features(self.features(x))[0]

    def technical_features(self, x: torch.Tensor) -> torch.Tensor:
        """``s_tech``, shape=(N, half_dim)."""
        return self.split_features(self.features(x))[1]

    def logits_from_features(self, features: torch.Tensor) -> torch.Tensor:
        """Logits from full features. Shapes: (N, latent_dim) -> (N, O)."""
        if self.is_mfd:
            return self.head(*self.split_features(features))
        return self.head(features)

    def logits_from_halves(self, bio: torch.Tensor, tech: torch.Tensor) -> torch.Tensor:
        """Logits from a (bio, tech) pair, possibly of different sequences (the paper's swap VEP).

        Shapes: (N, half_dim), (N, half_dim) -> (N, O).
        """
        self._require_mfd("predict from a (biological, technical) pair")
        return self.head(bio, tech)

    def predict_from_halves(self, bio: torch.Tensor, tech: torch.Tensor) -> torch.Tensor:
        """Probabilities from a (bio, tech) pair. Shapes: (N, half_dim), (N, half_dim) -> (N, O)."""
        return torch.sigmoid(self.logits_from_halves(bio, tech))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits. Shapes: (N, 4, seq_len) -> (N, O)."""
        return self.logits_from_features(self.features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Probabilities of a peak in the central bin. Shapes: (N, 4, seq_len) -> (N, O)."""
        return torch.sigmoid(self.logits(x))

    def experiment_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The output layer as it stands: ``(W, b)`` with W shape=(O, latent_dim), b shape=(O,).

        For MFD, ``W = [psi_bio(M), psi_tech(M)]``; at inference it is a constant, which is what
        the TensorFlow export bakes in.
        """
        if self.is_mfd:
            w_bio, w_tech = self.head.weights()
            return torch.cat([w_bio, w_tech], dim=1), self.head.bias
        return self.head.linear.weight, self.head.linear.bias

    def _require_mfd(self, what: str) -> None:
        if not self.is_mfd:
            raise MFDError(f"a baseline model has no biological/technical subspaces: cannot {what}",
                           fix="use an MFD model (head: mfd)")

    def parameter_count(self, trainable_only: bool = True) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)
