"""Step 6, truth: SNVs that break a motif core base, break one bias k-mer occurrence, or touch neither."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ...encoding import base_codes, reverse_complement
from .catalogue import TranscriptionFactor
from .genome import SimulatedGenome
from .motifs import MotifSites
from .params import SimulationParams
from .streams import STREAM_VARIANTS, stream


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
    rng = stream(params, STREAM_VARIANTS)
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
