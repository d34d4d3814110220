"""Variant enrichment at quantile cutoffs of the variant effect (paper section 3.3, Table 2).

For each output (experiment) and feature set, variants whose effect is extreme are *tagged*:

* one-sided cutoff ``q`` (e.g. 0.9, 0.95, 0.99): ``|VEP| >= quantile(|VEP|, q)``;
* two-sided cutoff ``(lo, hi)`` (e.g. (0.1, 0.9), for rare variants):
  ``VEP <= quantile(VEP, lo)`` or ``VEP >= quantile(VEP, hi)``.

Quantiles are taken over all scored variants (true and control) of that output. The paper
aggregates over all outputs by counting *unique* variants: a variant is tagged if any output
tags it ("computed over the total numbers of unique true positive and false positive
variants"). The 2 x 2 table

    ==========  ==========  =========
                true        control
    tagged      a           b
    untagged    c           d
    ==========  ==========  =========

gives the odds ratio ``(a d) / (b c)`` and a one-sided Fisher exact test (enrichment of
true variants among tagged ones), exactly ``scipy.stats.fisher_exact``. Per-output odds
ratios (paper Fig. 4) are reported too.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

Cutoff = float | tuple[float, float]

ONE_SIDED = (0.9, 0.95, 0.99)
TWO_SIDED = ((0.1, 0.9), (0.01, 0.99), (0.001, 0.999))


def cutoff_label(cutoff: Cutoff) -> str:
    """``0.99`` or ``(0.01, 0.99)``."""
    if isinstance(cutoff, tuple):
        return f"({cutoff[0]:g}, {cutoff[1]:g})"
    return f"{cutoff:g}"


def parse_cutoff(text: str) -> Cutoff:
    """``"0.99"`` -> 0.99; ``"0.01,0.99"`` or ``"(0.01, 0.99)"`` -> (0.01, 0.99)."""
    from ..errors import MFDError

    parts = [p for p in text.strip().strip("()").replace(" ", "").split(",") if p]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise MFDError(f"cannot read quantile cutoff {text!r}", fix="write e.g. 0.99 or 0.01,0.99") from None
    if len(values) == 1 and 0 < values[0] < 1:
        return values[0]
    if len(values) == 2 and 0 < values[0] < values[1] < 1:
        return (values[0], values[1])
    raise MFDError(f"invalid quantile cutoff {text!r}", fix="a one-sided cutoff in (0, 1), or lo,hi with 0 < lo < hi < 1")


def tag_variants(vep: np.ndarray, cutoff: Cutoff) -> np.ndarray:
    """Variants with extreme effects, per output.

    Args:
        vep: effects, shape=(V, O) (NaN = not scored; never tagged).
        cutoff: one-sided quantile of |VEP|, or a two-sided (lo, hi) pair on the signed VEP.
    Returns:
        bool, shape=(V, O).
    """
    vep = np.asarray(vep, dtype=np.float64)
    if vep.ndim == 1:
        vep = vep[:, None]
    with np.errstate(invalid="ignore"):
        if isinstance(cutoff, tuple):
            lo = np.nanquantile(vep, cutoff[0], axis=0)
            hi = np.nanquantile(vep, cutoff[1], axis=0)
            return (vep <= lo[None]) | (vep >= hi[None])
        magnitude = np.abs(vep)
        return magnitude >= np.nanquantile(magnitude, cutoff, axis=0)[None]


def contingency(tagged: np.ndarray, is_true: np.ndarray) -> np.ndarray:
    """The 2 x 2 table ``[[tagged true, tagged control], [untagged true, untagged control]]``.

    Args:
        tagged, is_true: bool, shape=(V,).
    Returns:
        int64, shape=(2, 2).
    """
    tagged = np.asarray(tagged, dtype=bool)
    is_true = np.asarray(is_true, dtype=bool)
    return np.array([[np.sum(tagged & is_true), np.sum(tagged & ~is_true)],
                     [np.sum(~tagged & is_true), np.sum(~tagged & ~is_true)]], dtype=np.int64)


def fisher(table: np.ndarray, alternative: str = "greater") -> tuple[float, float]:
    """``(odds ratio, p-value)`` of a 2 x 2 table (scipy's sample odds ratio ``a d / (b c)``)."""
    from scipy.stats import fisher_exact

    result = fisher_exact(np.asarray(table), alternative=alternative)
    return float(result.statistic), float(result.pvalue)


def variant_enrichment(scores: Mapping[str, np.ndarray], is_true: np.ndarray, *,
                       labelled: np.ndarray | None = None, cutoffs: Sequence[Cutoff] = ONE_SIDED,
                       alternative: str = "greater") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 2: enrichment of true variants among tagged ones, per feature set and cutoff.

    Args:
        scores: feature set (e.g. ``combined``, ``bio``, ``tech``, ``baseline``) -> VEP
            matrix shape=(V, O) (its own outputs; rows aligned with ``is_true``).
        is_true: bool, shape=(V,): true (e.g. eQTL, planted motif variant) vs control.
        labelled: bool, shape=(V,): variants that enter the 2 x 2 tables (default all). The
            quantile cutoffs are always taken over *all* scored variants, so thresholds do not
            depend on which labels are analysed.
        cutoffs: quantile cutoffs (one-sided floats and/or two-sided pairs).
        alternative: Fisher test alternative (``greater``: enrichment).
    Returns:
        ``(table, per_output)``: ``table`` has one row per (cutoff, feature set) with
        ``cutoff``, ``feature_set``, ``tagged``, ``true_tagged`` (a), ``control_tagged`` (b),
        ``true_untagged`` (c), ``control_untagged`` (d), ``odds_ratio``, ``p_value``
        ``odds_ratio_haldane`` (0.5 added to each cell: finite when a cell is zero)
        (unique variants tagged by any output); ``per_output`` the same per output index
        ``output``.
    """
    is_true = np.asarray(is_true, dtype=bool)
    keep = np.ones(len(is_true), bool) if labelled is None else np.asarray(labelled, dtype=bool)
    truth = is_true[keep]
    rows, per_output = [], []
    for cutoff in cutoffs:
        for name, vep in scores.items():
            vep = np.asarray(vep, dtype=np.float64)
            if vep.ndim == 1:
                vep = vep[:, None]
            if vep.shape[0] != len(is_true):
                raise ValueError(f"feature set {name!r} scores {vep.shape[0]} variants, labels cover {len(is_true)}")
            tagged = tag_variants(vep, cutoff)[keep]
            table = contingency(tagged.any(axis=1), truth)
            odds, p = fisher(table, alternative)
            rows.append(_row(cutoff, name, table, odds, p))
            for o in range(vep.shape[1]):
                t = contingency(tagged[:, o], truth)
                o_odds, o_p = fisher(t, alternative)
                per_output.append({**_row(cutoff, name, t, o_odds, o_p), "output": o})
    return pd.DataFrame(rows), pd.DataFrame(per_output)


def haldane_odds_ratio(table: np.ndarray) -> float:
    """Odds ratio with 0.5 added to every cell (Haldane-Anscombe): finite when a cell is zero."""
    (a, b), (c, d) = np.asarray(table, dtype=np.float64) + 0.5
    return float(a * d / (b * c))


def _row(cutoff: Cutoff, name: str, table: np.ndarray, odds: float, p: float) -> dict:
    return {"cutoff": cutoff_label(cutoff), "feature_set": name, "tagged": int(table[0].sum()),
            "true_tagged": int(table[0, 0]), "control_tagged": int(table[0, 1]),
            "true_untagged": int(table[1, 0]), "control_untagged": int(table[1, 1]),
            "odds_ratio": odds, "odds_ratio_haldane": haldane_odds_ratio(table), "p_value": p}
