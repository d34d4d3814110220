"""The whole data set: :func:`simulate` runs the steps and writes every file, atomically."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import ConfigError, MFDError
from ...outputs import atomic_folder
from ...simulation_layout import SimulationLayout
from .bins import tabulate_bins
from .experiments import design_experiments
from .genome import make_genome
from .motifs import plant_motifs
from .params import SimulationParams
from .peaks import write_peak_files
from .variants import make_variants
from .writing import (write_bins, write_enhancers, write_fasta, write_metadata, write_motifs, write_readme,
                      write_truth_tables, write_vcf)

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


def simulate(outdir: str | Path, params: SimulationParams | None = None, *, overwrite: bool = False,
             progress: bool = False, workers: int = 1) -> SimulationSummary:
    """Write the simulated data set to ``outdir`` (layout: :class:`~mfd_model.simulation_layout.SimulationLayout`).

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
    with atomic_folder(outdir) as work:
        summary = _write_dataset(work, params, progress, workers)
    return SimulationSummary(outdir=outdir, seconds=time.time() - began, **summary)


def _write_dataset(out: Path, params: SimulationParams, progress: bool, workers: int) -> dict[str, Any]:
    """Every step and every file, written into ``out``; the numbers of :class:`SimulationSummary`."""
    layout = SimulationLayout(out)
    layout.peaks_dir.mkdir()
    layout.truth_dir.mkdir()
    genome = make_genome(params, progress)
    sites = plant_motifs(genome, params)
    write_fasta(layout.genome_fa, genome, params.line_width)
    bins, kmer_hits = tabulate_bins(genome, sites, params)
    experiments = design_experiments(params)
    peak_counts = write_peak_files(layout, experiments, bins, genome, params, progress, workers)
    write_metadata(layout, experiments)
    write_truth_tables(layout, experiments, peak_counts, params)
    write_bins(layout.truth_bins, genome, bins, params)
    write_motifs(layout, genome, sites, params.catalogue.tfs)
    write_enhancers(layout, genome, bins, params)
    variants = make_variants(genome, sites, kmer_hits, params)
    write_vcf(layout.variants_vcf, genome, variants)
    write_readme(layout.readme, params)
    layout.params_json.write_text(json.dumps(params.to_dict(), indent=2) + "\n")
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
        marker = SimulationLayout(outdir).params_json
        if not marker.exists():
            raise MFDError(f"output folder is not empty and was not written by mfd simulate "
                           f"(no {marker.relative_to(outdir).as_posix()}); not overwriting it", path=outdir,
                           fix="choose a new folder")


def _require_pysam() -> None:
    try:
        import pysam  # noqa: F401
    except ImportError:
        raise MFDError("mfd simulate writes variants.vcf.gz through pysam, which is not installed",
                       fix="pip install -c constraints.txt 'mfd-kipoi[kipoi]'") from None
