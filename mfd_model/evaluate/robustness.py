"""Is a result robust? Spread over training seeds and agreement of variant effects between seeds.

The review among the project's references asks how stable a model's attributions and variant
effects are when only the random seed of training changes. Two measures, both from files the
other commands write:

* the spread of a scalar (test mean AUROC) over seeds: mean, standard deviation, min, max;
* the rank agreement of variant effects between each pair of seeds: Spearman correlation of the
  effect of every (variant, experiment) pair, and of each variant's effect averaged over the
  experiments (what a user ranking variants would look at).
"""
from __future__ import annotations

from itertools import combinations
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import MFDError
from .variant_io import VariantScores


def spread(values: Mapping[str, float]) -> dict[str, float]:
    """Mean, sample standard deviation, min, max and range of one scalar over runs."""
    v = np.asarray(list(values.values()), dtype=np.float64)
    if v.size == 0:
        raise MFDError("no runs to summarise")
    return {"n": int(v.size), "mean": float(v.mean()), "sd": float(v.std(ddof=1)) if v.size > 1 else 0.0,
            "min": float(v.min()), "max": float(v.max()), "range": float(v.max() - v.min())}


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two arrays of the same shape (flattened; pairs with a NaN dropped)."""
    from scipy.stats import spearmanr
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    keep = np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 3 or np.ptp(a[keep]) == 0 or np.ptp(b[keep]) == 0:
        return float("nan")
    return float(spearmanr(a[keep], b[keep]).statistic)


def effect_agreement(runs: Mapping[str, VariantScores], score: str) -> pd.DataFrame:
    """Rank agreement of one effect (e.g. ``biological``) between every pair of runs.

    Args:
        runs: run name -> scores of the same variants and experiments (``mfd score-variants``).
        score: the score name to compare.
    Returns:
        One row per pair: run_a, run_b, variants, spearman_all (over every variant x experiment
        pair), spearman_mean_effect (over variants, effect averaged over experiments).
    """
    names = list(runs)
    if len(names) < 2:
        raise MFDError("effect agreement needs at least two runs")
    first = runs[names[0]]
    for name in names:
        scores = runs[name]
        if score not in scores.matrices:
            raise MFDError(f"score {score!r} is not in the variant scores of run {name!r}", path=scores.path,
                           fix=f"score the variants with -s {score}")
        if not np.array_equal(scores.keys, first.keys) or scores.experiments[score] != first.experiments[score]:
            raise MFDError(f"run {name!r} scored other variants or experiments than run {names[0]!r}",
                           path=scores.path, fix="score the same VCF with models of the same experiments")
    rows = []
    for a, b in combinations(names, 2):
        x, y = runs[a].matrices[score], runs[b].matrices[score]
        rows.append({"run_a": a, "run_b": b, "variants": int(x.shape[0]),
                     "spearman_all": spearman(x, y),
                     "spearman_mean_effect": spearman(np.nanmean(x, axis=1), np.nanmean(y, axis=1))})
    return pd.DataFrame(rows)
