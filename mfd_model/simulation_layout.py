"""The files of a simulated data set (``mfd simulate OUTDIR``), named in one place.

    OUTDIR/README.txt                          the layout and the generative model, in words
    OUTDIR/genome.fa, genome.fa.fai            the simulated genome and its index
    OUTDIR/metadata.tsv, schema.yaml           the experiments (peak_file relative to the table) and their schema
    OUTDIR/peaks/<experiment>.narrowPeak.gz    one narrowPeak file per experiment
    OUTDIR/variants.vcf.gz (+ .tbi)            labelled SNVs, INFO SIM=motif|bias|control
    OUTDIR/truth/bins.tsv.gz                   per bin: gc, n_fraction, motif_<TF>, biology, kmer_<assay>, gc_rich
    OUTDIR/truth/experiments.tsv               metadata + every bias acting on each experiment
    OUTDIR/truth/tissues.tsv                   active TFs per tissue
    OUTDIR/truth/motifs.meme, motif_sites.bed  planted PWMs and every planted instance
    OUTDIR/truth/enhancers_<tissue>.bed        enhancer bins of a tissue (positives of the Table-1 style task)
    OUTDIR/truth/background_<tissue>.bed       GC-matched background bins of the same tissue (negatives)
    OUTDIR/truth/params.json                   the simulation parameters (marks a folder written by mfd simulate)

The simulator (:mod:`mfd_model.train.simulate`) writes through :class:`SimulationLayout` and every
reader (the evaluation, ``mfd train``'s provenance, ``mfd check-disentanglement``, ``mfd demo``) finds
the files through it. Only the standard library is imported: core modules may use it freely.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PEAKS_FOLDER = "peaks"
TRUTH_FOLDER = "truth"
PEAK_SUFFIX = ".narrowPeak.gz"
ENHANCERS_PREFIX, BACKGROUND_PREFIX = "enhancers_", "background_"


@dataclass(frozen=True)
class SimulationLayout:
    """Where each file of a simulated data set lives under ``root`` (nothing is checked or read here).

    Attributes:
        root: the simulation folder (``OUTDIR`` of ``mfd simulate``), or the temporary folder the
            simulator writes before renaming it into place.
    """

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    # ------------------------------------------------------------------ top level
    @property
    def readme(self) -> Path:
        return self.root / "README.txt"

    @property
    def genome_fa(self) -> Path:
        return self.root / "genome.fa"

    @property
    def genome_fai(self) -> Path:
        return self.root / "genome.fa.fai"

    @property
    def metadata_tsv(self) -> Path:
        return self.root / "metadata.tsv"

    @property
    def schema_yaml(self) -> Path:
        return self.root / "schema.yaml"

    @property
    def variants_vcf(self) -> Path:
        """The BGZF-compressed VCF (its tabix index is :attr:`variants_tbi`)."""
        return self.root / "variants.vcf.gz"

    @property
    def variants_tbi(self) -> Path:
        return self.root / "variants.vcf.gz.tbi"

    @property
    def peaks_dir(self) -> Path:
        return self.root / PEAKS_FOLDER

    @staticmethod
    def peak_file_entry(experiment: str) -> str:
        """An experiment's peak file as ``metadata.tsv`` names it: relative to the table, ``/`` separated."""
        return f"{PEAKS_FOLDER}/{experiment}{PEAK_SUFFIX}"

    def peak_file(self, experiment: str) -> Path:
        return self.root / self.peak_file_entry(experiment)

    # ------------------------------------------------------------------ truth/
    @property
    def truth_dir(self) -> Path:
        return self.root / TRUTH_FOLDER

    @property
    def truth_bins(self) -> Path:
        return self.truth_dir / "bins.tsv.gz"

    @property
    def experiments_tsv(self) -> Path:
        return self.truth_dir / "experiments.tsv"

    @property
    def tissues_tsv(self) -> Path:
        return self.truth_dir / "tissues.tsv"

    @property
    def motifs_meme(self) -> Path:
        return self.truth_dir / "motifs.meme"

    @property
    def motif_sites_bed(self) -> Path:
        return self.truth_dir / "motif_sites.bed"

    @property
    def params_json(self) -> Path:
        """The parameters; its presence marks a folder that ``mfd simulate`` wrote."""
        return self.truth_dir / "params.json"

    def enhancers(self, tissue: str) -> Path:
        return self.truth_dir / f"{ENHANCERS_PREFIX}{tissue}.bed"

    def background(self, tissue: str) -> Path:
        return self.truth_dir / f"{BACKGROUND_PREFIX}{tissue}.bed"

    def enhancer_sets(self) -> dict[str, tuple[Path, Path]]:
        """``tissue -> (enhancers, background)`` for every tissue that has both files on disk, plain or
        compressed (``.bed*``), in file-name order."""
        found: dict[str, tuple[Path, Path]] = {}
        for positive in sorted(self.truth_dir.glob(f"{ENHANCERS_PREFIX}*.bed*")):
            tissue = positive.name[len(ENHANCERS_PREFIX):].split(".bed")[0]
            negative = next(iter(sorted(self.truth_dir.glob(f"{BACKGROUND_PREFIX}{tissue}.bed*"))), None)
            if negative is not None:
                found[tissue] = (positive, negative)
        return found
