"""Genome access and BED reading on real files, against independent readers."""
from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch

from mfd_model import MFDError
from mfd_model.bed import read_bed
from mfd_model.genome import Genome
from mfd_model.predict import predict

from conftest import requires_shared_data


def test_bgzf_fasta_matches_plain_text(tmp_path):
    fasta = requires_shared_data("hg38_chr1_1mb", "hg38_1m.fa.gz")
    with gzip.open(fasta, "rt") as handle:
        text = "".join(line.strip() for line in handle if not line.startswith(">")).upper()
    genome = Genome(fasta)
    assert genome.contigs == {"chr1": len(text)}
    for start in (0, 12345, 500000, 999000):
        assert genome.fetch("chr1", start, start + 1000) == text[start:start + 1000]
    assert genome.fetch("chr1", -5, 3) == "NNNNN" + text[:3]
    assert genome.fetch("chr1", len(text) - 2, len(text) + 3) == text[-2:] + "NNN"
    assert genome.resolve("1") == "chr1" and genome.resolve("chr2") is None
    with pytest.raises(MFDError, match="contig 'chrX' is not in the FASTA"):
        genome.require("chrX")


def test_plain_gzip_fasta_is_a_clear_error(tmp_path):
    path = tmp_path / "x.fa.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(">x\nACGT\n")
    with pytest.raises(MFDError, match="not BGZF"):
        Genome(path)


def test_read_bed_matches_a_line_parser():
    path = requires_shared_data("hg38_chr1_1mb", "peaks", "ENCSR000AKO_CTCF_K562.narrowPeak.gz")
    with gzip.open(path, "rt") as handle:
        rows = [line.split("\t") for line in handle]
    frame = read_bed(path, with_name=True)
    assert len(frame) == len(rows) == 51759
    assert frame["chrom"].tolist() == [r[0] for r in rows]
    np.testing.assert_array_equal(frame["start"].to_numpy(), [int(r[1]) for r in rows])
    np.testing.assert_array_equal(frame["end"].to_numpy(), [int(r[2]) for r in rows])


@pytest.mark.parametrize("text, expected", [
    ("chr1\t10\t20\nchr1\t30\t25\n", ":2: start 30 > end 25"),
    ("track name=x\nchr1\t10\t20\nchr1\tx\t25\n", ":3: malformed BED line: start/end 'x'"),
    ("chr1\t10\t20\tname\nchr1\t10\n", ":2: malformed BED line: 2 field(s)"),
    ("chr1\t-1\t20\n", ":1: negative start"),
])
def test_malformed_bed_names_the_line(tmp_path, text, expected):
    path = tmp_path / "bad.bed"
    path.write_text(text)
    with pytest.raises(MFDError) as err:
        read_bed(path)
    assert expected in err.value.one_line() and "fix:" in err.value.one_line()


def test_predict_batches_equal_one_call(toy_model):
    x = torch.from_numpy(np.random.default_rng(0).integers(0, 2, (10, 4, 1152)).astype(np.float32))
    toy_model.train()
    whole = predict(toy_model, x, batch_size=100)
    for batch_size in (1, 3, 7):
        torch.testing.assert_close(predict(toy_model, x, batch_size=batch_size), whole)
    assert toy_model.training  # mode restored
    feats = predict(toy_model, x, func=lambda m, b: m.features(b))
    assert feats.shape == (10, 16)
