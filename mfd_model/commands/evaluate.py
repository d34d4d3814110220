"""``mfd evaluate``: prediction performance, enhancer classification (Table 1), variant
enrichment (Table 2) and disentanglement diagnostics, as tables and figures.

    mfd evaluate results/ -m model.pt --simulated sim/ --store store/ --variant-scores scores.tsv
    mfd evaluate results/ -m model.pt --baseline-model baseline.pt \\
        --fasta hg38.fa --enhancers liver=liver_enh.bed,liver_bg.bed --enhancers heart=heart_enh.bed,random
    mfd evaluate results/ -m model.pt --parts variants --variant-scores gtex.tsv \\
        --variant-labels gtex_labels.tsv --cutoffs 0.9 0.95 0.99

Parts (``--parts``, default ``auto`` = every part whose inputs are given):

* ``performance`` (``--store``): AUROC / AUPRC per experiment on the ``--split`` bins (forward
  and reverse complement averaged), summarised by ``--group-by`` metadata columns;
* ``enhancers`` (``--enhancers TISSUE=POS.bed,NEG.bed``; NEG may be ``random``; with
  ``--simulated`` the ``truth/enhancers_<tissue>.bed`` / ``background_<tissue>.bed`` pairs):
  L2 logistic regression on frozen bio / tech / full features (and ``--baseline-model``
  features), C by cross-validation, balanced classes, stratified 80/20 split;
* ``variants`` (``--variant-scores`` from ``mfd score-variants``; labels from
  ``--variant-labels`` VCF/TSV or the simulated ``variants.vcf.gz``): odds ratios and Fisher
  tests of true variants at quantile cutoffs, per feature set, aggregated over outputs;
* ``diagnostics``: cross-subspace correlation and post-hoc adversary R2; with a per-bin truth
  table (``--truth-bins``, roles by ``bio:`` / ``tech:`` column prefixes or
  ``--biological-columns`` / ``--technical-columns``; with ``--simulated`` its
  ``truth/bins.tsv.gz``) also linear probes of bio / tech / full features against it.

* ``interpretation`` (``--importance DIR`` from ``mfd importance``, ``--motifs DIR`` from
  ``mfd motifs discover``, repeatable): their tables in the report (:mod:`mfd_model.evaluate.interpretation`).

``--simulated DIR`` only fills in what is not given: ``--fasta``, ``--enhancers``,
``--variant-labels``, ``--truth-bins``. With ``--baseline-model`` the performance part
evaluates the baseline on the same bins; the run ends with the paper's claims checked
(:mod:`mfd_model.evaluate.claims`). Everything is written to OUTDIR (TSV + markdown tables,
PNG figures, ``report.md``, ``summary.json``) only when the whole run succeeds.
"""
from __future__ import annotations

import argparse

from . import analysis_args as common
from .check_disentanglement import add_truth_role_arguments

OUTPUTS = ("outdir",)  # the arguments that name what it writes (never one of its inputs)

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("outdir", metavar="OUTDIR", help="output folder for tables and figures")
    common.add_model_argument(parser)
    parser.add_argument("--baseline-model", metavar="MODEL", help="a baseline model whose features are compared too")
    parser.add_argument("--parts", default="auto",
                        help="comma-separated parts: performance, enhancers, variants, diagnostics, all "
                             "(default auto: every part whose inputs are given)")
    parser.add_argument("--simulated", metavar="DIR", help="a 'mfd simulate' folder: genome, enhancer sets, "
                                                           "variant labels and ground truth are taken from it")
    parser.add_argument("--fasta", metavar="FASTA", help="reference genome (default: the simulated genome, else the store's)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (subsets, splits, random windows)")

    perf = parser.add_argument_group("performance")
    perf.add_argument("--store", metavar="STORE", help="label store made by 'mfd prepare'")
    perf.add_argument("--split", default="test", choices=["train", "valid", "test"], help="bins to evaluate (default test)")
    perf.add_argument("--max-bins", type=int, default=20000, help="evaluate a random subset of this many bins (default 20000)")
    perf.add_argument("--group-by", default="assay,target",
                      help="metadata columns to summarise performance and per-output odds ratios by "
                           "(default assay,target; missing ones are skipped)")

    enh = parser.add_argument_group("enhancers")
    enh.add_argument("--enhancers", action="append", default=[], metavar="TISSUE=POS.bed,NEG.bed",
                     help="positive and negative intervals of one tissue (NEG 'random': random genome windows); repeatable")
    enh.add_argument("--strand", default="concat", choices=["fwd", "rc", "mean", "concat"],
                     help="how forward / reverse features combine (default concat, as the paper)")
    enh.add_argument("--folds", type=int, default=5, help="cross-validation folds for C (default 5)")
    enh.add_argument("--cs", default=None, metavar="C,...",
                     help="inverse regularisation strengths to choose from (default 1e-4 ... 1e2, 7 values)")
    enh.add_argument("--repeats", type=int, default=1, help="random 80/20 splits averaged (default 1)")
    enh.add_argument("--max-per-class", type=int, default=5000, help="subsample each class to at most this many")
    enh.add_argument("--random-negatives", type=int, default=3, metavar="K",
                     help="NEG 'random': K random genome windows per positive, avoiding the positives (default 3)")

    var = parser.add_argument_group("variants")
    var.add_argument("--variant-scores", metavar="TSV", help="variant scores table from 'mfd score-variants'")
    var.add_argument("--baseline-variant-scores", metavar="TSV", help="the baseline model's variant scores table")
    var.add_argument("--baseline-score", default=None, metavar="NAME", help="score name to use from the baseline table")
    var.add_argument("--score-map", default=None, metavar="SET=SCORE,...",
                     help="feature set -> score name, e.g. combined=diff,bio=bio,tech=tech (default: every score name)")
    var.add_argument("--score-column-pattern", default=None, metavar="REGEX",
                     help="regular expression with groups 'experiment' and 'score' for the score columns")
    var.add_argument("--variant-labels", metavar="VCF|TSV", help="true / control labels (VCF INFO field or TSV)")
    var.add_argument("--label-field", default="SIM", help="VCF INFO field holding the label (default SIM)")
    var.add_argument("--true-values", default=None, metavar="V,...",
                     help="label values that mark true variants (default: motif; simulated: motif and bias, separately)")
    var.add_argument("--control-values", default="control", metavar="V,...", help="label values of controls (default control)")
    var.add_argument("--cutoffs", nargs="+", default=None, metavar="Q",
                     help="quantile cutoffs: one-sided q (0.99) or two-sided lo,hi (0.01,0.99) (default 0.9 0.95 0.99)")
    var.add_argument("--two-sided", action="store_true", help="use the two-sided cutoffs (0.1,0.9) (0.01,0.99) (0.001,0.999)")

    diag = parser.add_argument_group("diagnostics")
    diag.add_argument("--truth-bins", metavar="TSV", help="per-bin truth table: chrom, start, end, one column per known "
                                                          "quantity (default: <simulated>/truth/bins.tsv.gz)")
    add_truth_role_arguments(diag)
    diag.add_argument("--diagnostic-bed", metavar="BED", help="regions for the subspace diagnostics (default: random windows)")
    diag.add_argument("--diagnostic-bins", type=int, default=3000, help="sequences for the diagnostics (default 3000)")
    diag.add_argument("--adversary-steps", type=int, default=300, help="training steps of the post-hoc adversaries")

    interp = parser.add_argument_group("interpretation")
    interp.add_argument("--importance", metavar="DIR", help="an 'mfd importance' output folder: its ablation table")
    interp.add_argument("--motifs", action="append", default=[], metavar="DIR",
                        help="an 'mfd motifs discover' output folder: its patterns and matches (repeatable)")
    common.add_compute_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..errors import MFDError
    from ..evaluate.evaluation import evaluate
    from ..evaluate.options import EvaluationOptions
    from ..evaluate.simulated import simulated_layout

    sim = simulated_layout(args.simulated) if args.simulated else None
    for path, what in ((args.store, "label store"), (args.fasta, "FASTA file"), (args.variant_scores, "variant scores"),
                       (args.baseline_variant_scores, "baseline variant scores"),
                       (args.variant_labels, "variant labels"), (args.truth_bins, "truth bin table"),
                       (args.diagnostic_bed, "diagnostic BED"), (args.importance, "importance folder"),
                       *((m, "motif discovery folder") for m in args.motifs)):
        if path and not Path(path).exists():
            raise MFDError(f"{what} not found", path=path, fix="check the path")
    for name in ("max_bins", "folds", "repeats", "max_per_class", "random_negatives", "diagnostic_bins",
                 "adversary_steps", "batch_size"):
        common.check_positive(getattr(args, name), "--" + name.replace("_", "-"))
    evaluation = evaluate(EvaluationOptions.from_namespace(args), load=common.load, simulated=sim, outdir=args.outdir)
    evaluation.write(args.outdir)
    print(evaluation.closing(args.outdir))
    return 0
