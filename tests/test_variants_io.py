"""Variant scoring input and output: rejects with reasons, header errors, the annotated VCF, Parquet, atomicity."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from mfd_model.cli import main
from mfd_model.errors import MFDError
from mfd_model.model_io import save_model
from mfd_model.variants.scoring import ScoringOptions, score_variants
from mfd_model.variants.vcf import read_vcf

from toy_models import tiny_model
from variant_helpers import VCF_HEADER, one_thread, random_genome, read_tsv, variant_lines, write_fasta, write_vcf


@pytest.fixture(autouse=True)
def _one_thread():
    with one_thread():
        yield


@pytest.fixture
def setup(toy_paths, tmp_path):
    genome = random_genome()
    fasta = write_fasta(tmp_path / "genome.fa", genome)
    model = tiny_model(toy_paths, dtype=torch.float32)
    model_file = save_model(model, tmp_path / "model.pt")
    return genome, fasta, model, model_file


def _options(**kw):
    return ScoringOptions(**{"workers": 0, "progress": False, "device": "cpu", **kw})


def test_every_bad_record_is_a_counted_reject_with_its_reason(setup, tmp_path, capsys):
    genome, fasta, _, model_file = setup
    chr1 = genome["chr1"]
    wrong = "ACGT"[("ACGT".index(chr1[199]) + 1) % 4]
    good = variant_lines(genome)
    lines = [
        good[0],                                                       # scored
        "chr1\tabc\t.\tA\tT\t.\t.\t.",                                  # malformed POS
        "chr1\t150\t.\tA",                                             # too few columns
        "",                                                            # blank line: skipped, not a record
        f"chr1\t200\tbadref\t{wrong}\tA\t.\t.\t.",                     # REF mismatch
        "chrUn\t100\tunk\tA\tG\t.\t.\t.",                              # unknown contig
        f"chr1\t600\tsym\t{chr1[599]}\t<DEL>\t.\t.\t.",                # symbolic
        f"chr1\t610\tstar\t{chr1[609]}\t*,{'A' if chr1[609] != 'A' else 'C'}\t.\t.\t.",  # '*' + a good ALT
        f"chr1\t620\tnoalt\t{chr1[619]}\t.\t.\t.\t.",                  # no ALT
        f"chr1\t630\tiupac\t{chr1[629]}\tR\t.\t.\t.",                  # invalid ALT letters
        f"chr1\t20\tedge\t{chr1[19]}\t{'A' if chr1[19] != 'A' else 'C'}\t.\t.\t.",  # window leaves the contig
        f"chr1\t640\tlong\t{chr1[639]}\t{chr1[639]}{'A' * 60}\t.\t.\t.",  # allele too long
        good[1],                                                       # scored
    ]
    vcf = write_vcf(tmp_path / "bad.vcf", lines)
    out = tmp_path / "out.tsv"
    code = main(["score-variants", str(vcf), str(fasta), str(out), "-m", str(model_file), "-q",
                 "--workers", "0", "--threads", "1"])
    assert code == 0
    printed = capsys.readouterr().out
    # 13 data lines - 1 blank = 12 records; the '*,X' record has two alleles -> 13 alleles
    assert "12 records, 13 alleles: 3 scored, 10 rejected" in printed
    scored = read_tsv(out)
    assert list(scored["ID"]) == [good[0].split("\t")[2], "star", good[1].split("\t")[2]]
    rejects = read_tsv(tmp_path / "out.rejects.tsv")
    got = dict(zip(rejects["ID"].where(rejects["ID"] != ".", rejects["WHERE"]), rejects["REASON"]))
    assert got == {"line 7": "malformed_record", "line 8": "malformed_record", "badref": "ref_mismatch",
                   "unk": "unknown_contig", "sym": "symbolic_allele", "star": "symbolic_allele",
                   "noalt": "no_alt_allele", "iupac": "invalid_allele", "edge": "window_outside_contig",
                   "long": "allele_too_long"}
    detail = dict(zip(rejects["WHERE"], rejects["DETAIL"]))
    assert "(line 7): POS 'abc' is not a positive integer" in detail["line 7"]
    assert "(line 8): 4 tab-separated column(s); a VCF record needs 8" in detail["line 8"]
    detail = dict(zip(rejects["REASON"], rejects["DETAIL"]))
    assert f"REF '{wrong}' but the FASTA has '{chr1[199]}' at chr1:200" == detail["ref_mismatch"]
    assert "'chrUn' is not in the FASTA" in detail["unknown_contig"]
    # the counts printed are the rows written: scored + rejected = alleles
    assert len(scored) + len(rejects) == 13


def test_vcf_without_header_is_one_clear_error(setup, tmp_path, capsys):
    _, fasta, _, model_file = setup
    vcf = tmp_path / "noheader.vcf"
    vcf.write_text("chr1\t300\t.\tA\tT\t.\t.\t.\n")
    out = tmp_path / "out.tsv"
    code = main(["score-variants", str(vcf), str(fasta), str(out), "-m", str(model_file), "-q"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert err.startswith(f"mfd score-variants: error: {vcf}:1: not a VCF with a header")
    assert "fix:" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".*partial*"))
    for text, message in [("", "the VCF is empty"), ("##fileformat=VCFv4.2\n", "no '#CHROM"),
                          ("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\n", "malformed VCF column line")]:
        vcf.write_text(text)
        with pytest.raises(MFDError, match=message):
            read_vcf(vcf)


def test_annotated_vcf_is_read_back_by_cyvcf2_and_pysam(setup, tmp_path):
    import cyvcf2
    import pysam
    genome, fasta, model, _ = setup
    lines = variant_lines(genome)
    chr1 = genome["chr1"]
    lines.insert(4, f"chr1\t610\tstar\t{chr1[609]}\t*,{'A' if chr1[609] != 'A' else 'C'}\t.\t.\tDP=3")
    lines.insert(5, f"chr1\t620\tnoalt\t{chr1[619]}\t.\t.\t.\t.")
    vcf = write_vcf(tmp_path / "in.vcf", lines)
    out, vcf_out = tmp_path / "s.tsv", tmp_path / "s.vcf.gz"
    summary = score_variants(vcf, fasta, model, out, vcf_out=vcf_out,
                             options=_options(scores=["diff", "biological", "logit"], select=["target=CTCF"],
                                              aggregate=["mean"], chunk_size=3))
    assert summary.alleles == summary.scored + summary.n_rejected == 16
    assert Path(str(vcf_out) + ".tbi").exists()
    tsv = read_tsv(out)
    columns = list(tsv.columns[5:])
    keys = ["MFD_mean_target_CTCF__diff", "MFD_mean_target_CTCF__biological", "MFD_mean_target_CTCF__logit"]
    assert columns == ["MFD/mean(target=CTCF)/diff", "MFD/mean(target=CTCF)/biological", "MFD/mean(target=CTCF)/logit"]
    expected = {(r["#CHROM"], int(r["POS"]), r["ALT"]): [float(r[c]) for c in columns] for _, r in tsv.iterrows()}

    reader = cyvcf2.VCF(str(vcf_out))
    for key in keys:
        info = reader.get_header_type(key)
        assert info["Number"] == "A" and info["Type"] == "Float"
    seen, records = {}, 0
    for rec in reader:
        records += 1
        for k, alt in enumerate(rec.ALT):
            vals = [rec.INFO.get(key) for key in keys]
            vals = [v[k] if isinstance(v, tuple) else v for v in vals]
            if (rec.CHROM, rec.POS, alt) in expected:
                seen[(rec.CHROM, rec.POS, alt)] = vals
        if rec.ID == "star":
            assert rec.INFO.get("MFD_REJECT") == "symbolic_allele,."
            assert rec.INFO.get("DP") == 3  # the original INFO is kept
    assert records == len(lines)  # every parsable record, including the unscored ones
    assert seen.keys() == expected.keys()
    for key, vals in seen.items():
        np.testing.assert_allclose(vals, expected[key], rtol=1e-6)

    with pysam.VariantFile(str(vcf_out)) as handle:
        assert "MFD_mean_target_CTCF__diff" in handle.header.info
        fetched = list(handle.fetch("chr1", 1099, 1100))
        assert len(fetched) == 1 and len(fetched[0].alts) == 3
        values = fetched[0].info["MFD_mean_target_CTCF__diff"]
        for alt, value in zip(fetched[0].alts, values):
            assert value == pytest.approx(expected[("chr1", 1100, alt)][0], rel=1e-6)
        star = next(r for r in handle.fetch("chr1", 609, 610))
        assert star.info["MFD_mean_target_CTCF__diff"][0] is None  # the '*' allele was not scored


def test_bcf_input_aliases_and_parquet_give_the_same_scores(setup, tmp_path):
    pyarrow = pytest.importorskip("pyarrow.parquet")
    import pysam
    genome, _, model, _ = setup
    fasta = write_fasta(tmp_path / "nochr.fa", {"1": genome["chr1"], "2": genome["chr2"]})  # '1' vs 'chr1'
    vcf = write_vcf(tmp_path / "in.vcf", variant_lines(genome))
    bcf = tmp_path / "in.bcf"
    with pysam.VariantFile(str(vcf)) as src, pysam.VariantFile(str(bcf), "wb", header=src.header) as dst:
        for rec in src:
            dst.write(rec)
    a, b = tmp_path / "a.tsv", tmp_path / "b.tsv"
    score_variants(vcf, fasta, model, a, parquet_out=tmp_path / "a.parquet", options=_options(shifts="-1:1"))
    score_variants(bcf, fasta, model, b, vcf_out=tmp_path / "b.vcf", options=_options(shifts="-1:1", workers=1))
    assert a.read_text() == b.read_text()
    table = pyarrow.read_table(tmp_path / "a.parquet").to_pandas()
    tsv = read_tsv(a)
    assert len(table) == len(tsv) == 13
    np.testing.assert_allclose(table.iloc[:, 5:].to_numpy(float), tsv.iloc[:, 5:].to_numpy(float), rtol=1e-6)
    assert list(table.columns[5:]) == list(tsv.columns[5:])


def test_outputs_appear_only_when_the_run_succeeds(setup, tmp_path, monkeypatch):
    genome, fasta, model, _ = setup
    vcf = write_vcf(tmp_path / "in.vcf", variant_lines(genome))
    from mfd_model.variants import effects
    calls = {"n": 0}
    original = effects.VariantEffectPredictor.score_chunk

    def failing(self, chunk):
        calls["n"] += 1
        if calls["n"] == 2:
            raise MFDError("simulated failure in the second chunk")
        return original(self, chunk)

    monkeypatch.setattr(effects.VariantEffectPredictor, "score_chunk", failing)
    out = tmp_path / "out.tsv"
    with pytest.raises(MFDError, match="simulated"):
        score_variants(vcf, fasta, model, out, vcf_out=tmp_path / "out.vcf.gz", options=_options(chunk_size=2))
    assert calls["n"] == 2
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(("out", ".out"))]


def test_gzip_vcf_and_line_numbers(setup, tmp_path):
    genome, fasta, model, _ = setup
    lines = variant_lines(genome)[:3] + ["chr1\t0\t.\tA\tT\t.\t.\t."]
    plain = write_vcf(tmp_path / "in.vcf", lines)
    gz = tmp_path / "in.vcf.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))  # plain gzip, not BGZF: still readable
    header, records = read_vcf(gz)
    records = list(records)
    assert header.n_lines == VCF_HEADER.count("\n") and [r.line for r in records] == [6, 7, 8, 9]
    assert records[-1].error == "POS '0' is not a positive integer"
    summary = score_variants(gz, fasta, model, tmp_path / "o.tsv", options=_options())
    assert (summary.records, summary.scored, dict(summary.rejected)) == (4, 3, {"malformed_record": 1})


def test_a_failing_writer_aborts_the_run(setup, tmp_path, monkeypatch):
    """An error in the writer thread reaches the caller, and no output is left behind."""
    genome, fasta, model, _ = setup
    vcf = write_vcf(tmp_path / "in.vcf", variant_lines(genome))
    from mfd_model.variants import score_writers as outputs
    original = outputs.TsvWriter.write
    calls = {"n": 0}

    def failing(self, chunk, values):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        return original(self, chunk, values)

    monkeypatch.setattr(outputs.TsvWriter, "write", failing)
    with pytest.raises(OSError, match="No space left"):
        score_variants(vcf, fasta, model, tmp_path / "out.tsv", vcf_out=tmp_path / "out.vcf",
                       options=_options(chunk_size=2))
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(("out", ".out"))]


def test_command_line_errors_are_one_line(setup, tmp_path, capsys):
    genome, fasta, _, model_file = setup
    vcf = write_vcf(tmp_path / "in.vcf", variant_lines(genome))
    for extra, message in [(["--shifts", "a:b"], "cannot read shifts 'a:b'"),
                           (["--shifts=-99:0"], "put the variant outside the 120 bp window"),
                           (["--select", "target=nothing"], "no experiment has target = 'nothing'"),
                           (["--experiments", "nope"], "unknown experiment(s): nope")]:
        code = main(["score-variants", str(vcf), str(fasta), str(tmp_path / "o.tsv"), "-m", str(model_file), "-q",
                     *extra])
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1 and message in err, err
    assert not list(tmp_path.glob("o.*")) and not list(tmp_path.glob(".o.*"))


def test_command_choices_match_the_library():
    """The command module lists choices without importing the library (fast --help): keep them in sync."""
    from mfd_model.commands import score_variants as command
    from mfd_model.variants.scores import RC_MERGES, SCORES
    from mfd_model.variants.selection import AGGREGATIONS
    assert command.SCORE_NAMES == tuple(SCORES)
    assert command.RC_MERGES == RC_MERGES
    assert command.AGGREGATIONS == AGGREGATIONS
