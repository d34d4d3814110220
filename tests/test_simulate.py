"""mfd simulate: every file parses, and the planted truth is true of the files.

The references are independent of the simulator: GC, N and k-mer counts are recounted from
genome.fa by brute force, labels are recovered from the narrowPeak files by interval overlap,
and the expected number of calls of every experiment is recomputed from the documented
model (score = strengths x truth columns, Normal(0, 1) noise) with scipy.
"""
from __future__ import annotations

import gzip
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from mfd_model import MFDError
from mfd_model.bed import read_bed
from mfd_model.cli import main
from mfd_model.genome import Genome
from mfd_model.metadata import load_metadata
from mfd_model.train import simulate as sim
from mfd_model.train.simulate import SimulationParams, simulate
from mfd_model.train.tsvformat import Const, Fixed, Ints, Labels, format_rows, open_gzip

TINY = dict(genome_size=400_000, n_chromosomes=2, n_experiments=160, n_motif_variants=60, n_bias_variants=60,
            n_control_variants=120)
COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def revcomp(text: str) -> str:
    return text.translate(COMPLEMENT)[::-1]


@pytest.fixture(scope="module", params=["jaspar", "alternative"])
def motif_set(request) -> str:
    """Every test of the simulated files runs on both TF catalogues."""
    return request.param


@pytest.fixture(scope="module")
def data(tmp_path_factory, motif_set) -> Path:
    out = tmp_path_factory.mktemp(f"sim-{motif_set}") / "data"
    simulate(out, SimulationParams(**TINY, motif_set=motif_set))
    return out


@pytest.fixture(scope="module")
def bins(data) -> pd.DataFrame:
    return pd.read_csv(data / "truth" / "bins.tsv.gz", sep="\t", dtype={"chrom": str})


@pytest.fixture(scope="module")
def experiments(data) -> pd.DataFrame:
    return pd.read_csv(data / "truth" / "experiments.tsv", sep="\t", keep_default_na=False)


@pytest.fixture(scope="module")
def fasta(data) -> dict[str, str]:
    """genome.fa read by a plain line parser (independent of pyfaidx)."""
    sequences, name = {}, None
    for line in (data / "genome.fa").read_text().splitlines():
        if line.startswith(">"):
            name = line[1:]
            sequences[name] = []
        else:
            sequences[name].append(line)
    return {k: "".join(v) for k, v in sequences.items()}


@pytest.fixture(scope="module")
def labels(data, bins, experiments) -> np.ndarray:
    """Called bins recovered from the peak files: overlap >= bin_size / 2, shape=(bins, experiments)."""
    row_of = {(c, s): i for i, (c, s) in enumerate(zip(bins["chrom"], bins["start"]))}
    out = np.zeros((len(bins), len(experiments)), dtype=bool)
    for e, path in enumerate(experiments["peak_file"]):
        overlap: dict[int, int] = {}
        peaks = read_bed(data / path)
        for chrom, start, end in zip(peaks["chrom"], peaks["start"].tolist(), peaks["end"].tolist()):
            for b in range(start // 128, (end - 1) // 128 + 1):
                row = row_of[(chrom, b * 128)]
                bp = min(end, b * 128 + 128) - max(start, b * 128)
                if bp >= 64:
                    out[row, e] = True
                overlap[row] = overlap.get(row, 0) + bp
        # no bin reaches half a bin only by adding up spill-overs of several peaks
        assert {r for r, bp in overlap.items() if bp >= 64} == set(np.flatnonzero(out[:, e]))
    return out


# ============================================================================ files parse
def test_layout_and_genome_parse(data, fasta, motif_set):
    for name in ("genome.fa", "genome.fa.fai", "metadata.tsv", "schema.yaml", "variants.vcf.gz",
                 "variants.vcf.gz.tbi", "README.txt", "truth/bins.tsv.gz", "truth/experiments.tsv",
                 "truth/motifs.meme", "truth/motif_sites.bed", "truth/params.json"):
        assert (data / name).is_file(), name
    params = SimulationParams(**TINY)
    genome = Genome(data / "genome.fa")
    assert genome.contigs == {"chr1": params.chromosome_lengths()[0], "chr2": params.chromosome_lengths()[1]}
    assert {k: len(v) for k, v in fasta.items()} == genome.contigs
    assert sum(genome.contigs.values()) == 400_000 and genome.contigs["chr1"] > genome.contigs["chr2"]
    for chrom, text in fasta.items():
        assert set(text) <= set("ACGTN")
        assert genome.fetch(chrom, 0, len(text)) == text
        assert text[:1000] == "N" * 1000                          # telomeric gap
        runs = [m.span() for m in re.finditer("N+", text)]
        assert len(runs) >= 3                                      # both ends and >= 1 internal gap
    for record in (data / "genome.fa").read_text().split(">")[1:]:
        lines = record.splitlines()[1:]
        assert all(len(line) == 60 for line in lines[:-1]) and 0 < len(lines[-1]) <= 60
    saved = json.loads((data / "truth" / "params.json").read_text())
    assert saved["genome_size"] == 400_000
    assert saved.get("motif_set") == (None if motif_set == "jaspar" else motif_set)    # the default: not written
    assert SimulationParams.from_dict(saved) == SimulationParams(**TINY, motif_set=motif_set)



def test_the_layout_names_every_file_written(data, experiments, motif_set):
    """SimulationLayout (what every reader uses) names exactly the files the simulator writes."""
    from mfd_model.evaluate.simulated import simulated_layout
    from mfd_model.simulation_layout import SimulationLayout

    layout = SimulationLayout(data)
    tissues = list(sim.MOTIF_SETS[motif_set].tissues)
    named = [layout.readme, layout.genome_fa, layout.genome_fai, layout.metadata_tsv, layout.schema_yaml,
             layout.variants_vcf, layout.variants_tbi, layout.truth_bins, layout.experiments_tsv, layout.tissues_tsv,
             layout.motifs_meme, layout.motif_sites_bed, layout.params_json]
    named += [layout.peak_file(name) for name in experiments["experiment"]]
    named += [path for tissue in tissues for path in (layout.enhancers(tissue), layout.background(tissue))]
    assert sorted(named) == sorted(p for p in data.rglob("*") if p.is_file())
    assert list(experiments["peak_file"]) == [layout.peak_file_entry(name) for name in experiments["experiment"]]
    assert layout.enhancer_sets() == {t: (layout.enhancers(t), layout.background(t)) for t in sorted(tissues)}
    found = simulated_layout(data)
    assert (found.genome, found.metadata, found.schema, found.bins, found.motifs, found.sites, found.variants) == (
        layout.genome_fa, layout.metadata_tsv, layout.schema_yaml, layout.truth_bins, layout.motifs_meme,
        layout.motif_sites_bed, layout.variants_vcf)
    assert found.enhancers == layout.enhancer_sets()

def test_peaks_are_valid_narrowpeak(data, experiments, fasta):
    for path, n_peaks in zip(experiments["peak_file"], experiments["n_peaks"]):
        frame = read_bed(data / path, what="peak")
        assert len(frame) == n_peaks > 0
        with gzip.open(data / path, "rt") as handle:
            rows = [line.rstrip("\n").split("\t") for line in handle]
        assert all(len(r) == 10 for r in rows)
        for chrom, start, end, name, score, strand, signal, p, q, summit in rows:
            assert 0 <= int(start) < int(end) <= len(fasta[chrom]) and 0 <= int(summit) < int(end) - int(start)
            assert 0 <= int(score) <= 1000 and name == "." and strand == "."
            assert float(signal) > 0 and float(p) > 0 and 0 <= float(q) <= float(p)
        order = [(int(r[0][3:]), int(r[1])) for r in rows]
        assert order == sorted(order)                              # sorted like the FASTA


def test_metadata_and_schema_load(data, experiments):
    table, encoder, encoded = load_metadata(data / "metadata.tsv", data / "schema.yaml")
    frame = table.frame
    assert list(frame.columns) == ["experiment", "target", "tissue", "life_stage", "assay", "lab", "release_year",
                                   "replicate", "peak_file"]
    assert all((data / p).is_file() for p in frame["peak_file"])
    assert set(encoded.biological.direct_names) == {f"target:{t}" for t in frame["target"]}
    assert set(encoded.technical.direct_names) == {f"assay:{a}" for a in frame["assay"]}
    schema = encoder.schema
    assert [c.column for c in schema.biological.interact] == ["target", "tissue", "life_stage"]
    assert [(c.column, c.type) for c in schema.technical.interact] == [("assay", "categorical"), ("lab", "categorical"),
                                                                      ("release_year", "year")]
    # assays are consistent with targets
    for target, assay in zip(frame["target"], frame["assay"]):
        assert (assay in ("DNase-seq", "ATAC-seq")) == (target == "Accessible DNA")
        assert (assay == "ChIP-seq") == (target != "Accessible DNA")
    assert list(frame["experiment"]) == list(experiments["experiment"])


def test_replicates_share_metadata_and_differ_in_noise(data, experiments):
    columns = ["target", "tissue", "life_stage", "assay", "lab", "release_year"]
    for _, group in experiments.groupby("condition"):
        assert sorted(group["replicate"]) == [1, 2]
        assert len(group[columns].drop_duplicates()) == 1
        first, second = (gzip.open(data / p).read() for p in group["peak_file"])
        assert first != second


def test_biology_and_technique_are_crossed(experiments):
    """Each (target, tissue, assay) is measured by labs_per_condition distinct labs, and every lab
    measures many targets: the biological metadata cannot identify a lab (and its bias)."""
    per_slot = SimulationParams().labs_per_condition
    slots = experiments.groupby((experiments["condition"] - 1) // per_slot)     # conditions are numbered from 1
    assert all(group[["target", "tissue", "assay"]].drop_duplicates().shape[0] == 1 for _, group in slots)
    assert all(group["lab"].nunique() == per_slot for _, group in slots)
    assert experiments.groupby("lab")["target"].nunique().min() >= 3


# ============================================================================ truth is true
def test_bin_truth_matches_brute_force_recount(data, bins, fasta):
    params = SimulationParams(**TINY)
    kmers = {assay: kmer for assay, kmer, _ in params.assay_kmers}
    rng = np.random.default_rng(0)
    rows = np.concatenate([np.arange(60, 140), rng.choice(len(bins), 400, replace=False),
                           np.flatnonzero(bins["kmer_ATAC-seq"] > 0)[:30]])
    for row in rows:
        chrom, start, end = bins.at[row, "chrom"], bins.at[row, "start"], bins.at[row, "end"]
        text = fasta[chrom][start:end]
        acgt = sum(text.count(b) for b in "ACGT")
        assert bins.at[row, "n_fraction"] == pytest.approx(text.count("N") / 128, abs=6e-5)
        gc = (text.count("G") + text.count("C")) / acgt if acgt else 0.0
        assert bins.at[row, "gc"] == pytest.approx(gc, abs=6e-5)
        assert bins.at[row, "gc_rich"] == int(round(gc, 4) >= params.gc_rich_threshold)
        for assay, kmer in kmers.items():
            extended = fasta[chrom][start:end + len(kmer) - 1]
            count = sum(extended[i:i + len(kmer)] in (kmer, revcomp(kmer)) for i in range(128))
            assert bins.at[row, f"kmer_{assay}"] == count, (row, assay)
    assert (bins["end"] - bins["start"] == 128).all()
    assert 0.03 < bins["gc_rich"].mean() < 0.3 and 0.3 < bins["gc"][bins["n_fraction"] == 0].mean() < 0.5


def test_motif_sites_match_their_pwms_and_the_bin_counts(data, bins, fasta, motif_set):
    sites = pd.read_csv(data / "truth" / "motif_sites.bed", sep="\t", header=None,
                        names=["chrom", "start", "end", "tf", "score", "strand"])
    pwms = _read_meme(data / "truth" / "motifs.meme")
    tfs = sim.MOTIF_SETS[motif_set].tfs                     # the selected catalogue's own TFs, in order
    assert list(pwms) == [tf.name for tf in tfs] and set(sites["tf"]) == set(pwms)
    for tf in tfs:                   # the PWMs are those of the consensus: strong letters are the core
        np.testing.assert_allclose(pwms[tf.name], tf.pwm(), atol=1e-6)
        core = [j for j, letter in enumerate(tf.consensus) if letter in "ACGT"]
        assert list(np.flatnonzero(pwms[tf.name].max(axis=1) >= 0.8)) == core
        assert [int(pwms[tf.name][j].argmax()) for j in core] == ["ACGT".index(tf.consensus[j]) for j in core]
    clean = sum(text.count("A") + text.count("C") + text.count("G") + text.count("T") for text in fasta.values())
    assert len(sites) == pytest.approx(clean * SimulationParams().motifs_per_kb / 1000, rel=0.02)
    log_odds = {tf: np.log2(m / 0.25) for tf, m in pwms.items()}
    matches, planted_scores, random_scores = [], [], []
    rng = np.random.default_rng(1)
    for site in sites.itertuples():
        text = fasta[site.chrom][site.start:site.end]
        if site.strand == "-":
            text = revcomp(text)
        pwm = pwms[site.tf]
        assert len(text) == len(pwm) and "N" not in text
        strong = pwm.max(axis=1) >= 0.8
        idx = np.array(["ACGT".index(b) for b in text])
        matches.append((idx[strong] == pwm.argmax(axis=1)[strong]).mean())
        planted_scores.append(log_odds[site.tf][np.arange(len(idx)), idx].sum())
        other = rng.integers(0, len(fasta[site.chrom]) - len(pwm))
        background = fasta[site.chrom][other:other + len(pwm)]
        if "N" not in background:
            random_scores.append(log_odds[site.tf][np.arange(len(idx)), ["ACGT".index(b) for b in background]].sum())
    assert np.mean(matches) > 0.83 and np.min(matches) > 0.4
    assert np.mean(planted_scores) > 15 and np.mean(random_scores) < -10
    # motif_<TF> counts instances by centre bin; no two instances overlap
    row_of = {(c, s): i for i, (c, s) in enumerate(zip(bins["chrom"], bins["start"]))}
    counts = np.zeros((len(bins), len(tfs)), dtype=int)
    names = [tf.name for tf in tfs]
    assert [c for c in bins.columns if c.startswith("motif_")] == [f"motif_{n}" for n in names]
    for site in sites.itertuples():
        counts[row_of[(site.chrom, (site.start + site.end) // 2 // 128 * 128)], names.index(site.tf)] += 1
    np.testing.assert_array_equal(bins[[f"motif_{n}" for n in names]].to_numpy(), counts)
    np.testing.assert_array_equal(bins["biology"].to_numpy(), counts.sum(axis=1) > 0)
    for chrom, group in sites.groupby("chrom"):
        assert (group["start"].to_numpy()[1:] >= group["end"].to_numpy()[:-1]).all()


def _read_meme(path: Path) -> dict[str, np.ndarray]:
    pwms, name, rows = {}, None, []
    for line in path.read_text().splitlines() + ["MOTIF end"]:
        if line.startswith("MOTIF"):
            if name:
                pwms[name] = np.array(rows)
            name, rows = line.split()[1], []
        elif name and re.match(r"^\s*[0-9.]+\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+\s*$", line):
            rows.append([float(v) for v in line.split()])
    for pwm in pwms.values():
        np.testing.assert_allclose(pwm.sum(axis=1), 1.0, atol=1e-5)
    return pwms


def _expected_scores(bins: pd.DataFrame, row: pd.Series) -> np.ndarray:
    """The documented noise-free score of every bin for one experiment (from the truth tables)."""
    relevant = [t for t in row.relevant_tfs.split(",") if t]
    biology = (bins[[f"motif_{t}" for t in relevant]].sum(axis=1) > 0) if relevant else np.zeros(len(bins), bool)
    kmer = np.minimum(bins[f"kmer_{row.assay}"], row.kmer_cap)
    return (row.biology_strength * np.asarray(biology, float) + row.kmer_strength * kmer.to_numpy()
            + row.gc_strength * bins["gc_rich"].to_numpy())


def test_calls_follow_the_documented_model(bins, experiments, labels):
    callable_ = bins["n_fraction"].to_numpy() < 0.5
    assert not labels[~callable_].any()                                      # nothing called in N gaps
    for e, row in experiments.iterrows():
        assert labels[:, e].sum() == row.n_called_bins
        p = norm.sf(row.threshold - _expected_scores(bins, row))[callable_]
        expected, sd = p.sum(), math.sqrt((p * (1 - p)).sum())
        assert abs(labels[callable_, e].sum() - expected) < 5 * sd + 3, row.experiment
        # bins with a relevant instance are called far more often than bins without any signal
        strong = p > 0.8
        if strong.sum() >= 10:
            assert labels[callable_, e][strong].mean() > 0.7


def _rate(labels: np.ndarray, bin_mask: np.ndarray, experiment_mask: np.ndarray) -> float:
    return float(labels[np.ix_(bin_mask, experiment_mask)].mean())


def test_biases_act_on_technical_metadata_only(bins, experiments, labels):
    clean = bins["n_fraction"].to_numpy() == 0
    no_bio = clean & (bins["biology"].to_numpy() == 0)
    plain = no_bio & (bins["gc_rich"].to_numpy() == 0)
    assay = experiments["assay"].to_numpy()
    lab = experiments["lab"].to_numpy()
    year = experiments["release_year"].to_numpy()
    # the DNase-seq k-mer raises peaks in DNase-seq, not in ChIP-seq or ATAC-seq
    dnase_kmer = plain & (bins["kmer_DNase-seq"].to_numpy() > 0) & (bins["kmer_ChIP-seq"].to_numpy() == 0) \
        & (bins["kmer_ATAC-seq"].to_numpy() == 0)
    assert _rate(labels, dnase_kmer, assay == "DNase-seq") > 0.4
    assert _rate(labels, dnase_kmer, assay == "ChIP-seq") < 0.1
    assert _rate(labels, dnase_kmer, assay == "DNase-seq") > 5 * _rate(labels, plain, assay == "DNase-seq")
    # GC-rich bins are false positives of the Stam lab, not of Bernstein
    gc_rich = no_bio & (bins["gc_rich"].to_numpy() == 1) & (bins.filter(like="kmer_").sum(axis=1).to_numpy() == 0)
    assert _rate(labels, gc_rich, lab == "Stam") > 0.6
    assert _rate(labels, gc_rich, lab == "Bernstein") < 0.05
    # older releases call fewer peaks in bins without any planted signal
    background = plain & (bins.filter(like="kmer_").sum(axis=1).to_numpy() == 0)
    newest, oldest = year == year.max(), year == year.min()
    assert _rate(labels, background, newest) > 3 * _rate(labels, background, oldest)


def test_biology_depends_on_target_and_tissue(data, bins, experiments, labels, motif_set):
    tissues = pd.read_csv(data / "truth" / "tissues.tsv", sep="\t")
    active = {t: a.split(",") for t, a in zip(tissues["tissue"], tissues["active_tfs"])}
    insulator = {"jaspar": "CTCF", "alternative": "ZNF143"}[motif_set]
    assert set.intersection(*map(set, active.values())) == {insulator}              # active in every tissue
    assert all(e.split(",") == [tf for tf in active[t] if tf != insulator]
               for t, e in zip(tissues["tissue"], tissues["enhancer_tfs"]))
    assert len({tuple(sorted(tfs)) for tfs in active.values()}) == len(active)     # tissues differ
    checked = set()
    for e, row in experiments.iterrows():
        if row.target == "Accessible DNA":
            relevant = active[row.tissue]
        elif row.target == "H3K27ac":
            relevant = [tf for tf in active[row.tissue] if tf != insulator]
        else:
            relevant = [row.target] if row.target in active[row.tissue] else []
        assert sorted(row.relevant_tfs.split(",") if row.relevant_tfs else []) == sorted(relevant)
        if row.assay == "ChIP-seq" and row.target != "H3K27ac":
            own = ((bins[f"motif_{row.target}"] > 0) & (bins["n_fraction"] == 0) & (bins["gc_rich"] == 0)
                   & (bins["kmer_ChIP-seq"] == 0)).to_numpy()
            rate = labels[own, e].mean()
            if relevant:                               # the TF is active in this tissue
                assert rate > 0.7, row.experiment
                checked.add("active")
            else:                                      # ChIP of an absent TF: no biological peaks
                assert rate < 0.2, row.experiment
                checked.add("absent")
    assert checked == {"active", "absent"}


def test_enhancers_and_background(data, bins):
    tissues = pd.read_csv(data / "truth" / "tissues.tsv", sep="\t")
    sites = pd.read_csv(data / "truth" / "motif_sites.bed", sep="\t", header=None,
                        names=["chrom", "start", "end", "tf", "score", "strand"])
    planted = {(c, b) for c, s, e in zip(sites["chrom"], sites["start"], sites["end"])
               for b in range(s // 128, (e - 1) // 128 + 1)}
    row_of = {(c, s): i for i, (c, s) in enumerate(zip(bins["chrom"], bins["start"]))}
    for tissue, enhancer_tfs in zip(tissues["tissue"], tissues["enhancer_tfs"]):
        positive = read_bed(data / "truth" / f"enhancers_{tissue}.bed", with_name=True)
        negative = read_bed(data / "truth" / f"background_{tissue}.bed", with_name=True)
        assert len(positive) == len(negative) > 20
        wanted = bins[[f"motif_{t}" for t in enhancer_tfs.split(",")]].sum(axis=1).to_numpy() > 0
        rows = [row_of[(c, s)] for c, s in zip(positive["chrom"], positive["start"])]
        assert sorted(rows) == list(np.flatnonzero(wanted & (bins["n_fraction"] == 0).to_numpy()))
        assert all(set(n.split(",")) <= set(enhancer_tfs.split(",")) for n in positive["name"])
        assert not any((c, s // 128) in planted for c, s in zip(negative["chrom"], negative["start"]))
        neg_rows = [row_of[(c, s)] for c, s in zip(negative["chrom"], negative["start"])]
        assert (bins["n_fraction"].to_numpy()[neg_rows] == 0).all()
        assert abs(bins["gc"].to_numpy()[rows].mean() - bins["gc"].to_numpy()[neg_rows].mean()) < 0.01


def test_variants(data, fasta):
    pysam = pytest.importorskip("pysam")
    params = SimulationParams(**TINY)
    sites = pd.read_csv(data / "truth" / "motif_sites.bed", sep="\t", header=None,
                        names=["chrom", "start", "end", "tf", "score", "strand"])
    pwms = _read_meme(data / "truth" / "motifs.meme")
    kmers = [k for _, kmer, _ in params.assay_kmers for k in (kmer, revcomp(kmer))]

    def covering(text: str, pos: int) -> list[str]:
        return [k for k in kmers for i in range(pos - len(k) + 1, pos + 1) if text[i:i + len(k)] == k]

    kinds: dict[str, int] = {}
    with pysam.VariantFile(str(data / "variants.vcf.gz")) as vcf:
        assert "SIM" in vcf.header.info
        records = list(vcf)
        assert len(list(vcf.fetch("chr2", 0, 1000000))) > 0                 # the tabix index works
    for rec in records:
        kind = rec.info["SIM"]
        kinds[kind] = kinds.get(kind, 0) + 1
        chrom, pos = rec.chrom, rec.pos - 1
        text = fasta[chrom]
        assert rec.ref == text[pos] and rec.alts[0] != rec.ref and rec.alts[0] in "ACGT"
        alt_text = text[:pos] + rec.alts[0] + text[pos + 1:]
        here = sites[(sites["chrom"] == chrom) & (sites["start"] <= pos) & (sites["end"] > pos)]
        near = sites[(sites["chrom"] == chrom) & (sites["start"] - params.control_min_distance < pos)   # < d bp away
                     & (sites["end"] - 1 + params.control_min_distance > pos)]
        if kind == "motif":
            assert len(here) == 1 and here.iloc[0].tf == rec.info["TF"]
            site = here.iloc[0]
            j = pos - site.start if site.strand == "+" else site.end - 1 - pos
            base = lambda b: "ACGT".index(b if site.strand == "+" else b.translate(COMPLEMENT))  # noqa: E731
            pwm = pwms[site.tf]
            assert pwm[j].max() >= 0.8 and pwm[j, base(rec.ref)] >= 0.8 and pwm[j, base(rec.alts[0])] < 0.1
            assert not covering(text, pos) and not covering(alt_text, pos)
        elif kind == "bias":
            assert len(near) == 0
            assert rec.info["KMER"] in [k for k in covering(text, pos)] + [revcomp(k) for k in covering(text, pos)]
            assert not covering(alt_text, pos)
        else:
            assert kind == "control" and len(near) == 0
            assert not covering(text, pos) and not covering(alt_text, pos)
    assert kinds == {"motif": 60, "bias": 60, "control": 120}


# ============================================================================ reproducible, safe
def test_same_seed_same_bytes_and_workers_do_not_matter(tmp_path):
    small = dict(genome_size=60_000, n_chromosomes=2, n_experiments=8, n_motif_variants=5, n_bias_variants=5,
                 n_control_variants=5)
    simulate(tmp_path / "a", SimulationParams(**small))
    simulate(tmp_path / "b", SimulationParams(**small), workers=2)
    simulate(tmp_path / "c", SimulationParams(seed=1, **small))
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) > 20
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "genome.fa").read_bytes() != (tmp_path / "c" / "genome.fa").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "c"]      # no temporary folders left


def test_workers_end_without_a_traceback(tmp_path):
    """The pool's workers are ended by SIGTERM when the pool closes: silently (they once raised
    the command's Terminated with a traceback each)."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "mfd_model", "simulate", str(tmp_path / "s"), "--workers", "2",
                           "--genome-size", "6e4", "--n-chromosomes", "2", "--n-experiments", "16", "--quiet"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Terminated" not in done.stderr, done.stderr
    assert (tmp_path / "s" / "metadata.tsv").exists()


def test_failure_leaves_nothing_and_outdir_is_protected(tmp_path, monkeypatch):
    small = SimulationParams(genome_size=40_000, n_chromosomes=1, n_experiments=4)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("mfd_model.train.simulate.dataset.write_vcf", broken)   # the writer simulate() calls
    with pytest.raises(RuntimeError):
        simulate(tmp_path / "out", small)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(MFDError, match="not empty"):
        simulate(tmp_path / "mine", small)
    with pytest.raises(MFDError, match="not written by mfd simulate"):
        simulate(tmp_path / "mine", small, overwrite=True)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    simulate(tmp_path / "sim", small)
    simulate(tmp_path / "sim", SimulationParams(genome_size=40_000, n_chromosomes=1, n_experiments=4), overwrite=True)
    assert len(list((tmp_path / "sim" / "peaks").iterdir())) == 4


@pytest.mark.parametrize("values, message", [
    (dict(genome_size=100_000, n_chromosomes=8), "genome too small for 8 chromosomes"),
    (dict(n_experiments=7), "not a multiple of replicates"),
    (dict(assay_kmers=(("DNase-seq", "GATAAG", 1.0), ("ATAC-seq", "GCCGA", 1.0), ("ChIP-seq", "TATCGA", 0.3))),
     "occurs in the GATA1 consensus"),
    (dict(years=()), "years"),
    (dict(motifs_per_kb=-1.0), "motifs_per_kb"),
    (dict(seed=1.5), "seed"),
    (dict(motif_set="x"), "unknown motif set 'x' .*use one of jaspar, alternative"),
    (dict(motif_set=None), "unknown motif set None"),
    (dict(motif_set="alternative",     # the k-mer check uses the selected catalogue (GAGGAA is fine for jaspar)
          assay_kmers=(("DNase-seq", "GAGGAA", 1.0), ("ATAC-seq", "GCCGA", 1.0), ("ChIP-seq", "TATCGA", 0.3))),
     "occurs in the SPI1 consensus"),
])
def test_bad_parameters_are_one_clear_error(values, message):
    with pytest.raises(MFDError, match=message) as info:
        SimulationParams(**values)
    assert "\n" not in str(info.value) and "fix:" in str(info.value)


def test_command_line(tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["simulate", str(out), "--genome-size", "6e4", "--n-chromosomes", "2", "--n-experiments", "4",
                 "--seed", "3", "--quiet", "--set", "n_control_variants=7", "--set", "years=[2015,2019]"]) == 0
    assert "experiments: 4 (2 conditions)" in capsys.readouterr().out
    saved = json.loads((out / "truth" / "params.json").read_text())
    assert saved["genome_size"] == 60_000 and saved["seed"] == 3 and saved["years"] == [2015, 2019]
    assert SimulationParams.from_dict(saved) == SimulationParams(genome_size=60_000, n_chromosomes=2,
                                                                 n_experiments=4, seed=3, n_control_variants=7,
                                                                 years=(2015, 2019))
    assert main(["simulate", str(tmp_path / "x"), "--genome-size", "2e4", "--n-chromosomes", "3"]) == 2
    assert main(["simulate", str(tmp_path / "x"), "--genome-size", "big"]) == 2
    assert main(["simulate", str(tmp_path / "x"), "--set", "colour=blue"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and all(e.startswith("mfd simulate: error: ") for e in errors)
    assert not (tmp_path / "x").exists()


def test_command_line_help_states_the_true_defaults():
    from mfd_model.commands.simulate import OPTIONS
    defaults = SimulationParams()
    for flag, (field, kind, help_text) in OPTIONS.items():
        shown = re.search(r"\(default ([^)]+)\)", help_text).group(1)
        assert (shown if kind == "str" else float(shown)) == getattr(defaults, field), flag


# ============================================================================ motif sets
SMALL = dict(genome_size=60_000, n_chromosomes=2, n_experiments=8, n_motif_variants=5, n_bias_variants=5,
             n_control_variants=5)


def _digest(folder: Path) -> str:
    """sha256 over the files the motif set shapes (gzip members decompressed: zlib builds may differ)."""
    import hashlib
    names = ["genome.fa", "metadata.tsv", "README.txt", "truth/params.json", "truth/bins.tsv.gz",
             "truth/experiments.tsv", "truth/tissues.tsv", "truth/motifs.meme", "truth/motif_sites.bed",
             "variants.vcf.gz"]
    names += sorted(str(p.relative_to(folder)) for p in folder.glob("truth/*.bed") if p.name != "motif_sites.bed")
    names += sorted(str(p.relative_to(folder)) for p in folder.glob("peaks/*"))
    digest = hashlib.sha256()
    for name in names:
        raw = (folder / name).read_bytes()
        digest.update(name.encode())
        digest.update(gzip.decompress(raw) if name.endswith(".gz") else raw)
    return digest.hexdigest()


def test_default_motif_set_output_is_unchanged(tmp_path):
    """The jaspar set is the default and its files are those of the simulator before motif_set existed
    (the demo's default model is reproduced bit for bit from them). The digest was computed with that
    simulator; change it only with a deliberate change of the default data set."""
    simulate(tmp_path / "default", SimulationParams(**SMALL))
    simulate(tmp_path / "jaspar", SimulationParams(**SMALL, motif_set="jaspar"))
    assert _digest(tmp_path / "default") == "ff0420191204ca8ed50fe0d57ff61564828515f2126341608f1fa46a13916214"
    files = sorted(p.relative_to(tmp_path / "default") for p in (tmp_path / "default").rglob("*") if p.is_file())
    for name in files:
        assert (tmp_path / "default" / name).read_bytes() == (tmp_path / "jaspar" / name).read_bytes(), name
    assert "motif_set" not in json.loads((tmp_path / "default" / "truth" / "params.json").read_text())
    assert SimulationParams().catalogue is sim.MOTIF_SETS["jaspar"]
    assert (sim.MOTIF_SETS["jaspar"].tfs, sim.MOTIF_SETS["jaspar"].tissues, sim.MOTIF_SETS["jaspar"].ubiquitous) \
        == (sim.TFS, sim.TISSUES, sim.UBIQUITOUS_TF)


def _expansions(consensus: str) -> list[str]:
    import itertools
    iupac = {"A": "A", "C": "C", "G": "G", "T": "T", "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT",
             "M": "AC", "N": "ACGT"}
    return ["".join(p) for p in itertools.product(*(iupac[letter] for letter in consensus.upper()))]


def test_alternative_motif_set_is_another_catalogue():
    jaspar, alternative = sim.MOTIF_SETS["jaspar"], sim.MOTIF_SETS["alternative"]
    names = [tf.name for tf in alternative.tfs]
    assert not set(names) & {tf.name for tf in jaspar.tfs} and len(set(names)) == len(names) == 6
    assert {tf.consensus.upper() for tf in alternative.tfs}.isdisjoint(tf.consensus.upper() for tf in jaspar.tfs)
    kmers = [k for _, kmer, _ in SimulationParams().assay_kmers for k in (kmer, revcomp(kmer))]
    for tf in alternative.tfs:
        assert 10 <= tf.width <= 19 and re.fullmatch("[ACGTacgtRYSWKMN]+", tf.consensus), tf.name
        assert "JASPAR" in tf.modelled_on and sum(c in "ACGT" for c in tf.consensus) >= 10, tf.name
        strong_gc = [c in "GC" for c in tf.consensus if c in "ACGT"]
        assert np.mean(strong_gc) < 0.6, tf.name                  # not mostly G/C (the lab bias is on GC-rich bins)
        assert not any(k in s for s in _expansions(tf.consensus) for k in kmers), tf.name   # no assay bias k-mer
    # same tissues and life stages; the insulator everywhere, every other TF active in some tissues only
    assert {t: s for t, (s, _) in alternative.tissues.items()} == {t: s for t, (s, _) in jaspar.tissues.items()}
    active = [set(a) for _, a in alternative.tissues.values()]
    assert set.intersection(*active) == {alternative.ubiquitous} == {"ZNF143"}
    assert all(0 < sum(tf in a for a in active) < len(active) for tf in names if tf != alternative.ubiquitous)
    assert len({frozenset(a) for a in active}) == len(active)
    assert alternative.relevant_tfs("H3K27ac", "liver") == ("HNF1A", "CEBPB", "SPI1")
    assert alternative.relevant_tfs("SPI1", "HepG2") == () and alternative.relevant_tfs("SPI1", "liver") == ("SPI1",)


def test_motif_set_on_the_command_line(tmp_path, capsys):
    small = ["--genome-size", "6e4", "--n-chromosomes", "2", "--n-experiments", "4", "--quiet"]
    assert main(["simulate", str(tmp_path / "flag"), *small, "--motif-set", "alternative"]) == 0
    assert main(["simulate", str(tmp_path / "set"), *small, "--set", "motif_set=alternative"]) == 0
    capsys.readouterr()
    files = sorted(p.relative_to(tmp_path / "flag") for p in (tmp_path / "flag").rglob("*") if p.is_file())
    for name in files:
        assert (tmp_path / "flag" / name).read_bytes() == (tmp_path / "set" / name).read_bytes(), name
    assert json.loads((tmp_path / "flag" / "truth" / "params.json").read_text())["motif_set"] == "alternative"
    with gzip.open(tmp_path / "flag" / "truth" / "bins.tsv.gz", "rt") as handle:
        header = handle.readline().split()
    assert [c for c in header if c.startswith("motif_")] == [f"motif_{tf.name}"
                                                             for tf in sim.MOTIF_SETS["alternative"].tfs]
    readme = (tmp_path / "flag" / "README.txt").read_text()
    assert "ZNF143 excluded: insulator" in readme and "CTCF" not in readme
    assert main(["simulate", str(tmp_path / "x"), *small, "--motif-set", "x"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors == ["mfd simulate: error: invalid simulation parameter motif_set: unknown motif set 'x' "
                      "(fix: use one of jaspar, alternative)"]
    assert not (tmp_path / "x").exists()


# ============================================================================ the text writer
def test_format_rows_matches_python_formatting():
    rng = np.random.default_rng(0)
    n = 70_000                                                                   # more than one block
    ints = rng.integers(0, 10 ** rng.integers(1, 13, n), dtype=np.int64)
    ints[:5] = [0, 9, 10, 9999, 10_000]
    codes = rng.integers(0, 3, n)
    names = ["chr1", "chrUn_KI270302v1", "X"]
    columns = [Labels(codes, names), Ints(ints), Const(".")]
    expected = [names[c] + f"\t{i}\t." for c, i in zip(codes, ints)]
    for decimals in (1, 2, 4):
        values = np.round(rng.random(n) * 10.0 ** rng.integers(0, 7, n), decimals)
        values[:2] = [0.0, 0.5]
        columns.append(Fixed(values, decimals))
        expected = [e + f"\t{v:.{decimals}f}" for e, v in zip(expected, values)]
    assert format_rows(columns) == ("\n".join(expected) + "\n").encode()
    assert format_rows([Ints(np.zeros(0, dtype=np.int64))]) == b""
    with pytest.raises(ValueError):
        format_rows([Ints(np.array([-1]))])


def test_open_gzip_is_deterministic(tmp_path):
    for name in ("a.gz", "b.gz"):
        with open_gzip(tmp_path / name) as handle:
            handle.write(b"chr1\t1\t2\n")
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()
    assert gzip.decompress((tmp_path / "a.gz").read_bytes()) == b"chr1\t1\t2\n"
