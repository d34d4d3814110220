"""The genome code cache and its window gathers, against a letter-by-letter reference."""
from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from mfd_model.encoding import base_codes
from mfd_model.errors import MFDError
from mfd_model.genome import Genome
from mfd_model.genome_codes import CacheMismatch, GenomeCodes, sidecar_path

from variant_helpers import write_fasta

COMPLEMENT = {"A": "T", "C": "G", "G": "C", "T": "A"}


def small_genome(rng: np.random.Generator) -> dict[str, str]:
    """Contigs of unequal length (one shorter than a window) with N runs, soft-masking and IUPAC codes."""
    seqs = {}
    for name, length in (("chr1", 3_000), ("chr2", 1_201), ("chrM", 37)):
        seq = rng.choice(list("ACGTacgtNRY"), size=length, p=[0.2, 0.2, 0.2, 0.2, 0.04, 0.04, 0.04, 0.04, 0.02, 0.01, 0.01])
        seq[:50] = "N"
        seqs[name] = "".join(seq)
    return seqs


def reference_window(seqs: dict[str, str], chrom: str, start: int, length: int, reverse: bool) -> str:
    """Letter by letter: N outside the contig and for every non-ACGT letter; then reverse complement."""
    seq = seqs[chrom]
    letters = [seq[p].upper() if 0 <= p < len(seq) else "N" for p in range(start, start + length)]
    letters = ["N" if b not in "ACGT" else b for b in letters]
    if reverse:
        letters = [COMPLEMENT.get(b, "N") for b in reversed(letters)]
    return "".join(letters)


@pytest.fixture
def fasta(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    seqs = small_genome(np.random.default_rng(0))
    return write_fasta(tmp_path / "genome.fa", seqs, width=61), seqs


@pytest.mark.parametrize("length", [1, 100, 1_152])
def test_windows_equal_letter_by_letter_reference(fasta, length):
    path, seqs = fasta
    rng = np.random.default_rng(length)
    for codes in (GenomeCodes.from_fasta(Genome(path)), GenomeCodes.from_fasta(Genome(path), path.parent / "g.npy")):
        contigs = rng.integers(0, 3, size=400)
        sizes = np.array([len(seqs[codes.names[c]]) for c in contigs])
        starts = (rng.random(400) * (sizes + 2 * length + 10)).astype(np.int64) - length - 5   # some wholly outside
        starts[:3] = [-length, sizes[1] - 1, 0]
        reverse = rng.random(400) < 0.5
        got = codes.windows(contigs, starts, length, reverse=reverse)
        assert got.shape == (400, length) and got.dtype == np.uint8
        expected = [reference_window(seqs, codes.names[c], int(s), length, bool(r))
                    for c, s, r in zip(contigs, starts, reverse)]
        np.testing.assert_array_equal(got, np.stack([base_codes(e) for e in expected]))
        np.testing.assert_array_equal(codes.windows(contigs, starts, length), codes.windows(contigs, starts, length, None))
        assert codes.windows(contigs[:0], starts[:0], length).shape == (0, length)


def test_windows_equal_pyfaidx_reads(fasta):
    """The cache holds what Genome.fetch (pyfaidx) reads, N-padding included."""
    path, seqs = fasta
    genome = Genome(path)
    codes = GenomeCodes.from_fasta(genome)
    for chrom, length in genome.contigs.items():
        for start in (-30, 0, 5, length - 100, length - 1):
            np.testing.assert_array_equal(codes.fetch(chrom, start, start + 100),
                                          base_codes(genome.fetch(chrom, start, start + 100)))


def test_cache_round_trip_and_pickle(fasta):
    path, _ = fasta
    genome = Genome(path)
    cache = path.parent / "genome.codes.npy"
    built = GenomeCodes.from_fasta(genome, cache)
    header = json.loads(sidecar_path(cache).read_text())
    assert header["format"] == "mfd-genome-codes/1" and header["contigs"] == dict(genome.contigs)
    assert header["fasta"]["sha256"] == genome.checksum() and header["fasta"]["size"] == path.stat().st_size
    opened = GenomeCodes.open(cache, genome)
    assert isinstance(opened.codes, np.memmap) and not opened.codes.flags.writeable
    np.testing.assert_array_equal(opened.codes, GenomeCodes.from_fasta(genome).codes)
    again = pickle.loads(pickle.dumps(opened))                      # a spawned worker maps the file again
    assert isinstance(again.codes, np.memmap) and len(pickle.dumps(opened)) < 10_000
    np.testing.assert_array_equal(again.windows([0, 2], [-5, 30], 20), built.windows([0, 2], [-5, 30], 20))
    assert not list(path.parent.glob(".*tmp*"))                    # no temporary file left behind


def test_stale_or_corrupt_cache_is_rebuilt_or_refused(fasta, tmp_path):
    path, seqs = fasta
    cache = tmp_path / "genome.codes.npy"
    GenomeCodes.from_fasta(Genome(path), cache)

    os.utime(path, ns=(1, 1))                                       # touched, same bytes: still valid
    GenomeCodes.open(cache, Genome(path))

    changed = {**seqs, "chr2": "A" + seqs["chr2"][1:] if seqs["chr2"][0] != "A" else "C" + seqs["chr2"][1:]}
    write_fasta(path, changed, width=61)                            # same size, other bytes
    Path(f"{path}.fai").unlink()
    with pytest.raises(CacheMismatch, match="stale genome code cache: genome.fa changed") as err:
        GenomeCodes.open(cache, Genome(path))
    assert "\n" not in err.value.one_line() and str(cache) in err.value.one_line()
    rebuilt = GenomeCodes.open_or_build(cache, Genome(path))
    assert rebuilt.fetch("chr2", 0, 1)[0] == base_codes(changed["chr2"][0])[0]
    GenomeCodes.open(cache, Genome(path))

    with pytest.raises(CacheMismatch, match="made from another FASTA"):
        GenomeCodes.open(cache, Genome(path), fasta_sha256="0" * 64)

    data = bytearray(cache.read_bytes())                            # one flipped code
    data[-7] ^= 1
    cache.write_bytes(bytes(data))
    with pytest.raises(CacheMismatch, match="corrupt genome code cache: its codes do not hash"):
        GenomeCodes.open(cache, Genome(path))
    cache.write_bytes(bytes(data[:-100]))                           # truncated
    with pytest.raises(CacheMismatch, match="corrupt genome code cache"):
        GenomeCodes.open(cache, Genome(path), verify=False)
    sidecar_path(cache).write_text("{not json")
    with pytest.raises(CacheMismatch, match="corrupt genome code cache header"):
        GenomeCodes.open(cache, Genome(path))
    rebuilt = GenomeCodes.open_or_build(cache, Genome(path))
    np.testing.assert_array_equal(rebuilt.codes, GenomeCodes.from_fasta(Genome(path)).codes)

    other = write_fasta(tmp_path / "other.fa", {"chr1": seqs["chr1"]})
    with pytest.raises(CacheMismatch, match="contigs differ"):
        GenomeCodes.open(cache, Genome(other))
    with pytest.raises(CacheMismatch, match="no genome code cache"):
        GenomeCodes.open(tmp_path / "absent.npy", Genome(path))


def test_unwritable_folder_is_one_clear_line(fasta, tmp_path):
    path, _ = fasta
    (tmp_path / "a_file").write_text("")                            # not a folder: nothing can be written under it
    with pytest.raises(MFDError) as err:
        GenomeCodes.open_or_build(tmp_path / "a_file" / "genome.codes.npy", Genome(path))
    line = err.value.one_line()
    assert "no genome code cache" in line and "cannot be rebuilt there" in line and "\n" not in line


def test_a_gather_copies_only_its_windows():
    """Memory of one batch is the batch's own (B x L bytes), never a copy of the genome's windows."""
    import tracemalloc
    rng = np.random.default_rng(1)
    codes = GenomeCodes(rng.integers(0, 5, 2_000_000, dtype=np.uint8), {"chr1": 1_500_000, "chr2": 500_000})
    contigs, starts = rng.integers(0, 2, 64), rng.integers(0, 400_000, 64)
    tracemalloc.start()
    try:
        for reverse in (None, rng.random(64) < 0.5):
            codes.windows(contigs, starts, 1_152, reverse=reverse)
            codes.windows(contigs, starts - 200_000, 1_152, reverse=reverse)        # some off the contig start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1_152 * 40                                                  # int64 positions of edge windows
