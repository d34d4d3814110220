"""Numerical equivalence of the PyTorch model and its TensorFlow SavedModel.

The claim "the TensorFlow variant gives the same numbers" is checked on >= 1,000 windows of
random sequence and of every real FASTA given, against tolerances on probabilities and logits
(:data:`PROBABILITY_TOLERANCE`, :data:`LOGIT_TOLERANCE`). Windows are encoded as kipoiseq does
(N as 0.25 in every channel), so the N handling of both graphs is compared too.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mfd_model.encoding import one_hot_encode_batch
from mfd_model.genome import Genome
from mfd_model.model import MFDModel
from mfd_model.predict import predict


PROBABILITY_TOLERANCE = 1e-5
LOGIT_TOLERANCE = 1e-4
KIPOISEQ_N = 0.25


@dataclass(frozen=True)
class Equivalence:
    """Largest absolute differences between the two implementations on one set of windows."""

    name: str
    n_windows: int
    max_probability_diff: float
    max_logit_diff: float

    @property
    def passed(self) -> bool:
        return self.max_probability_diff <= PROBABILITY_TOLERANCE and self.max_logit_diff <= LOGIT_TOLERANCE

    def line(self) -> str:
        verdict = "ok" if self.passed else "FAILED"
        return (f"{self.name}: {self.n_windows:,} windows, max |diff| probabilities {self.max_probability_diff:.2e} "
                f"(<= {PROBABILITY_TOLERANCE:.0e}), logits {self.max_logit_diff:.2e} (<= {LOGIT_TOLERANCE:.0e}): "
                f"{verdict}")


def random_windows(n: int, length: int, seed: int = 0, n_fraction: float = 0.01) -> np.ndarray:
    """Random one-hot DNA with scattered N (0.25), shape=(n, 4, length), float32."""
    rng = np.random.default_rng(seed)
    codes = rng.choice(5, size=(n, length), p=[(1 - n_fraction) / 4] * 4 + [n_fraction])  # 4 = N
    table = np.vstack([np.eye(4, dtype=np.float32), np.full((1, 4), KIPOISEQ_N, dtype=np.float32)])
    return np.ascontiguousarray(table[codes].transpose(0, 2, 1))


def _sequence_regions(genome: Genome, length: int, max_n_fraction: float,
                      chunk: int = 100_000) -> list[tuple[str, int, int]]:
    """Stretches ``(contig, start, end)`` of about ``chunk`` bp that are mostly real sequence.

    Some references are mostly N (e.g. a test FASTA holding one real window of a chromosome);
    sampling only inside these stretches finds real windows quickly.
    """
    regions = []
    for contig, size in genome.contigs.items():
        for start in range(0, max(size - length, 0) + 1, chunk):
            end = min(size, start + chunk + length)
            if end - start >= length and genome.fetch(contig, start, end).count("N") <= max_n_fraction * (end - start):
                regions.append((contig, start, end))
    return regions


def fasta_windows(fasta: str | Path, n: int, length: int, seed: int = 0, max_n_fraction: float = 0.5) -> np.ndarray:
    """``n`` windows at random positions of the real (mostly non-N) parts of a FASTA.

    Returns:
        np.ndarray, shape=(n, 4, length), float32, N as 0.25; fewer rows only if the FASTA
        has no stretch of ``length`` bp that is at most ``max_n_fraction`` N.
    """
    genome = Genome(fasta)
    try:
        regions = _sequence_regions(genome, length, max_n_fraction)
        rng = np.random.default_rng(seed)
        sizes = np.array([end - start - length + 1 for _, start, end in regions], dtype=np.float64)
        sequences: list[str] = []
        for _ in range(100 * n if regions else 0):
            if len(sequences) == n:
                break
            contig, lo, hi = regions[rng.choice(len(regions), p=sizes / sizes.sum())]
            start = int(rng.integers(lo, hi - length + 1))
            seq = genome.fetch(contig, start, start + length)
            if seq.count("N") <= max_n_fraction * length:
                sequences.append(seq)
    finally:
        genome.close()
    return one_hot_encode_batch(sequences, n_value=KIPOISEQ_N)


def compare(model: MFDModel, tf_module: Any, windows: np.ndarray, name: str, batch_size: int = 128) -> Equivalence:
    """Run both implementations on ``windows`` (shape=(N, 4, L)) and measure the differences."""
    logits_torch = predict(model, windows, batch_size=batch_size, device="cpu", func=lambda m, x: m.logits(x)).numpy()
    probabilities_torch = torch.sigmoid(torch.from_numpy(logits_torch)).numpy()
    logits_tf, probabilities_tf = [], []
    for start in range(0, len(windows), batch_size):
        batch = windows[start:start + batch_size]
        logits_tf.append(tf_module.logits(batch).numpy())
        probabilities_tf.append(tf_module(batch).numpy())
    logits_tf = np.concatenate(logits_tf) if logits_tf else np.zeros_like(logits_torch)
    probabilities_tf = np.concatenate(probabilities_tf) if probabilities_tf else np.zeros_like(logits_torch)
    return Equivalence(name=name, n_windows=len(windows),
                       max_probability_diff=float(np.abs(probabilities_tf - probabilities_torch).max(initial=0.0)),
                       max_logit_diff=float(np.abs(logits_tf - logits_torch).max(initial=0.0)))


def check_equivalence(model: MFDModel, savedmodel: str | Path, fastas: tuple[str | Path, ...] = (),
                      n_windows: int = 1000, seed: int = 0) -> list[Equivalence]:
    """Load the SavedModel as Kipoi does and compare it with ``model`` on random and real windows."""
    from .tensorflow_graph import load_tf_module

    tf_module = load_tf_module(savedmodel)
    length = model.config.seq_len
    results = [compare(model, tf_module, random_windows(n_windows, length, seed), "random sequence")]
    for fasta in fastas:
        results.append(compare(model, tf_module, fasta_windows(fasta, n_windows, length, seed), Path(fasta).name))
    return results
