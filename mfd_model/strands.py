"""Both strands of a window, and how their outputs merge: the one implementation.

Every analysis that looks at both strands computes the same thing on a window and on its reverse
complement, then merges the two, elementwise:

    mfd predict --reverse-complement      probabilities                        mean
    mfd evaluate / mfd importance         probabilities, features              mean
    mfd embed / attribute (embed.py)      features                             fwd / rc / mean / concat
    mfd score-variants (variants/scores)  per-strand scores (kipoi-veff)       mean / median / max / min / absmax

:func:`merge_strands` is that merge; :func:`predict_strands` computes the two strands of a set of
windows in batches (:func:`mfd_model.predict.predict`), :func:`strand_pair` both strands of one
batch in one model call, and :func:`probabilities_step` the strand-averaged probabilities of one
batch (``mfd predict``). The variant scorer builds its reverse-complement windows from base
indices (:func:`mfd_model.variants.effects.reverse_complement_indices`) and merges with
:func:`merge_strands`.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from .encoding import reverse_complement_one_hot
from .errors import MFDError
from .predict import predict

# ``median`` of two values is their mean; ``absmax`` the value of larger magnitude, forward on ties
# (kipoi-veff's rc_merging); ``concat`` puts the reverse strand's columns after the forward's.
STRAND_MERGES = ("fwd", "rc", "mean", "median", "max", "min", "absmax", "concat")

Array = np.ndarray | torch.Tensor


def merge_strands(fwd: Array | None, rc: Array | None, how: str = "mean") -> Array:
    """Merge forward and reverse-complement outputs, elementwise (numpy or torch).

    Args:
        fwd: outputs of the forward windows, shape=(N, ...); may be ``None`` when ``how`` is ``rc``.
        rc: outputs of the reverse-complement windows, the same shape; may be ``None`` when ``how``
            is ``fwd``.
        how: one of :data:`STRAND_MERGES`.
    Returns:
        shape=(N, ...) as the inputs (``concat``: the last axis twice as long), the inputs' type.
    """
    if how not in STRAND_MERGES:
        raise MFDError(f"unknown strand merge {how!r}", fix=f"use one of: {', '.join(STRAND_MERGES)}")
    if how == "fwd":
        return fwd
    if how == "rc":
        return rc
    xp = torch if isinstance(fwd, torch.Tensor) else np
    if how in ("mean", "median"):  # the median of two values is their mean
        return (fwd + rc) / 2
    if how == "max":
        return xp.maximum(fwd, rc)
    if how == "min":
        return xp.minimum(fwd, rc)
    if how == "absmax":
        return xp.where(abs(fwd) < abs(rc), rc, fwd)
    return torch.cat([fwd, rc], dim=-1) if xp is torch else np.concatenate([fwd, rc], axis=-1)


def strand_pair(func: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``func`` of a batch and of its reverse complement, in one call.

    Args:
        func: e.g. the model, ``(2b, 4, L) -> (2b, ...)``.
        x: one-hot DNA, shape=(b, 4, L).
    Returns:
        ``(forward, reverse_complement)``, each shape=(b, ...).
    """
    both = func(torch.cat([x, reverse_complement_one_hot(x)]))
    return both[:len(x)], both[len(x):]


def probabilities_step(model: nn.Module, x: torch.Tensor, reverse_complement: bool) -> torch.Tensor:
    """Probabilities of one batch; with ``reverse_complement`` the mean of both strands.

    Shapes: (b, 4, L) -> (b, O).
    """
    if not reverse_complement:
        return model(x)
    return merge_strands(*strand_pair(model, x), "mean")


def predict_strands(model: nn.Module, X: np.ndarray | torch.Tensor, *, strands: Sequence[str] = ("fwd", "rc"),
                    func: Callable[[nn.Module, torch.Tensor], torch.Tensor] | None = None, batch_size: int = 256,
                    device: str | torch.device | None = None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``func(model, x)`` (default the probabilities) of the windows and of their reverse complements.

    Args:
        X: one-hot DNA, shape=(N, 4, L).
        strands: which of ``fwd``, ``rc`` to compute.
        func: what to compute, e.g. ``lambda m, x: m.features(x)``.
    Returns:
        ``(fwd, rc)``, each a numpy array shape=(N, ...) as ``func`` gives, or ``None`` when not in ``strands``.
    """
    X = torch.as_tensor(X)
    fwd = predict(model, X, batch_size=batch_size, device=device, func=func).numpy() if "fwd" in strands else None
    rc = (predict(model, reverse_complement_one_hot(X), batch_size=batch_size, device=device, func=func).numpy()
          if "rc" in strands else None)
    return fwd, rc
