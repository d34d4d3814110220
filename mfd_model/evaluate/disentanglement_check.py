"""Did the two subspaces separate biology from technical bias? A pass / fail check against known truth.

Any data set with a per-bin truth table (the format: :mod:`mfd_model.evaluate.disentanglement`)
can be checked; ``mfd simulate`` writes one, ``truth/bins.tsv.gz``, with every bin's planted
biology (TF instances) and planted technical biases (assay k-mers, lab GC artefacts). On held-out
bins of the label store (each must be a row of the table) we embed the sequences (forward and
reverse complement averaged) and fit cross-validated linear probes
(:func:`mfd_model.evaluate.disentanglement.probe_table`). The criteria of the check:

* every checked biological column (``bio:NAME``; the simulator's ``biology``) — biological
  features predict it better than technical features do;
* every checked technical column (``tech:NAME``; the simulator's ``kmer_<assay>``, ``gc_rich``)
  — technical features predict it better;
* dependence — the cross-subspace correlation is lower than that of a reference model
  trained with lambda = 0.

Next to each probe the report gives each half's *share*: the fraction of its variance that the
planted quantity explains (mean squared correlation of its units with it). A probe saturates for
a clean planted signal (a faint trace in a half suffices for AUROC ~1); the share says how much
of the half is about it.

A planted quantity the model did not learn at all (its full features predict it no better than
``LEARNED`` — AUROC 0.6, R2 0.1) cannot show where the model keeps it: it is reported as
not learned and neither passes nor fails.

:func:`check_against_truth` runs the whole check (``mfd check-disentanglement``) and returns a
:class:`DisentanglementCheck`, which prints (:meth:`~DisentanglementCheck.report`) and writes
(:meth:`~DisentanglementCheck.write`) itself; ``mfd evaluate`` shows the same probes descriptively.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import MFDError
from ..genome import Genome
from ..interpret.embed import embed_windows
from ..interpret.windows import centred_windows
from ..model import MFDModel
from .disentanglement import probe_table, subspace_summary, truth_targets

CHECKED_BIASES = ("kmer_", "gc_rich")
LEARNED = {"AUROC": 0.6, "R2": 0.1}


def held_out_bins(store, split: str = "test", max_bins: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Up to ``max_bins`` bins of one split of a label store: columns chrom, start, end."""
    rows = store.indices(split)
    if len(rows) > max_bins:
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_bins, replace=False))
    return pd.DataFrame([store.bin_interval(r) for r in rows], columns=["chrom", "start", "end"])


def variance_share(features: np.ndarray, target: np.ndarray) -> float:
    """Fraction of the variance of ``features`` (N, d) explained by ``target`` (N,): the mean over
    units of the squared Pearson correlation with the target (0: unrelated, 1: determined)."""
    x = features - features.mean(0)
    y = target - target.mean()
    scale = np.sqrt((x ** 2).sum(0) * (y ** 2).sum()) + 1e-12
    return float((((x * y[:, None]).sum(0) / scale) ** 2).mean())


def disentanglement_report(models: dict[str, MFDModel], genome: Genome, bins: pd.DataFrame, truth: pd.DataFrame,
                           *, adversary_steps: int = 300, seed: int = 0, progress: bool = False,
                           biological=None, technical=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Probe scores per (model, planted quantity) and the dependence between each model's subspaces.

    Args:
        models: name -> MFD model.
        bins: held-out bins (chrom, start, end), all present in ``truth``.
        truth: a truth table (:func:`mfd_model.evaluate.disentanglement.read_truth_bins`), e.g. the
            simulator's ``truth/bins.tsv.gz``.
        biological, technical: column names declared biological / technical (``--biological-columns`` ...).
    Returns:
        ``(probes, dependence)``: probes has columns model, target, role, checked, metric, bio, tech, full,
        best, bio_share, tech_share;
        dependence one row per model (cross-subspace correlation, post-hoc adversary R2 both ways).
    """
    path = truth.attrs.get("path")
    keys = truth[["chrom", "start", "end"]].astype({"chrom": str, "start": np.int64, "end": np.int64})
    found = pd.MultiIndex.from_frame(bins[["chrom", "start", "end"]].astype(
        {"chrom": str, "start": np.int64, "end": np.int64})).isin(pd.MultiIndex.from_frame(keys))
    if not found.all():
        first = bins.iloc[int(np.argmin(found))]
        raise MFDError(f"{int((~found).sum())} of {len(bins)} held-out bins are not rows of the truth table "
                       f"(e.g. {first['chrom']}:{first['start']}-{first['end']})", path=path,
                       fix="give the table a row for every bin of the label store (same contig names and bin "
                           "size), e.g. the truth of the data set the store was prepared from")
    rows = bins[["chrom", "start", "end"]].merge(truth, on=["chrom", "start", "end"], how="left", validate="one_to_one")
    rows.attrs["path"] = path
    targets = truth_targets(rows, biological=biological, technical=technical)
    probes, dependence = [], []
    for name, model in models.items():
        if not model.is_mfd:
            raise MFDError(f"model {name!r} is a baseline: it has no biological/technical subspaces",
                           fix="pass MFD models")
        windows = centred_windows(bins, genome, model.config.seq_len, allow_padding=True)
        features = embed_windows(model, windows, ["bio", "tech", "full"], strand="mean", progress=progress).features
        table = probe_table(features, targets, seed=seed)
        table.insert(0, "model", name)
        for half in ("bio", "tech"):
            table[f"{half}_share"] = [variance_share(features[half], np.asarray(targets[t][1], dtype=np.float64))
                                      for t in table["target"]]
        probes.append(table)
        dependence.append({"model": name, "lambda_indep": model.info.get("lambda_indep"),
                           **subspace_summary(features["bio"], features["tech"], adversary_steps=adversary_steps,
                                              seed=seed)})
    return pd.concat(probes, ignore_index=True), pd.DataFrame(dependence)


def check_disentanglement(probes: pd.DataFrame, dependence: pd.DataFrame, model: str,
                          reference: str | None = None) -> list[tuple[bool | None, str]]:
    """The criteria for ``model`` (trained with lambda > 0) as (passed, sentence) pairs;
    ``passed`` is ``None`` for a planted quantity the model did not learn.

    Judged: the probe rows with ``checked`` true (biological role: bio features must beat tech;
    technical: tech must beat bio); without a ``checked`` column, the simulator's ``biology``,
    ``kmer_<assay>`` and ``gc_rich``."""
    results: list[tuple[bool | None, str]] = []
    for _, row in probes[probes["model"] == model].iterrows():
        if "checked" in row.index:
            if not row["checked"]:
                continue
        elif not (row["target"] == "biology" or row["target"].startswith(CHECKED_BIASES)):
            continue
        better, worse = ("bio", "tech") if row["role"] == "biology" else ("tech", "bio")
        sentence = (f"{row['target']}: {better} features {row[better]:.3f} vs {worse} features "
                    f"{row[worse]:.3f} (probe {row['metric']})")
        if row["full"] < LEARNED[row["metric"]]:
            results.append((None, f"{sentence}: not learned by the model (all features: {row['full']:.3f} < "
                                  f"{LEARNED[row['metric']]})"))
        else:
            results.append((row[better] > row[worse], sentence))
    if reference is not None:
        def correlation(name: str) -> float:
            return float(dependence.loc[dependence["model"] == name, "cross_subspace_correlation"].iloc[0])
        mine, theirs = correlation(model), correlation(reference)
        results.append((mine < theirs, f"cross-subspace correlation {mine:.4f} ({model}) vs {theirs:.4f} "
                                       f"({reference}, lambda = 0)"))
    return results


@dataclass
class DisentanglementCheck:
    """The result of :func:`check_against_truth`; :meth:`report` is what ``mfd check-disentanglement``
    prints, :meth:`write` what it writes.

    Attributes:
        probes: :func:`disentanglement_report`'s probe table, one row per (model, planted quantity):
            model, target, role, checked, metric, bio, tech, full, best, bio_share, tech_share.
        dependence: one row per model: model, lambda_indep, cross_subspace_correlation,
            adversary_r2_bio_from_tech, adversary_r2_tech_from_bio.
        results: :func:`check_disentanglement`'s criteria for ``"model"``: ``(passed, sentence)``,
            ``passed`` ``None`` for a planted quantity the model did not learn.
        n_bins: the held-out bins probed; split: their split.
    """

    probes: pd.DataFrame
    dependence: pd.DataFrame
    results: list[tuple[bool | None, str]]
    n_bins: int
    split: str

    @staticmethod
    def label(passed: bool | None) -> str:
        """``PASS``, ``FAIL`` or ``SKIP`` (not learned)."""
        return "SKIP" if passed is None else "PASS" if passed else "FAIL"

    def report(self) -> str:
        """The probe table, the dependence between the subspaces and one PASS / FAIL / SKIP line per criterion."""
        return "\n".join([
            f"linear probes on {self.n_bins} {self.split} bins (cross-validated; AUROC 0.5 / R2 0 = chance):",
            self.probes.to_string(index=False, float_format=lambda v: f"{v:.3f}"), "",
            "dependence between the subspaces (0 = independent):",
            self.dependence.to_string(index=False, float_format=lambda v: f"{v:.4f}"), "",
            *(f"{self.label(ok)}  {sentence}" for ok, sentence in self.results)])

    def criteria(self) -> pd.DataFrame:
        """One row per criterion: result (PASS / FAIL / SKIP), criterion (the sentence)."""
        return pd.DataFrame([{"result": self.label(ok), "criterion": sentence} for ok, sentence in self.results],
                            columns=["result", "criterion"])

    @property
    def judged(self) -> bool:
        """Could any criterion be judged (a checked quantity that varies and that the model learned)?"""
        return any(ok is not None for ok, _ in self.results)

    @property
    def passed(self) -> bool:
        """Judged, and no criterion failed (``mfd check-disentanglement`` exits 0)."""
        return self.judged and all(ok is not False for ok, _ in self.results)

    def unjudged(self) -> str | None:
        """Why no criterion could be judged (``None`` when one could)."""
        if self.judged:
            return None
        return "no criterion could be judged: " + ("the model learned none of the checked quantities"
                                                   if self.results else "no checked truth column varies on these bins")

    def write(self, outdir: str | Path) -> list[Path]:
        """``probes``, ``dependence`` and ``criteria`` (``.tsv`` and ``.md`` each) and ``probes.png``
        (the model's probes) into ``outdir``, all or nothing."""
        from ..outputs import StagedDir
        from .report import plot_probes, write_table

        with StagedDir(outdir) as out:
            write_table(self.probes, out, "probes")
            write_table(self.dependence, out, "dependence")
            write_table(self.criteria(), out, "criteria")
            plot_probes(self.probes[self.probes["model"] == "model"], out / "probes.png")
        return out.written


def check_against_truth(model: MFDModel, truth: pd.DataFrame, store: Any, *, reference: MFDModel | None = None,
                        split: str = "test", max_bins: int = 3000, seed: int = 0,
                        biological: str | Sequence[str] | None = None,
                        technical: str | Sequence[str] | None = None) -> DisentanglementCheck:
    """The disentanglement check of ``model`` (trained with lambda > 0) against a per-bin truth table.

    Args:
        model: the MFD model checked (named ``model`` in the tables).
        truth: :func:`mfd_model.evaluate.disentanglement.read_truth_bins` (e.g. ``truth/bins.tsv.gz``).
        store: the label store (:class:`mfd_model.train.labels.LabelStore`) the bins come from; its FASTA is read.
        reference: the same model trained with lambda = 0 (``reference``), for the dependence criterion.
        split, max_bins, seed: the held-out bins (:func:`held_out_bins`); ``seed`` also seeds the probes.
        biological, technical: truth columns declared biological / technical (``--biological-columns`` ...).
    Returns:
        :class:`DisentanglementCheck`.
    """
    bins = held_out_bins(store, split, max_bins, seed)
    models = {"model": model} if reference is None else {"model": model, "reference": reference}
    probes, dependence = disentanglement_report(models, Genome(store.fasta_path), bins, truth, seed=seed,
                                                biological=biological, technical=technical)
    results = check_disentanglement(probes, dependence, "model", None if reference is None else "reference")
    return DisentanglementCheck(probes, dependence, results, len(bins), split)

