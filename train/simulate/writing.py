"""The files of the data set: FASTA, metadata and schema, truth tables, motifs, enhancers, VCF, README.

Each writer takes the path(s) it writes from :class:`~mfd_model.simulation_layout.SimulationLayout`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ...encoding import ALPHABET, LETTER_OF_CODE
from ...simulation_layout import SimulationLayout
from ..tsvformat import Fixed, Ints, Labels, format_rows, iter_rows, open_gzip
from .bins import Bins
from .catalogue import TranscriptionFactor
from .enhancers import enhancer_bins
from .experiments import METADATA_COLUMNS, SCHEMA_YAML, Experiment
from .genome import GENOME_CHUNK, SimulatedGenome
from .motifs import MotifSites, max_pwm_score
from .params import SimulationParams
from .variants import Variant


def write_fasta(path: Path, genome: SimulatedGenome, line_width: int) -> None:
    """``genome.fa`` with fixed-width lines, and its ``.fai`` index."""
    index = []
    block = (GENOME_CHUNK // line_width) * line_width
    with open(path, "wb") as handle:
        for name, length, c in zip(genome.names, genome.lengths.tolist(), range(len(genome.names))):
            handle.write(f">{name}\n".encode())
            index.append(f"{name}\t{length}\t{handle.tell()}\t{line_width}\t{line_width + 1}\n")
            sequence = genome.chromosome(c)
            for begin in range(0, length, block):
                text = LETTER_OF_CODE[sequence[begin:begin + block]]
                full = len(text) // line_width
                lines = np.concatenate([text[:full * line_width].reshape(full, line_width),
                                        np.full((full, 1), ord("\n"), np.uint8)], axis=1)
                handle.write(lines.tobytes())
                if len(text) > full * line_width:
                    handle.write(text[full * line_width:].tobytes() + b"\n")
    Path(f"{path}.fai").write_text("".join(index))


def _write_tsv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with open(path, "w") as handle:
        handle.write("\t".join(header) + "\n")
        for row in rows:
            handle.write("\t".join(str(v) for v in row) + "\n")


def write_bins(path: Path, genome: SimulatedGenome, bins: Bins, params: SimulationParams) -> None:
    """``truth/bins.tsv.gz``: one row per bin."""
    tfs = params.catalogue.tfs
    header = (["chrom", "start", "end", "gc", "n_fraction"] + [f"motif_{tf.name}" for tf in tfs] + ["biology"]
              + [f"kmer_{assay}" for assay, _, _ in params.assay_kmers] + ["gc_rich"])
    columns = ([Labels(bins.chrom, genome.names), Ints(bins.local_start), Ints(bins.local_start + params.bin_size),
                Fixed(bins.gc, 4), Fixed(bins.n_fraction, 4)]
               + [Ints(bins.motif_counts[:, t]) for t in range(len(tfs))] + [Ints(bins.motif_bits > 0)]
               + [Ints(bins.kmer_counts[:, a]) for a in range(len(params.assay_kmers))] + [Ints(bins.gc_rich)])
    with open_gzip(path) as handle:
        handle.write(("\t".join(header) + "\n").encode())
        for block in iter_rows(columns):
            handle.write(block)


def write_motifs(layout: SimulationLayout, genome: SimulatedGenome, sites: MotifSites,
                 tfs: Sequence[TranscriptionFactor]) -> None:
    """``motifs.meme`` (PWMs of ``tfs``, MEME minimal format) and ``motif_sites.bed``."""
    counts = sum(np.bincount(genome.codes[i:i + GENOME_CHUNK], minlength=5)[:4]
                 for i in range(0, len(genome.codes), GENOME_CHUNK))
    background = counts / max(counts.sum(), 1)
    n_sites = np.bincount(sites.tf, minlength=len(tfs))
    lines = ["MEME version 4", "", "ALPHABET= ACGT", "", "strands: + -", "", "Background letter frequencies",
             " ".join(f"{b} {f:.3f}" for b, f in zip(ALPHABET, background)), ""]
    for t, factor in enumerate(tfs):
        lines += [f"MOTIF {factor.name} {factor.name}",
                  f"letter-probability matrix: alength= 4 w= {factor.width} nsites= {n_sites[t]} E= 0"]
        lines += [" " + " ".join(f"{p:.6f}" for p in row) for row in factor.pwm()]
        lines.append("")
    layout.motifs_meme.write_text("\n".join(lines))
    chrom, local = genome.locate(sites.start)
    best = np.array([max_pwm_score(f) for f in tfs])
    score = np.clip(np.rint(1000 * sites.score / best[sites.tf]), 0, 1000).astype(np.int64)
    text = format_rows([Labels(chrom, genome.names), Ints(local), Ints(local + (sites.end - sites.start)),
                        Labels(sites.tf, [tf.name for tf in tfs]), Ints(score),
                        Labels(sites.minus.astype(np.int64), ["+", "-"])])
    layout.motif_sites_bed.write_bytes(text)


def write_vcf(path: Path, genome: SimulatedGenome, variants: list[Variant]) -> None:
    """``variants.vcf.gz`` (BGZF) and its tabix index, through pysam."""
    import pysam
    plain = path.with_suffix("")  # variants.vcf
    chrom, local = genome.locate(np.array([v.position for v in variants], dtype=np.int64))
    header = ["##fileformat=VCFv4.2", "##source=mfd simulate", "##reference=genome.fa"]
    header += [f"##contig=<ID={n},length={l}>" for n, l in zip(genome.names, genome.lengths.tolist())]
    header += ['##INFO=<ID=SIM,Number=1,Type=String,Description="Simulated class: motif (breaks a planted TF '
               'core base), bias (breaks an assay bias k-mer), control (touches neither)">',
               '##INFO=<ID=TF,Number=1,Type=String,Description="TF whose planted instance the variant breaks">',
               '##INFO=<ID=ASSAY,Number=1,Type=String,Description="Assay whose bias k-mer the variant breaks">',
               '##INFO=<ID=KMER,Number=1,Type=String,Description="The broken bias k-mer">',
               "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    counters: dict[str, int] = {}
    with open(plain, "w") as handle:
        handle.write("\n".join(header) + "\n")
        for v, c, p in zip(variants, chrom.tolist(), local.tolist()):
            counters[v.kind] = counters.get(v.kind, 0) + 1
            info = f"SIM={v.kind}" + (f";{v.info}" if v.info else "")
            handle.write(f"{genome.names[c]}\t{p + 1}\t{v.kind}_{counters[v.kind]}\t{ALPHABET[v.ref]}\t"
                         f"{ALPHABET[v.alt]}\t.\tPASS\t{info}\n")
    pysam.tabix_index(str(plain), preset="vcf", force=True, keep_original=False)


def write_metadata(layout: SimulationLayout, experiments: list[Experiment]) -> None:
    """``metadata.tsv`` (the user-facing table) and ``schema.yaml``."""
    _write_tsv(layout.metadata_tsv, METADATA_COLUMNS, (
        (e.name, e.condition.target, e.condition.tissue, e.condition.life_stage, e.condition.assay, e.condition.lab,
         e.condition.year, e.replicate, e.peak_file) for e in experiments))
    layout.schema_yaml.write_text(SCHEMA_YAML)


def write_truth_tables(layout: SimulationLayout, experiments: list[Experiment], peak_counts: list[tuple[int, int]],
                       params: SimulationParams) -> None:
    """``truth/experiments.tsv`` (metadata + every bias acting on each experiment) and ``truth/tissues.tsv``."""
    kmer_of = {assay: (kmer, weight) for assay, kmer, weight in params.assay_kmers}
    lab_fraction = dict(params.labs)
    header = ("experiment", "condition", "target", "tissue", "life_stage", "assay", "lab", "release_year",
              "replicate", "relevant_tfs", "biology_strength", "kmer", "kmer_strength", "kmer_cap",
              "gc_strength", "threshold", "n_called_bins", "n_peaks", "peak_file")
    rows = []
    for e, (n_called, n_peaks) in zip(experiments, peak_counts):
        c = e.condition
        kmer, weight = kmer_of[c.assay]
        rows.append((e.name, c.index + 1, c.target, c.tissue, c.life_stage, c.assay, c.lab, c.year, e.replicate,
                     ",".join(c.relevant_tfs), _num(params.biology_strength), kmer,
                     _num(params.kmer_strength * weight), params.kmer_cap,
                     _num(params.gc_strength * lab_fraction[c.lab]), _num(params.year_threshold(c.year)),
                     n_called, n_peaks, e.peak_file))
    _write_tsv(layout.experiments_tsv, header, rows)
    catalogue = params.catalogue
    _write_tsv(layout.tissues_tsv, ("tissue", "life_stage", "active_tfs", "enhancer_tfs"), (
        (tissue, stage, ",".join(active), ",".join(catalogue.enhancer_tfs(tissue)))
        for tissue, (stage, active) in catalogue.tissues.items()))


def _num(value: float) -> str:
    """A float with at most 6 decimals and no trailing zeros (stable text)."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def write_enhancers(layout: SimulationLayout, genome: SimulatedGenome, bins: Bins, params: SimulationParams) -> None:
    """``truth/enhancers_<tissue>.bed`` and ``truth/background_<tissue>.bed`` (BED4)."""
    for tissue, (positive, names, negative) in enhancer_bins(bins, params).items():
        for path, rows, labels in ((layout.enhancers(tissue), positive, names),
                                   (layout.background(tissue), negative, None)):
            codes = np.zeros(len(rows), dtype=np.int64)
            levels = ["background"]
            if labels is not None:
                levels = sorted(set(labels))
                lookup = {name: i for i, name in enumerate(levels)}
                codes = np.array([lookup[n] for n in labels], dtype=np.int64)
            text = format_rows([Labels(bins.chrom[rows], genome.names), Ints(bins.local_start[rows]),
                                Ints(bins.local_start[rows] + params.bin_size), Labels(codes, levels)])
            path.write_bytes(text)


README = """\
Simulated ENCODE-like data set written by `mfd simulate` (MFD for Kipoi).
Parameters: truth/params.json (the same parameters always give byte-identical files).

genome.fa, genome.fa.fai        {n_chrom} chromosomes chr1..chr{n_chrom}, {genome_size:,} bp, N gaps at both ends and inside
metadata.tsv, schema.yaml       {n_exp} experiments (one narrowPeak file each) and the MFD metadata schema
peaks/<experiment>.narrowPeak.gz  ENCODE narrowPeak (10 columns)
variants.vcf.gz (+ .tbi)        SNVs, INFO SIM=motif | bias | control (see below)
truth/bins.tsv.gz               per {bin_size} bp bin: gc (of non-N bases), n_fraction, motif_<TF> (planted instances whose
                                centre base is in the bin), biology (any instance), kmer_<assay> (occurrences of the assay's
                                bias k-mer on either strand whose leftmost base is in the bin), gc_rich (gc >= {gc_rich})
truth/experiments.tsv           metadata + relevant_tfs, strengths, threshold, n_called_bins, n_peaks per experiment
truth/tissues.tsv               active TFs per tissue
truth/motifs.meme, motif_sites.bed  planted PWMs (MEME minimal format) and every planted instance
truth/enhancers_<tissue>.bed    bins with an instance of a TF active in the tissue ({insulator} excluded: insulator)
truth/background_<tissue>.bed   as many clean bins without any planted base, matched on GC in 2 % strata

Generative model. Bases are drawn independently inside isochores of GC ~ Normal({gc_mean}, {gc_sd}) clipped to
{gc_range}. TF instances ({motifs_per_kb} per kb) are sampled from their PWMs. In experiment e and bin b:
  score = {bio} * [instance of a relevant TF]                      (biology: depends on target and tissue)
        + {kmer} * weight(assay) * min(kmer_<assay> count, {cap})       (assay k-mer bias: {kmers})
        + {gc} * fraction(lab) * gc_rich                        (lab GC false positives: {labs})
        + Normal(0, 1)
and b is called when score > {threshold} + {per_year} * ({newest} - release_year) and b is less than half N.
Relevant TFs: Accessible DNA - all TFs active in the tissue; H3K27ac - the active TFs except {insulator}; a TF - itself if
active in the tissue. Runs of called bins form one peak; a called bin overlaps its peak by >= {half} bp, an
uncalled bin by less. Replicates share metadata and differ only by the noise.
Variants: motif = a core base of a planted instance changed to an unlikely base; bias = one occurrence of an
assay's k-mer broken (>= {dist} bp from any instance, no other bias k-mer made); control = neither (>= {dist} bp
from any instance).
"""


def write_readme(path: Path, params: SimulationParams) -> None:
    path.write_text(README.format(
        n_chrom=params.n_chromosomes, genome_size=params.genome_size, n_exp=params.n_experiments,
        bin_size=params.bin_size, gc_rich=params.gc_rich_threshold, gc_mean=params.gc_mean, gc_sd=params.gc_sd,
        gc_range=list(params.gc_range), motifs_per_kb=params.motifs_per_kb, bio=params.biology_strength,
        kmer=params.kmer_strength, cap=params.kmer_cap,
        kmers=", ".join(f"{a} {k} x{w}" for a, k, w in params.assay_kmers), gc=params.gc_strength,
        labs=", ".join(f"{lab} x{f}" for lab, f in params.labs), threshold=params.threshold,
        per_year=params.threshold_per_year, newest=max(params.years), half=params.bin_size // 2,
        dist=params.control_min_distance, insulator=params.catalogue.ubiquitous))
