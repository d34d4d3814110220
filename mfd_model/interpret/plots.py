"""Figures for attributions and motifs (matplotlib, Agg backend, PNG; never a display).

* :func:`plot_profiles`          — paper Figs 2b / 3: average and absolute attribution per
  position around sites, baseline subtracted, one line per target;
* :func:`plot_attribution_logos` — sequence logos of attributions (one row per target);
* :func:`plot_motif_logos`       — information-content logos of PWMs (filters, planted motifs).

Each function writes its PNG atomically and returns the path.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..encoding import ALPHABET
from .motifs import Motif
from .profiles import Profile


def pyplot():
    """matplotlib.pyplot with the non-interactive Agg backend."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def save(fig, path: str | Path, dpi: int = 130) -> Path:
    """Save a figure atomically as PNG and close it."""
    from ..outputs import atomic_path

    plt = pyplot()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    plt.close(fig)
    return Path(path)


def _colour(label: str, k_bio: int, k_tech: int, k_other: int):
    plt = pyplot()
    if "bio/" in label:
        return plt.cm.Blues(0.45 + 0.5 * (k_bio % 4) / 3)
    if "tech/" in label:
        return plt.cm.Oranges(0.45 + 0.5 * (k_tech % 4) / 3)
    return plt.cm.tab10(k_other % 10)


def plot_profiles(profile: Profile, path: str | Path, *, flank: int = 50, title: str | None = None) -> Path:
    """Average (signed) and absolute attribution per position within ``±flank`` bp of the sites.

    Biological units are drawn in blues, technical units in oranges, outputs in other colours.
    With a baseline, the baseline profile is subtracted (the paper's correction).
    """
    plt = pyplot()
    keep = np.abs(profile.position) <= flank
    x = profile.position[keep]
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), sharex=True)
    counters = {"bio": 0, "tech": 0, "other": 0}
    for t, label in enumerate(profile.targets):
        kind = "bio" if "bio/" in label else "tech" if "tech/" in label else "other"
        colour = _colour(label, counters["bio"], counters["tech"], counters["other"])
        counters[kind] += 1
        axes[0].plot(x, profile.corrected[t, keep], color=colour, label=label, lw=1.3)
        axes[1].plot(x, profile.corrected_abs[t, keep], color=colour, label=label, lw=1.3)
    corrected = " - baseline" if profile.n_baseline else ""
    axes[0].set_title(f"average attribution{corrected}")
    axes[1].set_title(f"absolute attribution{corrected}")
    for ax in axes:
        ax.axvline(0, color="grey", lw=0.6, ls=":")
        ax.axhline(0, color="grey", lw=0.6)
        ax.set_xlabel("position relative to site centre (bp)")
    axes[0].set_ylabel("score per base")
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(title or f"{profile.n_sites} sites" + (f", baseline {profile.n_baseline} sequences" if profile.n_baseline else ""))
    return save(fig, path)


def _logo(matrix: np.ndarray, ax, positions: np.ndarray | None = None) -> None:
    import logomaker
    import pandas as pd

    frame = pd.DataFrame(np.asarray(matrix, dtype=np.float64).T, columns=list(ALPHABET),
                         index=positions if positions is not None else np.arange(matrix.shape[1]))
    logomaker.Logo(frame, ax=ax, color_scheme="classic", flip_below=False)
    ax.axhline(0, color="grey", lw=0.5)


def plot_attribution_logos(attributions: np.ndarray, labels: Sequence[str], path: str | Path, *,
                           positions: np.ndarray | None = None, title: str | None = None) -> Path:
    """One sequence logo per target (letter height = attribution of that base).

    Args:
        attributions: shape=(T, 4, W) (one sequence, or an average over aligned sites).
        labels: target labels, length T.
        positions: x-axis labels, shape=(W,).
    """
    plt = pyplot()
    n = attributions.shape[0]
    fig, axes = plt.subplots(n, 1, figsize=(max(6.0, attributions.shape[2] * 0.16), 1.6 * n + 0.4), squeeze=False)
    for t in range(n):
        _logo(attributions[t], axes[t, 0], positions)
        axes[t, 0].set_ylabel(labels[t], fontsize=7, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)


def plot_motif_logos(motifs: Sequence[Motif], path: str | Path, *, max_motifs: int = 24,
                     title: str | None = None) -> Path:
    """Information-content logos (bits) of PWMs, one row per motif."""
    plt = pyplot()
    shown = list(motifs)[:max_motifs]
    if not shown:
        raise ValueError("no motif to plot")
    fig, axes = plt.subplots(len(shown), 1, figsize=(6, 1.3 * len(shown) + 0.4), squeeze=False)
    for ax, motif in zip(axes[:, 0], shown):
        p = np.clip(motif.pwm, 1e-9, 1)
        bits = p * (2 + (p * np.log2(p)).sum(axis=1, keepdims=True))
        _logo(bits.T, ax)
        ax.set_ylim(0, 2)
        ax.set_ylabel(f"{motif.name}\n(n={motif.n_sites})", fontsize=7, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)


def plot_pattern_logos(cwm: np.ndarray, ppm: np.ndarray, path: str | Path, *,
                       trim: tuple[int, int] | None = None, title: str | None = None) -> Path:
    """A TF-MoDISco pattern: its contribution logo (CWM) above its information-content logo (PPM).

    Args:
        cwm: mean contributions of the seqlets' bases, shape=(w, 4).
        ppm: base frequencies of the seqlets, shape=(w, 4).
        trim: ``(start, end)`` of the core matched against databases, shaded.
    """
    plt = pyplot()
    width = cwm.shape[0]
    fig, axes = plt.subplots(2, 1, figsize=(max(6.0, width * 0.2), 3.2), sharex=True)
    _logo(np.asarray(cwm).T, axes[0])
    axes[0].set_ylabel("contribution", fontsize=7)
    p = np.clip(np.asarray(ppm, dtype=np.float64), 1e-9, 1)
    p = p / p.sum(axis=1, keepdims=True)
    _logo((p * (2 + (p * np.log2(p)).sum(axis=1, keepdims=True))).T, axes[1])
    axes[1].set_ylim(0, 2)
    axes[1].set_ylabel("bits", fontsize=7)
    if trim is not None:
        for ax in axes:
            ax.axvspan(trim[0] - 0.5, trim[1] - 0.5, color="gold", alpha=0.12, lw=0)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save(fig, path)
