"""``mfd demo``: MFD end to end on the embedded default (simulated data), as a user would run it.

    mfd demo [--outdir build/demo] [--config CONFIG.yaml] [--skip-comparisons] [--jobs N] [--robustness]

Runs the ``mfd`` commands a user would type, one after the other, everything under ``--outdir``:
simulate, prepare, train (MFD, lambda = 0, baseline), check-disentanglement, export, predict,
importance, motifs discover, score-variants, evaluate; steps whose outputs exist are skipped.
The flow, step by step: :mod:`mfd_model.demo` (:func:`~mfd_model.demo.run_demo`).
"""
from __future__ import annotations

import argparse

OUTPUTS = ("outdir",)  # the arguments that name what it writes (never one of its inputs)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..demo import EXTRA_SEEDS, SECOND_SIMULATION   # standard library only: --help stays fast

    parser.add_argument("--outdir", default="build/demo", help="where everything goes (default build/demo)")
    parser.add_argument("--config", help="training config (default: the packaged train/configs/demo.yaml)")
    parser.add_argument("--skip-comparisons", action="store_true",
                        help="train only the default model (no lambda = 0 / baseline models, no comparisons)")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="trainings run at once, as child processes, each with its share of the cores "
                             "(default: 3 with 2 cores or more, else 1; 1: one after the other in this process)")
    parser.add_argument("--robustness", action="store_true",
                        help="then check the verdicts on a second simulation (mfd simulate "
                             f"{' '.join(SECOND_SIMULATION)}) and over training seeds {', '.join(map(str, EXTRA_SEEDS))} "
                             "(spread of test AUROC, rank agreement of variant effects): OUT/robustness/report.md "
                             "(about 45 more minutes on 2 cores)")


def run(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    if args.jobs is not None and args.jobs < 1:
        from ..errors import MFDError
        raise MFDError(f"--jobs must be at least 1, got {args.jobs}", fix="use e.g. --jobs 1")
    demo = run_demo(args.outdir, args.config, comparisons=not args.skip_comparisons, robustness=args.robustness,
                    jobs=args.jobs)
    print(f"\n{demo.report()}")
    return 0
