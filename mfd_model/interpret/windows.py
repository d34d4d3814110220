"""Model-sized windows around genomic intervals: the input of every interval analysis.

An interval (a BED line: enhancer, peak, motif site) becomes the ``seq_len`` window centred
on its midpoint, ``[centre - seq_len // 2, centre + seq_len - seq_len // 2)`` with
``centre = (start + end) // 2``. Optional shifts move the window by a few bp (shift
averaging). Intervals on a contig the FASTA lacks, or whose window (any shift) leaves the
contig, are skipped and *counted* by reason; nothing is dropped silently.

Sequences are cut lazily (:meth:`Windows.one_hot`) so a large BED never sits in memory as
one-hot.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..encoding import one_hot_encode_batch, reverse_complement_one_hot
from ..errors import MFDError
from ..genome import Genome

SKIP_UNKNOWN_CONTIG = "unknown contig"
SKIP_OUTSIDE = "window outside contig"


@dataclass
class Windows:
    """Fixed-length windows on one genome.

    Attributes:
        genome: where sequences are read from.
        seq_len: window length in bp.
        ids: interval names, shape=(N,) (BED column 4, or ``chrom:start-end``).
        chrom: contig names as the FASTA spells them, shape=(N,).
        start: 0-based window starts at shift 0, int64, shape=(N,); windows end at start + seq_len.
        strand: ``+``, ``-`` or ``.``, shape=(N,).
        source_start, source_end: the original intervals, int64, shape=(N,).
        skipped: reason -> number of intervals skipped for it.
        n_read: intervals read from the input (kept + skipped).
    """

    genome: Genome
    seq_len: int
    ids: np.ndarray
    chrom: np.ndarray
    start: np.ndarray
    strand: np.ndarray
    source_start: np.ndarray
    source_end: np.ndarray
    skipped: dict[str, int] = field(default_factory=dict)
    n_read: int = 0
    n_usable: int | None = None

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def end(self) -> np.ndarray:
        return self.start + self.seq_len

    def subset(self, rows: np.ndarray | Sequence[int]) -> "Windows":
        """The windows at ``rows`` (skip counts are kept)."""
        rows = np.asarray(rows, dtype=np.int64)
        return Windows(self.genome, self.seq_len, self.ids[rows], self.chrom[rows], self.start[rows],
                       self.strand[rows], self.source_start[rows], self.source_end[rows],
                       dict(self.skipped), self.n_read, self.usable)

    @property
    def usable(self) -> int:
        """Windows that passed the checks (before any :meth:`subset`)."""
        return len(self) if self.n_usable is None else self.n_usable

    def sequences(self, rows: np.ndarray | Sequence[int] | None = None, shift: int = 0) -> list[str]:
        """Upper-case window sequences (forward strand of the genome)."""
        rows = np.arange(len(self)) if rows is None else np.asarray(rows, dtype=np.int64)
        return [self.genome.fetch(self.chrom[i], int(self.start[i]) + shift, int(self.start[i]) + shift + self.seq_len)
                for i in rows]

    def one_hot(self, rows: np.ndarray | Sequence[int] | None = None, *, shift: int = 0,
                orient: bool = False) -> np.ndarray:
        """One-hot windows.

        Args:
            rows: which windows (default all).
            shift: move every window by this many bp.
            orient: reverse-complement windows of ``-`` strand intervals, so that e.g. motif
                sites all read in their own orientation.
        Returns:
            float32, shape=(len(rows), 4, seq_len).
        """
        rows = np.arange(len(self)) if rows is None else np.asarray(rows, dtype=np.int64)
        X = one_hot_encode_batch(self.sequences(rows, shift)) if len(rows) else np.zeros((0, 4, self.seq_len), np.float32)
        if orient and len(rows):
            minus = self.strand[rows] == "-"
            if minus.any():
                X[minus] = reverse_complement_one_hot(X[minus])
        return X

    def skip_summary(self) -> str:
        """``"kept 95 of 100 intervals; skipped: 3 unknown contig, 2 window outside contig"``
        (``"; using a random 50"`` after :meth:`subset`)."""
        text = f"kept {self.usable} of {self.n_read} intervals"
        if any(self.skipped.values()):
            text += "; skipped: " + ", ".join(f"{n} {why}" for why, n in self.skipped.items() if n)
        if self.usable != len(self):
            text += f"; using {len(self)} of them"
        return text


def centred_windows(intervals: pd.DataFrame, genome: Genome, seq_len: int, *,
                    shifts: Sequence[int] = (0,), allow_padding: bool = False) -> Windows:
    """Windows of ``seq_len`` bp centred on each interval's midpoint.

    Args:
        intervals: ``chrom``, ``start``, ``end`` [, ``name``] [, ``strand``] (as from
            :func:`mfd_model.bed.read_bed`) [, ``centre``: the position to centre on; default
            the midpoint].
        genome: the reference.
        seq_len: window length (the model's ``config.seq_len``).
        shifts: window offsets that will be used; a window is kept only if every shifted
            copy lies inside its contig.
        allow_padding: keep windows that leave the contig (``N``-padded) instead of skipping them.
    Returns:
        :class:`Windows` with the kept intervals, in input order, and skip counts.
    """
    n = len(intervals)
    chroms = intervals["chrom"].astype(str).to_numpy()
    start = intervals["start"].to_numpy(np.int64)
    end = intervals["end"].to_numpy(np.int64)
    names = (intervals["name"].astype(str).to_numpy(dtype=object) if "name" in intervals
             else np.array([f"{c}:{s}-{e}" for c, s, e in zip(chroms, start, end)], dtype=object))
    strands = intervals["strand"].astype(str).to_numpy(dtype=object) if "strand" in intervals else np.full(n, ".", object)
    resolved = np.array([genome.resolve(c) for c in chroms], dtype=object) if n else np.zeros(0, object)
    known = np.array([r is not None for r in resolved], dtype=bool)
    centre = intervals["centre"].to_numpy(np.int64) if "centre" in intervals else (start + end) // 2
    win_start = centre - seq_len // 2
    lo, hi = min(shifts), max(shifts)
    lengths = np.array([genome.contigs[r] if r is not None else 0 for r in resolved], dtype=np.int64)
    inside = (win_start + lo >= 0) & (win_start + hi + seq_len <= lengths)
    keep = known & (inside | allow_padding)
    return Windows(genome, seq_len, names[keep], resolved[keep], win_start[keep], strands[keep],
                   start[keep], end[keep],
                   {SKIP_UNKNOWN_CONTIG: int((~known).sum()), SKIP_OUTSIDE: int((known & ~keep).sum())}, n)


def narrowpeak_summits(path: str | Path, n: int) -> np.ndarray | None:
    """Column 10 of a narrowPeak file (summit offset from the start; -1 = none), or ``None``
    if the file has fewer than 10 columns or the column is not integer."""
    from ..bed import _first_data_line

    skip, n_fields = _first_data_line(Path(path))
    if n_fields < 10:
        return None
    try:
        frame = pd.read_csv(path, sep="\t", header=None, skiprows=skip, comment="#", usecols=[9],
                            compression="infer", skip_blank_lines=True)
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError, EOFError, OSError):
        return None
    if len(frame) != n or not pd.api.types.is_integer_dtype(frame[9]):
        return None
    return frame[9].to_numpy(np.int64)


def read_windows(bed: str | Path, genome: Genome | str | Path, seq_len: int, *,
                 shifts: Sequence[int] = (0,), allow_padding: bool = False, what: str = "BED",
                 summits: bool = True) -> Windows:
    """:func:`centred_windows` for the intervals of a BED file (names and strands kept).

    With ``summits`` (default), narrowPeak files are centred on their summit (column 10)
    where it is given (>= 0), other files on the interval midpoint.
    """
    from ..bed import read_bed

    path = Path(bed)
    if not path.exists():
        raise MFDError(f"{what} file not found", path=path, fix="check the path")
    if not isinstance(genome, Genome):
        genome = Genome(genome)
    intervals = read_bed(path, with_name=True, with_strand=True, what=what)
    peak = narrowpeak_summits(path, len(intervals)) if summits else None
    if peak is not None:
        midpoint = (intervals["start"] + intervals["end"]).to_numpy(np.int64) // 2
        intervals["centre"] = np.where(peak >= 0, intervals["start"].to_numpy(np.int64) + peak, midpoint)
    windows = centred_windows(intervals, genome, seq_len, shifts=shifts, allow_padding=allow_padding)
    if len(intervals) and not len(windows):
        raise MFDError(f"no usable interval: {windows.skip_summary()}", path=path,
                       fix=f"use intervals on the FASTA's contigs ({', '.join(list(genome.contigs)[:5])}) "
                           f"at least {seq_len // 2} bp from contig ends")
    return windows


def random_windows(genome: Genome, n: int, seq_len: int, *, seed: int = 0, max_n_fraction: float = 0.0,
                   exclude: pd.DataFrame | None = None, max_tries: int = 50) -> Windows:
    """``n`` random windows from the genome (a background set).

    Args:
        genome: the reference; contigs are drawn in proportion to their length.
        n: number of windows.
        seq_len: window length.
        seed: random seed.
        max_n_fraction: largest allowed fraction of ``N`` bases in a window.
        exclude: intervals (``chrom``, ``start``, ``end``) a window must not overlap (e.g. peaks).
        max_tries: draws per requested window before giving up.
    Returns:
        :class:`Windows` named ``random_<k>``; fewer than ``n`` if the genome cannot supply them.
    """
    rng = np.random.default_rng(seed)
    contigs = [c for c, length in genome.contigs.items() if length > seq_len]
    if not contigs:
        raise MFDError(f"no contig is longer than the window ({seq_len} bp)", path=genome.path,
                       fix="use a larger FASTA")
    weights = np.array([genome.contigs[c] - seq_len for c in contigs], dtype=np.float64)
    weights /= weights.sum()
    blocked: dict[str, list[tuple[int, int]]] = {}
    if exclude is not None:
        for chrom, s, e in zip(exclude["chrom"].astype(str), exclude["start"], exclude["end"]):
            resolved = genome.resolve(chrom)
            if resolved is not None:
                blocked.setdefault(resolved, []).append((int(s), int(e)))
    chosen: list[tuple[str, int]] = []
    for _ in range(n * max_tries):
        if len(chosen) == n:
            break
        chrom = contigs[rng.choice(len(contigs), p=weights)]
        start = int(rng.integers(0, genome.contigs[chrom] - seq_len))
        if any(s < start + seq_len and start < e for s, e in blocked.get(chrom, ())):
            continue
        if max_n_fraction < 1.0:
            seq = genome.fetch(chrom, start, start + seq_len)
            if seq.count("N") > max_n_fraction * seq_len:
                continue
        chosen.append((chrom, start))
    chrom = np.array([c for c, _ in chosen], dtype=object)
    start = np.array([s for _, s in chosen], dtype=np.int64)
    ids = np.array([f"random_{k}" for k in range(len(chosen))], dtype=object)
    return Windows(genome, seq_len, ids, chrom, start, np.full(len(chosen), ".", object), start.copy(),
                   start + seq_len, {"not found (genome too small or too many N)": n - len(chosen)} if len(chosen) < n else {},
                   n)
