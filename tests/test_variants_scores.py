"""Variant scores against independent references: brute force, an analytic model, kipoi-veff's formulas."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from mfd_model.encoding import dinucleotide_encode, one_hot, one_hot_encode_batch
from mfd_model.errors import MFDError
from mfd_model.variants.bruteforce import brute_force_scores
from mfd_model.variants.dataloader import VariantWindowDl
from mfd_model.variants.effects import VariantEffectPredictor
from mfd_model.variants.scores import SCORES
from mfd_model.variants.scoring import ScoringOptions, score_variants
from mfd_model.variants.selection import aggregate, select_experiments

from toy_models import tiny_model
from variant_helpers import one_thread, random_genome, read_tsv, variant_lines, write_fasta, write_vcf

ALL_SCORES = list(SCORES)
KIPOI_SCORES = ["ref", "alt", "diff", "logit_ref", "logit_alt", "logit", "deepsea_effect"]


@pytest.fixture(autouse=True)
def _one_thread():
    with one_thread():
        yield


@pytest.fixture
def genome_files(tmp_path):
    genome = random_genome()
    fasta = write_fasta(tmp_path / "genome.fa", genome)
    vcf = write_vcf(tmp_path / "variants.vcf", variant_lines(genome))
    return genome, fasta, vcf


def _scored(model, vcf, fasta, scores, shifts, rc_merge, chunk_size=4, batch_size=5):
    """Scores through the production path (dataloader chunks -> predictor), plus the alleles."""
    dl = VariantWindowDl(str(vcf), str(fasta), seq_len=model.config.seq_len, shifts=shifts, chunk_size=chunk_size)
    predictor = VariantEffectPredictor(model, scores, rc_merge=rc_merge, device="cpu", batch_size=batch_size)
    values, alleles = [], []
    for chunk in dl.chunks():
        assert not chunk.rejects, chunk.rejects
        values.append(predictor.score_chunk(chunk).values)
        alleles += [(chunk.contig[a], *(chunk.allele_fields(a)[i] for i in (1, 3, 4))) for a in range(chunk.n_alleles)]
    E = model.n_experiments
    return np.concatenate(values).reshape(len(alleles), len(scores), E), alleles


@pytest.mark.parametrize("shifts, rc_merge", [
    ((0,), "none"), ((0,), "mean"), ((-2, 0, 3), "mean"), ((-1, 1), "median"),
    ((0, 2), "max"), ((-3,), "min"), ((-1, 0, 1), "absmax"),
])
def test_scores_equal_brute_force(toy_paths, genome_files, shifts, rc_merge):
    """Every score, every strand merge, shift averaging, SNV/MNV/indels/multi-allelic: = one-at-a-time."""
    _, fasta, vcf = genome_files
    model = tiny_model(toy_paths)
    ours, alleles = _scored(model, vcf, fasta, ALL_SCORES, shifts, rc_merge)
    assert len(alleles) == 13
    reference = brute_force_scores(model, fasta, alleles, ALL_SCORES, shifts=shifts, rc_merge=rc_merge)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6)
    assert np.median(np.abs(ours[:, ALL_SCORES.index("diff")])) > 1e-3  # the variants do change predictions


def test_baseline_model_and_float32_equal_brute_force(toy_paths, genome_files):
    _, fasta, vcf = genome_files
    baseline = tiny_model(toy_paths, head="baseline")
    ours, alleles = _scored(baseline, vcf, fasta, KIPOI_SCORES, (-1, 1), "absmax")
    reference = brute_force_scores(baseline, fasta, alleles, KIPOI_SCORES, shifts=(-1, 1), rc_merge="absmax")
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6)

    model32 = tiny_model(toy_paths, dtype=torch.float32)  # the production dtype: float32 trunk
    ours, alleles = _scored(model32, vcf, fasta, ["diff", "biological", "technical"], (0,), "mean", batch_size=64)
    reference = brute_force_scores(model32, fasta, alleles, ["diff", "biological", "technical"], rc_merge="mean")
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6)


def test_baseline_model_rejects_mfd_scores(toy_paths):
    with pytest.raises(MFDError, match="need an MFD model"):
        VariantEffectPredictor(tiny_model(toy_paths, head="baseline"), ["biological"], device="cpu")
    with pytest.raises(MFDError, match="unknown score"):
        VariantEffectPredictor(tiny_model(toy_paths), ["diffs"], device="cpu")
    with pytest.raises(MFDError, match="reverse-complement merge"):
        VariantEffectPredictor(tiny_model(toy_paths), ["diff"], rc_merge="sum", device="cpu")


def test_dinucleotides_from_indices_equal_the_models_encoding():
    from mfd_model.encoding import dinucleotides_from_codes

    rng = np.random.default_rng(0)
    idx = rng.integers(-1, 5, size=(5, 37)).astype(np.int8)      # -1 (base_indices) and 4 (base_codes) are N
    x = torch.from_numpy(one_hot(idx))
    np.testing.assert_array_equal(dinucleotides_from_codes(torch.from_numpy(idx)).numpy(),
                                  dinucleotide_encode(x).numpy())
    seqs = ["ACGTN" * 7 + "AC", "NNACGTTGCA" * 3 + "ACGTAGC"]
    from mfd_model.encoding import base_indices
    np.testing.assert_array_equal(one_hot(np.stack([base_indices(s) for s in seqs])), one_hot_encode_batch(seqs))


# ------------------------------------------------------------------ the paper's swap, analytically
class CountingTrunk(nn.Module):
    """Latent unit u = number of occurrences of dinucleotide ``channels[u]`` in the window (hand-set)."""

    def __init__(self, channels: list[int]) -> None:
        super().__init__()
        self.channels = channels

    def forward(self, x16: torch.Tensor) -> torch.Tensor:
        return x16[:, self.channels, :].sum(dim=-1)


class FixedHead(nn.Module):
    """``logit = bio . w_bio + tech . w_tech + b`` with hand-set weights."""

    def __init__(self, w_bio: torch.Tensor, w_tech: torch.Tensor, bias: torch.Tensor) -> None:
        super().__init__()
        self.w_bio, self.w_tech, self.bias = w_bio, w_tech, bias

    def weights(self):
        return self.w_bio, self.w_tech

    def forward(self, bio, tech):
        return bio @ self.w_bio.T + tech @ self.w_tech.T + self.bias


def _count(seq: str, dinuc: str) -> int:
    return sum(seq[i:i + 2] == dinuc for i in range(len(seq) - 1))


def _rc(seq: str) -> str:
    return seq[::-1].translate(str.maketrans("ACGT", "TGCA"))


def test_swap_effects_reproduce_the_papers_definition(toy_paths, tmp_path):
    """Biological = f([bio(alt), tech(ref)]) - f(ref), technical = f([bio(ref), tech(alt)]) - f(ref),
    combined = f(alt) - f(ref), checked on a model whose features and output layer are set by hand."""
    model = tiny_model(toy_paths, dtype=torch.float64)
    L, h, E = model.config.seq_len, model.config.half_dim, model.n_experiments
    # bio unit 0 counts CG, bio unit 1 counts GA; tech unit 0 counts AC, tech unit 1 counts TT; others count AA
    dinucs = ["CG", "GA"] + ["AA"] * (h - 2) + ["AC", "TT"] + ["AA"] * (h - 2)
    model.trunk = CountingTrunk([4 * "ACGT".index(d[0]) + "ACGT".index(d[1]) for d in dinucs])
    model.feature_norm = nn.Identity()
    w_bio = torch.zeros(E, h, dtype=torch.float64)
    w_tech = torch.zeros(E, h, dtype=torch.float64)
    w_bio[:, 0] = torch.linspace(0.3, 0.8, E)
    w_bio[:, 1] = -0.25
    w_tech[:, 0] = torch.linspace(-0.6, 0.4, E)
    w_tech[:, 1] = 0.15
    bias = torch.linspace(-1.0, 0.5, E, dtype=torch.float64)
    model.head = FixedHead(w_bio, w_tech, bias)

    rng = np.random.default_rng(3)
    left = "".join(rng.choice(list("ACGT"), L))
    right = "".join(rng.choice(list("ACGT"), L))
    contig = left + "CGA" + right  # variant: the G of "CGA" (position L + 2, 1-based) -> T ("CTA")
    fasta = write_fasta(tmp_path / "g.fa", {"z": contig})
    pos = L + 2
    vcf = write_vcf(tmp_path / "v.vcf", [f"z\t{pos}\t.\tG\tT\t.\t.\t."],
                    header="##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    c = (L - 1) // 2
    start = pos - 1 - c
    ref_seq = contig[start:start + L]
    assert ref_seq[c] == "G"
    alt_seq = ref_seq[:c] + "T" + ref_seq[c + 1:]

    def units(seq):
        counts = np.array([_count(seq, d) for d in dinucs], dtype=float)
        return counts[:h], counts[h:]

    def prob(bio, tech):
        return 1 / (1 + np.exp(-(w_bio.numpy() @ bio + w_tech.numpy() @ tech + bias.numpy())))

    expected = {}
    for strand, (r, a) in {"fwd": (ref_seq, alt_seq), "rc": (_rc(ref_seq), _rc(alt_seq))}.items():
        (bio_r, tech_r), (bio_a, tech_a) = units(r), units(a)
        p_ref = prob(bio_r, tech_r)
        expected[strand] = {"combined": prob(bio_a, tech_a) - p_ref,
                            "biological": prob(bio_a, tech_r) - p_ref,
                            "technical": prob(bio_r, tech_a) - p_ref}
    assert units(ref_seq)[0][0] - units(alt_seq)[0][0] == 1  # the SNV destroys one CG ...
    assert units(ref_seq)[1][0] == units(alt_seq)[1][0]      # ... and leaves the AC count alone

    names = ["combined", "biological", "technical"]
    for rc_merge in ("none", "mean"):
        options = ScoringOptions(scores=names, rc_merge=rc_merge, workers=0, progress=False, device="cpu")
        score_variants(vcf, fasta, model, tmp_path / f"{rc_merge}.tsv", options=options)
        row = read_tsv(tmp_path / f"{rc_merge}.tsv").iloc[0, 5:].to_numpy(float).reshape(3, E)
        for k, name in enumerate(names):
            want = expected["fwd"][name] if rc_merge == "none" else (expected["fwd"][name] + expected["rc"][name]) / 2
            np.testing.assert_allclose(row[k], want, rtol=2e-6, atol=1e-9)  # TSV keeps 7 digits
    # forward only, the technical unit is untouched by this SNV: its effect is exactly zero
    assert np.all(read_tsv(tmp_path / "none.tsv").iloc[0, 5 + 2 * E:].to_numpy(float) == 0)


def test_logit_effects_add_up_for_one_shift_and_strand(toy_paths, genome_files):
    """The head is linear in (bio, tech): logit_biological + logit_technical = logit, exactly."""
    _, fasta, vcf = genome_files
    model = tiny_model(toy_paths)
    ours, _ = _scored(model, vcf, fasta, ["logit", "logit_biological", "logit_technical"], (0,), "none")
    np.testing.assert_allclose(ours[:, 1] + ours[:, 2], ours[:, 0], atol=1e-10)


# ------------------------------------------------------------------ experiment selection and aggregation
def test_selection_and_aggregation(toy_paths, genome_files, tmp_path):
    _, fasta, vcf = genome_files
    model = tiny_model(toy_paths)
    names = model.experiment_names
    ctcf = [i for i, n in enumerate(names) if n.startswith("ctcf")]
    full = tmp_path / "full.tsv"
    options = dict(scores=["diff", "logit"], workers=0, progress=False, device="cpu")
    score_variants(vcf, fasta, model, full, options=ScoringOptions(**options))
    per_exp = read_tsv(full).iloc[:, 5:].to_numpy(float).reshape(-1, 2, len(names))

    agg = tmp_path / "agg.tsv"
    score_variants(vcf, fasta, model, agg, options=ScoringOptions(
        **options, select=["target=ctcf", "assay=ChIP-seq"], aggregate=["mean", "absmax"]))
    frame = read_tsv(agg)
    assert list(frame.columns[5:9]) == ["MFD/mean(target=ctcf)/diff", "MFD/mean(assay=ChIP-seq)/diff",
                                        "MFD/absmax(target=ctcf)/diff", "MFD/absmax(assay=ChIP-seq)/diff"]
    chip = [i for i, n in enumerate(names) if model.table.frame["assay"][i] == "ChIP-seq"]
    np.testing.assert_allclose(frame["MFD/mean(target=ctcf)/diff"], per_exp[:, 0, ctcf].mean(1), rtol=1e-5, atol=1e-9)
    want = per_exp[:, 1, chip][np.arange(len(frame)), np.abs(per_exp[:, 1, chip]).argmax(1)]
    np.testing.assert_allclose(frame["MFD/absmax(assay=ChIP-seq)/logit"], want, rtol=1e-5, atol=1e-9)

    sub = tmp_path / "sub.tsv"
    score_variants(vcf, fasta, model, sub, options=ScoringOptions(**options, experiments=["dnase_k562,ep300_hepg2"]))
    assert list(read_tsv(sub).columns[5:]) == ["MFD/ep300_hepg2/diff", "MFD/dnase_k562/diff",
                                               "MFD/ep300_hepg2/logit", "MFD/dnase_k562/logit"]

    with pytest.raises(MFDError, match="no experiment has target = 'RAD21'.*CTCF"):
        select_experiments(model, select=["target=RAD21"])
    with pytest.raises(MFDError, match="unknown experiment"):
        select_experiments(model, experiments=["nope"])
    with pytest.raises(MFDError, match="COLUMN=VALUE"):
        select_experiments(model, select=["CTCF"])
    values = np.array([[1.0, -3.0, 2.0]])
    assert aggregate(values, "absmax")[0] == -3.0 and aggregate(values, "median")[0] == 1.0


def test_incremental_alternatives_equal_the_full_computation(toy_paths, genome_files):
    """SNV / MNV alternatives recomputed locally from the reference's activations (:mod:`mfd_model.local`)
    equal whole-window features, also for changes next to either window edge and on both strands."""
    _, fasta, vcf = genome_files
    model = tiny_model(toy_paths, channels=6)
    dl = VariantWindowDl(str(vcf), str(fasta), seq_len=120, shifts=(-59, -20, 0, 60), max_allele_length=3,
                         chunk_size=5)
    fast = VariantEffectPredictor(model, ["diff"], device="cpu", batch_size=3)
    slow = VariantEffectPredictor(model, ["diff"], device="cpu", incremental=False)
    assert fast.incremental and not slow.incremental
    n = 0
    for chunk in dl.chunks():
        for got, want in zip(fast._chunk_features(chunk), slow._chunk_features(chunk)):
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=0, atol=1e-10)
        n += chunk.n_alleles
    assert n == 11  # SNVs and the MNV (patches), two short indels (whole windows); longer alleles rejected


def test_probability_scores_alone_equal_brute_force(toy_paths, genome_files):
    """Scores that read no logits skip computing them (``Score.logit``); their values do not change."""
    _, fasta, vcf = genome_files
    model = tiny_model(toy_paths)
    scores = ["diff", "biological", "ref"]
    assert not any(SCORES[s].logit for s in scores) and all(SCORES[s].logit for s in ALL_SCORES if "logit" in s)
    ours, alleles = _scored(model, vcf, fasta, scores, (-1, 0, 2), "absmax")
    reference = brute_force_scores(model, fasta, alleles, scores, shifts=(-1, 0, 2), rc_merge="absmax")
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6)
