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

:func:`motif_importance` is the analysis of ``mfd motifs gia``: the backgrounds, the motif (a
sequence, a MEME motif's consensus or instances drawn from its PWM) and the targets, then
:func:`global_importance`; the :class:`MotifImportance` it returns writes itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import MFDError
from ..model import MFDModel
from ..inference.engine import Engine
from .ersatz import dinucleotide_shuffle, insert_motif, motif_one_hot, random_sequences, sample_motifs
from .motifs import read_meme
from .targets import Scale, Target, default_unit_targets, resolve_targets, target_values
from .windows import Windows


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


# ============================================================================ mfd motifs gia
@dataclass
class MotifImportance:
    """The result of :func:`motif_importance`; :meth:`write` writes its table.

    Attributes:
        motif: the motif as given: a DNA sequence, or a motif's name in a MEME file.
        width: its length ``k`` in bp.
        background: what it was inserted into (``500 random sequences (GC 0.41)``, ``40 windows of bg.bed``).
        table: :func:`global_importance`'s table with the motif as first column: motif, target, kind, n,
            mean_without, mean_with, effect, median_effect, sd_effect, fraction_up, statistic, p_value.
    """

    motif: str
    width: int
    background: str
    table: pd.DataFrame

    def summary(self) -> str:
        """``"TGACTCA (7 bp) inserted into 500 random sequences (GC 0.41)"``."""
        return f"{self.motif} ({self.width} bp) inserted into {self.background}"

    def write(self, path: str | Path) -> Path:
        """The table as TSV ``path`` (atomically)."""
        from ..outputs import atomic_path

        with atomic_path(path) as tmp:
            self.table.to_csv(tmp, sep="\t", index=False, float_format="%.6g")
        return Path(path)


def motif_importance(model: MFDModel, motif: str, *, meme: str | Path | None = None, sample: bool = False,
                     windows: Windows | None = None, windows_source: str = "", shuffle: bool = False,
                     n_random: int = 500, gc: float = 0.41, position: int | None = None,
                     outputs: Sequence[str] = (), units: Sequence[str] = (), group: str | None = None,
                     all_outputs: bool = False, scale: Scale = "logit", seed: int = 0, batch_size: int = 256,
                     device: str | None = None) -> MotifImportance:
    """Global importance of one motif (``mfd motifs gia``): backgrounds, the motif, the targets, the test.

    Args:
        motif: a DNA sequence (``ACGTN``), or with ``meme`` the name of a motif of that file.
        meme: a MEME file; its motif ``motif`` is inserted as its consensus, or with ``sample`` as one
            instance per background drawn from its PWM (:func:`.ersatz.sample_motifs`, seeded by ``seed``).
        windows: background windows (e.g. regions without peaks), one-hot (N, 4, seq_len), as they are or
            with ``shuffle`` dinucleotide-shuffled (:func:`.ersatz.dinucleotide_shuffle`); ``windows_source``
            names them in the summary. Without windows: ``n_random`` random sequences of GC content ``gc``.
        position: motif start in the window (default: centred).
        outputs, units, group: the outputs and latent units tested (:func:`.targets.resolve_targets`);
            ``all_outputs``: every output (and ``units``); none of these: the named units
            (:func:`.targets.default_unit_targets`).
        scale: outputs as logits or probabilities (units are features either way).
    Returns:
        :class:`MotifImportance`.
    Raises:
        MFDError: ``meme`` has no motif ``motif``; the motif does not fit at ``position``; a target is unknown.
    """
    length = model.config.seq_len
    if windows is not None:
        background = windows.one_hot()
        if shuffle:
            background = dinucleotide_shuffle(background, seed=seed)
        source = f"{len(background)} windows of {windows_source}" + (" (dinucleotide-shuffled)" if shuffle else "")
    else:
        background = random_sequences(n_random, length, gc=gc, seed=seed)
        source = f"{n_random} random sequences (GC {gc:g})"
    if meme is not None:
        known = {m.name: m for m in read_meme(meme)}
        if motif not in known:
            raise MFDError(f"no motif named {motif!r} in the MEME file", path=meme,
                           fix=f"use one of: {', '.join(list(known)[:10])}")
        pwm = known[motif].pwm
        inserted = sample_motifs(pwm, len(background), seed=seed) if sample else motif_one_hot(known[motif].consensus)
    else:
        inserted = motif_one_hot(motif.upper())
    k = inserted.shape[-1]
    if k > length or (position is not None and not 0 <= position <= length - k):
        raise MFDError(f"a {k} bp motif does not fit at position {position} of a {length} bp window",
                       fix=f"use --position between 0 and {length - k}")
    if all_outputs:
        targets = [Target("output", i, n) for i, n in enumerate(model.experiment_names)]
        targets += resolve_targets(model, [], units, group) if units else []
    elif outputs or units:
        targets = resolve_targets(model, outputs, units, group)
    else:
        targets = default_unit_targets(model)
    table = global_importance(model, background, inserted, targets, position=position, scale=scale,
                              batch_size=batch_size, device=device)
    table.insert(0, "motif", motif)
    return MotifImportance(motif, k, source, table)
