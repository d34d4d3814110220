"""``mfd simulate``: an ENCODE-like synthetic data set whose structure is known.

The data set is what MFD is meant to untangle: peaks that are partly biology (transcription
factor motifs, active in some tissues) and partly technical artefacts that depend only on
*technical* metadata (assay, lab, release year). Everything planted is written to
``truth/`` so that tests, the demo and the downstream evaluations can check what a model
learned against what is really there.

Generative model (every number below is a :class:`SimulationParams` field):

1. **Genome.** ``n_chromosomes`` chromosomes ``chr1..chrN`` of unequal length (chromosome
   ``i`` gets weight ``1 - 0.5 i / N``) summing to ``genome_size``. Each is a run of
   isochores (segments of ``isochore_min..isochore_max`` bp) whose GC fraction is drawn from
   ``Normal(gc_mean, gc_sd)`` clipped to ``gc_range``; bases are independent within an
   isochore (P(C) = P(G) = GC / 2). N gaps: a telomeric run at both ends (``telomere_gap``
   bp, at most 5 % of the chromosome; the end run also covers the last, partial bin) and 1 to
   ``internal_gaps`` internal gaps.
2. **Biology.** Six TFs with PWMs built from IUPAC consensus strings modelled on JASPAR motifs
   (CTCF, GATA, E-box bHLH TAL1, HNF4A DR1, forkhead FOXA2, MEF2A; see :data:`TFS`).
   Instances are planted at random non-overlapping clean positions (``motifs_per_kb`` per kb
   of clean sequence, TF chosen uniformly, strand 50/50), each sampled base by base from its
   PWM. Each tissue activates a subset of TFs (:data:`TISSUES`; CTCF is active everywhere).
   ``motif_set`` selects the catalogue (:data:`MOTIF_SETS`): ``jaspar`` is the one above,
   ``alternative`` six other JASPAR factors (insulator ZNF143, SPI1, RUNX1, CEBPB, HNF1A, NFE2;
   :data:`ALTERNATIVE_TFS`, :data:`ALTERNATIVE_TISSUES`); "CTCF" below means the set's insulator.
   A bin carries an instance when the instance's centre base ``(start + end) // 2`` lies in it.
3. **Experiments.** Targets: ``Accessible DNA`` (assays DNase-seq, ATAC-seq), each TF
   (ChIP-seq) and, if ``histone_mark``, ``H3K27ac`` (ChIP-seq). A *condition* is (target,
   tissue, assay, lab, release year). ``n_experiments / (replicates * labs_per_condition)``
   (target, tissue, assay) combinations are drawn: first the core set (Accessible DNA with both
   assays, ChIP of every active TF and H3K27ac, in every tissue; in a seeded order that covers
   every level early), then uniformly from all combinations. Each combination is measured by
   ``labs_per_condition`` different labs (each with its own release year), as ENCODE profiles
   the same biosample and target in several labs: biology and technique are *crossed*, so the
   technical biases cannot be explained by the biological metadata (with one lab per
   combination, target x tissue would identify the lab and its bias). Labs and years are dealt
   out evenly and independently of the biology. Each condition has ``replicates`` experiments
   with identical metadata and independent noise. About ``missing_life_stage_rate`` of the
   conditions leave ``life_stage`` empty.
4. **Peak calls.** In experiment ``e`` and bin ``b`` the score is

       score = biology_strength * [bin has an instance of a relevant TF]
             + kmer_strength * weight(assay) * min(count of the assay's k-mer in b, kmer_cap)
             + gc_strength * fraction(lab) * [GC of b >= gc_rich_threshold]
             + Normal(0, 1) noise (independent per experiment and bin)

   and the bin is called when ``score > threshold + threshold_per_year * (newest year -
   year)`` (older releases call fewer peaks) and it is less than half N. Relevant TFs:
   Accessible DNA -- every TF active in the tissue; H3K27ac -- every active TF except the
   insulator CTCF; a TF target -- that TF, if active in the tissue (else none: a ChIP of an
   absent factor shows only technical peaks). A k-mer is counted on both strands, an
   occurrence belongs to the bin holding its leftmost base (``assay_kmers``). The terms 2
   and 3 depend only on the sequence and technical metadata, so they are learnable biases.
5. **Peaks.** Runs of consecutive called bins become one narrowPeak record. Each of its ends
   moves independently from the run's end, inwards by up to ``bin_size / 4`` bp or outwards by
   up to ``bin_size / 4 - 1`` (32 / 31 bp for 128 bp bins), so every called bin overlaps its
   peak by at least ``bin_size / 2`` bp and an uncalled bin by less (even between two peaks).
   signalValue = 2 x the run's best score, pValue = -log10 of the normal tail of that score,
   qValue = Benjamini-Hochberg over all callable bins, score = min(1000, 100 x qValue),
   summit near the centre of the best bin.
6. **Truth.** Per-bin GC, N fraction, motif counts, k-mer counts and the GC-rich flag;
   per-experiment strengths and thresholds; motif sites and PWMs; per-tissue enhancer bins
   (instances of the tissue's non-CTCF active TFs) and GC-matched background bins without
   any planted base; SNVs that break a motif core base (``SIM=motif``), break one bias
   k-mer occurrence without touching motifs (``SIM=bias``), or touch neither
   (``SIM=control``, at least ``control_min_distance`` bp from every instance).

Randomness comes from independent streams keyed by ``(seed, stream, index)``: the genome does
not change when only the experiments change, and each experiment's noise is its own.
The same parameters always give byte-identical files.
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from ..encoding import ALPHABET, LETTER_OF_CODE, N_CODE, base_codes, reverse_complement
from ..errors import ConfigError, MFDError
from .tsvformat import Const, Fixed, Ints, Labels, format_rows, iter_rows, open_gzip

# genome arrays hold base codes (mfd_model.encoding): A, C, G, T, N as 0..4
MIN_CHROMOSOME = 20_000          # bp; room for gaps, isochores and a few 1152 bp windows
GENOME_CHUNK = 1 << 22           # bases generated per random draw (fixed: part of the output)
PARAMS_FILE = "truth/params.json"

# streams of the random generator: np.random.default_rng([seed, STREAM, index])
STREAM_GENOME, STREAM_GAPS, STREAM_MOTIFS, STREAM_DESIGN, STREAM_NOISE = 1, 2, 3, 4, 5
STREAM_VARIANTS, STREAM_ENHANCERS = 6, 7


# ============================================================================ catalogues
@dataclass(frozen=True)
class TranscriptionFactor:
    """A planted TF: its name and IUPAC consensus (upper case strong, lower case weak)."""

    name: str
    consensus: str
    modelled_on: str

    def pwm(self) -> np.ndarray:
        """Position probability matrix, shape=(width, 4), rows sum to 1 (ACGT columns)."""
        return np.array([_iupac_probabilities(letter) for letter in self.consensus])

    @property
    def width(self) -> int:
        return len(self.consensus)


_IUPAC = {"A": "A", "C": "C", "G": "G", "T": "T", "R": "AG", "Y": "CT", "S": "CG", "W": "AT",
          "K": "GT", "M": "AC", "N": "ACGT"}


def _iupac_probabilities(letter: str) -> list[float]:
    """Base probabilities of one IUPAC letter: a strong (upper case) letter puts 0.88 on its
    base(s), a weak (lower case) one 0.58 (one base) or 0.80 (two bases); N is uniform."""
    allowed = _IUPAC[letter.upper()]
    if len(allowed) == 4:
        return [0.25] * 4
    mass = (0.88 if len(allowed) == 1 else 0.92) if letter.isupper() else (0.58 if len(allowed) == 1 else 0.80)
    inside, outside = mass / len(allowed), (1.0 - mass) / (4 - len(allowed))
    return [inside if base in allowed else outside for base in ALPHABET]


TFS: tuple[TranscriptionFactor, ...] = (
    TranscriptionFactor("CTCF", "tgGCCACCAGGGGGCGCya", "JASPAR MA0139 (CTCF)"),
    TranscriptionFactor("GATA1", "caGATAAGCAGAt", "JASPAR MA0035 (GATA1), extended"),
    TranscriptionFactor("TAL1", "gACCAGCTGGTCa", "E-box CAGCTG of bHLH factors (TAL1, TCF12)"),
    TranscriptionFactor("HNF4A", "gGGGTCAAAGGTCAa", "JASPAR MA0114 (HNF4A, DR1)"),
    TranscriptionFactor("FOXA2", "tTGTTTACTTAGc", "JASPAR MA0047 (FOXA2, forkhead)"),
    TranscriptionFactor("MEF2A", "gGCTAWTTWTAGCc", "JASPAR MA0052 (MEF2A, CArG-like)"),
)
UBIQUITOUS_TF = "CTCF"  # an insulator active everywhere; not counted as an enhancer

# tissue -> (life stage, active TFs)
TISSUES: dict[str, tuple[str, tuple[str, ...]]] = {
    "K562": ("adult", ("CTCF", "GATA1", "TAL1")),
    "HepG2": ("child", ("CTCF", "HNF4A", "FOXA2")),
    "GM12878": ("adult", ("CTCF", "MEF2A")),
    "liver": ("adult", ("CTCF", "HNF4A", "FOXA2", "GATA1")),
    "heart": ("embryonic", ("CTCF", "MEF2A", "GATA1")),
}

# the "alternative" motif set: other real factors (no motif mostly G/C, none holding a default bias k-mer)
ALTERNATIVE_TFS: tuple[TranscriptionFactor, ...] = (
    TranscriptionFactor("ZNF143", "tTCCCAGAATGCATTGc",
                        "JASPAR MA0088 (ZNF143, SBS); at CTCF loop anchors / insulators in every cell type"),
    TranscriptionFactor("SPI1", "aAAAGAGGAAGTGa", "JASPAR MA0080 (SPI1 / PU.1, ETS GGAA core)"),
    TranscriptionFactor("RUNX1", "tTCTGTGGTTTca", "JASPAR MA0002 (RUNX1, runt TGTGGTT)"),
    TranscriptionFactor("CEBPB", "tATTGCGCAATa", "JASPAR MA0466 (CEBPB, bZIP palindrome)"),
    TranscriptionFactor("HNF1A", "gGTTAATNATTAACc", "JASPAR MA0046 (HNF1A, homeodomain dimer)"),
    TranscriptionFactor("NFE2", "gATGACTCAGCAt", "JASPAR MA0841 (NFE2, MARE: AP-1 TGACTCA + GC)"),
)
ALTERNATIVE_TISSUES: dict[str, tuple[str, tuple[str, ...]]] = {
    "K562": ("adult", ("ZNF143", "NFE2", "RUNX1")),
    "HepG2": ("child", ("ZNF143", "HNF1A", "CEBPB")),
    "GM12878": ("adult", ("ZNF143", "SPI1", "RUNX1")),
    "liver": ("adult", ("ZNF143", "HNF1A", "CEBPB", "SPI1")),      # SPI1: Kupffer cells
    "heart": ("embryonic", ("ZNF143", "NFE2", "CEBPB")),
}


@dataclass(frozen=True, eq=False)
class MotifSet:
    """A named catalogue of planted TFs (``SimulationParams.motif_set``).

    Attributes:
        name: the name ``motif_set`` selects it by.
        tfs: the TFs; index t is bit t of ``Bins.motif_bits`` (so at most 8).
        tissues: tissue -> (life stage, active TFs).
        ubiquitous: the insulator, active in every tissue; not an enhancer, no H3K27ac.
    """

    name: str
    tfs: tuple[TranscriptionFactor, ...]
    tissues: dict[str, tuple[str, tuple[str, ...]]]
    ubiquitous: str

    def __post_init__(self) -> None:
        names = [tf.name for tf in self.tfs]
        if not 0 < len(names) <= 8 or len(set(names)) != len(names):
            raise ValueError(f"motif set {self.name}: expected 1 to 8 distinct TFs, got {names}")
        for tissue, (_, active) in self.tissues.items():
            if self.ubiquitous not in active or not set(active) <= set(names):
                raise ValueError(f"motif set {self.name}: {tissue} must activate {self.ubiquitous} and known TFs")

    def bits(self, names: Iterable[str]) -> int:
        """Bit mask of TFs (bit t for ``tfs[t]``)."""
        index = {tf.name: t for t, tf in enumerate(self.tfs)}
        return sum(1 << index[name] for name in set(names))

    def enhancer_tfs(self, tissue: str) -> tuple[str, ...]:
        """The tissue's active TFs except the insulator."""
        return tuple(tf for tf in self.tissues[tissue][1] if tf != self.ubiquitous)

    def relevant_tfs(self, target: str, tissue: str) -> tuple[str, ...]:
        """TFs whose instances give a (target, tissue) condition its biological peaks."""
        active = self.tissues[tissue][1]
        if target == ACCESSIBLE:
            return active
        if target == HISTONE:
            return self.enhancer_tfs(tissue)
        return (target,) if target in active else ()


DEFAULT_MOTIF_SET = "jaspar"
MOTIF_SETS: dict[str, MotifSet] = {
    "jaspar": MotifSet("jaspar", TFS, TISSUES, UBIQUITOUS_TF),
    "alternative": MotifSet("alternative", ALTERNATIVE_TFS, ALTERNATIVE_TISSUES, "ZNF143"),
}
ACCESSIBLE, HISTONE = "Accessible DNA", "H3K27ac"
ACCESSIBILITY_ASSAYS = ("DNase-seq", "ATAC-seq")
CHIP = "ChIP-seq"
ASSAYS = ACCESSIBILITY_ASSAYS + (CHIP,)

METADATA_COLUMNS = ("experiment", "target", "tissue", "life_stage", "assay", "lab", "release_year",
                    "replicate", "peak_file")
SCHEMA_YAML = """\
# MFD metadata schema of this simulated data set (see mfd_model/metadata.py).
# Each group's direct column feeds its interaction MLP too (as the original code does with the
# assay): peaks here depend on target x tissue (a TF binds only where it is active) and on
# assay x lab, which the MLP can only model if it sees the target and the assay.
id_column: experiment
biological:
  direct:
    - {column: target}
  interact:
    - {column: target}
    - {column: tissue, intermediate: embed, dim: 8}
    - {column: life_stage}
technical:
  direct:
    - {column: assay}
  interact:
    - {column: assay}
    - {column: lab}
    - {column: release_year, type: year}
"""


# ============================================================================ parameters
@dataclass(frozen=True)
class SimulationParams:
    """Every knob of the simulation; the defaults make the demo data set (~2 Mb, 96 experiments).

    Attributes:
        seed: seed of all random streams.
        genome_size: total length of the chromosomes in bp.
        n_chromosomes: number of chromosomes, named chr1..chrN (unequal lengths).
        line_width: FASTA line length.
        bin_size: bin size in bp of the truth table and of the peak model (the paper: 128).
        isochore_min / isochore_max: isochore (constant-GC segment) lengths in bp.
        gc_mean / gc_sd / gc_range: GC fraction of isochores, Normal(mean, sd) clipped to range.
        telomere_gap: N run at each chromosome end in bp (capped at 5 % of the chromosome).
        internal_gaps: at most this many internal N gaps per chromosome (at least 1 when > 0).
        motif_set: the TF catalogue planted (:data:`MOTIF_SETS`): ``jaspar`` (:data:`TFS`, :data:`TISSUES`)
            or ``alternative`` (:data:`ALTERNATIVE_TFS`, :data:`ALTERNATIVE_TISSUES`).
        motifs_per_kb: planted TF instances per kb of non-N sequence (all TFs together).
        n_experiments: experiments (peak files) in all; a multiple of ``replicates * labs_per_condition``.
        replicates: experiments per condition (identical metadata, independent noise).
        labs_per_condition: labs measuring each (target, tissue, assay) combination (distinct labs,
            each with its own year): crosses the biological with the technical metadata.
        histone_mark: include H3K27ac ChIP-seq (peaks at active TFs other than the insulator).
        labs: (lab, fraction of ``gc_strength`` it adds to GC-rich bins) pairs.
        years: release years; older ones call fewer peaks.
        assay_kmers: (assay, bias k-mer, weight of ``kmer_strength``) for DNase-seq, ATAC-seq
            and ChIP-seq.
        biology_strength: score of a bin holding a relevant planted TF instance.
        kmer_strength: score per occurrence of the assay's k-mer (times its weight).
        kmer_cap: occurrences beyond this add nothing.
        gc_strength: score of a GC-rich bin in the lab with fraction 1.
        gc_rich_threshold: a bin is GC-rich when its GC fraction (of non-N bases) is at least this.
        threshold: calling threshold of the newest year (noise is Normal(0, 1)).
        threshold_per_year: threshold increase per year before the newest.
        missing_life_stage_rate: probability that a condition leaves life_stage empty.
        n_motif_variants / n_bias_variants / n_control_variants: SNVs of each class.
        control_min_distance: bp between a control or bias SNV and the nearest TF instance.
    """

    seed: int = 0
    genome_size: int = 2_000_000
    n_chromosomes: int = 4
    line_width: int = 60
    bin_size: int = 128
    isochore_min: int = 10_000
    isochore_max: int = 100_000
    gc_mean: float = 0.41
    gc_sd: float = 0.06
    gc_range: tuple[float, float] = (0.30, 0.65)
    telomere_gap: int = 10_000
    internal_gaps: int = 2
    motifs_per_kb: float = 2.0
    motif_set: str = DEFAULT_MOTIF_SET
    n_experiments: int = 96
    replicates: int = 2
    labs_per_condition: int = 2
    histone_mark: bool = True
    labs: tuple[tuple[str, float], ...] = (("Bernstein", 0.0), ("Myers", 0.25), ("Snyder", 0.5), ("Stam", 1.0))
    years: tuple[int, ...] = (2010, 2012, 2014, 2016, 2018, 2020)
    assay_kmers: tuple[tuple[str, str, float], ...] = (
        ("DNase-seq", "CCTTG", 1.0), ("ATAC-seq", "GCCGA", 1.0), ("ChIP-seq", "TATCGA", 0.35))
    biology_strength: float = 4.5
    kmer_strength: float = 4.0
    kmer_cap: int = 2
    gc_strength: float = 4.0
    gc_rich_threshold: float = 0.5
    threshold: float = 2.5
    threshold_per_year: float = 0.1
    missing_life_stage_rate: float = 0.05
    n_motif_variants: int = 200
    n_bias_variants: int = 200
    n_control_variants: int = 600
    control_min_distance: int = 256

    def __post_init__(self) -> None:
        for f in fields(self):  # lists (from YAML / JSON) become tuples, so params stay hashable
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(tuple(v) if isinstance(v, list) else v for v in value))
        self._check()

    # ------------------------------------------------------------------ checks
    def _check(self) -> None:
        def fail(name: str, message: str, fix: str) -> None:
            raise ConfigError(f"invalid simulation parameter {name}: {message}", fix=fix)

        def integer(name: str, low: int, high: int | None = None) -> None:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low \
                    or (high is not None and value > high):
                bound = f"between {low:,} and {high:,}" if high is not None else f">= {low:,}"
                fail(name, f"expected an integer {bound}, got {value!r}", f"set {name} {bound}")

        def number(name: str, low: float, high: float | None = None) -> None:
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) \
                    or value < low or (high is not None and value > high):
                bound = f"between {low} and {high}" if high is not None else f">= {low}"
                fail(name, f"expected a number {bound}, got {value!r}", f"set {name} {bound}")

        integer("seed", 0)
        if not isinstance(self.motif_set, str) or self.motif_set not in MOTIF_SETS:
            fail("motif_set", f"unknown motif set {self.motif_set!r}", f"use one of {', '.join(MOTIF_SETS)}")
        integer("n_chromosomes", 1, 1000)
        integer("genome_size", MIN_CHROMOSOME)
        integer("line_width", 10, 10_000)
        integer("bin_size", 16, 100_000)
        if self.bin_size % 4:
            fail("bin_size", f"must be a multiple of 4, got {self.bin_size}", "use e.g. 128")
        integer("isochore_min", 1_000)
        integer("isochore_max", self.isochore_min)
        number("gc_mean", 0.05, 0.95)
        number("gc_sd", 0.0, 0.5)
        if not (isinstance(self.gc_range, tuple) and len(self.gc_range) == 2
                and all(isinstance(v, (int, float)) for v in self.gc_range)
                and 0 < self.gc_range[0] <= self.gc_mean <= self.gc_range[1] < 1):
            fail("gc_range", f"expected (low, high) with 0 < low <= gc_mean <= high < 1, got {self.gc_range!r}",
                 "use e.g. gc_range=[0.3, 0.65]")
        integer("telomere_gap", 0)
        integer("internal_gaps", 0, 100)
        number("motifs_per_kb", 0.0, 20.0)
        integer("replicates", 1, 100)
        integer("labs_per_condition", 1, max(1, len(self.labs)) if isinstance(self.labs, tuple) else 100)
        per_combination = self.replicates * self.labs_per_condition
        integer("n_experiments", per_combination)
        if self.n_experiments % per_combination:
            fail("n_experiments", f"{self.n_experiments} is not a multiple of replicates x labs_per_condition "
                 f"({per_combination})",
                 f"use e.g. {self.n_experiments - self.n_experiments % per_combination + per_combination}")
        if not isinstance(self.histone_mark, bool):
            fail("histone_mark", f"expected true or false, got {self.histone_mark!r}", "set it to true or false")
        self._check_labs_years_kmers(fail)
        for name in ("biology_strength", "kmer_strength", "gc_strength", "threshold_per_year"):
            number(name, 0.0, 100.0)
        number("threshold", -10.0, 20.0)
        integer("kmer_cap", 1, 1000)
        number("gc_rich_threshold", 0.0, 1.0)
        number("missing_life_stage_rate", 0.0, 1.0)
        for name in ("n_motif_variants", "n_bias_variants", "n_control_variants"):
            integer(name, 0, 10_000_000)
        integer("control_min_distance", 0)
        shortest = min(self.chromosome_lengths())
        if shortest < MIN_CHROMOSOME:
            need = math.ceil(MIN_CHROMOSOME * self.genome_size / shortest)
            raise ConfigError(
                f"genome too small for {self.n_chromosomes} chromosomes: the shortest, chr{self.n_chromosomes}, "
                f"would be {shortest:,} bp and each needs at least {MIN_CHROMOSOME:,} bp",
                fix=f"raise genome_size to at least {need:,} or lower n_chromosomes")

    def _check_labs_years_kmers(self, fail) -> None:
        if not (isinstance(self.labs, tuple) and self.labs and all(
                isinstance(lab, tuple) and len(lab) == 2 and isinstance(lab[0], str) and lab[0].strip()
                and isinstance(lab[1], (int, float)) and 0 <= lab[1] <= 1 for lab in self.labs)):
            fail("labs", f"expected (name, GC fraction in [0, 1]) pairs, got {self.labs!r}",
                 "use e.g. labs=[[Bernstein, 0.0], [Stam, 1.0]]")
        if len({lab for lab, _ in self.labs}) != len(self.labs):
            fail("labs", "lab names must be unique", "give each lab one entry")
        if not (isinstance(self.years, tuple) and self.years and all(
                isinstance(y, int) and not isinstance(y, bool) and 1900 <= y <= 2100 for y in self.years)
                and len(set(self.years)) == len(self.years)):
            fail("years", f"expected distinct 4-digit years, got {self.years!r}", "use e.g. years=[2012, 2016, 2020]")
        assays = [k[0] for k in self.assay_kmers] if isinstance(self.assay_kmers, tuple) else []
        if sorted(assays) != sorted(ASSAYS) or not all(
                isinstance(k, tuple) and len(k) == 3 and isinstance(k[1], str) and re.fullmatch("[ACGT]{3,16}", k[1])
                and isinstance(k[2], (int, float)) and 0 <= k[2] <= 100 for k in self.assay_kmers):
            fail("assay_kmers", f"expected one (assay, k-mer of 3-16 ACGT, weight >= 0) for each of "
                 f"{', '.join(ASSAYS)}, got {self.assay_kmers!r}",
                 "use e.g. [[DNase-seq, CCTTG, 1.0], [ATAC-seq, GCCGA, 1.0], [ChIP-seq, TATCGA, 0.35]]")
        for assay, kmer, _ in self.assay_kmers:
            for tf in self.catalogue.tfs:
                if kmer in tf.consensus.upper() or reverse_complement(kmer) in tf.consensus.upper():
                    fail("assay_kmers", f"the {assay} k-mer {kmer} occurs in the {tf.name} consensus "
                         f"{tf.consensus.upper()}: bias and biology would be confounded", "choose another k-mer")

    # ------------------------------------------------------------------ derived
    @property
    def catalogue(self) -> MotifSet:
        """The TFs, tissues and insulator that ``motif_set`` names."""
        return MOTIF_SETS[self.motif_set]

    def chromosome_lengths(self) -> list[int]:
        """Chromosome lengths in bp (chr1 longest), summing to ``genome_size``."""
        weights = [1.0 - 0.5 * i / self.n_chromosomes for i in range(self.n_chromosomes)]
        lengths = [int(self.genome_size * w / sum(weights)) for w in weights]
        lengths[0] += self.genome_size - sum(lengths)
        return lengths

    def year_threshold(self, year: int) -> float:
        """Calling threshold of a release year (higher for older years)."""
        return self.threshold + self.threshold_per_year * (max(self.years) - year)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values; ``motif_set`` only when not the default, so that the default data set's
        ``params.json`` stays byte-identical to that of versions without it."""
        return {k: (list(map(list, v)) if k in ("labs", "assay_kmers") else list(v) if isinstance(v, tuple) else v)
                for k, v in asdict(self).items() if k != "motif_set" or v != DEFAULT_MOTIF_SET}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "SimulationParams":
        """Build from a mapping; unknown keys are a :class:`ConfigError` naming the known ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown simulation parameter(s): {', '.join(unknown)}",
                              fix=f"known parameters are {', '.join(sorted(known))}")
        return cls(**values)


@dataclass(frozen=True)
class SimulationSummary:
    """What :func:`simulate` wrote.

    Attributes:
        outdir: the output folder.
        chromosomes: chromosome name -> length.
        n_bins: bins in ``truth/bins.tsv.gz``.
        n_motif_sites: planted TF instances.
        n_experiments / n_conditions: peak files, and distinct metadata rows among them.
        n_peaks: narrowPeak records over all experiments.
        mean_called_fraction: mean fraction of callable bins called per experiment.
        n_variants: SNVs per class (motif, bias, control).
        seconds: wall time.
    """

    outdir: Path
    chromosomes: dict[str, int]
    n_bins: int
    n_motif_sites: int
    n_experiments: int
    n_conditions: int
    n_peaks: int
    mean_called_fraction: float
    n_variants: dict[str, int]
    seconds: float = field(compare=False)

    def describe(self) -> str:
        genome = sum(self.chromosomes.values())
        variants = ", ".join(f"{n} {k}" for k, n in self.n_variants.items())
        return "\n".join([
            f"wrote {self.outdir}",
            f"genome: {genome:,} bp in {len(self.chromosomes)} chromosomes, {self.n_bins:,} bins",
            f"planted TF instances: {self.n_motif_sites:,}",
            f"experiments: {self.n_experiments} ({self.n_conditions} condition{'s' if self.n_conditions != 1 else ''}), "
            f"{self.n_peaks:,} peaks, "
            f"{100 * self.mean_called_fraction:.1f} % of bins called on average",
            f"variants: {variants}",
            f"time: {self.seconds:.1f} s",
        ])


# ============================================================================ small helpers
def _rng(params: SimulationParams, stream: int, index: int = 0) -> np.random.Generator:
    return np.random.default_rng([params.seed, stream, index])


@dataclass
class SimulatedGenome:
    """The simulated genome in memory.

    Attributes:
        names: chromosome names.
        lengths: chromosome lengths, shape=(C,).
        offsets: start of each chromosome in ``codes``, shape=(C + 1,).
        codes: all chromosomes concatenated, 0..3 = ACGT, 4 = N, shape=(G,), uint8.
        gaps: N gaps as global [start, end), sorted, shape=(n_gaps, 2).
    """

    names: list[str]
    lengths: np.ndarray
    offsets: np.ndarray
    codes: np.ndarray
    gaps: np.ndarray

    def chromosome(self, c: int) -> np.ndarray:
        return self.codes[self.offsets[c]:self.offsets[c + 1]]

    def locate(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Global positions -> (chromosome index, position on it)."""
        chrom = np.searchsorted(self.offsets, positions, side="right") - 1
        return chrom, positions - self.offsets[chrom]

    def clean(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Whether each global [start, end) avoids every N gap (gaps cover chromosome ends)."""
        nxt = np.searchsorted(self.gaps[:, 1], starts, side="right")  # first gap ending after start
        gap_start = np.append(self.gaps[:, 0], np.iinfo(np.int64).max)[nxt]
        return gap_start >= ends


@dataclass
class Bins:
    """The bin tiling and its per-bin truth, all shape=(B,).

    Attributes:
        chrom: chromosome index of each bin; start: global start (``SimulatedGenome.codes`` index).
        local_start: start on its chromosome.
        gc: GC fraction of non-N bases (0 for all-N bins); n_fraction: fraction of N.
        motif_counts: instances per TF (centre in bin), shape=(B, n_tfs).
        motif_bits: bit t set when TF t has an instance here, uint8.
        touched: any planted base in the bin.
        kmer_counts: occurrences of each assay's k-mer, shape=(B, n_assays).
        gc_rich: ``gc >= gc_rich_threshold``.
        callable: less than half N.
    """

    chrom: np.ndarray
    start: np.ndarray
    local_start: np.ndarray
    gc: np.ndarray
    n_fraction: np.ndarray
    motif_counts: np.ndarray
    motif_bits: np.ndarray
    touched: np.ndarray
    kmer_counts: np.ndarray
    gc_rich: np.ndarray
    callable: np.ndarray

    def __len__(self) -> int:
        return len(self.start)


@dataclass
class MotifSites:
    """Planted TF instances sorted by position, all shape=(S,).

    Attributes:
        start / end: global [start, end); tf: index into the motif set's TFs; minus: on the - strand;
        score: PWM log-odds (bits, vs uniform) of the planted sequence.
    """

    start: np.ndarray
    end: np.ndarray
    tf: np.ndarray
    minus: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.start)

    def distance(self, positions: np.ndarray) -> np.ndarray:
        """Distance in bp from each global position to the nearest instance (0 inside one)."""
        positions = np.asarray(positions, dtype=np.int64)
        far = np.int64(1) << 60
        right = np.searchsorted(self.start, positions, side="right")   # first instance starting after
        next_start = np.append(self.start, far)[right]
        previous_end = np.insert(self.end, 0, -far)[right]              # end of instance right - 1
        to_left = np.where(positions < previous_end, 0, positions - (previous_end - 1))
        return np.minimum(next_start - positions, to_left)


@dataclass(frozen=True)
class Condition:
    """One metadata row shared by its replicates; ``relevant_tfs``: TFs whose instances give its
    biological peaks (:meth:`MotifSet.relevant_tfs`)."""

    index: int
    target: str
    tissue: str
    assay: str
    lab: str
    year: int
    life_stage: str
    relevant_tfs: tuple[str, ...]


@dataclass(frozen=True)
class Experiment:
    """One peak file: a condition and its replicate number."""

    index: int
    condition: Condition
    replicate: int
    name: str

    @property
    def peak_file(self) -> str:
        return f"peaks/{self.name}.narrowPeak.gz"


# ============================================================================ 1. genome
INTERNAL_GAP_RANGE = (1_000, 20_000)   # bp, capped at 5 % of the chromosome


def make_genome(params: SimulationParams, progress: bool = False) -> SimulatedGenome:
    """Chromosomes of isochores with random GC, then N gaps (module docstring, step 1)."""
    lengths = np.array(params.chromosome_lengths(), dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    codes = np.empty(int(offsets[-1]), dtype=np.uint8)
    gaps = [(int(o), int(o)) for o in offsets]   # empty gaps at chromosome borders: nothing spans them
    for c in _progress(range(len(lengths)), progress, "genome", "chromosome"):
        sequence = codes[offsets[c]:offsets[c + 1]]
        _fill_isochores(sequence, params, _rng(params, STREAM_GENOME, c))
        for start, end in _gap_intervals(int(lengths[c]), params, _rng(params, STREAM_GAPS, c)):
            sequence[start:end] = N_CODE
            gaps.append((int(offsets[c]) + start, int(offsets[c]) + end))
    names = [f"chr{i + 1}" for i in range(len(lengths))]
    return SimulatedGenome(names, lengths, offsets, codes, np.array(sorted(gaps), dtype=np.int64).reshape(-1, 2))


def _fill_isochores(sequence: np.ndarray, params: SimulationParams, rng: np.random.Generator) -> None:
    """Fill one chromosome, shape=(L,), with bases drawn independently inside isochores."""
    length = len(sequence)
    sizes = rng.integers(params.isochore_min, params.isochore_max + 1, length // params.isochore_min + 2)
    ends = np.cumsum(sizes)
    ends = ends[:np.searchsorted(ends, length) + 1]
    ends[-1] = length
    starts = np.concatenate([[0], ends[:-1]])
    gc = np.clip(rng.normal(params.gc_mean, params.gc_sd, len(ends)), *params.gc_range).astype(np.float32)
    for begin in range(0, length, GENOME_CHUNK):
        stop = min(begin + GENOME_CHUNK, length)
        first, last = np.searchsorted(ends, begin, side="right"), np.searchsorted(ends, stop - 1, side="right")
        pieces = np.minimum(ends[first:last + 1], stop) - np.maximum(starts[first:last + 1], begin)
        p = np.repeat(gc[first:last + 1], pieces)                     # GC fraction per base
        u = rng.random(stop - begin, dtype=np.float32)
        # A below (1-p)/2, C below 1/2, G below 1/2 + p/2, T above: P(C) = P(G) = p/2
        sequence[begin:stop] = ((u >= (1 - p) / 2).view(np.uint8) + (u >= 0.5).view(np.uint8)
                                + (u >= 0.5 + p / 2).view(np.uint8))


def _gap_intervals(length: int, params: SimulationParams, rng: np.random.Generator) -> list[tuple[int, int]]:
    """N gaps of one chromosome as [start, end): both telomeres and 1..internal_gaps inside."""
    cap = length // 20
    telomere = min(params.telomere_gap, cap)
    tail = max(telomere, length % params.bin_size)   # the partial last bin is always N
    gaps = [(0, telomere)] if telomere else []
    if params.internal_gaps:
        low, high = min(INTERNAL_GAP_RANGE[0], cap), min(INTERNAL_GAP_RANGE[1], cap)
        n = int(rng.integers(1, params.internal_gaps + 1))
        sizes = rng.integers(low, high + 1, n)
        room = length - tail - telomere - 2_000 - sizes
        starts = telomere + 1_000 + (rng.random(n) * np.maximum(room, 0)).astype(np.int64)
        previous_end = telomere
        for start, size in sorted(zip(starts.tolist(), sizes.tolist())):
            if start >= previous_end + 1_000 and size > 0 and start + size <= length - tail - 1_000:
                gaps.append((start, start + size))
                previous_end = start + size
    if tail:
        gaps.append((length - tail, length))
    return gaps


# ============================================================================ 2. planted TF instances
MOTIF_SPACING = 5   # bp at least between two planted instances


def plant_motifs(genome: SimulatedGenome, params: SimulationParams) -> MotifSites:
    """Plant PWM-sampled TF instances at random clean, non-overlapping positions (in place)."""
    rng = _rng(params, STREAM_MOTIFS)
    tfs = params.catalogue.tfs
    gap_bases = int((genome.gaps[:, 1] - genome.gaps[:, 0]).sum())
    wanted = round(params.motifs_per_kb * (len(genome.codes) - gap_bases) / 1000)
    widths = np.array([tf.width for tf in tfs])
    n = int(wanted * 1.3) + 100
    start = np.sort(rng.integers(0, len(genome.codes), n))
    tf = rng.integers(0, len(tfs), n)
    minus = rng.random(n) < 0.5
    end = start + widths[tf]
    # keep an instance if it is clean and starts after every earlier candidate ends (no overlaps)
    earlier_end = np.maximum.accumulate(np.concatenate([[-MOTIF_SPACING], end[:-1]]))
    keep = np.flatnonzero(genome.clean(start, end) & (start >= earlier_end + MOTIF_SPACING))
    if len(keep) > wanted:
        keep = np.sort(rng.choice(keep, wanted, replace=False))
    start, end, tf, minus = start[keep], end[keep], tf[keep], minus[keep]
    score = np.zeros(len(keep))
    for t, factor in enumerate(tfs):
        rows = np.flatnonzero(tf == t)
        pwm = factor.pwm()                                                        # (w, 4)
        u = rng.random((len(rows), factor.width))
        motif = (u[:, :, None] >= np.cumsum(pwm, axis=1)[None, :, :3]).sum(axis=2)  # (n, w) in motif orientation
        score[rows] = np.log2(pwm[np.arange(factor.width), motif] / 0.25).sum(axis=1)
        plus = np.where(minus[rows, None], 3 - motif[:, ::-1], motif).astype(np.uint8)
        genome.codes[start[rows, None] + np.arange(factor.width)] = plus
    return MotifSites(start, end, tf, minus, score)


def max_pwm_score(factor: TranscriptionFactor) -> float:
    return float(np.log2(factor.pwm().max(axis=1) / 0.25).sum())


# ============================================================================ 3. bins and their truth
def find_kmer(sequence: np.ndarray, kmer: np.ndarray) -> np.ndarray:
    """Start positions p with ``sequence[p:p+k] == kmer`` (codes), shape=(hits,)."""
    k = len(kmer)
    n = len(sequence) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    hit = sequence[:n] == kmer[0]
    for i in range(1, k):
        hit &= sequence[i:i + n] == kmer[i]
    return np.flatnonzero(hit)


def kmer_occurrences(sequence: np.ndarray, kmer: str) -> np.ndarray:
    """Leftmost positions of ``kmer`` on either strand (a palindrome once), sorted."""
    hits = [find_kmer(sequence, base_codes(kmer))]
    if reverse_complement(kmer) != kmer:
        hits.append(find_kmer(sequence, base_codes(reverse_complement(kmer))))
    return np.sort(np.concatenate(hits))


def tabulate_bins(genome: SimulatedGenome, sites: MotifSites,
                  params: SimulationParams) -> tuple[Bins, list[np.ndarray]]:
    """Per-bin truth; also each assay's k-mer occurrences (global leftmost positions)."""
    size = params.bin_size
    per_chrom = genome.lengths // size
    first_bin = np.concatenate([[0], np.cumsum(per_chrom)])
    chrom = np.repeat(np.arange(len(per_chrom)), per_chrom)
    local_start = np.concatenate([np.arange(n, dtype=np.int64) * size for n in per_chrom])
    start = genome.offsets[chrom] + local_start
    n_bins = len(start)
    gc = np.zeros(n_bins)
    n_fraction = np.zeros(n_bins)
    kmer_counts = np.zeros((n_bins, len(params.assay_kmers)), dtype=np.int32)
    occurrences: list[list[np.ndarray]] = [[] for _ in params.assay_kmers]
    for c, n in enumerate(per_chrom):
        tiles = genome.chromosome(c)[:n * size].reshape(n, size)
        rows = slice(first_bin[c], first_bin[c + 1])
        n_count = (tiles == N_CODE).sum(axis=1)
        gc_count = ((tiles == 1) | (tiles == 2)).sum(axis=1)
        gc[rows] = gc_count / np.maximum(size - n_count, 1)
        n_fraction[rows] = n_count / size
        for a, (_, kmer, _) in enumerate(params.assay_kmers):
            hits = kmer_occurrences(genome.chromosome(c), kmer)
            hits = hits[hits < n * size]
            kmer_counts[rows, a] = np.bincount(hits // size, minlength=n)
            occurrences[a].append(genome.offsets[c] + hits)
    # TF instances: counted in the bin of their centre; 'touched' marks every bin with a planted base
    n_tfs = len(params.catalogue.tfs)
    motif_counts = np.zeros((n_bins, n_tfs), dtype=np.int32)
    touched = np.zeros(n_bins, dtype=bool)
    if len(sites):
        def bin_of(position: np.ndarray) -> np.ndarray:
            c, local = genome.locate(position)
            return first_bin[c] + local // size
        np.add.at(motif_counts, (bin_of((sites.start + sites.end) // 2), sites.tf), 1)
        first, last = bin_of(sites.start), bin_of(sites.end - 1)
        for step in range(int((last - first).max()) + 1):
            inside = first + step <= last
            touched[(first + step)[inside]] = True
    motif_bits = ((motif_counts > 0) << np.arange(n_tfs)).sum(axis=1).astype(np.uint8)
    gc = np.round(gc, 4)
    bins = Bins(chrom, start, local_start, gc, np.round(n_fraction, 4), motif_counts, motif_bits, touched,
                kmer_counts, gc >= params.gc_rich_threshold, n_fraction < 0.5)
    return bins, [np.concatenate(o) for o in occurrences]


# ============================================================================ 4. experiments
def assays_of(target: str) -> tuple[str, ...]:
    return ACCESSIBILITY_ASSAYS if target == ACCESSIBLE else (CHIP,)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]", "", text)


def design_experiments(params: SimulationParams) -> list[Experiment]:
    """Conditions over targets x tissues x assays x labs x years, each with its replicates.

    Every (target, tissue, assay) combination is measured by ``labs_per_condition`` distinct
    labs, so biological and technical metadata are crossed.
    """
    rng = _rng(params, STREAM_DESIGN)
    catalogue = params.catalogue
    targets = [ACCESSIBLE] + [tf.name for tf in catalogue.tfs] + ([HISTONE] if params.histone_mark else [])
    combos = [(target, tissue, assay) for target in targets for tissue in catalogue.tissues
              for assay in assays_of(target)]
    core = [c for c in combos if c[0] in (ACCESSIBLE, HISTONE) or c[0] in catalogue.tissues[c[1]][1]]
    covering, others, seen = [], [], set()
    for i in rng.permutation(len(core)):          # first the combinations that bring a new level
        levels = {("target", core[i][0]), ("tissue", core[i][1]), ("assay", core[i][2])}
        (covering if levels - seen else others).append(core[i])
        seen |= levels
    n_conditions = params.n_experiments // params.replicates
    n_combinations = n_conditions // params.labs_per_condition
    chosen = (covering + others)[:n_combinations]
    chosen += [combos[i] for i in rng.integers(0, len(combos), n_combinations - len(chosen))]
    lab_names = [lab for lab, _ in params.labs]
    first_lab = _deal(list(range(len(lab_names))), n_combinations, rng)
    lab_sets = [[first] + [int(o) for o in rng.permutation([j for j in range(len(lab_names)) if j != first])]
                for first in first_lab]                   # distinct labs per combination, the first dealt evenly
    years = _deal(list(params.years), n_conditions, rng)
    missing = rng.random(n_conditions) < params.missing_life_stage_rate
    width = len(str(n_conditions))
    experiments = []
    for c, (target, tissue, assay) in enumerate(chosen):
        for k in range(params.labs_per_condition):
            i = c * params.labs_per_condition + k
            lab = lab_names[lab_sets[c][k]]
            condition = Condition(i, target, tissue, assay, lab, int(years[i]),
                                  "" if missing[i] else catalogue.tissues[tissue][0],
                                  catalogue.relevant_tfs(target, tissue))
            for r in range(1, params.replicates + 1):
                name = f"E{i + 1:0{width}d}_{tissue}_{_slug(target)}_{assay}_rep{r}"
                experiments.append(Experiment(len(experiments), condition, r, name))
    return experiments


def _deal(levels: list, n: int, rng: np.random.Generator) -> list:
    """``n`` draws that use every level equally often (up to one), in random order."""
    order = rng.permutation(len(levels))
    dealt = [levels[order[i % len(levels)]] for i in range(n)]
    return [dealt[i] for i in rng.permutation(n)]


def condition_score(condition: Condition, bins: Bins, params: SimulationParams) -> np.ndarray:
    """The noise-free score of every bin in one condition, shape=(B,), float32."""
    score = params.biology_strength * ((bins.motif_bits & params.catalogue.bits(condition.relevant_tfs)) != 0)
    a = [assay for assay, _, _ in params.assay_kmers].index(condition.assay)
    kmers = np.minimum(bins.kmer_counts[:, a], params.kmer_cap)
    score = score + params.kmer_strength * params.assay_kmers[a][2] * kmers
    score = score + params.gc_strength * dict(params.labs)[condition.lab] * bins.gc_rich
    return score.astype(np.float32)


# ============================================================================ 5. peaks
@dataclass
class Peaks:
    """narrowPeak records of one experiment, all shape=(P,) (see module docstring, step 5)."""

    chrom: np.ndarray
    start: np.ndarray
    end: np.ndarray
    score: np.ndarray
    signal: np.ndarray
    p_value: np.ndarray
    q_value: np.ndarray
    summit: np.ndarray
    n_called_bins: int

    def __len__(self) -> int:
        return len(self.start)

    def narrowpeak(self, chromosome_names: Sequence[str]) -> Iterator[bytes]:
        """The 10 narrowPeak columns as text blocks."""
        return iter_rows([Labels(self.chrom, chromosome_names), Ints(self.start), Ints(self.end), Const("."),
                          Ints(self.score), Const("."), Fixed(self.signal, 2), Fixed(self.p_value, 2),
                          Fixed(self.q_value, 2), Ints(self.summit)])


def call_peaks(score: np.ndarray, threshold: float, bins: Bins, chromosome_lengths: np.ndarray, bin_size: int,
               rng: np.random.Generator) -> Peaks:
    """Add Normal(0, 1) noise to ``score`` (B,), call bins above ``threshold``, merge runs into peaks."""
    z = score + rng.standard_normal(len(score), dtype=np.float32)
    called = np.flatnonzero((z > threshold) & bins.callable)
    n_tests = int(bins.callable.sum())
    z_called = z[called].astype(np.float64)
    if len(called) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Peaks(empty, empty, empty, empty, np.zeros(0), np.zeros(0), np.zeros(0), empty, 0)
    # runs of consecutive called bins on one chromosome
    new_run = np.ones(len(called), dtype=bool)
    new_run[1:] = (np.diff(called) != 1) | (np.diff(bins.chrom[called]) != 0)
    run_id = np.cumsum(new_run) - 1
    first_bin = called[new_run]
    last_bin = called[np.append(new_run[1:], True)]
    # -log10 p of every called bin and Benjamini-Hochberg -log10 q (called bins are the top ranks)
    from scipy.special import log_ndtr
    neg_log10_p = -log_ndtr(-z_called) / np.log(10)
    order = np.argsort(-z_called)
    ranked = neg_log10_p[order] - np.log10(n_tests) + np.log10(np.arange(1, len(order) + 1))
    neg_log10_q = np.empty_like(ranked)
    neg_log10_q[order] = np.maximum(np.maximum.accumulate(ranked[::-1])[::-1], 0.0)
    run_begin = np.flatnonzero(new_run)
    run_best = np.maximum.reduceat(z_called, run_begin)                  # best score of each run
    is_best = z_called == run_best[run_id]
    best = np.flatnonzero(is_best)
    best = best[np.append(True, np.diff(run_id[best]) != 0)]   # the first best bin of each run
    quarter = bin_size // 4
    n_runs = len(first_bin)
    chrom = bins.chrom[first_bin]
    start = np.maximum(bins.local_start[first_bin] + rng.integers(-(quarter - 1), quarter + 1, n_runs), 0)
    end = np.minimum(bins.local_start[last_bin] + bin_size - rng.integers(-(quarter - 1), quarter + 1, n_runs),
                     chromosome_lengths[chrom])
    summit = bins.local_start[called[best]] + bin_size // 2 + rng.integers(-quarter, quarter + 1, n_runs)
    summit = np.clip(summit, start, end - 1) - start
    q_value = np.round(neg_log10_q[best], 2)
    return Peaks(chrom, start, end, np.minimum(np.rint(100 * q_value), 1000).astype(np.int64),
                 np.round(2 * z_called[best], 2), np.round(neg_log10_p[best], 2), q_value, summit, len(called))


@dataclass
class _PeakJob:
    """What writing one peak file needs; inherited by forked workers, never pickled."""

    out: Path
    params: SimulationParams
    bins: Bins
    chromosome_names: list[str]
    chromosome_lengths: np.ndarray


_PEAK_JOB: _PeakJob | None = None


def _write_peak_file(experiment: Experiment) -> tuple[int, int]:
    """Call one experiment's peaks and write its narrowPeak file; (called bins, peaks)."""
    job = _PEAK_JOB
    assert job is not None
    condition = experiment.condition
    peaks = call_peaks(condition_score(condition, job.bins, job.params), job.params.year_threshold(condition.year),
                       job.bins, job.chromosome_lengths, job.params.bin_size,
                       _rng(job.params, STREAM_NOISE, experiment.index))
    with open_gzip(job.out / experiment.peak_file) as handle:
        for block in peaks.narrowpeak(job.chromosome_names):
            handle.write(block)
    return peaks.n_called_bins, len(peaks)


def write_peak_files(out: Path, experiments: list[Experiment], bins: Bins, genome: SimulatedGenome,
                     params: SimulationParams, progress: bool = False, workers: int = 1) -> list[tuple[int, int]]:
    """Write every experiment's peak file (in ``workers`` forked processes); (called bins, peaks) each."""
    import multiprocessing

    global _PEAK_JOB
    _PEAK_JOB = _PeakJob(out, params, bins, genome.names, genome.lengths)
    try:
        if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                return list(_progress(pool.imap(_write_peak_file, experiments, chunksize=2), progress,
                                      "peak files", "file", total=len(experiments)))
        return [_write_peak_file(e) for e in _progress(experiments, progress, "peak files", "file")]
    finally:
        _PEAK_JOB = None


# ============================================================================ 6. truth: enhancers
ENHANCER_GC_STRATA = 50   # background bins are matched to the enhancers' GC in strata of 2 %


def enhancer_bins(bins: Bins, params: SimulationParams) -> dict[str, tuple[np.ndarray, list[str], np.ndarray]]:
    """Per tissue: enhancer bins (an instance of an active TF other than the insulator, no N), their
    TF names, and as many GC-matched clean background bins without any planted base (sorted indices)."""
    out = {}
    catalogue = params.catalogue
    clean = bins.n_fraction == 0
    pool = np.flatnonzero(clean & ~bins.touched)
    pool_stratum = np.minimum(bins.gc[pool] * ENHANCER_GC_STRATA, ENHANCER_GC_STRATA - 1).astype(np.int64)
    for t, tissue in enumerate(catalogue.tissues):
        rng = _rng(params, STREAM_ENHANCERS, t)
        mask = catalogue.bits(catalogue.enhancer_tfs(tissue))
        positive = np.flatnonzero(clean & ((bins.motif_bits & mask) != 0))
        stratum = np.minimum(bins.gc[positive] * ENHANCER_GC_STRATA, ENHANCER_GC_STRATA - 1).astype(np.int64)
        chosen = []
        for s, k in zip(*np.unique(stratum, return_counts=True)):
            candidates = pool[pool_stratum == s]
            chosen.append(rng.choice(candidates, min(k, len(candidates)), replace=False))
        chosen_set = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
        rest = np.setdiff1d(pool, chosen_set)
        deficit = min(len(positive) - len(chosen_set), len(rest))
        negative = np.sort(np.concatenate([chosen_set, rng.choice(rest, deficit, replace=False)]))
        names_of_bits = {b: ",".join(tf.name for i, tf in enumerate(catalogue.tfs) if (b & mask) >> i & 1)
                         for b in np.unique(bins.motif_bits[positive]).tolist()}
        out[tissue] = (positive, [names_of_bits[b] for b in bins.motif_bits[positive].tolist()], negative)
    return out


# ============================================================================ 7. variants
@dataclass(frozen=True)
class Variant:
    """One SNV: global 0-based position, REF and ALT codes, its class and INFO extras."""

    position: int
    ref: int
    alt: int
    kind: str
    info: str


def make_variants(genome: SimulatedGenome, sites: MotifSites, kmer_hits: list[np.ndarray],
                  params: SimulationParams) -> list[Variant]:
    """Motif-breaking, bias-k-mer-breaking and control SNVs (see module docstring, step 6)."""
    rng = _rng(params, STREAM_VARIANTS)
    kmers = [base_codes(k).tobytes() for _, kmer, _ in params.assay_kmers
             for k in dict.fromkeys([kmer, reverse_complement(kmer)])]
    variants = _motif_variants(genome, sites, params.catalogue.tfs, kmers, params.n_motif_variants, rng)
    variants += _bias_variants(genome, sites, kmer_hits, kmers, params, rng)
    variants += _control_variants(genome, sites, kmers, params, rng)
    unique = {v.position: v for v in reversed(variants)}   # a position twice: keep the first
    return sorted(unique.values(), key=lambda v: v.position)


def _touches_kmer(codes: np.ndarray, position: int, alt: int | None, kmers: list[bytes]) -> bool:
    """Whether an occurrence of any bias k-mer covers ``position`` (after putting ``alt`` there)."""
    k = max(len(m) for m in kmers)
    lo = max(position - k + 1, 0)
    context = bytearray(codes[lo:position + k].tobytes())
    if alt is not None:
        context[position - lo] = alt
    for kmer in kmers:
        j = context.find(kmer)
        while j != -1:
            if j <= position - lo < j + len(kmer):
                return True
            j = context.find(kmer, j + 1)
    return False


def _other_base(ref: int, rng: np.random.Generator) -> int:
    return int((ref + rng.integers(1, 4)) % 4)


def _motif_variants(genome: SimulatedGenome, sites: MotifSites, tfs: Sequence[TranscriptionFactor],
                    kmers: list[bytes], n: int, rng: np.random.Generator) -> list[Variant]:
    """Change a core base (PWM probability >= 0.8) that matches the consensus into an unlikely one."""
    variants = []
    for s in rng.permutation(len(sites)):
        if len(variants) == n:
            break
        factor = tfs[sites.tf[s]]
        pwm = factor.pwm()
        offsets = np.arange(factor.width)
        plus = sites.start[s] + offsets if not sites.minus[s] else sites.end[s] - 1 - offsets  # motif j -> genome
        planted = genome.codes[plus] if not sites.minus[s] else 3 - genome.codes[plus]
        core = np.flatnonzero((pwm.max(axis=1) >= 0.8) & (planted == pwm.argmax(axis=1)))
        if not len(core):
            continue
        j = int(rng.choice(core))
        position, ref = int(plus[j]), int(genome.codes[plus[j]])
        alt = _other_base(ref, rng)
        if _touches_kmer(genome.codes, position, None, kmers) or _touches_kmer(genome.codes, position, alt, kmers):
            continue
        variants.append(Variant(position, ref, alt, "motif", f"TF={factor.name}"))
    return variants


def _bias_variants(genome: SimulatedGenome, sites: MotifSites, kmer_hits: list[np.ndarray], kmers: list[bytes],
                   params: SimulationParams, rng: np.random.Generator) -> list[Variant]:
    """Break one occurrence of an assay's k-mer, far from TF instances, creating no other."""
    assays = [(a, assay, kmer) for a, (assay, kmer, weight) in enumerate(params.assay_kmers) if weight > 0]
    variants: list[Variant] = []
    if not assays:
        return variants
    for i, (a, assay, kmer) in enumerate(assays):
        wanted = params.n_bias_variants // len(assays) + (i < params.n_bias_variants % len(assays))
        hits = kmer_hits[a]
        hits = hits[np.minimum(sites.distance(hits), sites.distance(hits + len(kmer) - 1))
                    >= params.control_min_distance] if len(sites) else hits
        found = 0
        for h in rng.permutation(hits):
            if found == wanted:
                break
            position = int(h + rng.integers(len(kmer)))
            ref = int(genome.codes[position])
            alt = _other_base(ref, rng)
            if _touches_kmer(genome.codes, position, alt, kmers):
                continue
            variants.append(Variant(position, ref, alt, "bias", f"ASSAY={assay};KMER={kmer}"))
            found += 1
    return variants


def _control_variants(genome: SimulatedGenome, sites: MotifSites, kmers: list[bytes], params: SimulationParams,
                      rng: np.random.Generator) -> list[Variant]:
    """Random clean positions far from TF instances and outside every bias k-mer."""
    n = params.n_control_variants
    margin = max(len(k) for k in kmers)
    candidates = np.unique(rng.integers(margin, len(genome.codes) - margin, 4 * n + 1000))
    candidates = candidates[genome.clean(candidates - margin, candidates + margin + 1)]
    if len(sites):
        candidates = candidates[sites.distance(candidates) >= params.control_min_distance]
    variants = []
    for position in rng.permutation(candidates).tolist():
        if len(variants) == n:
            break
        ref = int(genome.codes[position])
        alt = _other_base(ref, rng)
        if _touches_kmer(genome.codes, position, None, kmers) or _touches_kmer(genome.codes, position, alt, kmers):
            continue
        variants.append(Variant(position, ref, alt, "control", ""))
    return variants


# ============================================================================ writers
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


def write_motifs(truth: Path, genome: SimulatedGenome, sites: MotifSites,
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
    (truth / "motifs.meme").write_text("\n".join(lines))
    chrom, local = genome.locate(sites.start)
    best = np.array([max_pwm_score(f) for f in tfs])
    score = np.clip(np.rint(1000 * sites.score / best[sites.tf]), 0, 1000).astype(np.int64)
    text = format_rows([Labels(chrom, genome.names), Ints(local), Ints(local + (sites.end - sites.start)),
                        Labels(sites.tf, [tf.name for tf in tfs]), Ints(score),
                        Labels(sites.minus.astype(np.int64), ["+", "-"])])
    (truth / "motif_sites.bed").write_bytes(text)


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


def write_metadata(outdir: Path, experiments: list[Experiment]) -> None:
    """``metadata.tsv`` (the user-facing table) and ``schema.yaml``."""
    _write_tsv(outdir / "metadata.tsv", METADATA_COLUMNS, (
        (e.name, e.condition.target, e.condition.tissue, e.condition.life_stage, e.condition.assay, e.condition.lab,
         e.condition.year, e.replicate, e.peak_file) for e in experiments))
    (outdir / "schema.yaml").write_text(SCHEMA_YAML)


def write_truth_tables(truth: Path, experiments: list[Experiment], peak_counts: list[tuple[int, int]],
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
    _write_tsv(truth / "experiments.tsv", header, rows)
    catalogue = params.catalogue
    _write_tsv(truth / "tissues.tsv", ("tissue", "life_stage", "active_tfs", "enhancer_tfs"), (
        (tissue, stage, ",".join(active), ",".join(catalogue.enhancer_tfs(tissue)))
        for tissue, (stage, active) in catalogue.tissues.items()))


def _num(value: float) -> str:
    """A float with at most 6 decimals and no trailing zeros (stable text)."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def write_enhancers(truth: Path, genome: SimulatedGenome, bins: Bins, params: SimulationParams) -> None:
    """``truth/enhancers_<tissue>.bed`` and ``truth/background_<tissue>.bed`` (BED4)."""
    for tissue, (positive, names, negative) in enhancer_bins(bins, params).items():
        for kind, rows, labels in (("enhancers", positive, names), ("background", negative, None)):
            codes = np.zeros(len(rows), dtype=np.int64)
            levels = ["background"]
            if labels is not None:
                levels = sorted(set(labels))
                lookup = {name: i for i, name in enumerate(levels)}
                codes = np.array([lookup[n] for n in labels], dtype=np.int64)
            text = format_rows([Labels(bins.chrom[rows], genome.names), Ints(bins.local_start[rows]),
                                Ints(bins.local_start[rows] + params.bin_size), Labels(codes, levels)])
            (truth / f"{kind}_{tissue}.bed").write_bytes(text)


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


# ============================================================================ the whole data set
def simulate(outdir: str | Path, params: SimulationParams | None = None, *, overwrite: bool = False,
             progress: bool = False, workers: int = 1) -> SimulationSummary:
    """Write the simulated data set to ``outdir`` (layout: see README / module docstring).

    Everything is written into a hidden temporary folder next to ``outdir`` and renamed into
    place at the end, so ``outdir`` is either complete or untouched.

    Args:
        outdir: the folder to create (must not exist, be empty, or be an earlier simulation
            when ``overwrite``).
        params: the simulation parameters (default: :class:`SimulationParams()`, the demo set).
        overwrite: replace an earlier ``mfd simulate`` output in ``outdir``.
        progress: show progress bars (tqdm, on stderr).
        workers: processes writing peak files (forked; the output does not depend on it).
    """
    began = time.time()
    params = params or SimulationParams()
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ConfigError(f"workers must be a positive integer, got {workers!r}", fix="use e.g. --workers 2")
    outdir = Path(outdir)
    _check_outdir(outdir, overwrite)
    _require_pysam()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.partial-", dir=outdir.parent))
    try:
        os.chmod(work, 0o755)
        summary = _write_dataset(work, params, progress, workers)
        _move_into_place(work, outdir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return SimulationSummary(outdir=outdir, seconds=time.time() - began, **summary)


def _write_dataset(out: Path, params: SimulationParams, progress: bool, workers: int) -> dict[str, Any]:
    (out / "peaks").mkdir()
    (out / "truth").mkdir()
    genome = make_genome(params, progress)
    sites = plant_motifs(genome, params)
    write_fasta(out / "genome.fa", genome, params.line_width)
    bins, kmer_hits = tabulate_bins(genome, sites, params)
    experiments = design_experiments(params)
    peak_counts = write_peak_files(out, experiments, bins, genome, params, progress, workers)
    write_metadata(out, experiments)
    write_truth_tables(out / "truth", experiments, peak_counts, params)
    write_bins(out / "truth" / "bins.tsv.gz", genome, bins, params)
    write_motifs(out / "truth", genome, sites, params.catalogue.tfs)
    write_enhancers(out / "truth", genome, bins, params)
    variants = make_variants(genome, sites, kmer_hits, params)
    write_vcf(out / "variants.vcf.gz", genome, variants)
    write_readme(out / "README.txt", params)
    (out / PARAMS_FILE).write_text(json.dumps(params.to_dict(), indent=2) + "\n")
    kinds = ("motif", "bias", "control")
    return dict(chromosomes=dict(zip(genome.names, genome.lengths.tolist())), n_bins=len(bins),
                n_motif_sites=len(sites), n_experiments=len(experiments),
                n_conditions=len({e.condition.index for e in experiments}),
                n_peaks=sum(n for _, n in peak_counts),
                mean_called_fraction=float(np.mean([c for c, _ in peak_counts])) / max(int(bins.callable.sum()), 1),
                n_variants={k: sum(v.kind == k for v in variants) for k in kinds})


def _check_outdir(outdir: Path, overwrite: bool) -> None:
    if outdir.exists() and not outdir.is_dir():
        raise MFDError("output exists and is not a folder", path=outdir, fix="choose a new folder name")
    if outdir.is_dir() and any(outdir.iterdir()):
        if not overwrite:
            raise MFDError("output folder exists and is not empty", path=outdir,
                           fix="choose a new folder, or pass --overwrite to replace an earlier simulation")
        if not (outdir / PARAMS_FILE).exists():
            raise MFDError(f"output folder is not empty and was not written by mfd simulate (no {PARAMS_FILE}); "
                           f"not overwriting it", path=outdir, fix="choose a new folder")


def _move_into_place(work: Path, outdir: Path) -> None:
    """Rename the finished folder to ``outdir`` (replacing an empty or earlier one)."""
    old = None
    if outdir.is_dir():
        old = outdir.with_name(f".{outdir.name}.old-{os.getpid()}")
        os.rename(outdir, old)
    os.rename(work, outdir)
    if old is not None:
        shutil.rmtree(old)


def _require_pysam() -> None:
    try:
        import pysam  # noqa: F401
    except ImportError:
        raise MFDError("mfd simulate writes variants.vcf.gz through pysam, which is not installed",
                       fix="pip install -c constraints.txt 'mfd-kipoi[kipoi]'") from None


def _progress(items: Iterable, enabled: bool, description: str, unit: str, total: int | None = None) -> Iterable:
    if not enabled:
        return items
    from tqdm import tqdm
    return tqdm(items, desc=description, unit=unit, total=total, leave=False)
