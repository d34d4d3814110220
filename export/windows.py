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

# byte -> base code: A, C, G, T (any case) -> 0..3; every other letter (N, IUPAC codes) -> 4.
_CODE_OF_BYTE = np.full(256, 4, dtype=np.uint8)
for _k, _letter in enumerate("ACGT"):
    _CODE_OF_BYTE[ord(_letter)] = _k
    _CODE_OF_BYTE[ord(_letter.lower())] = _k
N_CODE = 4


def base_codes(sequence: str) -> np.ndarray:
    """Base codes of a DNA string, shape=(L,), uint8: ACGT (any case) -> 0..3, anything else -> 4."""
    return _CODE_OF_BYTE[np.frombuffer(sequence.encode("ascii", "replace"), dtype=np.uint8)]


def onehot_from_codes(codes: np.ndarray, n_value: float = 0.0, dtype: np.dtype = np.float32) -> np.ndarray:
    """One-hot DNA from base codes.

    Args:
        codes: shape=(N, L), values 0..4 (4 = N).
        n_value: value of all four channels at an N (0 here; kipoiseq writes 0.25).
    Returns:
        np.ndarray, shape=(N, 4, L).
    """
    out = (codes[:, None, :] == np.arange(4, dtype=codes.dtype)[None, :, None]).astype(dtype)
    if n_value:
        out += np.asarray(n_value, dtype=dtype) * (codes == N_CODE)[:, None, :]
    return out


def encode_sequences(sequences: list[str], n_value: float = 0.0, dtype: np.dtype = np.float32) -> np.ndarray:
    """One-hot encode equal-length sequences in one vectorised step.

    Args:
        sequences: DNA strings of one length L.
        n_value: value of every channel at a non-ACGT position (0 here; kipoiseq writes 0.25).
    Returns:
        np.ndarray, shape=(N, 4, L).
    """
    if not sequences:
        return np.zeros((0, 4, 0), dtype=dtype)
    length = len(sequences[0])
    codes = base_codes("".join(sequences))
    if codes.size != length * len(sequences):
        raise ValueError("sequences must have equal length")
    return onehot_from_codes(codes.reshape(len(sequences), length), n_value, dtype)


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


def fetch_codes(genome: Genome, contigs: np.ndarray, starts: np.ndarray, length: int,
                max_gap: int = 16_384, max_span: int = 4_000_000) -> np.ndarray:
    """Base codes of windows ``[start, start + length)`` (N past contig ends), shape=(N, length), uint8.

    Windows close to each other on a contig (gaps up to ``max_gap``, regions up to ``max_span``)
    are read with one FASTA access and sliced; dense inputs (peaks, tiles) then cost one read
    per region instead of one per window, which matters most for BGZF files.
    """
    n = len(starts)
    out = np.empty((n, length), dtype=np.uint8)
    if n == 0:
        return out
    starts = np.asarray(starts, dtype=np.int64)
    contig_ids, names = pd.factorize(np.asarray(contigs, dtype=object))
    order = np.lexsort((starts, contig_ids))
    s, c = starts[order], contig_ids[order]
    new_region = np.ones(n, dtype=bool)
    new_region[1:] = (c[1:] != c[:-1]) | (s[1:] > s[:-1] + length + max_gap)
    region_id = np.cumsum(new_region) - 1
    first_start = s[new_region][region_id]
    region_id = region_id * (1 + max_span) + (s - first_start) // max_span  # split long regions
    bounds = np.flatnonzero(np.diff(region_id)) + 1
    for members in np.split(np.arange(n), bounds):
        lo, hi = int(s[members[0]]), int(s[members[-1]]) + length
        region = base_codes(genome.fetch(names[c[members[0]]], lo, hi))
        windows = np.lib.stride_tricks.sliding_window_view(region, length)
        out[order[members]] = windows[s[members] - lo]
    return out


def fetch_windows(genome: Genome, contigs: np.ndarray, starts: np.ndarray, length: int,
                  n_value: float = 0.0) -> np.ndarray:
    """One-hot windows ``[start, start + length)`` (N-padded past contig ends).

    Args:
        contigs: resolved contig names, shape=(N,).
        starts: window starts, shape=(N,).
    Returns:
        np.ndarray, shape=(N, 4, length), float32.
    """
    return onehot_from_codes(fetch_codes(genome, contigs, starts, length), n_value)
