"""Global importance analysis (GIA; Koo et al. 2021, the review's "exploring model behaviour").

A hypothesis ("motif M makes the model predict more accessibility") is tested on synthetic
sequences: background sequences with and without ``M`` written at a chosen position are
predicted by the model; the paired differences ``f(with) - f(without)`` per background are
the effect, tested with the Wilcoxon signed-rank test. Because the backgrounds are shared,
everything but the motif is held fixed.

Backgrounds are the caller's choice (:mod:`.ersatz`: i.i.d. random with a GC content,
dinucleotide shuffles of real windows, or real windows without peaks). Differences smaller
than ``atol`` are numerical noise and count as ties (dropped by the test, as
``zero_method="wilcox"``), so a model that ignores the motif is not declared significant on
rounding errors.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..model import MFDModel
from ..inference.engine import Engine
from .ersatz import insert_motif
from .targets import Scale, Target, target_values


def global_importance(model: MFDModel, background: np.ndarray, motif: np.ndarray, targets: Sequence[Target], *,
                      position: int | Sequence[int] | None = None, scale: Scale = "logit", atol: float = 1e-6,
                      batch_size: int = 256, device: str | None = None) -> pd.DataFrame:
    """Effect of inserting a motif into background sequences, per target, with a paired test.

    Args:
        model: the model.
        background: one-hot DNA, shape=(N, 4, seq_len).
        motif: one-hot motif, shape=(4, k), or one instance per background shape=(N, 4, k)
            (e.g. :func:`.ersatz.sample_motifs` from a PWM).
        targets: outputs and/or latent units.
        position: motif start (one for all, or one per background); default: centred.
        scale: outputs as logits or probabilities.
        atol: differences with ``|d| <= atol`` are ties.
    Returns:
        DataFrame, one row per target: ``target``, ``kind``, ``n``, ``mean_without``,
        ``mean_with``, ``effect`` (mean paired difference), ``median_effect``, ``sd_effect``,
        ``fraction_up`` (share of backgrounds that increase beyond ``atol``),
        ``statistic``, ``p_value`` (two-sided Wilcoxon signed-rank; 1.0 when every
        difference is a tie).
    """
    background = np.asarray(background, dtype=np.float32)
    k = np.asarray(motif).shape[-1]
    if position is None:
        position = (background.shape[2] - k) // 2
    with_motif = insert_motif(background, motif, position)
    engine = Engine(model, output=lambda m, x: target_values(m, x, targets, scale), batch_size=batch_size,
                    device=device)
    without = engine.predict(background).astype(np.float64)
    with_ = engine.predict(with_motif).astype(np.float64)
    return paired_effects(without, with_, targets, atol=atol)


def paired_effects(without: np.ndarray, with_: np.ndarray, targets: Sequence[Target], *,
                   atol: float = 1e-6) -> pd.DataFrame:
    """Summaries and Wilcoxon signed-rank tests of paired predictions, shape=(N, T) each."""
    from scipy.stats import wilcoxon

    rows = []
    for t, target in enumerate(targets):
        diff = with_[:, t] - without[:, t]
        informative = np.abs(diff) > atol
        if informative.sum() == 0:
            statistic, p_value = 0.0, 1.0
        else:
            result = wilcoxon(diff[informative], alternative="two-sided")
            statistic, p_value = float(result.statistic), float(result.pvalue)
        rows.append({"target": target.name, "kind": target.kind, "n": len(diff),
                     "mean_without": float(without[:, t].mean()), "mean_with": float(with_[:, t].mean()),
                     "effect": float(diff.mean()), "median_effect": float(np.median(diff)),
                     "sd_effect": float(diff.std(ddof=1)) if len(diff) > 1 else 0.0,
                     "fraction_up": float((diff > atol).mean()), "statistic": statistic, "p_value": p_value})
    return pd.DataFrame(rows)
