"""Disentanglement diagnostics on real sequences, and on simulated data against the truth.

Reuses :mod:`mfd_model.diagnostics` (no second implementation):

* cross-subspace correlation — mean squared Pearson correlation of (bio unit, tech unit) pairs;
* post-hoc adversary R2 — fresh adversaries trained to predict one subspace from the other;
* probes (simulated data) — a cross-validated linear probe from bio, tech and full features
  to each planted quantity of ``truth/bins.tsv.gz``: ``biology`` (any planted motif),
  ``motif_<TF>`` (presence), the technical biases ``kmer_<assay>`` (counts) and ``gc_rich``,
  and ``gc``. Disentanglement shows as bio features beating tech features on biology and
  tech features beating bio features on the biases.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..diagnostics import cross_subspace_correlation, posthoc_adversary_r2, probe_score
from ..errors import MFDError
from .enhancers import single_threaded_blas

BIOLOGY_COLUMNS = ("biology",)
BIAS_PREFIXES = ("kmer_",)
BIAS_COLUMNS = ("gc_rich", "gc")


def read_truth_bins(path: str | Path) -> pd.DataFrame:
    """The simulator's per-bin truth table (``chrom start end gc n_fraction motif_* biology kmer_* gc_rich``)."""
    path = Path(path)
    if not path.exists():
        raise MFDError("truth bin table not found", path=path, fix="pass the simulator's truth/bins.tsv.gz")
    try:
        frame = pd.read_csv(path, sep="\t", compression="infer")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, EOFError, OSError) as err:
        raise MFDError(f"cannot read the truth bin table ({' '.join(str(err).split())[:120]})", path=path,
                       fix="pass the simulator's truth/bins.tsv.gz") from None
    frame.columns = [str(c).lstrip("#") for c in frame.columns]
    missing = [c for c in ("chrom", "start", "end") if c not in frame.columns]
    if missing:
        raise MFDError(f"truth bin table lacks column(s) {', '.join(missing)}", path=path, line=1,
                       fix="the header must name chrom, start, end and the truth columns")
    return frame


def truth_targets(bins: pd.DataFrame) -> dict[str, tuple[str, np.ndarray]]:
    """Planted quantities to probe for: name -> (role, values), role ``biology`` or ``bias``.

    ``motif_<TF>`` counts become presence (0/1); constant columns are left out (nothing to predict).
    """
    targets: dict[str, tuple[str, np.ndarray]] = {}
    for column in bins.columns:
        values = bins[column].to_numpy()
        if column in BIOLOGY_COLUMNS:
            role, y = "biology", (values > 0).astype(int)
        elif column.startswith("motif_"):
            role, y = "biology", (values > 0).astype(int)
        elif column.startswith(BIAS_PREFIXES) or column in BIAS_COLUMNS:
            role, y = "bias", values.astype(np.float64)
        else:
            continue
        if np.unique(y).size > 1:
            targets[column] = (role, y)
    return targets


def probe_table(features: Mapping[str, np.ndarray], targets: Mapping[str, tuple[str, np.ndarray]], *,
                folds: int = 5, seed: int = 0) -> pd.DataFrame:
    """Probe score of every feature set for every target.

    Args:
        features: feature set (``bio``, ``tech``, ``full``) -> shape=(N, d).
        targets: from :func:`truth_targets` (rows aligned with the features).
    Returns:
        DataFrame with ``target``, ``role``, ``metric`` (``AUROC`` for 0/1 targets, ``R2``
        otherwise), one column per feature set, and ``best`` (bio vs tech, whichever is higher).
    """
    rows = []
    for name, (role, y) in targets.items():
        binary = np.unique(y).size == 2 and set(np.unique(y).tolist()) <= {0, 1}
        if binary and min(int(y.sum()), int(len(y) - y.sum())) < folds:
            continue
        row = {"target": name, "role": role, "metric": "AUROC" if binary else "R2"}
        with single_threaded_blas():
            for set_name, values in features.items():
                row[set_name] = probe_score(values, y, folds=folds, seed=seed)
        if "bio" in row and "tech" in row:
            row["best"] = "bio" if row["bio"] > row["tech"] else "tech"
        rows.append(row)
    return pd.DataFrame(rows)


def subspace_summary(bio: np.ndarray, tech: np.ndarray, *, adversary_steps: int = 300, seed: int = 0) -> dict[str, float]:
    """Cross-subspace correlation and post-hoc adversary R2 (both directions)."""
    bio_from_tech, tech_from_bio = posthoc_adversary_r2(bio, tech, steps=adversary_steps, seed=seed)
    return {"cross_subspace_correlation": cross_subspace_correlation(bio, tech),
            "adversary_r2_bio_from_tech": bio_from_tech, "adversary_r2_tech_from_bio": tech_from_bio}
