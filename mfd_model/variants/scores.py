"""Variant effect scores: kipoi-veff's, and MFD's biological / technical effects.

Inputs are shift-averaged predictions per strand (see :mod:`.effects`): for each *kind* of
prediction -- ``ref`` f(ref), ``alt`` f(alt), and for MFD models ``bio`` = f([s_bio(alt),
s_tech(ref)]) and ``tech`` = f([s_bio(ref), s_tech(alt)]) -- a probability ``p`` and its logit
``log(p / (1 - p))``, each shape=(A, S, E) (alleles, strands, experiments; strand 0 forward,
strand 1 reverse complement).

kipoi-veff semantics (``kipoi_veff.scores``): each score is computed per strand and the two
strands are then merged with ``rc_merge``:

================  ============================================================
``ref``           p_ref
``alt``           p_alt
``diff``          p_alt - p_ref
``logit_ref``     logit(p_ref)
``logit_alt``     logit(p_alt)
``logit``         logit(p_alt) - logit(p_ref)
``deepsea_effect`` \\|merge(logit)\\| * \\|merge(diff)\\| (each part merged across strands first)
================  ============================================================

MFD (paper section 3.3, swapping the latent halves between the alleles):

=====================  ================================================================
``combined``           p_alt - p_ref (the same number as ``diff``, under the paper's name)
``biological``         f([s_bio(alt), s_tech(ref)]) - p_ref
``technical``          f([s_bio(ref), s_tech(alt)]) - p_ref
``logit_biological``   logit of the biological swap - logit(p_ref)
``logit_technical``    logit of the technical swap - logit(p_ref)
=====================  ================================================================

On the logit scale the MFD head is linear, so ``logit_biological + logit_technical`` equals
``logit`` exactly when a single shift and strand is used.

``rc_merge``: ``mean``, ``median`` (the same as the mean for two strands), ``max``, ``min``,
``absmax`` (the value of larger magnitude, forward on ties, as kipoi-veff) or ``none``
(forward strand only: no reverse complement is predicted at all).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np

from .. import strands
from ..errors import MFDError

RC_MERGES = ("mean", "median", "max", "min", "absmax", "none")
MFD_SCORES = ("combined", "biological", "technical", "logit_biological", "logit_technical")


@dataclass(frozen=True)
class Predictions:
    """Shift-averaged predictions per strand.

    Attributes:
        prob: kind -> probabilities, shape=(A, S, E).
        logit: kind -> logits of those probabilities, shape=(A, S, E).
    """

    prob: dict[str, np.ndarray]
    logit: dict[str, np.ndarray]


def merge_strands(values: np.ndarray, how: str) -> np.ndarray:
    """Merge forward and reverse-complement values, shape=(A, S, E) -> (A, E)."""
    forward = values[:, 0]
    if values.shape[1] == 1 or how == "none":
        return forward
    if how not in RC_MERGES:
        raise MFDError(f"unknown reverse-complement merge {how!r}", fix=f"use one of: {', '.join(RC_MERGES)}")
    return strands.merge_strands(forward, values[:, 1], how)


@dataclass(frozen=True)
class Score:
    """One variant score.

    Attributes:
        name: the score's name (``-s NAME``).
        kinds: which predictions it needs (``ref``, ``alt``, ``bio``, ``tech``).
        description: one line for the VCF header and the docs.
        compute: ``(predictions, rc_merge) -> values`` shape=(A, E).
        logit: whether it reads logits (``Predictions.logit``); else probabilities only.
    """

    name: str
    kinds: tuple[str, ...]
    description: str
    compute: Callable[[Predictions, str], np.ndarray]
    logit: bool = False


def _prob(p: Predictions, how: str, kind: str) -> np.ndarray:
    return merge_strands(p.prob[kind], how)


def _logit(p: Predictions, how: str, kind: str) -> np.ndarray:
    return merge_strands(p.logit[kind], how)


def _prob_diff(p: Predictions, how: str, kind: str) -> np.ndarray:
    return merge_strands(p.prob[kind] - p.prob["ref"], how)


def _logit_diff(p: Predictions, how: str, kind: str) -> np.ndarray:
    return merge_strands(p.logit[kind] - p.logit["ref"], how)


def _deepsea_effect(p: Predictions, how: str) -> np.ndarray:
    return np.abs(_logit_diff(p, how, "alt")) * np.abs(_prob_diff(p, how, "alt"))


SCORES: dict[str, Score] = {s.name: s for s in (
    Score("ref", ("ref",), "predicted probability for the reference allele (p_ref)", partial(_prob, kind="ref")),
    Score("alt", ("alt",), "predicted probability for the alternative allele (p_alt)", partial(_prob, kind="alt")),
    Score("diff", ("ref", "alt"), "p_alt - p_ref", partial(_prob_diff, kind="alt")),
    Score("logit_ref", ("ref",), "logit(p_ref)", partial(_logit, kind="ref"), logit=True),
    Score("logit_alt", ("alt",), "logit(p_alt)", partial(_logit, kind="alt"), logit=True),
    Score("logit", ("ref", "alt"), "logit(p_alt) - logit(p_ref)", partial(_logit_diff, kind="alt"), logit=True),
    Score("deepsea_effect", ("ref", "alt"), "|logit(p_alt) - logit(p_ref)| * |p_alt - p_ref| (DeepSEA)",
          _deepsea_effect, logit=True),
    Score("combined", ("ref", "alt"), "MFD combined effect f(alt) - f(ref) (= diff)", partial(_prob_diff, kind="alt")),
    Score("biological", ("ref", "bio"),
          "MFD biological effect f([bio(alt), tech(ref)]) - f(ref)", partial(_prob_diff, kind="bio")),
    Score("technical", ("ref", "tech"),
          "MFD technical effect f([bio(ref), tech(alt)]) - f(ref)", partial(_prob_diff, kind="tech")),
    Score("logit_biological", ("ref", "bio"),
          "MFD biological effect on the logit scale: logit f([bio(alt), tech(ref)]) - logit f(ref)",
          partial(_logit_diff, kind="bio"), logit=True),
    Score("logit_technical", ("ref", "tech"),
          "MFD technical effect on the logit scale: logit f([bio(ref), tech(alt)]) - logit f(ref)",
          partial(_logit_diff, kind="tech"), logit=True),
)}


def check_scores(names: list[str], is_mfd: bool) -> list[Score]:
    """The :class:`Score` objects for ``names``; unknown names or MFD scores on a baseline are errors."""
    unknown = [n for n in names if n not in SCORES]
    if unknown:
        raise MFDError(f"unknown score(s): {', '.join(unknown)}", fix=f"use any of: {', '.join(SCORES)}")
    if len(set(names)) != len(names):
        raise MFDError(f"score listed twice: {', '.join(sorted({n for n in names if names.count(n) > 1}))}")
    swapped = [n for n in names if {"bio", "tech"} & set(SCORES[n].kinds)]
    if swapped and not is_mfd:
        raise MFDError(f"score(s) {', '.join(swapped)} need an MFD model (a baseline model has no "
                       f"biological / technical subspaces)", fix="drop them, or use an MFD model")
    return [SCORES[n] for n in names]


def default_scores(is_mfd: bool) -> list[str]:
    """``diff`` for any model, plus ``biological`` and ``technical`` for an MFD model."""
    return ["diff", "biological", "technical"] if is_mfd else ["diff"]
