"""A simulated data set (``mfd simulate OUTDIR``) as the evaluation reads it.

The file names are :class:`~mfd_model.simulation_layout.SimulationLayout`'s; this module only
finds which of those files are there (the genome, the truth bins and the variants also as their
compressed or plain twin: ``genome.fa.gz``, ``truth/bins.tsv``, ``variants.vcf``). A missing part
is ``None`` and the evaluation skips what needs it, saying so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MFDError
from ..simulation_layout import SimulationLayout


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


def _or_twin(path: Path) -> Path | None:
    """``path``, else its compressed (``.gz`` added) or plain (``.gz`` removed) twin, else ``None``."""
    twin = path.with_name(path.name[:-3]) if path.name.endswith(".gz") else path.with_name(path.name + ".gz")
    return _existing(path) or _existing(twin)


def simulated_layout(root: str | Path) -> SimulatedData:
    """Find the parts of a simulated data set under ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise MFDError("simulated data folder not found", path=root, fix="pass the OUTDIR of 'mfd simulate'")
    layout = SimulationLayout(root)
    data = SimulatedData(root, _or_twin(layout.genome_fa), _existing(layout.metadata_tsv),
                         _existing(layout.schema_yaml), _or_twin(layout.truth_bins), _existing(layout.motifs_meme),
                         _existing(layout.motif_sites_bed), _or_twin(layout.variants_vcf), layout.enhancer_sets())
    if data.genome is None:
        raise MFDError(f"simulated data folder has no {layout.genome_fa.name}", path=root,
                       fix="pass the OUTDIR of 'mfd simulate'")
    return data
