"""Model windows from a FASTA, fast: batched reads, base codes, vectorised one-hot encoding.

The engine's FASTA windows (:class:`mfd_model.inference.sources.GenomeWindows`) and Kipoi's
dataloader read through here.

``mfd predict`` reads whole batches of windows straight from the FASTA (a small job: no genome
code cache needed, :mod:`mfd_model.genome_codes`): windows close to each other on a contig are
cut from one FASTA read (one BGZF decompression instead of one per window), turned into base
codes and one-hot encoded in one vectorised step (:mod:`mfd_model.encoding`). Which windows to
read (centring as kipoiseq's ``auto_resize_len``, unknown contigs, windows off a contig end) is
decided by :func:`mfd_model.interpret.windows.centred_windows`.
"""
from __future__ import annotations

import numpy as np

from mfd_model.encoding import base_codes, one_hot
from mfd_model.genome import Genome


def factorize(values: np.ndarray | list) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of values in order of first appearance (as ``pandas.factorize``, without pandas).

    Args:
        values: shape=(N,), e.g. contig names.
    Returns:
        ``(codes, uniques)``: codes shape=(N,) int64 with ``uniques[codes] == values``; uniques in order
        of first appearance.
    """
    values = np.asarray(values, dtype=object)
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64), values
    uniques, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[inverse.reshape(-1)], uniques[order]


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
    contig_ids, names = factorize(contigs)
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
    return one_hot(fetch_codes(genome, contigs, starts, length), n_value=n_value)
