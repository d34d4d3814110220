"""Every knob of the simulation (:class:`SimulationParams`), checked at construction."""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, fields
from typing import Any

from ...encoding import reverse_complement
from ...errors import ConfigError
from ...yamlio import check_keys
from .catalogue import ASSAYS, DEFAULT_MOTIF_SET, MOTIF_SETS, MotifSet

MIN_CHROMOSOME = 20_000          # bp; room for gaps, isochores and a few 1152 bp windows


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
        check_keys(values, known, unknown="unknown simulation parameter(s): {keys}",
                   fix=f"known parameters are {', '.join(sorted(known))}",
                   not_a_mapping="the simulation parameters must be a mapping")
        return cls(**values)
