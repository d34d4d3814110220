"""Prediction performance per experiment on held-out bins, summarised by metadata group.

Bins of the label store's test split (chromosomes never trained on) are cut as ``seq_len``
windows centred on each bin, predicted forward and reverse-complemented, and the two
probabilities averaged. AUROC and AUPRC are computed per experiment (undefined, NaN, when
the split holds no positive or no negative bin for it), then averaged per value of chosen
metadata columns (``assay``, ``target``, ...; multi-valued cells count for each value).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import MFDError
from ..inference.engine import Output, predict_windows
from ..inference.sources import GenomeWindows
from ..model import MFDModel


def per_experiment_metrics(y_true: np.ndarray, y_score: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """AUROC and AUPRC of every experiment.

    Args:
        y_true: 0/1 labels, shape=(N, O).
        y_score: predicted probabilities, shape=(N, O).
        names: experiment names, length O.
    Returns:
        DataFrame with ``experiment``, ``n``, ``n_positive``, ``prevalence``, ``auroc``, ``auprc``
        (NaN where a class is absent).
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score, dtype=np.float64)
    rows = []
    for o, name in enumerate(names):
        y, s = y_true[:, o].astype(int), y_score[:, o]
        positives = int(y.sum())
        both = 0 < positives < len(y)
        rows.append({"experiment": name, "n": len(y), "n_positive": positives,
                     "prevalence": positives / len(y) if len(y) else float("nan"),
                     "auroc": float(roc_auc_score(y, s)) if both else float("nan"),
                     "auprc": float(average_precision_score(y, s)) if both else float("nan")})
    return pd.DataFrame(rows)


def summarise_by_metadata(metrics: pd.DataFrame, metadata: pd.DataFrame, columns: Sequence[str], *,
                          id_column: str | None = None, separator: str = ",") -> pd.DataFrame:
    """Mean AUROC / AUPRC per metadata value.

    Args:
        metrics: from :func:`per_experiment_metrics`.
        metadata: one row per experiment, in the same order as ``metrics`` (or matched on
            ``id_column``).
        columns: metadata columns to group by.
    Returns:
        DataFrame with ``column``, ``value``, ``n_experiments``, ``n_scored`` (experiments
        with a defined AUROC), ``mean_auroc``, ``median_auroc``, ``mean_auprc``.
    """
    if id_column is not None:
        metadata = metadata.set_index(id_column).loc[metrics["experiment"]].reset_index()
    rows = []
    for column in columns:
        if column not in metadata.columns:
            raise MFDError(f"no metadata column {column!r}", fix=f"use one of: {', '.join(metadata.columns)}")
        exploded = pd.DataFrame({"value": metadata[column].astype(str).str.split(separator),
                                 "auroc": metrics["auroc"].to_numpy(), "auprc": metrics["auprc"].to_numpy()})
        exploded = exploded.explode("value")
        exploded["value"] = exploded["value"].str.strip().replace("", "(missing)")
        for value, group in exploded.groupby("value", sort=True):
            rows.append({"column": column, "value": value, "n_experiments": len(group),
                         "n_scored": int(group["auroc"].notna().sum()),
                         "mean_auroc": float(group["auroc"].mean()), "median_auroc": float(group["auroc"].median()),
                         "mean_auprc": float(group["auprc"].mean())})
    return pd.DataFrame(rows)


def bin_windows(model: MFDModel, genome: Any, chrom: Sequence[str], bin_start: np.ndarray,
                bin_size: int) -> GenomeWindows:
    """The model's windows centred on bins (``N``-padded past contig ends), as the engine reads them.

    Args: as :func:`strand_outputs`.
    """
    seq_len = model.config.seq_len
    starts = np.asarray(bin_start, dtype=np.int64) + bin_size // 2 - seq_len // 2
    return GenomeWindows(genome, np.asarray(chrom, dtype=object), starts, seq_len)


def strand_outputs(model: MFDModel, genome: Any, chrom: Sequence[str], bin_start: np.ndarray, bin_size: int, *,
                   output: Output = "probabilities", batch_size: int = 256, device: str | None = None,
                   progress: bool = True, desc: str = "predicting bins") -> tuple[np.ndarray, np.ndarray]:
    """``output`` of the window centred on each bin, forward and reverse complement (the inference engine).

    Windows of ``seq_len`` bp are centred on each bin (``N``-padded past contig ends).

    Args:
        genome: a :class:`mfd_model.genome.Genome`.
        chrom: contig of each bin (FASTA spelling), length N.
        bin_start: 0-based bin starts, shape=(N,).
        bin_size: bin width in bp.
        output: what to compute per window (:class:`~mfd_model.inference.engine.Engine`'s ``output``:
            ``probabilities``, ``features`` ...).
    Returns:
        ``(forward, reverse_complement)``, each shape=(N, ...) as ``output`` gives.
    """
    source = bin_windows(model, genome, chrom, bin_start, bin_size)
    both = predict_windows(model, source, output=output, strand="both", batch_size=batch_size, device=device,
                           progress=progress, desc=desc)
    return both[:, 0], both[:, 1]


def predict_bins(model: MFDModel, genome: Any, chrom: Sequence[str], bin_start: np.ndarray, bin_size: int, *,
                 batch_size: int = 256, device: str | None = None, progress: bool = True) -> np.ndarray:
    """Probabilities for bins, forward and reverse complement averaged (the inference engine, ``strand="mean"``).

    Returns:
        float32, shape=(N, O).
    """
    source = bin_windows(model, genome, chrom, bin_start, bin_size)
    return predict_windows(model, source, output="probabilities", strand="mean", batch_size=batch_size,
                           device=device, progress=progress, desc="predicting bins")


@dataclass
class StoreBins:
    """The bins of one split of a label store that a model is evaluated on, and their labels.

    Attributes:
        rows: store rows, shape=(N,), int64, sorted.
        genome: the :class:`mfd_model.genome.Genome` to cut windows from.
        chrom: each bin's contig (FASTA spelling), length N.
        bin_start: 0-based bin starts, shape=(N,).
        bin_size: bin width in bp.
        experiments: the E experiments the model and the store share (model order).
        model_index: their output indices in the model, length E.
        labels: 0/1, shape=(N, E), float32.
        info: counts (``bins``, ``experiments``, ``model_only``, ``store_only``).
    """

    rows: np.ndarray
    genome: Any
    chrom: list[str]
    bin_start: np.ndarray
    bin_size: int
    experiments: list[str]
    model_index: list[int]
    labels: np.ndarray
    info: dict[str, Any]


def store_bins(model: MFDModel, store: Any, *, split: str = "test", max_bins: int | None = None, seed: int = 0,
               fasta: str | None = None) -> StoreBins:
    """The bins :func:`evaluate_store` evaluates (a seeded random subset of ``max_bins``) and their labels.

    Args: as :func:`evaluate_store`.
    """
    from ..genome import Genome

    if store.bin_size != model.config.bin_size:
        raise MFDError(f"the label store has {store.bin_size} bp bins, the model predicts {model.config.bin_size} bp bins",
                       fix="evaluate on a store prepared with the model's bin size")
    shared = [name for name in model.experiment_names if name in set(store.experiment_names)]
    if not shared:
        raise MFDError("the model and the label store share no experiment name",
                       fix="evaluate on the store the model was trained from")
    rows = np.asarray(store.indices(split), dtype=np.int64)
    if not len(rows):
        raise MFDError(f"the label store has no bin in the {split!r} split", fix="choose another --split")
    if max_bins is not None and len(rows) > max_bins:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=max_bins, replace=False))
    genome = Genome(fasta or store.fasta_path)
    chrom = [genome.require(store.contigs[int(c)]) for c in np.asarray(store.bin_contig)[rows]]
    store_idx = [list(store.experiment_names).index(n) for n in shared]
    info = {"bins": len(rows), "experiments": len(shared),
            "model_only": len(model.experiment_names) - len(shared),
            "store_only": len(store.experiment_names) - len(shared)}
    return StoreBins(rows, genome, chrom, np.asarray(store.bin_start)[rows], store.bin_size, shared,
                     [model.experiment_names.index(n) for n in shared], store.labels(rows)[:, store_idx], info)


def evaluate_store(model: MFDModel, store: Any, *, split: str = "test", max_bins: int | None = None,
                   seed: int = 0, fasta: str | None = None, batch_size: int = 256, device: str | None = None,
                   progress: bool = True) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-experiment AUROC / AUPRC of ``model`` on one split of a label store.

    Args:
        store: a :class:`mfd_model.train.labels.LabelStore` (or any object with
            ``experiment_names``, ``bin_size``, ``fasta_path``, ``indices(split)``,
            ``labels(rows)``, ``contigs``, ``bin_contig``, ``bin_start``).
        split: which split (paper: the test chromosomes).
        max_bins: evaluate a random subset of this many bins (``None``: all).
        fasta: the genome FASTA (default: the one the store was made from).
    Returns:
        ``(metrics, info)``: :func:`per_experiment_metrics` for the experiments the model and
        the store share (model order), and counts (``bins``, ``experiments``,
        ``model_only``, ``store_only``).
    """
    bins = store_bins(model, store, split=split, max_bins=max_bins, seed=seed, fasta=fasta)
    scores = predict_bins(model, bins.genome, bins.chrom, bins.bin_start, bins.bin_size,
                          batch_size=batch_size, device=device, progress=progress)
    metrics = per_experiment_metrics(bins.labels, scores[:, bins.model_index], bins.experiments)
    return metrics, bins.info
