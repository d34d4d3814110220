"""Step 3, the bins and their truth: GC, N fraction, planted instances and bias k-mers per bin."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...encoding import N_CODE, base_codes, reverse_complement
from .genome import SimulatedGenome
from .motifs import MotifSites
from .params import SimulationParams


@dataclass
class Bins:
    """The bin tiling and its per-bin truth, all shape=(B,).

    Attributes:
        chrom: chromosome index of each bin; start: global start (``SimulatedGenome.codes`` index).
        local_start: start on its chromosome.
        gc: GC fraction of non-N bases (0 for all-N bins); n_fraction: fraction of N.
        motif_counts: instances per TF (centre in bin), shape=(B, n_tfs).
        motif_bits: bit t set when TF t has an instance here, uint8.
        touched: any planted base in the bin.
        kmer_counts: occurrences of each assay's k-mer, shape=(B, n_assays).
        gc_rich: ``gc >= gc_rich_threshold``.
        callable: less than half N.
    """

    chrom: np.ndarray
    start: np.ndarray
    local_start: np.ndarray
    gc: np.ndarray
    n_fraction: np.ndarray
    motif_counts: np.ndarray
    motif_bits: np.ndarray
    touched: np.ndarray
    kmer_counts: np.ndarray
    gc_rich: np.ndarray
    callable: np.ndarray

    def __len__(self) -> int:
        return len(self.start)


def find_kmer(sequence: np.ndarray, kmer: np.ndarray) -> np.ndarray:
    """Start positions p with ``sequence[p:p+k] == kmer`` (codes), shape=(hits,)."""
    k = len(kmer)
    n = len(sequence) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    hit = sequence[:n] == kmer[0]
    for i in range(1, k):
        hit &= sequence[i:i + n] == kmer[i]
    return np.flatnonzero(hit)


def kmer_occurrences(sequence: np.ndarray, kmer: str) -> np.ndarray:
    """Leftmost positions of ``kmer`` on either strand (a palindrome once), sorted."""
    hits = [find_kmer(sequence, base_codes(kmer))]
    if reverse_complement(kmer) != kmer:
        hits.append(find_kmer(sequence, base_codes(reverse_complement(kmer))))
    return np.sort(np.concatenate(hits))


def tabulate_bins(genome: SimulatedGenome, sites: MotifSites,
                  params: SimulationParams) -> tuple[Bins, list[np.ndarray]]:
    """Per-bin truth; also each assay's k-mer occurrences (global leftmost positions)."""
    size = params.bin_size
    per_chrom = genome.lengths // size
    first_bin = np.concatenate([[0], np.cumsum(per_chrom)])
    chrom = np.repeat(np.arange(len(per_chrom)), per_chrom)
    local_start = np.concatenate([np.arange(n, dtype=np.int64) * size for n in per_chrom])
    start = genome.offsets[chrom] + local_start
    n_bins = len(start)
    gc = np.zeros(n_bins)
    n_fraction = np.zeros(n_bins)
    kmer_counts = np.zeros((n_bins, len(params.assay_kmers)), dtype=np.int32)
    occurrences: list[list[np.ndarray]] = [[] for _ in params.assay_kmers]
    for c, n in enumerate(per_chrom):
        tiles = genome.chromosome(c)[:n * size].reshape(n, size)
        rows = slice(first_bin[c], first_bin[c + 1])
        n_count = (tiles == N_CODE).sum(axis=1)
        gc_count = ((tiles == 1) | (tiles == 2)).sum(axis=1)
        gc[rows] = gc_count / np.maximum(size - n_count, 1)
        n_fraction[rows] = n_count / size
        for a, (_, kmer, _) in enumerate(params.assay_kmers):
            hits = kmer_occurrences(genome.chromosome(c), kmer)
            hits = hits[hits < n * size]
            kmer_counts[rows, a] = np.bincount(hits // size, minlength=n)
            occurrences[a].append(genome.offsets[c] + hits)
    # TF instances: counted in the bin of their centre; 'touched' marks every bin with a planted base
    n_tfs = len(params.catalogue.tfs)
    motif_counts = np.zeros((n_bins, n_tfs), dtype=np.int32)
    touched = np.zeros(n_bins, dtype=bool)
    if len(sites):
        def bin_of(position: np.ndarray) -> np.ndarray:
            c, local = genome.locate(position)
            return first_bin[c] + local // size
        np.add.at(motif_counts, (bin_of((sites.start + sites.end) // 2), sites.tf), 1)
        first, last = bin_of(sites.start), bin_of(sites.end - 1)
        for step in range(int((last - first).max()) + 1):
            inside = first + step <= last
            touched[(first + step)[inside]] = True
    motif_bits = ((motif_counts > 0) << np.arange(n_tfs)).sum(axis=1).astype(np.uint8)
    gc = np.round(gc, 4)
    bins = Bins(chrom, start, local_start, gc, np.round(n_fraction, 4), motif_counts, motif_bits, touched,
                kmer_counts, gc >= params.gc_rich_threshold, n_fraction < 0.5)
    return bins, [np.concatenate(o) for o in occurrences]
