"""What an attribution explains: a model output (experiment) or a latent unit.

A :class:`Target` names one scalar per sequence:

* ``output`` — the logit (or probability) of one experiment, chosen by name or index;
* ``unit``   — one latent feature ``s[k]``, chosen by index or by the name of a ``direct``
  metadata factor (``CTCF``, ``target:CTCF``, ``bio/target:CTCF``, ``DNase-seq`` with group
  ``tech``), as the paper's neuron attributions (section 3.1).

:func:`target_values` evaluates many targets of a batch at once (features are computed once),
which is what ISM and global importance analysis call through :func:`mfd_model.predict.predict`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import torch

from ..errors import MFDError
from ..model import MFDModel

Scale = Literal["logit", "probability"]


@dataclass(frozen=True)
class Target:
    """One scalar per sequence.

    Attributes:
        kind: ``"output"`` or ``"unit"``.
        index: experiment index (outputs) or latent unit index (units).
        name: the experiment name or the unit's name (``model.unit_names``).
    """

    kind: Literal["output", "unit"]
    index: int
    name: str

    @property
    def label(self) -> str:
        """Short label for tables and plots: ``unit bio/target:CTCF`` or ``output ctcf_k562``."""
        return f"{self.kind} {self.name}"


def _as_index(spec: str | int) -> int | None:
    if isinstance(spec, int):
        return spec
    text = str(spec).strip()
    return int(text) if text.lstrip("-").isdigit() else None


def output_target(model: MFDModel, spec: str | int) -> Target:
    """The experiment named ``spec`` (or at index ``spec``)."""
    index = _as_index(spec)
    names = model.experiment_names
    if index is None:
        if spec not in names:
            shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
            raise MFDError(f"no output (experiment) named {spec!r}", fix=f"use an index or one of: {shown}")
        index = names.index(spec)
    if not 0 <= index < len(names):
        raise MFDError(f"output index {index} out of range (the model has {len(names)} outputs)",
                       fix=f"use 0..{len(names) - 1}")
    return Target("output", index, names[index])


def unit_target(model: MFDModel, spec: str | int, group: str | None = None) -> Target:
    """The latent unit at index ``spec``, or named ``spec`` (see :meth:`MFDModel.unit_index`)."""
    index = _as_index(spec)
    names = model.unit_names
    if index is None:
        index = model.unit_index(str(spec), group=group)
    if not 0 <= index < len(names):
        raise MFDError(f"latent unit index {index} out of range (the model has {len(names)} units)",
                       fix=f"use 0..{len(names) - 1}")
    return Target("unit", index, names[index])


def resolve_targets(model: MFDModel, outputs: Sequence[str | int] = (), units: Sequence[str | int] = (),
                    group: str | None = None) -> list[Target]:
    """Targets for ``--output`` / ``--unit`` choices, in the order given (outputs first)."""
    targets = [output_target(model, o) for o in outputs] + [unit_target(model, u, group) for u in units]
    if not targets:
        raise MFDError("no output or latent unit chosen", fix="pass --output NAME and/or --unit NAME")
    return targets


def default_unit_targets(model: MFDModel) -> list[Target]:
    """All named (``direct``) units of an MFD model; the first unit of each half otherwise."""
    names = model.unit_names
    direct = [i for i, n in enumerate(names) if ":" in n]
    if not direct:
        direct = [0] if not model.is_mfd else [0, model.config.half_dim]
    return [Target("unit", i, names[i]) for i in direct]


def target_values(model: MFDModel, x: torch.Tensor, targets: Sequence[Target], scale: Scale = "logit") -> torch.Tensor:
    """Values of several targets for a batch.

    Args:
        model: the model.
        x: one-hot DNA, shape=(N, 4, seq_len).
        targets: what to evaluate.
        scale: outputs as logits (default; additive, not saturated) or probabilities.
    Returns:
        torch.Tensor, shape=(N, len(targets)).
    """
    return values_from_features(model, model.features(x), targets, scale)


def values_from_features(model: MFDModel, features: torch.Tensor, targets: Sequence[Target],
                         scale: Scale = "logit") -> torch.Tensor:
    """:func:`target_values` from precomputed features, shape=(N, latent_dim) -> (N, len(targets))."""
    columns = []
    outputs = None
    for target in targets:
        if target.kind == "unit":
            columns.append(features[:, target.index])
        else:
            if outputs is None:
                outputs = model.logits_from_features(features)
                if scale == "probability":
                    outputs = torch.sigmoid(outputs)
            columns.append(outputs[:, target.index])
    return torch.stack(columns, dim=1)
