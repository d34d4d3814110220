"""``mfd importance``: the test accuracy each latent unit, metadata group and subspace carries.

    mfd importance STORE OUTDIR -m model.pt                       # 2000 random test bins
    mfd importance STORE OUTDIR -m model.pt --max-bins 500 --group-by assay,target,tissue

Each named unit (``bio/target:CTCF``), each metadata group of units (``bio/target``,
``tech/interact``) and each subspace (``bio``, ``tech``) is switched off in turn — set to its
mean over the evaluated bins — and the bins of the label store's ``--split`` are predicted again
(forward and reverse complement averaged, as ``mfd evaluate``). The drop in AUROC / AUPRC from
the intact model is reported per experiment and as the mean per experiment group (each value of
the ``--group-by`` metadata columns, and ``all``).

Writes into OUTDIR: ``importance.tsv`` (per ablation and experiment group),
``importance_per_experiment.tsv``, ``performance_intact.tsv``, ``importance.png`` (heat map of
the mean AUROC drops) and ``summary.json``. See docs/interpretation.md.
"""
from __future__ import annotations

import argparse

from . import analysis_args as common

OUTPUTS = ("outdir",)  # the arguments that name what it writes (never one of its inputs)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", metavar="STORE", help="label store (mfd prepare) holding the bins and labels")
    parser.add_argument("outdir", metavar="OUTDIR", help="output folder")
    common.add_model_argument(parser)
    parser.add_argument("--split", choices=["test", "valid", "train"], default="test",
                        help="which bins to evaluate (default: test, the held-out chromosomes)")
    parser.add_argument("--max-bins", type=int, default=2000, metavar="N",
                        help="evaluate a random subset of N bins (default 2000; seeded by --seed)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the bin subset (default 0)")
    parser.add_argument("--group-by", default="assay,target", metavar="COLUMNS",
                        help="metadata columns whose values group experiments (default: assay,target)")
    parser.add_argument("--fasta", metavar="FASTA", help="genome FASTA (default: the one the store was made from)")
    common.add_compute_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ..evaluate.importance import ablation_importance
    from ..train.labels import LabelStore

    common.check_positive(args.max_bins, "--max-bins")
    common.check_positive(args.batch_size, "--batch-size")
    if args.fasta:
        common.require_file(args.fasta, "FASTA file")
    model = common.load(args.model)
    store = LabelStore.open(args.store)
    columns = [c.strip() for c in args.group_by.split(",") if c.strip()]
    result = ablation_importance(model, store, split=args.split, max_bins=args.max_bins, seed=args.seed,
                                 fasta=args.fasta, group_by=columns, batch_size=args.batch_size, device=args.device,
                                 progress=not args.no_progress)
    result.info["command"] = getattr(args, "command_line", "mfd importance")
    written = result.write(args.outdir)
    print(result.report())
    print(f"wrote {args.outdir}/: " + ", ".join(p.name for p in written))
    return 0
