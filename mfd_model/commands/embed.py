"""``mfd embed``: biological, technical and full features of BED intervals.

    mfd embed enhancers.bed genome.fa features.parquet -m model.pt
    mfd embed peaks.bed genome.fa features.npz --features bio,tech --strand concat --n-shifts 3

Each interval becomes the model's window centred on its midpoint. ``--strand``: ``mean`` of
forward and reverse complement (the original code), ``concat`` (the paper), ``fwd`` or ``rc``.
Intervals on unknown contigs or too close to a contig end are skipped and counted.
"""
from __future__ import annotations

import argparse

from . import analysis_args as common

OUTPUTS = ("out",)  # the arguments that name what it writes (never one of its inputs)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bed", metavar="BED", help="intervals (BED / narrowPeak, plain or gzip); names from column 4")
    parser.add_argument("fasta", metavar="FASTA", help="reference genome (plain or BGZF FASTA)")
    parser.add_argument("out", metavar="OUT", help="output file: *.parquet or *.npz")
    common.add_model_argument(parser)
    parser.add_argument("--features", default=None,
                        help="comma-separated feature sets: bio, tech, full (default: all three; full for a baseline model)")
    parser.add_argument("--strand", default="mean", choices=["fwd", "rc", "mean", "concat"],
                        help="forward, reverse complement, their mean (default) or their concatenation (paper)")
    parser.add_argument("--shifts", default=None, metavar="LIST",
                        help="window shifts in bp averaged over, e.g. --shifts=-2,0,2 (default 0)")
    parser.add_argument("--n-shifts", type=int, default=None, metavar="N",
                        help="average over N one-bp shifts centred on 0 (instead of --shifts)")
    parser.add_argument("--allow-padding", action="store_true",
                        help="keep windows that run past a contig end (N-padded) instead of skipping them")
    common.add_compute_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from ..errors import MFDError
    from ..genome import Genome
    from ..interpret.embed import check_feature_sets, embed_windows, write_embedding
    from ..interpret.windows import read_windows

    out = Path(args.out)
    if out.suffix.lower() not in (".npz", ".parquet"):
        raise MFDError(f"unknown output format {out.suffix or '(none)'!r}", path=out,
                       fix="name the output *.npz or *.parquet")
    common.require_file(args.bed, "BED file")
    common.require_file(args.fasta, "FASTA file")
    common.check_positive(args.batch_size, "--batch-size")
    shifts = common.shifts(args)
    model = common.load(args.model)
    wanted = args.features or ("bio,tech,full" if model.is_mfd else "full")
    sets = check_feature_sets(model, [s.strip() for s in wanted.split(",") if s.strip()])
    windows = read_windows(args.bed, Genome(args.fasta), model.config.seq_len, shifts=shifts,
                           allow_padding=args.allow_padding)
    embedding = embed_windows(model, windows, sets, strand=args.strand, shifts=shifts, batch_size=args.batch_size,
                              device=args.device, progress=not args.no_progress)
    write_embedding(embedding, out)
    shapes = ", ".join(f"{name} {values.shape[1]}" for name, values in embedding.features.items())
    print(f"mfd embed: {windows.skip_summary()}", file=sys.stderr)
    print(f"wrote {out}: {len(windows)} intervals x ({shapes}) features, strand {args.strand}, "
          f"shifts {','.join(map(str, shifts))}")
    return 0
