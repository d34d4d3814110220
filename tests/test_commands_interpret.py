"""The analysis commands end to end on tiny files, and their one-line errors on bad input."""
from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
import torch

from interpret_helpers import MOTIF, OTHER_MOTIF, detector_model, random_dna, write_fasta
from toy_models import small_config, toy_mfd
from mfd_model.cli import main
from mfd_model.encoding import one_hot_encode_batch, reverse_complement_one_hot
from mfd_model.model import MFDModel
from mfd_model.model_io import save_model

CONTIG = 6000


@pytest.fixture
def files(tmp_path):
    """A two-contig genome with MOTIF planted at known sites, and BED files about it."""
    rng = np.random.default_rng(0)
    seq = list(random_dna(CONTIG, seed=1))
    sites = []
    for k, centre in enumerate(range(400, CONTIG - 400, 350)):
        start = centre - len(MOTIF) // 2
        seq[start:start + len(MOTIF)] = MOTIF
        sites.append(("chrA", start, start + len(MOTIF), f"site{k}", 0, "+"))
    fasta = write_fasta(tmp_path / "genome.fa", {"chrA": "".join(seq), "chrB": random_dna(CONTIG, seed=2)})
    bed = tmp_path / "sites.bed"
    rows = sites + [("chrZ", 100, 110, "unknown", 0, "+"), ("chrA", 5, 15, "edge", 0, "+")]
    bed.write_text("".join("\t".join(map(str, r)) + "\n" for r in rows))
    background = tmp_path / "background.bed"
    background.write_text("".join(f"chrB\t{s}\t{s + 10}\tbg{s}\n" for s in range(300, CONTIG - 300, 300)))
    detector = save_model(detector_model(MOTIF), tmp_path / "detector.pt")
    return {"fasta": fasta, "bed": bed, "background": background, "detector": detector, "n_sites": len(sites),
            "sequence": "".join(seq), "tmp": tmp_path}


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


# ============================================================================ embed
def test_embed_npz_matches_direct_model_calls(files, toy_paths, capsys):
    model = toy_mfd(toy_paths)
    path = save_model(model, files["tmp"] / "mfd.pt")
    out = files["tmp"] / "features.npz"
    assert main(["embed", str(files["bed"]), str(files["fasta"]), str(out), "-m", str(path), "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "skipped: 1 unknown contig, 1 window outside contig" in captured.err
    data = np.load(out)
    n = files["n_sites"]
    assert data["bio"].shape == (n, 8) and data["tech"].shape == (n, 8) and data["full"].shape == (n, 16)
    assert list(data["ids"][:2]) == ["site0", "site1"]
    assert list(data["names_bio"][:2]) == model.unit_names[:2]
    # by hand: the window centred on site0, forward and reverse complement averaged
    centre = (int(data["start"][0]) + 144)
    window = files["sequence"][centre - 144:centre + 144]
    X = torch.as_tensor(one_hot_encode_batch([window]))
    with torch.no_grad():
        expected = (model.features(X) + model.features(reverse_complement_one_hot(X))) / 2
    np.testing.assert_allclose(data["full"][0], expected[0].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(data["full"][:, :8], data["bio"])


def test_embed_parquet_concat_and_shifts(files, toy_paths, capsys):
    path = save_model(toy_mfd(toy_paths), files["tmp"] / "mfd.pt")
    out = files["tmp"] / "features.parquet"
    assert main(["embed", str(files["bed"]), str(files["fasta"]), str(out), "-m", str(path), "--features", "bio",
                 "--strand", "concat", "--shifts=-1,0,1", "--no-progress"]) == 0
    frame = pd.read_parquet(out)
    assert list(frame.columns[:4]) == ["id", "chrom", "start", "end"] and frame.shape == (files["n_sites"], 4 + 16)
    assert frame.columns[4].endswith("|fwd") and frame.columns[12].endswith("|rc")


def test_embed_baseline_model_has_no_bio_features(files, capsys):
    assert main(["embed", str(files["bed"]), str(files["fasta"]), str(files["tmp"] / "x.npz"),
                 "-m", str(files["detector"]), "--features", "bio"]) == 2
    assert "a baseline model has no biological/technical subspaces" in _error_line(capsys)
    assert not (files["tmp"] / "x.npz").exists()


# ============================================================================ attribute
def test_attribute_finds_the_planted_motif(files, capsys):
    outdir = files["tmp"] / "attr"
    assert main(["attribute", str(files["bed"]), str(files["fasta"]), str(outdir), "-m", str(files["detector"]),
                 "--unit", "0", "--output", "detector", "--method", "grad", "--background", str(files["background"]),
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "attribution on the sites" in printed
    for name in ("profiles.tsv", "central_signal.tsv", "central_signal.md", "profile.png", "profile_window.png",
                 "logo_mean.png", "logo_site_0.png", "attributions.npz", "summary.json"):
        assert (outdir / name).exists(), name
    signal = pd.read_csv(outdir / "central_signal.tsv", sep="\t").set_index("target")
    assert signal.loc["unit unit_0", "centre_vs_flanks"] > 20
    assert signal.loc["unit unit_0", "centre_vs_baseline"] == np.inf      # the detector sees nothing in the background
    data = np.load(outdir / "attributions.npz")
    assert data["scores"].shape == (files["n_sites"], 2, 288) and data["background_scores"].shape[1] == 2
    centre = np.abs(data["scores"][:, 0, 140:152]).sum()
    assert centre > 0.95 * np.abs(data["scores"][:, 0]).sum()


def test_attribute_ism_window_with_random_baseline(files, capsys):
    outdir = files["tmp"] / "ism"
    assert main(["attribute", str(files["bed"]), str(files["fasta"]), str(outdir), "-m", str(files["detector"]),
                 "--output", "0", "--method", "ism", "--ism-window", "24", "--random-background", "4",
                 "--logos", "0", "--save-raw", "--no-progress"]) == 0
    data = np.load(outdir / "attributions.npz")
    assert list(data["window"]) == [132, 156]
    assert np.all(data["ism_effects"][..., :132] == 0) and np.abs(data["ism_effects"][..., 140:148]).sum() > 0


@pytest.mark.parametrize("argv, message", [
    (["--unit", "NOPE"], "no latent unit named 'NOPE'"),
    (["--output", "missing"], "no output (experiment) named 'missing'"),
    (["--unit", "99"], "latent unit index 99 out of range"),
])
def test_attribute_bad_targets_are_one_line(files, capsys, argv, message):
    outdir = files["tmp"] / "bad"
    code = main(["attribute", str(files["bed"]), str(files["fasta"]), str(outdir), "-m", str(files["detector"])] + argv)
    assert code == 2
    line = _error_line(capsys)
    assert line.startswith("mfd attribute: error:") and message in line
    assert not outdir.exists()


def test_missing_and_malformed_inputs_are_one_line(files, capsys):
    tmp = files["tmp"]
    assert main(["attribute", str(tmp / "nope.bed"), str(files["fasta"]), str(tmp / "o"), "-m", str(files["detector"])]) == 2
    assert "nope.bed: sites BED file not found" in _error_line(capsys)
    malformed = tmp / "bad.bed"
    malformed.write_text("chrA\t100\t200\nchrA\tten\t300\n")
    assert main(["embed", str(malformed), str(files["fasta"]), str(tmp / "f.npz"), "-m", str(files["detector"]),
                 "--features", "full"]) == 2
    line = _error_line(capsys)
    assert "bad.bed:2:" in line and "not integers" in line
    assert main(["embed", str(files["bed"]), str(files["fasta"]), str(tmp / "f.csv"), "-m", str(files["detector"])]) == 2
    assert "unknown output format" in _error_line(capsys)
    assert main(["embed", str(files["bed"]), str(files["fasta"]), str(tmp / "f.npz"), "-m", str(tmp / "none.pt")]) == 2
    assert "model file not found" in _error_line(capsys)
    assert main(["embed", str(files["bed"]), str(files["fasta"]), str(tmp / "f.npz"), "-m", str(files["detector"]),
                 "--features", "full", "--shifts", "a,b"]) == 2
    assert "comma-separated integers" in _error_line(capsys)
    assert not list(tmp.glob("f.*")) and not list(tmp.glob(".f.*"))


# ============================================================================ motifs
def test_motifs_filters_and_gia(files, capsys):
    out = files["tmp"] / "filters.meme"
    truth = files["tmp"] / "truth.meme"
    from mfd_model.interpret.ersatz import motif_one_hot
    from mfd_model.interpret.motifs import Motif, write_meme
    write_meme([Motif("AP1", motif_one_hot(MOTIF).T.astype(float)), Motif("OTHER", motif_one_hot(OTHER_MOTIF).T.astype(float))], truth)
    assert main(["motifs", "filters", str(files["bed"]), str(files["fasta"]), str(out), "-m", str(files["detector"]),
                 "--threshold", "0.9", "--min-sites", "3", "--compare", str(truth)]) == 0
    table = pd.read_csv(out.with_suffix(".tsv"), sep="\t")
    top = table.iloc[0]
    assert top["query"] == "filter_0" and top["best_match"] == "AP1" and top["similarity"] > 0.9
    assert out.with_suffix(".png").exists()
    gia = files["tmp"] / "gia.tsv"
    assert main(["motifs", "gia", str(gia), "-m", str(files["detector"]), "--motif", MOTIF, "--random", "40",
                 "--position", "130", "--unit", "0", "--unit", "1"]) == 0
    result = pd.read_csv(gia, sep="\t").set_index("target")
    assert result.loc["unit_0", "p_value"] < 1e-6 and result.loc["unit_1", "p_value"] == 1.0
    capsys.readouterr()
    assert main(["motifs", "gia", str(gia), "-m", str(files["detector"]), "--motif", "XYZ"]) == 2
    assert "not a DNA sequence" in _error_line(capsys)


# ============================================================================ evaluate
@pytest.fixture
def simulated(files, tmp_path):
    """A tiny directory in the simulator's layout (written here; no simulator needed)."""
    root = tmp_path / "sim"
    (root / "truth").mkdir(parents=True)
    seq = files["sequence"]
    write_fasta(root / "genome.fa", {"chrA": seq, "chrB": random_dna(CONTIG, seed=3)})
    sites = pd.read_csv(files["bed"], sep="\t", header=None).iloc[:-2]
    (root / "truth" / "motif_sites.bed").write_text(files["bed"].read_text())
    (root / "truth" / "enhancers_liver.bed").write_text(
        "".join(f"chrA\t{s - 20}\t{e + 20}\n" for s, e in zip(sites[1], sites[2])))
    (root / "truth" / "background_liver.bed").write_text(
        "".join(f"chrB\t{s}\t{s + 50}\n" for s in range(400, CONTIG - 400, 310)))
    rng = np.random.default_rng(0)
    starts = np.arange(0, CONTIG - 128, 128)
    biology = np.array([any(s <= a < s + 128 for a in sites[1]) for s in starts], int)
    bins = pd.DataFrame({"chrom": "chrA", "start": starts, "end": starts + 128, "gc": rng.random(len(starts)),
                         "n_fraction": 0.0, f"motif_AP1": biology, "biology": biology,
                         "kmer_DNase-seq": rng.poisson(2, len(starts)), "gc_rich": (rng.random(len(starts)) < 0.5).astype(int)})
    bins.to_csv(root / "truth" / "bins.tsv.gz", sep="\t", index=False)
    lines = ["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    score_lines = ["#CHROM\tPOS\tID\tREF\tALT\tMFD/detector/diff\tMFD/other/diff\tMFD/detector/bio\tMFD/other/bio"]
    for k in range(60):
        label = "motif" if k % 3 == 0 else "bias" if k % 3 == 1 else "control"
        lines.append(f"chrA\t{100 + 50 * k}\tv{k}\tA\tG\t.\t.\tSIM={label}")
        effect = (2.0 if label == "motif" else 0.0) + rng.normal(0, 0.3)
        score_lines.append(f"chrA\t{100 + 50 * k}\tv{k}\tA\tG\t{effect:.4f}\t{rng.normal():.4f}\t{effect:.4f}\t{rng.normal():.4f}")
    with gzip.open(root / "variants.vcf.gz", "wt") as handle:
        handle.write("\n".join(lines) + "\n")
    scores = tmp_path / "scores.tsv"
    scores.write_text("\n".join(score_lines) + "\n")
    return root, scores


def test_evaluate_on_a_simulated_layout(simulated, toy_paths, capsys):
    root, scores = simulated
    model = save_model(toy_mfd(toy_paths), root.parent / "mfd.pt")
    baseline = save_model(MFDModel(small_config(seq_len=160), ["a", "b"]).eval(), root.parent / "base.pt")
    outdir = root.parent / "evaluation"
    code = main(["evaluate", str(outdir), "-m", str(model), "--baseline-model", str(baseline),
                 "--simulated", str(root), "--variant-scores", str(scores),
                 "--score-map", "combined=diff,bio=bio", "--diagnostic-bins", "40", "--adversary-steps", "20",
                 "--folds", "3", "--cs", "0.1,1", "--no-progress"])
    printed = capsys.readouterr().out
    assert code == 0
    for title in ("Enhancer classification", "Variant enrichment", "linear probes", "subspace dependence"):
        assert title in printed
    for name in ("enhancers.tsv", "enhancers.md", "enhancers.png", "enhancers_detail.tsv", "variant_enrichment.tsv",
                 "variant_enrichment.png", "variant_enrichment_per_output.tsv", "diagnostics_probes.tsv",
                 "diagnostics_probes.png", "diagnostics_subspaces.tsv", "report.md", "summary.json"):
        assert (outdir / name).exists(), name
    enrichment = pd.read_csv(outdir / "variant_enrichment.tsv", sep="\t")
    assert set(enrichment["true_class"]) == {"motif", "bias"}
    motif = enrichment[(enrichment.true_class == "motif") & (enrichment.cutoff == 0.9) & (enrichment.feature_set == "bio")]
    assert motif["odds_ratio"].iloc[0] > 1
    enhancers = pd.read_csv(outdir / "enhancers.tsv", sep="\t")
    assert list(enhancers["tissue"]) == ["liver", "mean"]
    assert list(enhancers.columns) == ["tissue", "Baseline", "Combined", "Biological", "Technical"]
    assert not list(root.parent.glob(".evaluation.staging*"))


def test_evaluate_bias_variants_on_their_own_assays_outputs(tmp_path, toy_paths, capsys):
    """Bias variants named with their assay (INFO ASSAY, as mfd simulate writes) get the table of
    their own assay's outputs; on the toy metadata no assay shares a biological context with another,
    so the claim is named but not judged."""
    import json

    model = toy_mfd(toy_paths)
    path = save_model(model, tmp_path / "mfd.pt")
    names = model.experiment_names
    assays = dict(zip(names, ["ChIP-seq", "ChIP-seq", "ChIP-seq", "DNase-seq", "ATAC-seq", "ChIP-seq"]))
    rng = np.random.default_rng(2)
    vcf = ["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    header = "\t".join(f"MFD/{n}/{s}" for s in ("diff", "biological", "technical") for n in names)
    rows = [f"#CHROM\tPOS\tID\tREF\tALT\t{header}"]
    for k in range(90):
        kind = ("bias", "control", "control")[k % 3]
        assay = ("DNase-seq", "ChIP-seq", "ATAC-seq")[k % 9 // 3] if kind == "bias" else ""
        vcf.append(f"chr1\t{100 + k}\tv{k}\tA\tG\t.\t.\tSIM={kind}" + (f";ASSAY={assay};KMER=ACGT" if assay else ""))
        tech = [rng.normal() + 5 * (assays[n] == assay) for n in names]
        values = [rng.normal() for _ in names] * 2 + tech
        rows.append(f"chr1\t{100 + k}\tv{k}\tA\tG\t" + "\t".join(f"{v:.4f}" for v in values))
    with gzip.open(tmp_path / "variants.vcf.gz", "wt") as handle:
        handle.write("\n".join(vcf) + "\n")
    (tmp_path / "scores.tsv").write_text("\n".join(rows) + "\n")
    outdir = tmp_path / "evaluation"
    assert main(["evaluate", str(outdir), "-m", str(path), "--parts", "variants", "--variant-scores",
                 str(tmp_path / "scores.tsv"), "--variant-labels", str(tmp_path / "variants.vcf.gz"),
                 "--true-values", "bias", "--score-map", "combined=diff,biological=biological,technical=technical"]) == 0
    assert "Bias variants on their own assay's outputs" in capsys.readouterr().out
    table = pd.read_csv(outdir / "variant_enrichment_bias_by_assay.tsv", sep="\t")
    assert sorted(table["assay"].unique()) == ["ATAC-seq", "ChIP-seq", "DNase-seq"]
    assert dict(zip(table["assay"], table["n_outputs"])) == {"ATAC-seq": 1, "ChIP-seq": 4, "DNase-seq": 1}
    assert (table["separable_share"] == 0).all() and (table["true_tagged"] + table["true_untagged"] == 10).all()
    at_09 = table[table["cutoff"] == 0.9].set_index(["assay", "feature_set"])
    for assay in ("ATAC-seq", "ChIP-seq", "DNase-seq"):   # the planted technical effect is found on each
        assert at_09.loc[(assay, "technical"), "true_tagged"] >= 9     # each output tags 9 of the 90 variants
        assert at_09.loc[(assay, "technical"), "odds_ratio_haldane"] > at_09.loc[(assay, "biological"), "odds_ratio_haldane"]
    claim = json.loads((outdir / "summary.json").read_text())["claims"][5]
    assert claim["passed"] is None and "not separable: ATAC-seq, ChIP-seq, DNase-seq" in claim["detail"]


def test_evaluate_requested_part_without_inputs_is_one_line(files, toy_paths, capsys):
    model = save_model(toy_mfd(toy_paths), files["tmp"] / "mfd.pt")
    assert main(["evaluate", str(files["tmp"] / "ev"), "-m", str(model), "--parts", "performance"]) == 2
    assert "part 'performance' needs --store STORE" in _error_line(capsys)
    assert main(["evaluate", str(files["tmp"] / "ev"), "-m", str(model), "--enhancers", "liver=a.bed"]) == 2
    assert "--enhancers expects TISSUE=POS.bed,NEG.bed" in _error_line(capsys)
    assert not (files["tmp"] / "ev").exists()


def test_evaluate_performance_and_variant_groups(files, toy_paths, monkeypatch, capsys):
    """The performance part through the label-store interface (a fake store module), and
    per-output odds ratios grouped by the model's metadata."""
    import sys
    import types

    from test_evaluate import FakeStore

    model = toy_mfd(toy_paths)
    names = model.experiment_names
    rng = np.random.default_rng(0)
    starts = np.arange(24) * 200 + 300
    labels = (rng.random((24, len(names))) < 0.4).astype(np.float32)
    store = FakeStore(files["fasta"], labels, starts, list(names))
    store.metadata = model.table
    fake = types.ModuleType("mfd_model.train.labels")
    fake.LabelStore = types.SimpleNamespace(open=lambda path: store)
    monkeypatch.setitem(sys.modules, "mfd_model.train.labels", fake)
    scores = files["tmp"] / "scores.tsv"
    header = "#CHROM\tPOS\tID\tREF\tALT\t" + "\t".join(f"MFD/{n}/diff" for n in names)
    body = [f"chrA\t{100 + 10 * k}\tv{k}\tA\tG\t" + "\t".join(f"{v:.3f}" for v in rng.normal(size=len(names)) + (k % 2))
            for k in range(40)]
    scores.write_text("\n".join([header] + body) + "\n")
    label_table = files["tmp"] / "labels.tsv"
    label_table.write_text("id\tlabel\n" + "".join(f"v{k}\t{k % 2}\n" for k in range(40)))
    path = save_model(model, files["tmp"] / "mfd.pt")
    outdir = files["tmp"] / "ev"
    (files["tmp"] / "store").mkdir()
    assert main(["evaluate", str(outdir), "-m", str(path), "--store", str(files["tmp"] / "store"), "--variant-scores", str(scores),
                 "--variant-labels", str(label_table), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "Prediction performance" in printed and "Performance by metadata" in printed
    performance = pd.read_csv(outdir / "performance.tsv", sep="\t")
    assert list(performance["experiment"]) == names and performance["auroc"].between(0, 1).all()
    by_meta = pd.read_csv(outdir / "performance_by_metadata.tsv", sep="\t")
    assert set(by_meta[by_meta.column == "assay"]["value"]) == {"ChIP-seq", "DNase-seq", "ATAC-seq"}
    groups = pd.read_csv(outdir / "variant_enrichment_by_metadata.tsv", sep="\t")
    chip = groups[(groups.column == "assay") & (groups.value == "ChIP-seq") & (groups.cutoff == 0.9)]
    per_output = pd.read_csv(outdir / "variant_enrichment_per_output.tsv", sep="\t")
    chip_outputs = per_output[(per_output.cutoff == 0.9) & per_output.experiment.isin(
        ["ctcf_k562_a", "ctcf_k562_b", "ep300_hepg2", "h3k27ac_liver"])]
    assert chip["n_outputs"].iloc[0] == 4
    assert chip["mean_odds_ratio"].iloc[0] == pytest.approx(chip_outputs["odds_ratio"].replace(np.inf, np.nan).mean())
