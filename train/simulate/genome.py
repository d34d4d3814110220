"""Step 1, the genome: chromosomes of isochores with random GC, and N gaps.

Genome arrays hold base codes (:mod:`mfd_model.encoding`): A, C, G, T, N as 0..4.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...encoding import N_CODE
from .params import SimulationParams
from .streams import STREAM_GAPS, STREAM_GENOME, progress_bar, stream

GENOME_CHUNK = 1 << 22           # bases generated per random draw (fixed: part of the output)
INTERNAL_GAP_RANGE = (1_000, 20_000)   # bp, capped at 5 % of the chromosome


@dataclass
class SimulatedGenome:
    """The simulated genome in memory.

    Attributes:
        names: chromosome names.
        lengths: chromosome lengths, shape=(C,).
        offsets: start of each chromosome in ``codes``, shape=(C + 1,).
        codes: all chromosomes concatenated, 0..3 = ACGT, 4 = N, shape=(G,), uint8.
        gaps: N gaps as global [start, end), sorted, shape=(n_gaps, 2).
    """

    names: list[str]
    lengths: np.ndarray
    offsets: np.ndarray
    codes: np.ndarray
    gaps: np.ndarray

    def chromosome(self, c: int) -> np.ndarray:
        return self.codes[self.offsets[c]:self.offsets[c + 1]]

    def locate(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Global positions -> (chromosome index, position on it)."""
        chrom = np.searchsorted(self.offsets, positions, side="right") - 1
        return chrom, positions - self.offsets[chrom]

    def clean(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Whether each global [start, end) avoids every N gap (gaps cover chromosome ends)."""
        nxt = np.searchsorted(self.gaps[:, 1], starts, side="right")  # first gap ending after start
        gap_start = np.append(self.gaps[:, 0], np.iinfo(np.int64).max)[nxt]
        return gap_start >= ends


def make_genome(params: SimulationParams, progress: bool = False) -> SimulatedGenome:
    """Chromosomes of isochores with random GC, then N gaps (module docstring, step 1)."""
    lengths = np.array(params.chromosome_lengths(), dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    codes = np.empty(int(offsets[-1]), dtype=np.uint8)
    gaps = [(int(o), int(o)) for o in offsets]   # empty gaps at chromosome borders: nothing spans them
    for c in progress_bar(range(len(lengths)), progress, "genome", "chromosome"):
        sequence = codes[offsets[c]:offsets[c + 1]]
        _fill_isochores(sequence, params, stream(params, STREAM_GENOME, c))
        for start, end in _gap_intervals(int(lengths[c]), params, stream(params, STREAM_GAPS, c)):
            sequence[start:end] = N_CODE
            gaps.append((int(offsets[c]) + start, int(offsets[c]) + end))
    names = [f"chr{i + 1}" for i in range(len(lengths))]
    return SimulatedGenome(names, lengths, offsets, codes, np.array(sorted(gaps), dtype=np.int64).reshape(-1, 2))


def _fill_isochores(sequence: np.ndarray, params: SimulationParams, rng: np.random.Generator) -> None:
    """Fill one chromosome, shape=(L,), with bases drawn independently inside isochores."""
    length = len(sequence)
    sizes = rng.integers(params.isochore_min, params.isochore_max + 1, length // params.isochore_min + 2)
    ends = np.cumsum(sizes)
    ends = ends[:np.searchsorted(ends, length) + 1]
    ends[-1] = length
    starts = np.concatenate([[0], ends[:-1]])
    gc = np.clip(rng.normal(params.gc_mean, params.gc_sd, len(ends)), *params.gc_range).astype(np.float32)
    for begin in range(0, length, GENOME_CHUNK):
        stop = min(begin + GENOME_CHUNK, length)
        first, last = np.searchsorted(ends, begin, side="right"), np.searchsorted(ends, stop - 1, side="right")
        pieces = np.minimum(ends[first:last + 1], stop) - np.maximum(starts[first:last + 1], begin)
        p = np.repeat(gc[first:last + 1], pieces)                     # GC fraction per base
        u = rng.random(stop - begin, dtype=np.float32)
        # A below (1-p)/2, C below 1/2, G below 1/2 + p/2, T above: P(C) = P(G) = p/2
        sequence[begin:stop] = ((u >= (1 - p) / 2).view(np.uint8) + (u >= 0.5).view(np.uint8)
                                + (u >= 0.5 + p / 2).view(np.uint8))


def _gap_intervals(length: int, params: SimulationParams, rng: np.random.Generator) -> list[tuple[int, int]]:
    """N gaps of one chromosome as [start, end): both telomeres and 1..internal_gaps inside."""
    cap = length // 20
    telomere = min(params.telomere_gap, cap)
    tail = max(telomere, length % params.bin_size)   # the partial last bin is always N
    gaps = [(0, telomere)] if telomere else []
    if params.internal_gaps:
        low, high = min(INTERNAL_GAP_RANGE[0], cap), min(INTERNAL_GAP_RANGE[1], cap)
        n = int(rng.integers(1, params.internal_gaps + 1))
        sizes = rng.integers(low, high + 1, n)
        room = length - tail - telomere - 2_000 - sizes
        starts = telomere + 1_000 + (rng.random(n) * np.maximum(room, 0)).astype(np.int64)
        previous_end = telomere
        for start, size in sorted(zip(starts.tolist(), sizes.tolist())):
            if start >= previous_end + 1_000 and size > 0 and start + size <= length - tail - 1_000:
                gaps.append((start, start + size))
                previous_end = start + size
    if tail:
        gaps.append((length - tail, length))
    return gaps
