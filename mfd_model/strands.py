"""Both strands of a window, and how their outputs merge: the one implementation.

Every analysis that looks at both strands computes the same thing on a window and on its reverse
complement, then merges the two, elementwise:

    mfd predict --rc                      probabilities                        mean
    mfd evaluate / mfd importance         probabilities, features              mean / both kept
    mfd embed / attribute (embed.py)      features                             fwd / rc / mean / concat
    mfd score-variants (variants/scores)  per-strand scores (kipoi-veff)       mean / median / max / min / absmax

:func:`reverse_complement_windows` turns a batch of windows (base codes or one-hot) into its
reverse complement and :func:`merge_strands` is the merge. Both are applied in one place, the
inference engine (:mod:`mfd_model.inference.engine`, ``strand=``); the variant scorer merges its
per-strand scores with :func:`merge_strands` too.
"""
from __future__ import annotations

import numpy as np
import torch

from .encoding import reverse_complement_codes, reverse_complement_one_hot
from .errors import MFDError

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


def reverse_complement_windows(x: Array) -> Array:
    """Reverse complement of a batch of windows, as the model reads them (numpy or torch).

    Args:
        x: integer base codes, shape=(N, L) (``N``: 4 or -1), or one-hot DNA, shape=(N, 4, L).
    Returns:
        the same kind, dtype and shape.
    """
    integer = not x.is_floating_point() if isinstance(x, torch.Tensor) else np.asarray(x).dtype.kind in "iu"
    return reverse_complement_codes(x) if integer else reverse_complement_one_hot(x)
