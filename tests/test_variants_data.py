"""Variant scoring on real files (../shared/data): every record accounted for; the Kipoi dataloader; devices."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mfd_model.cli import main
from mfd_model.encoding import one_hot_encode
from mfd_model.model_io import save_model
from mfd_model.variants.scoring import ScoringOptions, score_variants

from conftest import requires_shared_data
from toy_models import tiny_model
from variant_helpers import one_thread, read_tsv

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _one_thread():
    with one_thread():
        yield


def _independent_counts(vcf: Path) -> tuple[int, int]:
    """(records, alleles) counted by pysam (htslib): one allele per ALT, one for a record without ALT."""
    import pysam
    records = alleles = 0
    with pysam.VariantFile(str(vcf)) as handle:
        for rec in handle:
            records += 1
            alleles += max(1, len(rec.alts or ()))
    return records, alleles


@pytest.mark.parametrize("vcf_parts, fasta_parts", [
    (("hg19_chr20_1mb_1kg", "z.vcf.gz"), ("hg19_chr20_1mb_1kg", "z.fa")),
    (("hg19_chr20", "test_nist.b37_chr20_100kbp_at_10mb.vcf.gz"), ("hg19_chr20", "ucsc.hg19.chr20.unittest.fasta.gz")),
])
def test_every_record_of_a_real_vcf_is_scored_or_rejected(toy_paths, tmp_path, capsys, vcf_parts, fasta_parts):
    import cyvcf2
    vcf, fasta = requires_shared_data(*vcf_parts), requires_shared_data(*fasta_parts)
    model_file = save_model(tiny_model(toy_paths, dtype=torch.float32), tmp_path / "tiny.pt")
    out, vcf_out = tmp_path / "scores.tsv", tmp_path / "scores.vcf.gz"
    code = main(["score-variants", str(vcf), str(fasta), str(out), "-m", str(model_file), "--vcf-out", str(vcf_out),
                 "-s", "diff", "-s", "biological", "--rc-merge", "none", "--batch-size", "128", "-q",
                 "--workers", "1"])
    assert code == 0
    records, alleles = _independent_counts(vcf)
    scored, rejected = len(read_tsv(out)), len(read_tsv(tmp_path / "scores.rejects.tsv"))
    assert scored + rejected == alleles
    assert scored > 0.99 * alleles
    printed = capsys.readouterr().out
    assert f"{records:,} records, {alleles:,} alleles: {scored:,} scored, {rejected:,} rejected" in printed
    n_records = n_values = 0
    for rec in cyvcf2.VCF(str(vcf_out)):
        n_records += 1
        value = rec.INFO.get("MFD_ctcf_k562_a_diff")
        values = value if isinstance(value, tuple) else (value,)
        n_values += sum(v is not None and not np.isnan(v) for v in values)
    assert (n_records, n_values) == (records, scored)


def test_text_reader_agrees_with_htslib(tmp_path):
    """The streaming VCF parser gives what cyvcf2 (htslib) gives on the 1000 Genomes file."""
    import cyvcf2
    from mfd_model.variants.vcf import read_vcf
    vcf = requires_shared_data("hg19_chr20_1mb_1kg", "z.vcf.gz")
    _, ours = read_vcf(vcf, keep_text=True)
    theirs = cyvcf2.VCF(str(vcf))
    n = 0
    for mine, ref in zip(ours, theirs, strict=True):
        assert (mine.chrom, mine.pos, mine.id, mine.ref, list(mine.alts)) == (ref.CHROM, ref.POS, ref.ID or ".",
                                                                               ref.REF, ref.ALT)
        assert mine.error is None and mine.text == str(ref).rstrip("\n")
        n += 1
    assert n == 28998


def test_kipoi_dataloader_yields_what_the_scorer_scores(toy_paths, tmp_path, monkeypatch):
    import kipoi
    import pysam
    vcf = requires_shared_data("hg19_chr20", "test_nist.b37_chr20_100kbp_at_10mb.vcf.gz")
    fasta = requires_shared_data("hg19_chr20", "ucsc.hg19.chr20.unittest.fasta.gz")
    monkeypatch.chdir(tmp_path)
    Dl = kipoi.get_dataloader_factory(str(REPO), source="dir")
    assert Dl.type == "SampleIterator"
    dl = Dl(vcf_file=str(vcf), fasta_file=str(fasta), seq_len=120, shifts="-1:1")

    # the samples are the scorer's windows: check them against the FASTA directly
    batch = next(dl.batch_iter(batch_size=12))
    assert batch["inputs"]["ref"].shape == (12, 4, 120) and batch["inputs"]["ref"].dtype == np.float32
    assert Dl.output_schema.metadata["variant"]["pos"].doc
    with pysam.FastaFile(str(fasta)) as genome:
        for i in range(12):
            ranges, variant = batch["metadata"]["ranges"], batch["metadata"]["variant"]
            ref_seq = genome.fetch("chr20", int(ranges["start"][i]), int(ranges["end"][i])).upper()
            np.testing.assert_array_equal(batch["inputs"]["ref"][i], one_hot_encode(ref_seq))
            at = 59 + int(batch["metadata"]["shift"][i])  # (120 - 1) // 2
            assert ref_seq[at:at + len(variant["ref"][i])] == variant["ref"][i].upper()
            if len(variant["ref"][i]) == len(variant["alt"][i]) == 1:
                alt_seq = ref_seq[:at] + variant["alt"][i] + ref_seq[at + 1:]
                np.testing.assert_array_equal(batch["inputs"]["alt"][i], one_hot_encode(alt_seq))

    # the scorer run on the Kipoi-loaded dataloader gives the same outputs as its own
    model = tiny_model(toy_paths, dtype=torch.float32)
    options = ScoringOptions(shifts="-1:1", workers=0, progress=False, device="cpu")
    score_variants(vcf, fasta, model, tmp_path / "own.tsv", options=options)
    kipoi_dl = Dl(vcf_file=str(vcf), fasta_file=str(fasta), seq_len=120, shifts="-1:1")
    score_variants(vcf, fasta, model, tmp_path / "kipoi.tsv", options=options, dataloader=kipoi_dl)
    assert (tmp_path / "own.tsv").read_text() == (tmp_path / "kipoi.tsv").read_text()
    assert len(read_tsv(tmp_path / "own.tsv")) == 222


def test_root_dataloader_defaults_to_the_root_models_window(tmp_path, monkeypatch):
    """Without seq_len, the folder's VCF dataloader cuts windows the folder's model.yaml accepts."""
    import kipoi
    import yaml
    vcf = requires_shared_data("hg19_chr20", "test_nist.b37_chr20_100kbp_at_10mb.vcf.gz")
    fasta = requires_shared_data("hg19_chr20", "ucsc.hg19.chr20.unittest.fasta.gz")
    monkeypatch.chdir(tmp_path)
    shape = yaml.safe_load((REPO / "model.yaml").read_text())["schema"]["inputs"]["shape"]
    expected = tuple(int(n) for n in shape.strip("()").split(","))
    batch = next(kipoi.get_dataloader_factory(str(REPO), source="dir")(
        vcf_file=str(vcf), fasta_file=str(fasta)).batch_iter(batch_size=2))
    assert batch["inputs"]["ref"].shape[1:] == batch["inputs"]["alt"].shape[1:] == expected


def test_lightning_devices_path_gives_identical_outputs(toy_paths, tmp_path):
    pytest.importorskip("lightning")
    vcf = requires_shared_data("hg19_chr20", "test_nist.b37_chr20_100kbp_at_10mb.vcf.gz")
    fasta = requires_shared_data("hg19_chr20", "ucsc.hg19.chr20.unittest.fasta.gz")
    import tempfile
    spools = set(Path(tempfile.gettempdir()).glob("mfd-score-variants-*"))
    model = tiny_model(toy_paths, dtype=torch.float32)
    base = dict(scores=["diff", "technical"], shifts="0,2", progress=False, device="cpu", chunk_size=50)
    plain = score_variants(vcf, fasta, model, tmp_path / "plain.tsv", vcf_out=tmp_path / "plain.vcf",
                           options=ScoringOptions(**base, workers=0))
    multi = score_variants(vcf, fasta, model, tmp_path / "lightning.tsv", vcf_out=tmp_path / "lightning.vcf",
                           options=ScoringOptions(**base, workers=1, devices=1, accelerator="cpu"))
    assert (plain.records, plain.scored, plain.rejected) == (multi.records, multi.scored, multi.rejected)
    assert (tmp_path / "plain.tsv").read_text() == (tmp_path / "lightning.tsv").read_text()
    assert (tmp_path / "plain.vcf").read_text() == (tmp_path / "lightning.vcf").read_text()
    assert set(Path(tempfile.gettempdir()).glob("mfd-score-variants-*")) == spools  # the spool is removed


def test_windows_are_kipoi_veff2s(tmp_path, monkeypatch):
    """Reference and alternative windows equal kipoi-veff2's (kipoiseq's VariantSeqExtractor on the
    interval kipoi-veff2 centres on each variant), for SNVs, insertions and deletions, at several shifts."""
    from kipoiseq.dataclasses import Interval, Variant
    from kipoiseq.extractors import VariantSeqExtractor
    from mfd_model.encoding import decode_one_hot
    from mfd_model.variants.dataloader import VariantWindowDl
    vcf = requires_shared_data("hg19_chr20", "test_nist.b37_chr20_100kbp_at_10mb.vcf.gz")
    fasta = requires_shared_data("hg19_chr20", "ucsc.hg19.chr20.unittest.fasta.gz")
    monkeypatch.chdir(tmp_path)
    L, shifts = 1152, (0, -2, 3)
    extractor = VariantSeqExtractor(fasta_file=str(fasta))
    kinds = set()
    n = 0
    for sample in VariantWindowDl(str(vcf), str(fasta), seq_len=L, shifts=shifts):
        v, shift = sample["metadata"]["variant"], sample["metadata"]["shift"]
        variant = Variant(v["chrom"], v["pos"], v["ref"], v["alt"])
        interval = Interval(v["chrom"], v["pos"] - 1, v["pos"]).resize(L).shift(-shift)
        ref = extractor.extract(interval, variants=[], anchor=L).upper()
        alt = extractor.extract(interval, variants=[variant], anchor=v["pos"]).upper()
        assert decode_one_hot(sample["inputs"]["ref"]) == ref
        assert decode_one_hot(sample["inputs"]["alt"]) == alt, (v, shift)
        kinds.add("snv" if len(v["ref"]) == len(v["alt"]) else "ins" if len(v["alt"]) > len(v["ref"]) else "del")
        n += 1
    assert n == 222 * len(shifts) and kinds == {"snv", "ins", "del"}
