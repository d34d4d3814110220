"""The layout of a simulated data set (``mfd simulate OUTDIR``), as the evaluation reads it.

    OUTDIR/genome.fa                           the simulated genome
    OUTDIR/metadata.tsv, schema.yaml           the experiments
    OUTDIR/truth/bins.tsv.gz                   per 128 bp bin: gc, motif_<TF>, biology, kmer_<assay>, gc_rich
    OUTDIR/truth/motifs.meme                   planted PWMs
    OUTDIR/truth/motif_sites.bed               planted sites (chrom start end TF score strand)
    OUTDIR/truth/enhancers_<tissue>.bed        positives of the Table-1 style task
    OUTDIR/truth/background_<tissue>.bed       negatives of the same tissue
    OUTDIR/variants.vcf.gz                     labelled variants, INFO SIM=motif|bias|control

This module only finds those files (nothing here knows how they were made); a missing part
is ``None`` and the evaluation skips what needs it, saying so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MFDError


@dataclass
class SimulatedData:
    """Paths of a simulated data set (``None`` where absent)."""

    root: Path
    genome: Path | None
    metadata: Path | None
    schema: Path | None
    bins: Path | None
    motifs: Path | None
    sites: Path | None
    variants: Path | None
    enhancers: dict[str, tuple[Path, Path]] = field(default_factory=dict)


def _existing(path: Path) -> Path | None:
    return path if path.exists() else None


def simulated_layout(root: str | Path) -> SimulatedData:
    """Find the parts of a simulated data set under ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise MFDError("simulated data folder not found", path=root, fix="pass the OUTDIR of 'mfd simulate'")
    truth = root / "truth"
    enhancers: dict[str, tuple[Path, Path]] = {}
    for positive in sorted(truth.glob("enhancers_*.bed*")):
        tissue = positive.name[len("enhancers_"):].split(".bed")[0]
        negative = next(iter(sorted(truth.glob(f"background_{tissue}.bed*"))), None)
        if negative is not None:
            enhancers[tissue] = (positive, negative)
    genome = _existing(root / "genome.fa") or _existing(root / "genome.fa.gz")
    variants = _existing(root / "variants.vcf.gz") or _existing(root / "variants.vcf")
    data = SimulatedData(root, genome, _existing(root / "metadata.tsv"), _existing(root / "schema.yaml"),
                         _existing(truth / "bins.tsv.gz") or _existing(truth / "bins.tsv"),
                         _existing(truth / "motifs.meme"), _existing(truth / "motif_sites.bed"), variants, enhancers)
    if data.genome is None:
        raise MFDError("simulated data folder has no genome.fa", path=root, fix="pass the OUTDIR of 'mfd simulate'")
    return data
