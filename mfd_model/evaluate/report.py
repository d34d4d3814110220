"""Tables (printed, TSV, markdown) and figures (PNG) of the evaluation.

Writers take a folder (a :class:`mfd_model.outputs.StagedDir` in the commands, so a run that
fails half-way publishes nothing) and a stem; every plot uses the Agg backend.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..interpret.plots import pyplot, save

FEATURE_LABELS = {"baseline": "Baseline", "full": "Combined", "combined": "Combined", "bio": "Biological",
                  "tech": "Technical"}
FEATURE_COLOURS = {"baseline": "#7f7f7f", "full": "#2ca02c", "combined": "#2ca02c", "bio": "#1f77b4",
                   "tech": "#ff7f0e"}


def _fmt(value) -> str:
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return "-"
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.2e}"
        return f"{value:.3f}"
    return str(value)


def markdown(frame: pd.DataFrame, index: bool = True) -> str:
    """A GitHub-flavoured markdown table (numbers to 3 decimals, small p-values in e-notation)."""
    frame = frame.reset_index() if index and frame.index.name is not None else frame
    header = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_fmt(v) for v in row) + " |")
    return "\n".join(lines)


def text_table(frame: pd.DataFrame) -> str:
    """Fixed-width text for the terminal."""
    shown = frame.reset_index() if frame.index.name is not None else frame
    return shown.to_string(index=False, formatters={c: _fmt for c in shown.columns
                                                     if pd.api.types.is_float_dtype(shown[c])})


def write_table(frame: pd.DataFrame, folder, stem: str) -> list[Path]:
    """``<stem>.tsv`` and ``<stem>.md`` in ``folder`` (a path or a StagedDir)."""
    tsv, md = folder / f"{stem}.tsv", folder / f"{stem}.md"
    shown = frame.reset_index() if frame.index.name is not None else frame
    shown.to_csv(tsv, sep="\t", index=False, float_format="%.6g")
    Path(md).write_text(markdown(frame) + "\n")
    return [Path(tsv), Path(md)]


# ============================================================================ figures
def plot_performance(metrics: pd.DataFrame, summary: pd.DataFrame, path) -> Path:
    """AUROC / AUPRC per experiment (histograms) and mean AUROC per metadata value (bars)."""
    plt = pyplot()
    columns = list(dict.fromkeys(summary["column"])) if len(summary) else []
    fig, axes = plt.subplots(1, 2 + len(columns), figsize=(4.2 * (2 + len(columns)), 3.6), squeeze=False)
    for ax, metric in zip(axes[0, :2], ("auroc", "auprc")):
        values = metrics[metric].dropna()
        ax.hist(values, bins=min(30, max(5, len(values))), color="#1f77b4", alpha=0.8)
        ax.set_xlabel(metric.upper())
        ax.set_ylabel("experiments")
        ax.set_title(f"{metric.upper()}: mean {values.mean():.3f} (n={len(values)})" if len(values) else metric.upper())
    for ax, column in zip(axes[0, 2:], columns):
        part = summary[summary["column"] == column].sort_values("mean_auroc")
        ax.barh(part["value"].astype(str), part["mean_auroc"], color="#2ca02c")
        ax.axvline(0.5, color="grey", lw=0.6, ls=":")
        ax.set_xlim(min(0.4, float(np.nanmin(part["mean_auroc"])) - 0.02) if part["mean_auroc"].notna().any() else 0.4, 1.0)
        ax.set_xlabel("mean AUROC")
        ax.set_title(f"by {column}")
    fig.tight_layout()
    return save(fig, path)


def plot_enhancers(table: pd.DataFrame, path) -> Path:
    """Grouped bars: AUROC per tissue and feature set (the ``mean`` row last)."""
    plt = pyplot()
    tissues = list(table.index)
    sets = list(table.columns)
    width = 0.8 / max(len(sets), 1)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(tissues) * max(len(sets), 1) * 0.45 + 2), 3.8))
    x = np.arange(len(tissues))
    for k, name in enumerate(sets):
        ax.bar(x + (k - (len(sets) - 1) / 2) * width, table[name].to_numpy(dtype=float), width,
               label=FEATURE_LABELS.get(name, name), color=FEATURE_COLOURS.get(name))
    ax.axhline(0.5, color="grey", lw=0.6, ls=":")
    ax.set_xticks(x, tissues, rotation=30, ha="right")
    ax.set_ylabel("test AUROC")
    ax.set_ylim(0.3, 1.0)
    ax.set_title("enhancer classification (logistic regression on frozen features)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save(fig, path)


def plot_enrichment(table: pd.DataFrame, per_output: pd.DataFrame, path) -> Path:
    """Odds ratio per cutoff and feature set (aggregated, with Fisher p < 0.05 filled), and the
    spread of per-output odds ratios at each cutoff (paper Fig. 4 style)."""
    plt = pyplot()
    groups = list(dict.fromkeys(table["true_class"])) if "true_class" in table else [None]
    fig, axes = plt.subplots(len(groups), 2, figsize=(11, 3.6 * len(groups)), squeeze=False)
    for row, group in enumerate(groups):
        part = table if group is None else table[table["true_class"] == group]
        outputs = per_output if group is None else per_output[per_output["true_class"] == group]
        cutoffs = list(dict.fromkeys(part["cutoff"]))
        x = np.arange(len(cutoffs))
        sets = list(dict.fromkeys(part["feature_set"]))
        ax = axes[row, 0]
        any_zero_cell = False
        for k, name in enumerate(sets):
            sub = part[part["feature_set"] == name].set_index("cutoff").loc[cutoffs]
            colour = FEATURE_COLOURS.get(name)
            odds = sub["odds_ratio"].to_numpy(dtype=float)
            zero_cell = ~np.isfinite(odds) | (odds <= 0)          # a zero cell: show the Haldane value
            any_zero_cell |= bool(zero_cell.any())
            odds = np.where(zero_cell, sub["odds_ratio_haldane"].to_numpy(dtype=float), odds)
            ax.plot(x, odds, "-", color=colour, label=FEATURE_LABELS.get(name, name))
            significant = sub["p_value"].to_numpy() < 0.05
            for mask, marker in ((~zero_cell, "o"), (zero_cell, "^")):
                ax.scatter(x[mask & significant], odds[mask & significant], color=colour, marker=marker, zorder=3)
                ax.scatter(x[mask & ~significant], odds[mask & ~significant], facecolor="white", edgecolor=colour,
                           marker=marker, zorder=3)
        ax.axhline(1.0, color="grey", lw=0.6, ls=":")
        ax.set_yscale("log")
        ax.set_xticks(x, cutoffs)
        ax.set_xlabel("quantile cutoff" + ("   (triangles: a zero cell, Haldane-corrected OR)" if any_zero_cell else ""))
        ax.set_ylabel("odds ratio (unique variants)")
        ax.set_title("enrichment" + (f": {group} vs control" if group else "") + " (filled: Fisher p < 0.05)")
        ax.legend(fontsize=8)
        ax = axes[row, 1]
        data, labels, colours = [], [], []
        for cutoff in cutoffs:
            for name in sets:
                values = outputs[(outputs["cutoff"] == cutoff) & (outputs["feature_set"] == name)]["odds_ratio_haldane"]
                values = values.replace([np.inf, -np.inf], np.nan).dropna()
                data.append(values.to_numpy() if len(values) else np.array([np.nan]))
                labels.append(f"{cutoff}\n{FEATURE_LABELS.get(name, name)[:4]}")
                colours.append(FEATURE_COLOURS.get(name, "#999999"))
        box = ax.boxplot(data, patch_artist=True, showfliers=False)
        ax.set_yscale("log")
        for patch, colour in zip(box["boxes"], colours):
            patch.set_facecolor(colour)
            patch.set_alpha(0.6)
        ax.set_xticks(np.arange(1, len(labels) + 1), labels, fontsize=6)
        ax.axhline(1.0, color="grey", lw=0.6, ls=":")
        ax.set_ylabel("odds ratio per output (Haldane)")
        ax.set_title("per-output odds ratios (0.5 added to each cell)")
    fig.tight_layout()
    return save(fig, path)


def plot_probes(table: pd.DataFrame, path, sets: Sequence[str] = ("bio", "tech", "full")) -> Path:
    """Probe score per planted quantity and feature set (AUROC panel and R2 panel)."""
    plt = pyplot()
    metrics = [m for m in ("AUROC", "R2") if (table["metric"] == m).any()]
    fig, axes = plt.subplots(1, max(1, len(metrics)), figsize=(6 * max(1, len(metrics)), 3.8), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        part = table[table["metric"] == metric]
        present = [s for s in sets if s in part.columns]
        x = np.arange(len(part))
        width = 0.8 / max(len(present), 1)
        for k, name in enumerate(present):
            ax.bar(x + (k - (len(present) - 1) / 2) * width, part[name].to_numpy(dtype=float), width,
                   label=FEATURE_LABELS.get(name, name), color=FEATURE_COLOURS.get(name))
        ax.set_xticks(x, [f"{t}\n({r})" for t, r in zip(part["target"], part["role"])], rotation=30, ha="right",
                      fontsize=7)
        ax.axhline(0.5 if metric == "AUROC" else 0.0, color="grey", lw=0.6, ls=":")
        ax.set_ylabel(f"probe {metric}")
        ax.set_title(f"linear probes vs planted truth ({metric})")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return save(fig, path)
