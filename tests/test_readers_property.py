"""Property-based tests of the readers: any byte string gives valid records or the one-line error.

For the VCF reader (through the variant dataloader that cuts windows), the BED reader and the
metadata table + schema, hypothesis generates byte strings, from random bytes to near-valid files
with odd fields (huge or non-ASCII numbers, bytes that are not UTF-8, missing or extra columns,
gzip, truncation). The only exception allowed is :class:`MFDError`, whose message is one line;
what is read back satisfies each format's invariants. Deterministic (``derandomize``, no example
database) so CI cannot flake; a few seconds each.
"""
from __future__ import annotations

import gzip

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toy_models import TOY_SCHEMA
from mfd_model.errors import MFDError

from variant_helpers import VCF_HEADER, random_genome, write_fasta

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

ODD = [b"", b" ", b".", b"0", b"-5", b"1", b"120", b"2999", b"9223372036854775807", b"9223372036854775808",
       b"123456789012345678901234567890", b"1e3", b"0x10", b"\xc2\xb2", b"\xef\xbc\x91", b"\xff\xfe", b"\xc3\xa9",
       b"\"", b"\"a\tb\"", b",", b"#", b"\r", b"nan", b"NA"]
FIELD = st.one_of(st.sampled_from(ODD), st.binary(max_size=6), st.integers(-10, 2**66).map(lambda i: str(i).encode()))


def _mostly(sane, odd=FIELD):
    """``sane`` three times in four, else ``odd``."""
    return st.one_of(sane, sane, sane, odd)


def _lines(fields, min_size=0, max_size=10):
    return st.lists(st.lists(fields, min_size=min_size, max_size=max_size).map(b"\t".join), max_size=12)


def _file(head, lines):
    """Head + lines, then maybe gzip-compressed, maybe truncated."""
    return st.tuples(head, lines, st.sampled_from(["plain", "plain", "gzip", "truncated gzip"])).map(
        lambda t: _pack(t[0] + b"".join(line + b"\n" for line in t[1]), t[2]))


def _pack(data: bytes, how: str) -> bytes:
    if how == "plain":
        return data
    packed = gzip.compress(data)
    return packed if how == "gzip" else packed[: max(2, len(packed) // 2)]


def _one_line(err: MFDError) -> None:
    assert "\n" not in err.one_line() and err.one_line()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("readers")
    write_fasta(folder / "genome.fa", random_genome())
    (folder / "schema.yaml").write_text(TOY_SCHEMA)
    return folder


# ---------------------------------------------------------------------------- VCF
VCF_FIELD = st.one_of(FIELD, st.sampled_from([b"chr1", b"chr2", b"chr3", b"A", b"C", b"ACGT", b"N", b"a", b"*",
                                              b"<DEL>", b"A,C", b"T,*", b"1000", b"30", b"2990"]))
VCF_HEAD = st.sampled_from([VCF_HEADER.encode()] * 4 + [b"##fileformat=VCFv4.2\n", b"",
                            b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"])
NUMBER = st.one_of(st.integers(-5, 2**66), st.sampled_from([0, 2**31, 2**62, 2**63 - 2**31 - 1, 2**63 - 2**31, 2**63 - 1,
                                                              2**63, 2**64 - 1, 10**19 - 1])).map(lambda i: str(i).encode())
VCF_RECORD = st.tuples(_mostly(st.sampled_from([b"chr1", b"chr2", b"1", b"chrM"])),                         # CHROM
                       _mostly(st.one_of(st.integers(1, 3100).map(lambda i: str(i).encode()), NUMBER)),       # POS
                       _mostly(st.sampled_from([b".", b"rs1", b"v\xff", b"a;b"])),                             # ID
                       _mostly(st.sampled_from([b"A", b"C", b"G", b"T", b"AC", b"n"])),                        # REF
                       _mostly(st.sampled_from([b"A", b"C", b"G", b"T", b"GTT", b"A,C", b"*", b"<DEL>", b"."])),
                       _mostly(st.just([b".", b"PASS", b"DP=1"]), st.lists(VCF_FIELD, max_size=5))).map(   # QUAL ...
    lambda t: b"\t".join([*t[:5], *t[5]]))
POSITION = st.one_of(st.integers(0, 3100), st.integers(0, 2**64 + 10),
                     st.sampled_from([2**31, 2**62, 2**63 - 2**31 - 1, 2**63 - 2**31, 2**63 - 1, 2**63, 10**19 - 1]))
ALLELE = st.text(alphabet="ACGTNacgtn*", min_size=1, max_size=60)
WELL_FORMED = st.lists(st.tuples(st.sampled_from(["chr1", "chr2", "1", "2", "chrX"]), POSITION, ALLELE,
                                 st.lists(ALLELE, min_size=1, max_size=3)), max_size=10).map(
    lambda rows: (VCF_HEADER + "".join(f"{c}\t{p}\t.\t{r}\t{','.join(a)}\t.\t.\t.\n" for c, p, r, a in rows)).encode())
VCF_FILE = _file(VCF_HEAD, st.lists(st.one_of(VCF_RECORD, VCF_RECORD, VCF_RECORD,
                                              st.lists(VCF_FIELD, max_size=10).map(b"\t".join)), max_size=12))
VCF_BYTES = st.one_of(st.binary(max_size=300), VCF_FILE, VCF_FILE, VCF_FILE, WELL_FORMED, WELL_FORMED)


@SETTINGS
@given(data=VCF_BYTES)
def test_any_bytes_as_a_vcf_give_counted_alleles_or_one_line(world, data):
    from mfd_model.variants.dataloader import VariantWindowDl
    from mfd_model.variants.vcf import MAX_POS
    folder = world
    path = folder / "input.vcf"
    path.write_bytes(data)
    try:
        loader = VariantWindowDl(str(path), str(folder / "genome.fa"), seq_len=64, shifts=[-2, 0], chunk_size=3,
                                 keep_text=True)
        chunks = list(loader.chunks())
    except MFDError as err:
        _one_line(err)
        return
    for chunk in chunks:
        assert chunk.n_input_alleles == chunk.n_alleles + sum(chunk.reject_counts().values())
        for a in range(chunk.n_alleles):
            chrom, pos, _, ref, alt = chunk.allele_fields(a)
            record = chunk.records[chunk.allele_record[a]]
            assert record.error is None and 1 <= record.pos <= MAX_POS and str(record.pos) == str(pos)
            assert chunk.alt_windows[a].shape[-1] == 64 and set(ref.upper()) <= set("ACGTN")
        for record in chunk.records:
            assert record.id.isprintable() or "\\x" in record.id or record.error is not None


# ---------------------------------------------------------------------------- BED
BED_FIELD = st.one_of(FIELD, st.sampled_from([b"chr1", b"chr2", b"10", b"20", b"100", b"+", b"-", b"peak"]))
BED_HEAD = st.sampled_from([b"", b"track name=x\n", b"# comment\n", b"browser position chr1\n"])
BED_BYTES = st.one_of(st.binary(max_size=300), _file(BED_HEAD, _lines(BED_FIELD, 0, 7)))


@SETTINGS
@given(data=BED_BYTES)
def test_any_bytes_as_a_bed_give_intervals_or_one_line(world, data):
    from mfd_model.bed import read_bed
    folder = world
    path = folder / "input.bed"
    path.write_bytes(data)
    try:
        frame = read_bed(path, with_name=True, with_strand=True)
    except MFDError as err:
        _one_line(err)
        return
    assert list(frame.columns) == ["chrom", "start", "end", "name", "strand"]
    assert frame["start"].dtype == np.int64 and frame["end"].dtype == np.int64
    assert (frame["start"] >= 0).all() and (frame["start"] <= frame["end"]).all()
    assert all(isinstance(c, str) and c for c in frame["chrom"])


# ---------------------------------------------------------------------------- metadata table (+ schema)
HEADER = b"experiment\ttarget\tbiosample\tlife_stage\tage\tassay\tlab\trelease_year"
CELL = st.one_of(st.sampled_from([b"", b"e1", b"e2", b"e3", b"CTCF", b"K562", b"adult", b"53", b"ChIP-seq", b"Lab",
                                  b"2011", b"2012-03-04", b"nan", b"NA", b"-1", b"1e400", b"\xff", b"\xc3\xa9", b"\"x\"",
                                  b"a,b", b" "]), st.binary(max_size=4))
ROWS = st.lists(st.lists(CELL, min_size=6, max_size=10), min_size=0, max_size=6)


@SETTINGS
@given(rows=ROWS, blank=st.booleans(), how=st.sampled_from(["plain", "gzip", "truncated gzip", "random"]),
       noise=st.binary(max_size=200))
def test_any_metadata_table_gives_a_table_or_one_line_and_ragged_rows_are_refused(world, rows, blank, how, noise):
    from mfd_model.metadata import load_metadata
    folder = world
    lines = [HEADER, *(b"\t".join(r) for r in rows)]
    if blank and len(lines) > 1:
        lines.insert(2, b"")
    data = noise if how == "random" else _pack(b"".join(line + b"\n" for line in lines), how)
    path = folder / ("metadata.tsv.gz" if how.endswith("gzip") else "metadata.tsv")
    path.write_bytes(data)
    plain_cells = how == "plain" and not any(b'"' in c or b"\r" in c or b"\n" in c or b"\t" in c
                                             for r in rows for c in r)
    ragged = next((number for number, line in enumerate(lines, start=1)
                   if line and len(line.split(b"\t")) != 8), None)
    try:
        table, encoder, encoded = load_metadata(path, folder / "schema.yaml")
    except MFDError as err:
        _one_line(err)
        if plain_cells and ragged is not None:
            assert err.line == ragged and "field(s), the header has 8" in err.message
        return
    assert not (plain_cells and ragged is not None), "a ragged row was accepted"
    assert table.frame.shape[1] == 8 and len(table.experiment_names(encoder.schema)) == len(table)
