"""Step 5, the peaks: each experiment's score per bin, noise, calls, and its narrowPeak file."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from ...simulation_layout import SimulationLayout
from ..tsvformat import Const, Fixed, Ints, Labels, iter_rows, open_gzip
from .bins import Bins
from .experiments import Condition, Experiment
from .genome import SimulatedGenome
from .params import SimulationParams
from .streams import STREAM_NOISE, progress_bar, stream


def condition_score(condition: Condition, bins: Bins, params: SimulationParams) -> np.ndarray:
    """The noise-free score of every bin in one condition, shape=(B,), float32."""
    score = params.biology_strength * ((bins.motif_bits & params.catalogue.bits(condition.relevant_tfs)) != 0)
    a = [assay for assay, _, _ in params.assay_kmers].index(condition.assay)
    kmers = np.minimum(bins.kmer_counts[:, a], params.kmer_cap)
    score = score + params.kmer_strength * params.assay_kmers[a][2] * kmers
    score = score + params.gc_strength * dict(params.labs)[condition.lab] * bins.gc_rich
    return score.astype(np.float32)


@dataclass
class Peaks:
    """narrowPeak records of one experiment, all shape=(P,) (see module docstring, step 5)."""

    chrom: np.ndarray
    start: np.ndarray
    end: np.ndarray
    score: np.ndarray
    signal: np.ndarray
    p_value: np.ndarray
    q_value: np.ndarray
    summit: np.ndarray
    n_called_bins: int

    def __len__(self) -> int:
        return len(self.start)

    def narrowpeak(self, chromosome_names: Sequence[str]) -> Iterator[bytes]:
        """The 10 narrowPeak columns as text blocks."""
        return iter_rows([Labels(self.chrom, chromosome_names), Ints(self.start), Ints(self.end), Const("."),
                          Ints(self.score), Const("."), Fixed(self.signal, 2), Fixed(self.p_value, 2),
                          Fixed(self.q_value, 2), Ints(self.summit)])


def call_peaks(score: np.ndarray, threshold: float, bins: Bins, chromosome_lengths: np.ndarray, bin_size: int,
               rng: np.random.Generator) -> Peaks:
    """Add Normal(0, 1) noise to ``score`` (B,), call bins above ``threshold``, merge runs into peaks."""
    z = score + rng.standard_normal(len(score), dtype=np.float32)
    called = np.flatnonzero((z > threshold) & bins.callable)
    n_tests = int(bins.callable.sum())
    z_called = z[called].astype(np.float64)
    if len(called) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Peaks(empty, empty, empty, empty, np.zeros(0), np.zeros(0), np.zeros(0), empty, 0)
    # runs of consecutive called bins on one chromosome
    new_run = np.ones(len(called), dtype=bool)
    new_run[1:] = (np.diff(called) != 1) | (np.diff(bins.chrom[called]) != 0)
    run_id = np.cumsum(new_run) - 1
    first_bin = called[new_run]
    last_bin = called[np.append(new_run[1:], True)]
    # -log10 p of every called bin and Benjamini-Hochberg -log10 q (called bins are the top ranks)
    from scipy.special import log_ndtr
    neg_log10_p = -log_ndtr(-z_called) / np.log(10)
    order = np.argsort(-z_called)
    ranked = neg_log10_p[order] - np.log10(n_tests) + np.log10(np.arange(1, len(order) + 1))
    neg_log10_q = np.empty_like(ranked)
    neg_log10_q[order] = np.maximum(np.maximum.accumulate(ranked[::-1])[::-1], 0.0)
    run_begin = np.flatnonzero(new_run)
    run_best = np.maximum.reduceat(z_called, run_begin)                  # best score of each run
    is_best = z_called == run_best[run_id]
    best = np.flatnonzero(is_best)
    best = best[np.append(True, np.diff(run_id[best]) != 0)]   # the first best bin of each run
    quarter = bin_size // 4
    n_runs = len(first_bin)
    chrom = bins.chrom[first_bin]
    start = np.maximum(bins.local_start[first_bin] + rng.integers(-(quarter - 1), quarter + 1, n_runs), 0)
    end = np.minimum(bins.local_start[last_bin] + bin_size - rng.integers(-(quarter - 1), quarter + 1, n_runs),
                     chromosome_lengths[chrom])
    summit = bins.local_start[called[best]] + bin_size // 2 + rng.integers(-quarter, quarter + 1, n_runs)
    summit = np.clip(summit, start, end - 1) - start
    q_value = np.round(neg_log10_q[best], 2)
    return Peaks(chrom, start, end, np.minimum(np.rint(100 * q_value), 1000).astype(np.int64),
                 np.round(2 * z_called[best], 2), np.round(neg_log10_p[best], 2), q_value, summit, len(called))


@dataclass
class _PeakJob:
    """What writing one peak file needs; inherited by forked workers, never pickled."""

    layout: SimulationLayout
    params: SimulationParams
    bins: Bins
    chromosome_names: list[str]
    chromosome_lengths: np.ndarray


_PEAK_JOB: _PeakJob | None = None


def _write_peak_file(experiment: Experiment) -> tuple[int, int]:
    """Call one experiment's peaks and write its narrowPeak file; (called bins, peaks)."""
    job = _PEAK_JOB
    assert job is not None
    condition = experiment.condition
    peaks = call_peaks(condition_score(condition, job.bins, job.params), job.params.year_threshold(condition.year),
                       job.bins, job.chromosome_lengths, job.params.bin_size,
                       stream(job.params, STREAM_NOISE, experiment.index))
    with open_gzip(job.layout.peak_file(experiment.name)) as handle:
        for block in peaks.narrowpeak(job.chromosome_names):
            handle.write(block)
    return peaks.n_called_bins, len(peaks)


def write_peak_files(layout: SimulationLayout, experiments: list[Experiment], bins: Bins, genome: SimulatedGenome,
                     params: SimulationParams, progress: bool = False, workers: int = 1) -> list[tuple[int, int]]:
    """Write every experiment's peak file (in ``workers`` forked processes); (called bins, peaks) each."""
    import multiprocessing
    import os

    from ...processes import pool_worker_init

    global _PEAK_JOB
    _PEAK_JOB = _PeakJob(layout, params, bins, genome.names, genome.lengths)
    try:
        if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
            with multiprocessing.get_context("fork").Pool(workers, initializer=pool_worker_init,
                                                          initargs=(os.getpid(),)) as pool:
                return list(progress_bar(pool.imap(_write_peak_file, experiments, chunksize=2), progress,
                                         "peak files", "file", total=len(experiments)))
        return [_write_peak_file(e) for e in progress_bar(experiments, progress, "peak files", "file")]
    finally:
        _PEAK_JOB = None
