"""``mfd score-variants``: score the variants of a VCF with an MFD model (kipoi-veff scores + MFD effects).

    mfd score-variants IN.vcf.gz IN.fa OUT.tsv [-m MODEL] [-s diff -s logit ...]
        [--vcf-out OUT.vcf.gz] [--rejects OUT.rejects.tsv] [--parquet-out OUT.parquet]
        [--rc-merge mean|median|max|min|absmax|none] [--shifts=-3:3]
        [--experiments NAME,...] [--select target=CTCF ...] [--aggregate mean ...]
        [--batch-size N] [--workers N] [--devices N]

Every input record ends up scored (TSV, VCF, Parquet) or in the rejects TSV with its reason;
the counts are printed. See docs/variant_scoring.md.
"""
from __future__ import annotations

import argparse

from . import analysis_args as common

OUTPUTS = ("out", "vcf_out", "rejects", "parquet_out")  # the arguments that name what it writes (never one of its inputs)

SCORE_NAMES = ("ref", "alt", "diff", "logit_ref", "logit_alt", "logit", "deepsea_effect",
               "combined", "biological", "technical", "logit_biological", "logit_technical")
RC_MERGES = ("mean", "median", "max", "min", "absmax", "none")
AGGREGATIONS = ("mean", "median", "min", "max", "absmax")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("vcf", help="variants: VCF, VCF.gz (gzip or BGZF) or BCF")
    parser.add_argument("fasta", help="reference genome FASTA (plain or BGZF); contig names may differ by 'chr'")
    parser.add_argument("out", help="scores TSV: #CHROM POS ID REF ALT MFD/<experiment>/<score> ...")
    parser.add_argument("-m", "--model", help="MFD model: .pt model file, training checkpoint or Kipoi model "
                                              "folder (default: the packaged default model)")
    parser.add_argument("-s", "--score", action="append", choices=SCORE_NAMES, metavar="SCORE",
                        help=f"score to report, repeatable: {', '.join(SCORE_NAMES)} "
                             "(default: diff, biological, technical; diff for a baseline model)")
    parser.add_argument("--vcf-out", help="also write the input VCF annotated with one INFO field per score "
                                          "and experiment (.vcf or .vcf.gz, bgzipped and tabix-indexed)")
    parser.add_argument("--rejects", help="TSV of unscored alleles and their reasons (default: OUT with "
                                          "the suffix .rejects.tsv)")
    parser.add_argument("--parquet-out", help="also write the scores as Parquet (for wide outputs)")
    parser.add_argument("--rc-merge", default="mean", choices=RC_MERGES,
                        help="merge forward and reverse-complement scores (kipoi-veff rc_merging); "
                             "none = forward strand only (default: mean)")
    parser.add_argument("--shifts", default="0", metavar="SHIFTS",
                        help="positions of the variant relative to the window centre to average "
                             "predictions over: '0', a range '--shifts=-3:3' or a list '--shifts=-2,0,2' "
                             "(default: 0)")
    parser.add_argument("--experiments", action="append", default=[], metavar="NAME[,NAME]",
                        help="report only these experiments (repeatable)")
    parser.add_argument("--select", action="append", default=[], metavar="COLUMN=VALUE",
                        help="report the experiments of a metadata group, e.g. target=CTCF (repeatable; "
                             "each is a group for --aggregate)")
    parser.add_argument("--aggregate", action="append", default=[], choices=AGGREGATIONS, metavar="HOW",
                        help=f"report each group aggregated over its experiments ({', '.join(AGGREGATIONS)}; "
                             "repeatable) instead of one column per experiment")
    parser.add_argument("--max-allele-length", type=int, default=50,
                        help="reject REF/ALT alleles longer than this (default: 50 bp)")
    parser.add_argument("--batch-size", type=int, help="windows per model call (default: 64-256 on a CPU by the model's size, 512 on a GPU)")
    parser.add_argument("--chunk-size", type=int, default=512,
                        help="alleles read, scored and written together (default: 512)")
    parser.add_argument("--workers", type=int, default=1,
                        help="background processes reading the VCF and cutting windows (default: 1; 0: none)")
    parser.add_argument("--device", help="device for the model, e.g. cpu, cuda:0 (default: CUDA if available)")
    parser.add_argument("--devices", help="score with Lightning on this many devices (e.g. 4 GPUs); "
                                          "default: one device, no Lightning")
    parser.add_argument("--accelerator", default="auto", help="Lightning accelerator with --devices (default: auto)")
    common.add_threads_argument(parser)
    common.add_engine_arguments(parser)
    parser.add_argument("--no-incremental", action="store_true",
                        help="compute every alternative window in full instead of from the reference's "
                             "activations (same scores up to float rounding, slower; for checking)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    import sys

    from ..errors import MFDError
    from ..model_io import load_model
    from ..outputs import is_stream
    from ..variants.dataloader import parse_shifts
    from ..variants.scoring import ScoringOptions, score_variants

    for name in ("batch_size", "chunk_size"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise MFDError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.workers < 0:
        raise MFDError(f"--workers must be >= 0, got {args.workers}")
    devices = None
    if args.devices is not None:
        devices = args.devices if args.devices == "auto" else int(args.devices) if args.devices.isdigit() else None
        if devices is None or devices == 0:
            raise MFDError(f"--devices must be a positive number or 'auto', got {args.devices!r}")
    model = load_model(args.model)
    options = ScoringOptions(
        scores=args.score, rc_merge=args.rc_merge, shifts=parse_shifts(args.shifts),
        experiments=args.experiments, select=args.select, aggregate=args.aggregate,
        max_allele_length=args.max_allele_length, batch_size=args.batch_size, chunk_size=args.chunk_size,
        workers=args.workers, device=args.device, devices=devices, accelerator=args.accelerator,
        progress=not args.quiet, incremental=not args.no_incremental, precision=args.precision,
        compile=args.compile)
    summary = score_variants(args.vcf, args.fasta, model, args.out, vcf_out=args.vcf_out,
                             parquet_out=args.parquet_out, rejects=args.rejects, options=options,
                             header_lines=[f"##MFD_model={args.model or 'default'}"])
    # the summary goes to stdout, unless an output does (mfd score-variants IN.vcf REF.fa /dev/stdout)
    report = sys.stderr if any(is_stream(p) for p in summary.outputs.values()) else sys.stdout
    print(f"mfd score-variants: {summary.report()}", file=report)
    for kind, path in summary.outputs.items():
        print(f"  {kind}: {path}", file=report)
    return 0
