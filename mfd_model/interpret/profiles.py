"""Attribution profiles around motif sites, minus a baseline profile (paper Figs 2-3).

Sequences centred on motif sites (e.g. ``truth/motif_sites.bed`` of the simulator, or TF
footprints) are attributed; per position the score of the present base is averaged over
sites, both signed ("average") and absolute ("absolute"). The same is done for baseline
sequences without peaks; subtracting their profile separates the motif-specific signal from
the model's position-dependent background (the paper's Fig. A7).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd


def position_scores(attributions: np.ndarray) -> np.ndarray:
    """One score per position: the attribution of the present base (sum over channels).

    Args:
        attributions: shape=(N, T, 4, L), zero except at present bases (IG, gradient x input,
            or :func:`.ism.ism_to_contributions`).
    Returns:
        float32, shape=(N, T, L).
    """
    return np.asarray(attributions, dtype=np.float32).sum(axis=2)


@dataclass
class Profile:
    """Average attribution per position, centred on the sites.

    Attributes:
        targets: target labels, length T.
        position: position relative to the window centre, shape=(L,).
        mean, mean_abs: site averages of the signed and absolute scores, shape=(T, L).
        baseline_mean, baseline_abs: the same for baseline sequences, shape=(T, L) (zeros if none).
        n_sites, n_baseline: numbers of sequences averaged.
    """

    targets: list[str]
    position: np.ndarray
    mean: np.ndarray
    mean_abs: np.ndarray
    baseline_mean: np.ndarray
    baseline_abs: np.ndarray
    n_sites: int
    n_baseline: int

    @property
    def corrected(self) -> np.ndarray:
        """Site average minus baseline average, shape=(T, L)."""
        return self.mean - self.baseline_mean

    @property
    def corrected_abs(self) -> np.ndarray:
        """Absolute site average minus absolute baseline average, shape=(T, L)."""
        return self.mean_abs - self.baseline_abs


def site_profile(site_scores: np.ndarray, targets: Sequence[str],
                 baseline_scores: np.ndarray | None = None) -> Profile:
    """Average per-position scores over sites (and baseline sequences).

    Args:
        site_scores: shape=(N, T, L) from :func:`position_scores` of site-centred windows.
        targets: labels of the T targets.
        baseline_scores: shape=(M, T, L) for sequences without peaks, or ``None``.
    Returns:
        :class:`Profile`.
    """
    site_scores = np.asarray(site_scores, dtype=np.float64)
    length = site_scores.shape[2]
    zeros = np.zeros(site_scores.shape[1:])
    if baseline_scores is not None and len(baseline_scores):
        base = np.asarray(baseline_scores, dtype=np.float64)
        base_mean, base_abs, n_base = base.mean(axis=0), np.abs(base).mean(axis=0), base.shape[0]
    else:
        base_mean, base_abs, n_base = zeros, zeros, 0
    return Profile(list(targets), np.arange(length) - length // 2, site_scores.mean(axis=0),
                   np.abs(site_scores).mean(axis=0), base_mean, base_abs, site_scores.shape[0], n_base)


def profile_table(profile: Profile, flank: int | None = None) -> pd.DataFrame:
    """Long table: one row per (target, position) within ``±flank`` of the centre."""
    keep = np.ones(len(profile.position), bool) if flank is None else np.abs(profile.position) <= flank
    rows = []
    for t, label in enumerate(profile.targets):
        rows.append(pd.DataFrame({
            "target": label, "position": profile.position[keep],
            "mean": profile.mean[t, keep], "mean_abs": profile.mean_abs[t, keep],
            "baseline_mean": profile.baseline_mean[t, keep], "baseline_abs": profile.baseline_abs[t, keep],
            "corrected": profile.corrected[t, keep], "corrected_abs": profile.corrected_abs[t, keep]}))
    return pd.concat(rows, ignore_index=True)


def _ratio(a: float, b: float) -> float:
    if np.isfinite(b) and abs(b) > 1e-12:
        return a / b
    return float("inf") if a > 1e-12 else float("nan")


def central_signal(profile: Profile, half_width: int = 10, flank: int = 50) -> pd.DataFrame:
    """How much attribution sits on the sites, per target (absolute scores, so signs cannot cancel).

    Returns:
        DataFrame with ``target``; ``centre``: mean |score| of the sites within ``±half_width``
        bp of the centre; ``flanks``: the same elsewhere within ``±flank``; ``baseline_centre``:
        the baseline sequences' mean |score| at the central positions (NaN without baseline);
        ``centre_vs_flanks`` and ``centre_vs_baseline``: the ratios (> 1: the sites attract
        attribution; ``inf`` when the denominator is zero); ``n_sites``.
    """
    pos = profile.position
    centre = np.abs(pos) <= half_width
    around = (np.abs(pos) <= flank) & ~centre
    rows = []
    for t, label in enumerate(profile.targets):
        c = float(profile.mean_abs[t, centre].mean())
        f = float(profile.mean_abs[t, around].mean()) if around.any() else float("nan")
        b = float(profile.baseline_abs[t, centre].mean()) if profile.n_baseline else float("nan")
        rows.append({"target": label, "centre": c, "flanks": f, "baseline_centre": b,
                     "centre_vs_flanks": _ratio(c, f), "centre_vs_baseline": _ratio(c, b) if profile.n_baseline
                     else float("nan"), "n_sites": profile.n_sites})
    return pd.DataFrame(rows)
