"""The planted biology's catalogue: TFs and their PWMs, tissues and the TFs active in each, the
targets and assays of the experiments.

A TF is an IUPAC consensus (upper case strong, lower case weak); :meth:`TranscriptionFactor.pwm`
turns it into a position probability matrix, shape=(width, 4), ACGT columns. A
:class:`MotifSet` is one catalogue (``SimulationParams.motif_set`` names it): its TFs, each
tissue's life stage and active TFs, and the insulator that is active everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from ...encoding import ALPHABET

# targets (besides each TF, a ChIP-seq target) and assays of the experiments
ACCESSIBLE, HISTONE = "Accessible DNA", "H3K27ac"
ACCESSIBILITY_ASSAYS = ("DNase-seq", "ATAC-seq")
CHIP = "ChIP-seq"
ASSAYS = ACCESSIBILITY_ASSAYS + (CHIP,)


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
