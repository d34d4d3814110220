"""Interval windows: centring, summits, shifts, skips with counts, orientation; real files."""
from __future__ import annotations

import gzip

import numpy as np
import pandas as pd

from conftest import requires_shared_data
from interpret_helpers import random_dna, write_fasta
from mfd_model.encoding import decode_one_hot
from mfd_model.genome import Genome
from mfd_model.interpret.windows import centred_windows, random_windows, read_windows


def _genome(tmp_path):
    seq = random_dna(1000, seed=0)
    return Genome(write_fasta(tmp_path / "g.fa", {"chr1": seq, "chr2": random_dna(300, seed=1)})), seq


def test_windows_are_centred_shifted_and_skips_counted(tmp_path):
    genome, seq = _genome(tmp_path)
    intervals = pd.DataFrame({"chrom": ["chr1", "1", "chrX", "chr1", "chr2"], "start": [400, 500, 10, 5, 100],
                              "end": [411, 600, 20, 15, 200], "name": ["a", "b", "c", "d", "e"],
                              "strand": ["+", "-", "+", "+", "."]})
    windows = centred_windows(intervals, genome, 100, shifts=(-3, 0, 3))
    assert list(windows.ids) == ["a", "b", "e"] and list(windows.chrom) == ["chr1", "chr1", "chr2"]
    assert windows.skipped == {"unknown contig": 1, "window outside contig": 1}
    assert windows.skip_summary() == "kept 3 of 5 intervals; skipped: 1 unknown contig, 1 window outside contig"
    assert list(windows.start) == [405 - 50, 550 - 50, 150 - 50]
    assert windows.sequences([0])[0] == seq[355:455]
    assert windows.sequences([0], shift=3)[0] == seq[358:458]
    oriented = windows.one_hot([1], orient=True)[0]
    complement = str.maketrans("ACGT", "TGCA")
    assert decode_one_hot(oriented) == seq[500:600].translate(complement)[::-1]
    padded = centred_windows(intervals, genome, 100, allow_padding=True)
    assert "d" in list(padded.ids) and padded.sequences([list(padded.ids).index("d")])[0].startswith("N" * 40)


def test_narrowpeak_summits_and_random_windows(tmp_path):
    genome, seq = _genome(tmp_path)
    peaks = tmp_path / "p.narrowPeak.gz"
    with gzip.open(peaks, "wt") as handle:
        handle.write("chr1\t300\t500\tp1\t1000\t.\t5.0\t-1\t3.0\t20\n")
        handle.write("chr1\t600\t700\tp2\t1000\t.\t5.0\t-1\t3.0\t-1\n")
    windows = read_windows(peaks, genome, 100)
    assert list(windows.start) == [320 - 50, 650 - 50]                       # summit, then midpoint
    assert list(read_windows(peaks, genome, 100, summits=False).start) == [400 - 50, 650 - 50]
    exclude = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [1000]})
    background = random_windows(genome, 5, 100, seed=1, exclude=exclude)
    assert len(background) == 5 and set(background.chrom) == {"chr2"}
    assert np.all((background.start >= 0) & (background.end <= 300))


def test_real_enhancers_and_peaks_on_the_1mb_window():
    folder = requires_shared_data("hg38_chr1_1mb")
    genome = Genome(folder / "hg38_1m.fa.gz")
    enhancers = read_windows(folder / "annotations" / "F5.hg38.enhancers.bed.gz", genome, 1152)
    # the data README: 8 of the 63,285 FANTOM5 enhancers lie in chr1:0-1 Mb
    assert len(enhancers) == 8 and enhancers.n_read == 63285
    assert sum(enhancers.skipped.values()) == 63285 - 8
    with gzip.open(folder / "annotations" / "F5.hg38.enhancers.bed.gz", "rt") as handle:
        rows = [line.split("\t")[:3] for line in handle]
    inside = [(int(s), int(e)) for c, s, e in rows if c == "chr1" and int(e) <= 1_000_000]
    assert sorted(enhancers.source_start.tolist()) == sorted(s for s, _ in inside if (s + _) // 2 - 576 >= 0
                                                             and (s + _) // 2 + 576 <= 1_000_000)
    peaks = read_windows(folder / "peaks" / "ENCSR000AKO_CTCF_K562.narrowPeak.gz", genome, 1152)
    assert len(peaks) == 15                                                  # README: 15 in chr1:0-1 Mb
    X = peaks.one_hot()
    assert X.shape == (15, 4, 1152) and X.sum() > 0.9 * 15 * 1152             # real sequence, few N
