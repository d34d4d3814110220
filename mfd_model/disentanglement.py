"""Did the two subspaces separate biology from technical bias? A check against known truth.

On data from ``mfd simulate`` every bin's planted biology (TF instances) and planted technical
biases (assay k-mers, lab GC artefacts) are known (``truth/bins.tsv.gz``). For held-out bins we
compute the model's biological and technical features (forward and reverse complement averaged)
and fit cross-validated linear probes (:func:`mfd_model.diagnostics.probe_score`):

* biology targets   — the biological features should predict them better than the technical ones;
* technical targets — the technical features should predict them better than the biological ones;
* the cross-subspace correlation should be lower than for a reference model trained with lambda = 0.

:func:`disentanglement_report` computes the table; :func:`check_disentanglement` turns it into
pass / fail lines (``mfd check-disentanglement``; ``mfd evaluate`` reuses the report).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .diagnostics import cross_subspace_correlation, posthoc_adversary_r2, probe_score
from .encoding import one_hot_encode_batch, reverse_complement_one_hot
from .errors import MFDError
from .genome import Genome
from .model import MFDModel
from .predict import predict

BIOLOGY_TARGETS = ("biology",)


@dataclass(frozen=True)
class ProbeTarget:
    """A per-bin quantity to probe for: a ``truth/bins.tsv.gz`` column, binarised (> 0)."""

    column: str
    kind: str  # "biology" or "technical"


def simulated_targets(truth: pd.DataFrame) -> list[ProbeTarget]:
    """The probe targets a simulated truth table offers: ``biology`` and every planted bias
    (``kmer_<assay>`` columns and ``gc_rich``) that varies."""
    targets = [ProbeTarget(c, "biology") for c in BIOLOGY_TARGETS if c in truth]
    targets += [ProbeTarget(c, "technical") for c in truth.columns if c.startswith("kmer_") or c == "gc_rich"]
    return [t for t in targets if truth[t.column].gt(0).nunique() == 2]


def read_truth(simulation: str | Path) -> pd.DataFrame:
    """``truth/bins.tsv.gz`` of an ``mfd simulate`` folder, indexed by (chrom, start)."""
    path = Path(simulation) / "truth" / "bins.tsv.gz"
    if not path.exists():
        raise MFDError("no simulated truth table here", path=path,
                       fix="pass the folder written by 'mfd simulate' (it holds truth/bins.tsv.gz)")
    return pd.read_csv(path, sep="\t").set_index(["chrom", "start"])


def bin_features(model: MFDModel, genome: Genome, bins: pd.DataFrame, *, batch_size: int = 256,
                 device: str | None = None) -> np.ndarray:
    """Latent features of windows centred on bins, forward and reverse complement averaged.

    Args:
        bins: columns chrom, start, end.
    Returns:
        np.ndarray, shape=(len(bins), latent_dim).
    """
    seq_len = model.config.seq_len
    centres = ((bins["start"].to_numpy() + bins["end"].to_numpy()) // 2).astype(np.int64)
    chroms = [genome.require(c) for c in bins["chrom"]]
    out = []
    for lo in range(0, len(bins), 4096):
        x = one_hot_encode_batch([genome.fetch(c, s - seq_len // 2, s - seq_len // 2 + seq_len)
                                  for c, s in zip(chroms[lo:lo + 4096], centres[lo:lo + 4096])])
        x = torch.from_numpy(x)
        features = lambda m, b: m.features(b)
        forward = predict(model, x, batch_size=batch_size, device=device, func=features)
        reverse = predict(model, reverse_complement_one_hot(x), batch_size=batch_size, device=device, func=features)
        out.append(((forward + reverse) / 2).numpy())
    return np.concatenate(out) if out else np.zeros((0, model.config.latent_dim), dtype=np.float32)


def disentanglement_report(models: dict[str, MFDModel], genome: Genome, bins: pd.DataFrame, truth: pd.DataFrame,
                           *, adversary: bool = True, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Probe scores per model and target, and per-model dependence between the subspaces.

    Args:
        models: name -> MFD model.
        bins: held-out bins (chrom, start, end) present in ``truth``.
        truth: :func:`read_truth` output.
    Returns:
        ``(probes, dependence)``: probes has one row per (model, target) with columns
        model, target, kind, metric, bio, tech, full; dependence one row per model with
        cross_correlation and (``adversary``) the held-out R2 of fresh adversaries both ways.
    """
    rows = truth.reindex(pd.MultiIndex.from_arrays([bins["chrom"], bins["start"]]))
    if rows.isna().all(axis=1).any():
        raise MFDError("some bins are not in the simulated truth table",
                       fix="use the label store prepared from this simulation's genome and peaks")
    targets = simulated_targets(rows)
    probe_rows, dependence_rows = [], []
    for name, model in models.items():
        if not model.is_mfd:
            raise MFDError(f"model {name!r} is a baseline: it has no biological/technical subspaces",
                           fix="pass MFD models")
        features = bin_features(model, genome, bins)
        bio, tech = features[:, :model.config.half_dim], features[:, model.config.half_dim:]
        for target in targets:
            y = (rows[target.column].to_numpy() > 0).astype(int)
            probe_rows.append({"model": name, "target": target.column, "kind": target.kind, "metric": "AUROC",
                               "bio": probe_score(bio, y, seed=seed), "tech": probe_score(tech, y, seed=seed),
                               "full": probe_score(features, y, seed=seed)})
        entry = {"model": name, "lambda_indep": model.info.get("lambda_indep"),
                 "cross_correlation": cross_subspace_correlation(bio, tech)}
        if adversary:
            entry["adversary_r2_bio_from_tech"], entry["adversary_r2_tech_from_bio"] = \
                posthoc_adversary_r2(bio, tech, seed=seed)
        dependence_rows.append(entry)
    return pd.DataFrame(probe_rows), pd.DataFrame(dependence_rows)


def check_disentanglement(probes: pd.DataFrame, dependence: pd.DataFrame, model: str,
                          reference: str | None = None) -> list[tuple[bool, str]]:
    """The issue-3 criteria for ``model`` (trained with lambda > 0) as (passed, sentence) pairs."""
    results = []
    own = probes[probes["model"] == model]
    for _, row in own.iterrows():
        better, worse = ("bio", "tech") if row["kind"] == "biology" else ("tech", "bio")
        ok = row[better] > row[worse]
        results.append((ok, f"{row['target']} ({row['kind']}): {better} features {row[better]:.3f} vs "
                            f"{worse} features {row[worse]:.3f} (probe {row['metric']})"))
    if reference is not None:
        mine = float(dependence.loc[dependence["model"] == model, "cross_correlation"].iloc[0])
        theirs = float(dependence.loc[dependence["model"] == reference, "cross_correlation"].iloc[0])
        results.append((mine < theirs, f"cross-subspace correlation {mine:.4f} ({model}) vs {theirs:.4f} ({reference})"))
    return results
