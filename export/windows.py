"""Model input windows from intervals: centring as kipoiseq does, checks, fast one-hot encoding.

``kipoiseq.dataloaders.SeqIntervalDl(auto_resize_len=L)`` resizes every interval around its
centre (``kipoiseq.transforms.functional.resize_interval``, anchor ``center``)::

    centre = int((start + end) / 2);  start' = centre - L // 2;  end' = centre + L // 2 + L % 2

:func:`centered_windows` does the same, so ``mfd predict`` scores exactly the windows that
``kipoi predict`` scores. Windows on contigs the FASTA lacks, or running off a contig end, are
counted and reported by :func:`plan_windows` (kipoiseq would crash on them), never silently dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mfd_model.genome import Genome

# byte -> one-hot row (ACGT, any case); every other letter (N, IUPAC codes) gets ``n_value``.
_CODES = {"A": 0, "C": 1, "G": 2, "T": 3}


def one_hot_table(n_value: float = 0.0, dtype: np.dtype = np.float32) -> np.ndarray:
    """Lookup table, shape=(256, 4): row ``b`` is the one-hot vector of the byte ``b``."""
    table = np.full((256, 4), n_value, dtype=dtype)
    for letter, k in _CODES.items():
        for byte in (ord(letter), ord(letter.lower())):
            table[byte] = 0
            table[byte, k] = 1
    return table


def encode_sequences(sequences: list[str], n_value: float = 0.0, dtype: np.dtype = np.float32) -> np.ndarray:
    """One-hot encode equal-length sequences in one vectorised lookup.

    Args:
        sequences: DNA strings of one length L.
        n_value: value of every channel at a non-ACGT position (0 here; kipoiseq writes 0.25).
    Returns:
        np.ndarray, shape=(N, 4, L).
    """
    if not sequences:
        return np.zeros((0, 4, 0), dtype=dtype)
    length = len(sequences[0])
    raw = np.frombuffer("".join(sequences).encode("ascii", "replace"), dtype=np.uint8)
    if raw.size != length * len(sequences):
        raise ValueError("sequences must have equal length")
    onehot = one_hot_table(n_value, dtype)[raw].reshape(len(sequences), length, 4)
    return np.ascontiguousarray(onehot.transpose(0, 2, 1))


def centered_windows(starts: np.ndarray, ends: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows of ``length`` bp centred on ``[start, end)``, exactly as kipoiseq's ``auto_resize_len``.

    Returns:
        (window_start, window_end), each shape=(N,), int64, 0-based half-open.
    """
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    centre = (starts + ends) // 2  # == int((start + end) / 2) for the non-negative coordinates of a BED
    return centre - length // 2, centre + length // 2 + length % 2


@dataclass
class WindowPlan:
    """Which intervals can be scored, and why the others cannot.

    Attributes:
        intervals: the input intervals (``chrom``, ``start``, ``end`` [, ``name``]), file order.
        contigs: the FASTA's spelling of each interval's contig ("" where unknown), shape=(N,).
        window_start / window_end: the model window of each interval, shape=(N,).
        keep: intervals that will be scored, shape=(N,) bool.
        unknown_contig: number of intervals on contigs absent from the FASTA.
        off_contig: number of intervals whose window runs past a contig end (not scored unless padded).
        padded: number of scored windows that run past a contig end and were padded with N.
        unknown_examples: up to five unknown contig names, for the report.
    """

    intervals: pd.DataFrame
    contigs: np.ndarray
    window_start: np.ndarray
    window_end: np.ndarray
    keep: np.ndarray
    unknown_contig: int = 0
    off_contig: int = 0
    padded: int = 0
    unknown_examples: list[str] = field(default_factory=list)

    @property
    def n_kept(self) -> int:
        return int(self.keep.sum())

    @property
    def n_skipped(self) -> int:
        return int((~self.keep).sum())

    def report(self) -> str:
        """One line saying what was scored and what was skipped (and why)."""
        text = f"{self.n_kept:,} of {len(self.keep):,} intervals scored"
        parts = []
        if self.unknown_contig:
            parts.append(f"{self.unknown_contig:,} on contigs not in the FASTA (e.g. {', '.join(self.unknown_examples)})")
        if self.off_contig:
            parts.append(f"{self.off_contig:,} whose window runs off the contig end (use --pad to score them "
                         f"with N padding)")
        if parts:
            text += "; skipped " + "; ".join(parts)
        if self.padded:
            text += f"; {self.padded:,} windows padded with N at a contig end"
        return text


def plan_windows(intervals: pd.DataFrame, genome: Genome, length: int, pad: bool = False) -> WindowPlan:
    """Resolve contigs and centre a window of ``length`` bp on every interval.

    Args:
        intervals: ``chrom``, ``start``, ``end`` columns (e.g. :func:`mfd_model.bed.read_bed`).
        genome: the reference.
        length: the model's ``seq_len``.
        pad: score windows that run off a contig end, padding with N, instead of skipping them.
    """
    chroms = intervals["chrom"].to_numpy(dtype=object)
    resolved = {name: genome.resolve(str(name)) for name in pd.unique(chroms)}
    contigs = np.array([resolved[c] or "" for c in chroms], dtype=object)
    known = contigs != ""
    win_start, win_end = centered_windows(intervals["start"].to_numpy(), intervals["end"].to_numpy(), length)
    sizes = np.array([genome.contigs.get(c, 0) for c in contigs], dtype=np.int64)
    inside = known & (win_start >= 0) & (win_end <= sizes)
    off = known & ~inside
    keep = known if pad else inside
    unknown_names = [name for name, hit in resolved.items() if hit is None]
    return WindowPlan(intervals=intervals.reset_index(drop=True), contigs=contigs, window_start=win_start,
                      window_end=win_end, keep=keep, unknown_contig=int((~known).sum()),
                      off_contig=0 if pad else int(off.sum()), padded=int(off.sum()) if pad else 0,
                      unknown_examples=[str(n) for n in unknown_names[:5]])


def fetch_windows(genome: Genome, contigs: np.ndarray, starts: np.ndarray, length: int,
                  n_value: float = 0.0) -> np.ndarray:
    """One-hot windows ``[start, start + length)`` (N-padded past contig ends).

    Args:
        contigs: resolved contig names, shape=(N,).
        starts: window starts, shape=(N,).
    Returns:
        np.ndarray, shape=(N, 4, length), float32.
    """
    sequences = [genome.fetch(c, int(s), int(s) + length) for c, s in zip(contigs, starts)]
    return encode_sequences(sequences, n_value=n_value)
