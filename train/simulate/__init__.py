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

The package reads top to bottom, one step per module:

    catalogue    TFs and their PWMs, tissues and their active TFs, targets and assays (the motif sets)
    params       SimulationParams: every knob, checked at construction
    streams      the random stream of each step, keyed by (seed, stream, index); progress bars
    genome       step 1: isochores and N gaps (SimulatedGenome)
    motifs       step 2: planted TF instances (MotifSites)
    bins         step 3: the bin tiling and its per-bin truth (Bins)
    experiments  step 4: conditions, replicates, the metadata table's columns and schema
    peaks        step 5: scores, noise, calls and the narrowPeak files (in forked workers)
    enhancers    step 6: enhancer and GC-matched background bins per tissue
    variants     step 6: motif, bias and control SNVs
    writing      every file of the data set
    dataset      simulate(): all of the above into a folder that appears whole
"""
from __future__ import annotations

from ...lazy import lazy_exports

_EXPORTS = {
    "TranscriptionFactor": "catalogue", "MotifSet": "catalogue", "MOTIF_SETS": "catalogue",
    "DEFAULT_MOTIF_SET": "catalogue", "TFS": "catalogue", "TISSUES": "catalogue", "UBIQUITOUS_TF": "catalogue",
    "ALTERNATIVE_TFS": "catalogue", "ALTERNATIVE_TISSUES": "catalogue",
    "SimulationParams": "params",
    "SimulatedGenome": "genome", "make_genome": "genome",
    "MotifSites": "motifs", "plant_motifs": "motifs",
    "Bins": "bins", "tabulate_bins": "bins",
    "Condition": "experiments", "Experiment": "experiments", "design_experiments": "experiments",
    "Peaks": "peaks", "call_peaks": "peaks",
    "enhancer_bins": "enhancers",
    "Variant": "variants", "make_variants": "variants",
    "SimulationSummary": "dataset", "simulate": "dataset",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
