"""``mfd prepare`` and the label store, against a brute-force reference.

The reference below loops over every bin and every peak in plain Python, merges each
experiment's overlapping or touching peaks, and labels a bin 1 when one merged peak covers
at least ``min_overlap`` of its bp. It shares no code with ``mfd_model.train.prepare``.
"""
from __future__ import annotations

import bisect
import gzip
import hashlib
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from mfd_model import MFDError
from mfd_model.cli import main
from mfd_model.encoding import decode_codes
from mfd_model.genome import Genome
from mfd_model.genome_codes import GenomeCodes
from mfd_model.train.labels import LabelStore
from mfd_model.train.prepare import PrepareParams, prepare_labels, validation_rows
from mfd_model.yamlio import load_yaml

from conftest import requires_shared_data

ALIASES = {"1": "chr1", "2": "chr2", "M": "chrM", "9": "chr9", "10": "chr10"}


# ============================================================================ reference
def merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def reference(seqs: dict[str, str], peaks: list[list[tuple[str, int, int]]], bin_size: int, min_overlap: int,
              max_n_fraction: float = 0.1, blacklist: tuple = (), min_positive: int = 0,
              aliases: dict[str, str] = ALIASES):
    """Kept bins [(contig, start)] and their labels, int array (n_kept, O), by brute force.
    ``aliases`` maps the input files' contig names to the FASTA's."""
    merged = [{c: merge([(s, e) for cc, s, e in exp if aliases.get(cc, cc) == c]) for c in seqs} for exp in peaks]
    bins, labels = [], []
    for contig, seq in seqs.items():
        for k in range(len(seq) // bin_size):
            lo, hi = k * bin_size, (k + 1) * bin_size
            if sum(ch not in "ACGT" for ch in seq[lo:hi].upper()) > max_n_fraction * bin_size:
                continue
            if any(aliases.get(c, c) == contig and s < hi and e > lo for c, s, e in blacklist):
                continue
            row = [int(max([min(e, hi) - max(s, lo) for s, e in exp[contig]], default=0) >= min_overlap)
                   for exp in merged]
            if sum(row) < min_positive:
                continue
            bins.append((contig, lo))
            labels.append(row)
    return bins, np.array(labels, dtype=int).reshape(len(bins), len(peaks))


# ============================================================================ toy inputs
def write_fasta(path: Path, seqs: dict[str, str], width: int = 60) -> Path:
    with open(path, "w") as handle:
        for name, seq in seqs.items():
            handle.write(f">{name} some description\n")
            for i in range(0, len(seq), width):
                handle.write(seq[i:i + width] + "\n")
    return path


def write_peaks(path: Path, peaks: list[tuple[str, int, int]], kind: str = "bed", header: str = "") -> Path:
    lines = []
    for i, (c, s, e) in enumerate(peaks):
        if kind == "narrowPeak":
            lines.append(f"{c}\t{s}\t{e}\tpeak{i}\t0\t.\t5.0\t3.0\t2.0\t{(e - s) // 2}")
        elif kind == "broadPeak":
            lines.append(f"{c}\t{s}\t{e}\t.\t0\t+\t5.0\t3.0\t2.0")
        else:
            lines.append(f"{c}\t{s}\t{e}")
    text = header + "".join(line + "\n" for line in lines)
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path


def random_seq(rng: np.random.Generator, n: int) -> str:
    return "".join(rng.choice(list("ACGT"), n))


def write_metadata(path: Path, rows: list[dict[str, str]]) -> Path:
    columns = list(rows[0])
    path.write_text("\t".join(columns) + "\n" + "".join("\t".join(r[c] for c in columns) + "\n" for r in rows))
    return path


@pytest.fixture
def toy(tmp_path: Path):
    """bin_size 10, min_overlap 5, max_n_fraction 0.2: every edge case in a few bins."""
    rng = np.random.default_rng(1)
    chr1 = list(random_seq(rng, 95))                          # 9 bins + a partial one (dropped)
    chr1[20:22] = "NN"                                         # bin 2: 2 N = 0.2 -> kept
    chr1[30:33] = "NNN"                                        # bin 3: 3 N -> dropped
    chr1[40:50] = list("acgtacgtac")                           # bin 4: soft-masked -> kept
    chr1[50:53] = "RYK"                                        # bin 5: IUPAC codes count as N -> dropped
    seqs = {"chr1": "".join(chr1), "chr2": random_seq(rng, 60), "chrM": random_seq(rng, 25)}
    fasta = write_fasta(tmp_path / "genome.fa", seqs, width=7)
    (tmp_path / "peaks").mkdir()
    peaks = [
        [("chr1", 0, 5),                                       # exactly min_overlap -> positive
         ("chr1", 15, 19),                                     # min_overlap - 1 -> negative
         ("chr1", 42, 78),                                     # spans bins 4..7
         ("chr1", 84, 120),                                    # runs past the contig end: clipped
         ("chr1", 100, 110),                                   # starts past the end: ignored
         ("chrUn", 0, 100)],                                   # unknown contig: ignored
        [("1", 22, 26), ("1", 24, 28),                         # half-overlapping: 4 + 4 -> union 6
         ("1", 60, 63), ("1", 63, 66),                         # touching: union 6
         ("2", 0, 3), ("2", 5, 8),                             # disjoint in one bin: 3 and 3 -> negative
         ("2", 30, 30),                                        # empty
         ("M", 0, 20)],                                        # alias of chrM
        [("chr2", 35, 55), ("chr1", 0, 10)],                   # chr2 bin 4 is blacklisted
        [("chr1", 0, 8), ("chr1", 2, 4)],                      # nested
    ]
    files = [write_peaks(tmp_path / "peaks" / "e0.bed", peaks[0]),
             write_peaks(tmp_path / "peaks" / "e1.narrowPeak.gz", peaks[1], "narrowPeak"),
             write_peaks(tmp_path / "e2.broadPeak", peaks[2], "broadPeak"),
             write_peaks(tmp_path / "peaks" / "e3.bed", peaks[3], header="track name=x\n# comment\n")]
    metadata = write_metadata(tmp_path / "metadata.tsv", [
        {"experiment": "e0", "peak_file": "peaks/e0.bed", "target": "CTCF"},
        {"experiment": "e1", "peak_file": "peaks/e1.narrowPeak.gz", "target": "EP300"},
        {"experiment": "e2", "peak_file": str(files[2]), "target": "CTCF"},   # absolute path
        {"experiment": "e3", "peak_file": "peaks/e3.bed", "target": "RAD21"},
    ])
    blacklist = [("chr2", 41, 42), ("chrUn", 5, 10)]
    write_peaks(tmp_path / "blacklist.bed", blacklist)
    return {"dir": tmp_path, "seqs": seqs, "fasta": fasta, "metadata": metadata, "peaks": peaks,
            "blacklist": blacklist, "blacklist_path": tmp_path / "blacklist.bed"}


def toy_params(toy, store: str = "store", **changes) -> PrepareParams:
    values = dict(fasta=str(toy["fasta"]), metadata=str(toy["metadata"]), store=str(toy["dir"] / store),
                  bin_size=10, min_overlap=5, max_n_fraction=0.2, blacklist=str(toy["blacklist_path"]),
                  test_chromosomes=(), valid_fraction=0.0)
    values.update(changes)
    return PrepareParams(**values)


def dense(store: LabelStore) -> np.ndarray:
    return store.labels(np.arange(store.n_bins)).astype(int)


def store_bins(store: LabelStore) -> list[tuple[str, int]]:
    return [store.bin_interval(r)[:2] for r in range(store.n_bins)]


# ============================================================================ labels
def test_toy_labels_equal_brute_force(toy):
    store = prepare_labels(toy_params(toy), progress=False)
    bins, expected = reference(toy["seqs"], toy["peaks"], 10, 5, 0.2, toy["blacklist"])
    assert store_bins(store) == bins
    np.testing.assert_array_equal(dense(store), expected)
    # the edge cases, spelled out
    label = {b: row for b, row in zip(bins, dense(store))}
    assert label[("chr1", 0)].tolist() == [1, 0, 1, 1]      # exactly min_overlap; nested peaks
    assert label[("chr1", 10)][0] == 0                        # min_overlap - 1
    assert ("chr1", 30) not in label and ("chr1", 50) not in label  # 3 N, 3 IUPAC: dropped
    assert label[("chr1", 20)][1] == 1 and label[("chr1", 60)][1] == 1  # merged overlapping / touching
    assert label[("chr1", 40)][0] == 1 and label[("chr1", 70)][0] == 1 and label[("chr1", 80)][0] == 1
    assert ("chr1", 90) not in label                          # partial last bin
    assert label[("chr2", 0)][1] == 0                         # two disjoint 3 bp peaks in one bin
    assert ("chr2", 40) not in label                          # blacklisted
    assert label[("chr2", 30)][2] == 1 and label[("chr2", 50)][2] == 1
    assert label[("chrM", 0)][1] == 1 and label[("chrM", 10)][1] == 1  # 'M' read as chrM

    c = store.counts
    assert c["peaks_read"] == sum(len(p) for p in toy["peaks"]) == 18
    assert c["peaks_unknown_contig"] == {"chrUn": 1} and c["peaks_unknown_contig_total"] == 1
    assert (c["peaks_outside_contig"], c["peaks_clipped"], c["peaks_empty"]) == (1, 1, 1)
    assert c["peaks_used"] == 18 - 3
    assert c["contig_aliases"] == {"1": "chr1", "2": "chr2", "M": "chrM"}
    assert c["blacklist_unknown_contigs"] == ["chrUn"]
    assert (c["bins_tiled"], c["bins_dropped_n"], c["bins_dropped_blacklist"]) == (9 + 6 + 2, 2, 1)
    assert c["bins_kept"] == store.n_bins == len(bins)
    assert c["positives_per_experiment"] == expected.sum(0).tolist()


def test_min_positive_experiments_equal_brute_force(toy):
    store = prepare_labels(toy_params(toy, min_positive_experiments=2), progress=False)
    bins, expected = reference(toy["seqs"], toy["peaks"], 10, 5, 0.2, toy["blacklist"], min_positive=2)
    assert store_bins(store) == bins and len(bins) > 0
    np.testing.assert_array_equal(dense(store), expected)
    all_bins, _ = reference(toy["seqs"], toy["peaks"], 10, 5, 0.2, toy["blacklist"])
    assert store.counts["bins_dropped_min_positives"] == len(all_bins) - len(bins)


@pytest.mark.parametrize("bin_size, min_overlap, max_n, min_positive", [
    (10, 1, 0.1, 0), (32, 32, 0.0, 0), (32, 16, 0.25, 1), (128, 64, 0.1, 2)])
def test_random_genomes_equal_brute_force(tmp_path, bin_size, min_overlap, max_n, min_positive):
    rng = np.random.default_rng(bin_size + min_overlap)
    seqs = {}
    for name, length in (("chr1", 3001), ("2", 1500), ("chrX", 777)):
        seq = np.array(list(random_seq(rng, length)))
        for _ in range(6):                                     # N runs of random length
            at = rng.integers(0, length)
            seq[at:at + rng.integers(1, 60)] = "N"
        seqs[name] = "".join(seq)
    peaks = []
    for _ in range(7):
        exp = []
        for _ in range(rng.integers(0, 40)):
            contig = rng.choice(["chr1", "2", "chrX", "chr2", "chrY"])   # chr2 -> '2' by alias, chrY unknown
            length = len(seqs.get(contig, seqs["2"]) if contig != "chr2" else seqs["2"])
            start = int(rng.integers(0, length + 50))
            exp.append((str(contig), start, start + int(rng.integers(0, 300))))
        peaks.append(exp)
    for i, exp in enumerate(peaks):
        write_peaks(tmp_path / f"p{i}.bed.gz", exp)
    write_metadata(tmp_path / "m.tsv", [{"experiment": f"x{i}", "peak_file": f"p{i}.bed.gz"} for i in range(7)])
    blacklist = [("chr1", 700, 760), ("chrX", 0, 1)]
    write_peaks(tmp_path / "black.bed", blacklist)
    params = PrepareParams(fasta=str(write_fasta(tmp_path / "g.fa", seqs)), metadata=str(tmp_path / "m.tsv"),
                           store=str(tmp_path / "s"), bin_size=bin_size, min_overlap=min_overlap,
                           max_n_fraction=max_n, min_positive_experiments=min_positive,
                           blacklist=str(tmp_path / "black.bed"), test_chromosomes=("chrX",))
    store = prepare_labels(params, progress=False)
    bins, expected = reference(seqs, peaks, bin_size, min_overlap, max_n, blacklist, min_positive, {"chr2": "2"})
    assert store_bins(store) == bins
    np.testing.assert_array_equal(dense(store), expected)
    unknown = sum(1 for exp in peaks for c, _, _ in exp if c == "chrY")
    assert store.counts["peaks_unknown_contig"] == ({"chrY": unknown} if unknown else {})


# ============================================================================ splits
def split_genome(tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    rng = np.random.default_rng(7)
    seqs = {"chr1": random_seq(rng, 20000), "chr9": random_seq(rng, 3000), "chr10": random_seq(rng, 2000),
            "chr11": random_seq(rng, 5000)}
    write_peaks(tmp_path / "a.bed", [("chr1", 0, 50)])
    return seqs, write_fasta(tmp_path / "g.fa", seqs), write_metadata(
        tmp_path / "m.tsv", [{"experiment": "a", "peak_file": "a.bed"}])


def test_splits_test_chromosomes_regions_and_validation_blocks(tmp_path):
    seqs, fasta, metadata = split_genome(tmp_path)
    common = dict(fasta=str(fasta), metadata=str(metadata), bin_size=10, min_overlap=5, valid_fraction=0.1,
                  valid_block_bins=40, test_chromosomes=("9", "chr10", "chrNope"), test_regions=("chr11:1e3-1,015",))
    store = prepare_labels(PrepareParams(store=str(tmp_path / "s0"), seed=3, **common), progress=False)
    contig = np.array(store.contigs)[store.bin_contig]
    in_region = (contig == "chr11") & (store.bin_start < 1015) & (store.bin_start + 10 > 1000)
    expected_test = np.isin(contig, ["chr9", "chr10"]) | in_region
    assert in_region.sum() == 2                                 # bins 1000 and 1010 overlap [1000, 1015)
    np.testing.assert_array_equal(store.split == 2, expected_test)
    assert store.counts["test_chromosomes_unknown"] == ["chrNope"]
    assert store.counts["contig_aliases"] == {"9": "chr9"}

    eligible = np.flatnonzero(~expected_test)
    valid = store.indices("valid")
    assert len(valid) == round(0.1 * len(eligible))
    assert_blocks(eligible, valid, 40)
    np.testing.assert_array_equal(np.sort(np.concatenate([store.indices(s) for s in ("train", "valid", "test")])),
                                  np.arange(store.n_bins))
    assert store.info["splits"] == {"train": len(store.indices("train")), "valid": len(valid),
                                    "test": int(expected_test.sum())}

    again = prepare_labels(PrepareParams(store=str(tmp_path / "s1"), seed=3, **common), progress=False)
    other = prepare_labels(PrepareParams(store=str(tmp_path / "s2"), seed=4, **common), progress=False)
    np.testing.assert_array_equal(again.split, store.split)
    assert not np.array_equal(other.split, store.split) and len(other.indices("valid")) == len(valid)


def assert_blocks(eligible: np.ndarray, rows: np.ndarray, block: int) -> None:
    """``rows`` are whole blocks of ``block`` consecutive eligible rows, but one block cut at its end."""
    assert len(np.unique(rows)) == len(rows)
    position = np.searchsorted(eligible, rows)                 # place of each row among the eligible rows
    np.testing.assert_array_equal(eligible[np.minimum(position, len(eligible) - 1)], rows)
    per_block = np.bincount(position // block, minlength=-(-len(eligible) // block))
    full = np.minimum(block, len(eligible) - np.arange(len(per_block)) * block)
    partial = np.flatnonzero((per_block > 0) & (per_block < full))
    assert len(partial) <= 1
    for b in partial:
        assert position[position // block == b].tolist() == list(range(b * block, b * block + per_block[b]))


@pytest.mark.parametrize("n, fraction, block, seed", [(1000, 0.05, 100, 0), (997, 0.3, 7, 1), (5, 0.5, 100, 2),
                                                      (10, 0.0, 3, 0)])
def test_validation_rows_are_blocks_of_the_requested_fraction(n, fraction, block, seed):
    eligible = np.arange(n) * 3 + 1                             # any increasing rows
    rows = validation_rows(eligible, fraction, block, seed)
    assert len(rows) == round(fraction * n)
    assert_blocks(eligible, rows, block)
    np.testing.assert_array_equal(validation_rows(eligible, fraction, block, seed), rows)


# ============================================================================ the store
def test_store_round_trip_and_contents(toy):
    params = toy_params(toy, test_chromosomes=("chrM",), valid_fraction=0.25, valid_block_bins=2, seed=5)
    store = prepare_labels(params, progress=False)
    bins, expected = reference(toy["seqs"], toy["peaks"], 10, 5, 0.2, toy["blacklist"])
    opened = LabelStore.open(toy["dir"] / "store")
    rows = np.random.default_rng(0).integers(0, opened.n_bins, 50)
    np.testing.assert_array_equal(opened.labels(rows), expected[rows].astype(np.float32))
    assert opened.labels(rows).dtype == np.float32 and opened.labels(np.array([], int)).shape == (0, 4)
    assert isinstance(opened.label_indices, np.memmap) and isinstance(opened.split, np.memmap)
    shipped = pickle.dumps(opened)                              # what a spawned DataLoader worker receives
    assert len(shipped) < 500
    copy = pickle.loads(shipped)
    assert isinstance(copy.label_indices, np.memmap)
    np.testing.assert_array_equal(copy.labels(rows), opened.labels(rows))
    np.testing.assert_array_equal(opened.positives_per_experiment(), expected.sum(0))
    for split in ("train", "valid", "test"):
        np.testing.assert_array_equal(opened.positives_per_experiment(split), expected[opened.indices(split)].sum(0))
    assert opened.experiment_names == ["e0", "e1", "e2", "e3"]
    assert opened.metadata.frame["target"].tolist() == ["CTCF", "EP300", "CTCF", "RAD21"]
    assert opened.contigs == ["chr1", "chr2", "chrM"] and opened.contig_lengths == [95, 60, 25]
    assert opened.bin_interval(0) == ("chr1", 0, 10) and opened.bin_size == 10
    assert (opened.fasta_path, opened.fasta_sha256) == (
        str(toy["fasta"].absolute()), hashlib.sha256(toy["fasta"].read_bytes()).hexdigest())

    info = json.loads((toy["dir"] / "store" / "store.json").read_text())
    assert info["format"] == "mfd-labels/1" and info["n_bins"] == len(bins)
    assert info["n_positive_labels"] == expected.sum() and info["n_experiments"] == 4
    assert info["experiments"] == ["e0", "e1", "e2", "e3"] and info["id_column"] == "experiment"
    assert info["peaks_column"] == "peak_file" and info["fasta"]["contigs"] == {"chr1": 95, "chr2": 60, "chrM": 25}
    assert info["params"] == {**params.to_dict(), "test_chromosomes": ["chrM"]}
    assert info["params"]["min_overlap"] == 5 and info["params"]["valid_block_bins"] == 2
    assert sum(info["splits"].values()) == info["n_bins"] and info["splits"]["test"] == 2
    assert info["created"] and info["mfd_version"]
    assert [p.name for p in sorted((toy["dir"] / "store").iterdir())] == [
        "bin_contig.npy", "bin_start.npy", "genome.codes.json", "genome.codes.npy", "label_indices.npy",
        "label_indptr.npy", "metadata.tsv", "split.npy", "store.json"]
    codes = GenomeCodes.open(toy["dir"] / "store" / "genome.codes.npy", Genome(toy["fasta"]))   # the genome cache
    assert [decode_codes(codes.fetch(name, 0, len(seq))) for name, seq in toy["seqs"].items()] == \
        [seq.upper().translate(str.maketrans("RYKMSWBDHV", "NNNNNNNNNN")) for seq in toy["seqs"].values()]
    assert not list(toy["dir"].glob(".store*"))                 # no temporary folder left behind
    summary = opened.summary()
    assert f"{len(bins):,} bins of 10 bp x 4 experiments" in summary and "chrUn 1" in summary
    assert "contig '1' in the input files read as the FASTA's 'chr1'" in summary

    opened.check_fasta(Genome(toy["fasta"]))
    other = write_fasta(toy["dir"] / "other.fa", {**toy["seqs"], "chrM": toy["seqs"]["chrM"][::-1]}, width=7)
    with pytest.raises(MFDError, match="checksum differs"):
        opened.check_fasta(Genome(other))
    shorter = write_fasta(toy["dir"] / "short.fa", {"chr1": toy["seqs"]["chr1"]})
    with pytest.raises(MFDError, match="contigs differ"):
        opened.check_fasta(Genome(shorter))


def test_corrupt_or_foreign_stores_are_clear_errors(toy):
    prepare_labels(toy_params(toy), progress=False)
    path = toy["dir"] / "store"
    with pytest.raises(MFDError, match="label store not found"):
        LabelStore.open(toy["dir"] / "nowhere")
    with pytest.raises(MFDError, match="store.json is missing"):
        LabelStore.open(toy["dir"])
    np.save(path / "split.npy", np.zeros(3, dtype=np.int8))
    with pytest.raises(MFDError, match="split.npy has 3 entries"):
        LabelStore.open(path)
    (path / "label_indices.npy").write_bytes(b"garbage")
    with pytest.raises(MFDError, match="cannot read label_indices.npy"):
        LabelStore.open(path)
    (path / "store.json").write_text(json.dumps({"format": "something/2"}))
    with pytest.raises(MFDError, match="not a label store of format 'mfd-labels/1'"):
        LabelStore.open(path)
    (path / "store.json").write_text("{not json")
    with pytest.raises(MFDError, match="cannot read store.json"):
        LabelStore.open(path)


def test_existing_store_is_kept_unless_overwrite(toy):
    first = prepare_labels(toy_params(toy), progress=False)
    with pytest.raises(MFDError, match="label store already exists"):
        prepare_labels(toy_params(toy, min_overlap=1), progress=False)
    assert LabelStore.open(first.path).params["min_overlap"] == 5
    replaced = prepare_labels(toy_params(toy, min_overlap=1, overwrite=True), progress=False)
    assert replaced.params["min_overlap"] == 1 and replaced.n_bins == first.n_bins
    assert dense(replaced).sum() > dense(first).sum()
    (toy["dir"] / "other").mkdir()
    (toy["dir"] / "other" / "keep.txt").write_text("x")
    with pytest.raises(MFDError, match="not a label store"):
        prepare_labels(toy_params(toy, store="other", overwrite=True), progress=False)
    assert (toy["dir"] / "other" / "keep.txt").exists()


# ============================================================================ real data
def test_real_hg19_encode_peaks(tmp_path):
    fasta = requires_shared_data("hg19_chr20", "ucsc.hg19.chr20.unittest.fasta.gz")
    samples = requires_shared_data("hg19_chr20", "peaks", "samples.tsv")
    rc = main(["prepare", str(fasta), str(samples), str(tmp_path / "store"), "--peaks-column", "file", "--quiet",
               "--test-regions", "chr20:10.9e6-11.1e6"])
    assert rc == 0
    store = LabelStore.open(tmp_path / "store")

    with gzip.open(fasta, "rt") as handle:                     # BGZF is gzip: read it independently
        seq = "".join(line.strip() for line in handle if not line.startswith(">")).upper()
    codes = np.frombuffer(seq.encode(), dtype=np.uint8)[:len(seq) // 128 * 128].reshape(-1, 128)
    n_bad = (~np.isin(codes, np.frombuffer(b"ACGT", dtype=np.uint8))).sum(1)
    kept = np.flatnonzero(n_bad <= 12) * 128
    np.testing.assert_array_equal(store.bin_start, kept)
    assert kept.min() >= 9_995_000 - 12 and kept.max() + 128 <= 11_095_000 + 12  # <= 12 N: the real 1.1 Mb window
    assert len(kept) > 0.95 * 1_100_000 / 128

    files = [samples.parent / name for name in store.metadata.frame["file"]]
    dense_labels = store.labels(np.arange(store.n_bins)).astype(int)
    total, unknown = 0, {}
    for e, path in enumerate(files):
        chr20 = []
        with gzip.open(path, "rt") as handle:
            for line in handle:
                chrom, start, end = line.split("\t")[:3]
                total += 1
                if chrom == "chr20":
                    chr20.append((int(start), int(end)))
                else:
                    unknown[chrom] = unknown.get(chrom, 0) + 1
        merged = merge(chr20)
        starts = [s for s, _ in merged]
        expected = []
        for lo in kept:                                         # brute force over kept bins and nearby peaks
            i = bisect.bisect_right(starts, lo + 128)
            near = merged[max(0, i - 3):i]
            expected.append(int(max([min(en, lo + 128) - max(s, lo) for s, en in near], default=0) >= 64))
        np.testing.assert_array_equal(dense_labels[:, e], expected)
        assert 7 <= sum(expected)                               # the README: 7-39 peaks each in the window
    assert store.counts["peaks_read"] == total
    assert store.counts["peaks_unknown_contig"] == unknown
    assert store.counts["peaks_unknown_contig_total"] == sum(unknown.values()) > 0
    assert store.counts["test_chromosomes_unknown"] == ["chr9", "chr10"]
    test = store.indices("test")
    assert store.bin_start[test].min() >= 10_900_000 - 127 and store.bin_start[test].max() < 11_100_000
    summary = store.summary()
    assert f"{total:,} read" in summary and f"{sum(unknown.values()):,} on contigs not in the FASTA" in summary


# ============================================================================ the command line
def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(["prepare", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_error_line(err: str, *fragments: str) -> None:
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_cli_with_config_and_overrides(toy, capsys, monkeypatch):
    monkeypatch.chdir(toy["dir"])                               # config paths: relative to the current folder
    (toy["dir"] / "train.yaml").write_text(
        "model: {channels: 8}\n"
        "data:\n"
        "  fasta: genome.fa\n"
        "  metadata: metadata.tsv\n"
        "  store: from_config\n"
        "  bin_size: 10\n"
        "  min_overlap: 5\n"
        "  max_n_fraction: 0.2\n"
        "  blacklist: blacklist.bed\n"
        "  test_chromosomes: [chrM]\n"
        "  test_regions: chr1:0-20\n")
    rc, out, err = run_cli(capsys, "--config", "train.yaml", "--quiet", "--min-overlap", "1", "--seed", "2")
    assert rc == 0, err
    store = LabelStore.open(toy["dir"] / "from_config")
    assert store.params["min_overlap"] == 1 and store.params["seed"] == 2 and store.params["bin_size"] == 10
    assert store.params["test_regions"] == ["chr1:0-20"]
    bins, expected = reference(toy["seqs"], toy["peaks"], 10, 1, 0.2, toy["blacklist"])
    np.testing.assert_array_equal(dense(store), expected)
    assert "label store" in out and "splits:" in out
    assert "contig '1' is called 'chr1'" in err                 # the alias, said once
    assert err.count("contig '1' is called 'chr1'") == 1

    rc, out, err = run_cli(capsys, "genome.fa", "metadata.tsv", "positional", "--bin-size", "10", "--min-overlap",
                           "5", "--max-n-fraction", "0.2", "--test-chromosomes", "", "--quiet")
    assert rc == 0, err
    assert LabelStore.open(toy["dir"] / "positional").params["test_chromosomes"] == []


def test_params_from_mapping_checks_keys_and_types(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("data:\n  fasta: g.fa\n  metadata: m.tsv\n  store: s\n  valid_fraction: 1.5\n")
    doc = load_yaml(config)
    with pytest.raises(MFDError) as err:
        PrepareParams.from_mapping(doc.data["data"], doc)
    assert err.value.one_line().startswith(f"{config}:5: data.valid_fraction: must be in [0, 1)")
    params = PrepareParams.from_mapping({"fasta": "g", "metadata": "m", "store": "s", "test_chromosomes": "chr1, 2",
                                         "batch_size": 3}, None, extra_keys=("batch_size",))
    assert params.test_chromosomes == ("chr1", "2") and params.bin_size == 128 and params.min_overlap == 64
    with pytest.raises(MFDError, match="data: missing required key 'store'"):
        PrepareParams.from_mapping({"fasta": "g", "metadata": "m"}, None)
    with pytest.raises(MFDError, match="min_overlap 200 exceeds bin_size 128"):
        PrepareParams(fasta="g", metadata="m", store="s", min_overlap=200)
    config.write_text("data:\n  fasta: g.fa\n  metadata: m.tsv\n  store: s\n  bin_size: 50\n")
    with pytest.raises(MFDError) as err:
        PrepareParams.from_mapping(load_yaml(config).data["data"], load_yaml(config))
    assert err.value.one_line().startswith(f"{config}:5: data.bin_size: min_overlap 64 exceeds bin_size 50")
    with pytest.raises(MFDError, match="test region 'chr1:5-2': start must be < end"):
        PrepareParams(fasta="g", metadata="m", store="s", test_regions=("chr1:5-2",))


def bad_input_case(toy, case: str) -> tuple[list[str], tuple[str, ...]]:
    d = toy["dir"]
    base = [str(toy["fasta"]), str(toy["metadata"]), str(d / "out"), "--quiet"]
    if case == "malformed BED line":
        (d / "peaks" / "e3.bed").write_text("chr1\t0\t8\nchr1\t2\n")
        return base, (f"{d / 'peaks' / 'e3.bed'}:2: malformed peak line", "fix:")
    if case == "start > end":
        write_peaks(d / "peaks" / "e1.narrowPeak.gz", [("1", 5, 9), ("1", 30, 20)], "narrowPeak")
        return base, (f"{d / 'peaks' / 'e1.narrowPeak.gz'}:2: start 30 > end 20",)
    if case == "missing peak file":
        (d / "peaks" / "e1.narrowPeak.gz").unlink()
        return base, (f"{toy['metadata']}:3: peak file of experiment 'e1' not found: {d / 'peaks' / 'e1.narrowPeak.gz'}",)
    if case == "unknown peaks column":
        return base + ["--peaks-column", "bed"], (f"{toy['metadata']}:1: no column 'bed' (peaks_column)",
                                                   "peak_file")
    if case == "unknown config key":
        (d / "c.yaml").write_text(f"data:\n  fasta: {toy['fasta']}\n  metadata: {toy['metadata']}\n"
                                  f"  store: {d / 'out'}\n  bin_sise: 10\n")
        return ["--config", str(d / "c.yaml")], (f"{d / 'c.yaml'}:5: data.bin_sise: unknown key", "bin_size")
    if case == "wrong-typed config value":
        (d / "c.yaml").write_text(f"data:\n  fasta: {toy['fasta']}\n  metadata: {toy['metadata']}\n"
                                  f"  store: {d / 'out'}\n  min_overlap: 5\n  bin_size: ten\n")
        return ["--config", str(d / "c.yaml")], (f"{d / 'c.yaml'}:6: data.bin_size: expected an integer, got 'ten'",)
    if case == "wrong-typed list":
        (d / "c.yaml").write_text(f"data:\n  fasta: a\n  metadata: b\n  store: c\n  test_chromosomes: [chr9, 10]\n")
        return ["--config", str(d / "c.yaml")], (f"{d / 'c.yaml'}:5: data.test_chromosomes: expected a list",)
    if case == "no data section":
        (d / "c.yaml").write_text("model: {}\n")
        return ["--config", str(d / "c.yaml")], (f"{d / 'c.yaml'}:1: no 'data:' section",)
    if case == "missing positional":
        return [str(toy["fasta"])], ("missing METADATA, STORE",)
    if case == "bad blacklist":
        (d / "blacklist.bed").write_text("chr1\t10\t5\n")
        return base + ["--blacklist", str(d / "blacklist.bed")], (f"{d / 'blacklist.bed'}:1: start 10 > end 5",)
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["malformed BED line", "start > end", "missing peak file", "unknown peaks column",
                                  "unknown config key", "wrong-typed config value", "wrong-typed list",
                                  "no data section", "missing positional", "bad blacklist"])
def test_bad_input_is_one_clear_line(toy, capsys, case):
    argv, fragments = bad_input_case(toy, case)
    rc, out, err = run_cli(capsys, *argv)
    assert rc == 2
    assert_one_error_line(err, "mfd prepare: error:", *fragments)
    assert not (toy["dir"] / "out").exists()                    # never a half-written store
    assert not list(toy["dir"].glob(".out*"))
