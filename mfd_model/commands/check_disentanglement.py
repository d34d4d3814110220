"""``mfd check-disentanglement``: against known per-bin truth, do the subspaces hold what they should?

    mfd check-disentanglement build/demo/run/model.pt --reference build/demo/run_lambda0/model.pt \\
        --simulation build/demo/sim --store build/demo/labels --out build/demo/disentanglement
    mfd check-disentanglement model.pt --truth-bins truth.tsv.gz --store labels/ \\
        --biological-columns my_motif --technical-columns my_bias

Any truth table works (format: ``mfd_model.evaluate.disentanglement``; ``--simulation DIR`` is
``--truth-bins DIR/truth/bins.tsv.gz``). Prints the probe table (biological / technical / full
features -> known biological and technical quantities, cross-validated AUROC / R2), the dependence
between the subspaces, and one PASS / FAIL line per criterion (SKIP for a quantity the model did
not learn); exits 1 if a criterion fails or none could be judged. The check itself:
:func:`mfd_model.evaluate.disentanglement_check.check_against_truth`.
"""
from __future__ import annotations

import argparse

OUTPUTS = ("out",)  # the arguments that name what it writes (never one of its inputs)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="MFD model trained with lambda > 0 (.pt model file or .ckpt)")
    parser.add_argument("--reference", help="the same model trained with lambda = 0, for the correlation criterion")
    truth = parser.add_mutually_exclusive_group(required=True)
    truth.add_argument("--truth-bins", metavar="TABLE", help="per-bin truth table: TSV(.gz) with chrom, start, end "
                                                             "and one column per known quantity")
    truth.add_argument("--simulation", metavar="DIR", help="folder written by 'mfd simulate' (its truth/bins.tsv.gz)")
    add_truth_role_arguments(parser)
    parser.add_argument("--store", required=True, help="label store prepared from the same data (its bins are rows "
                                                       "of the truth table)")
    parser.add_argument("--split", default="test", choices=("train", "valid", "test"), help="bins to probe (default test)")
    parser.add_argument("--max-bins", type=int, default=3000, help="probe at most this many bins (default 3000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bin subsample and the probes")
    parser.add_argument("--out", help="folder for probes.tsv, dependence.tsv, criteria.tsv and probes.png")


def add_truth_role_arguments(parser) -> None:
    """``--biological-columns`` / ``--technical-columns`` (shared with ``mfd evaluate``)."""
    parser.add_argument("--biological-columns", metavar="A,B", help="truth columns that are biological (checked: "
                                                                    "bio features must predict them better)")
    parser.add_argument("--technical-columns", metavar="C,D", help="truth columns that are technical (checked: "
                                                                   "tech features must predict them better)")


def run(args: argparse.Namespace) -> int:
    from ..evaluate.disentanglement import read_truth_bins
    from ..evaluate.disentanglement_check import check_against_truth
    from ..model_io import load_model
    from ..simulation_layout import SimulationLayout
    from ..train.labels import LabelStore

    roles = {"biological": args.biological_columns, "technical": args.technical_columns}
    truth = read_truth_bins(args.truth_bins or SimulationLayout(args.simulation).truth_bins, **roles)
    store = LabelStore.open(args.store)
    model = load_model(args.model)
    reference = load_model(args.reference) if args.reference else None
    check = check_against_truth(model, truth, store, reference=reference, split=args.split, max_bins=args.max_bins,
                                seed=args.seed, **roles)
    print(check.report())
    if args.out:
        check.write(args.out)
        print(f"\ntables and plot written to {args.out}")
    if not check.judged:
        print(check.unjudged())
    return 0 if check.passed else 1
