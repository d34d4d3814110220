"""``mfd motifs gia``: global importance analysis of a motif, one row per output / unit
(:func:`mfd_model.interpret.gia.motif_importance`)."""
from __future__ import annotations

import argparse

from .. import analysis_args as common


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", metavar="OUT.tsv", help="output table (one row per output / unit)")
    common.add_model_argument(parser)
    motif = parser.add_argument_group("motif")
    motif.add_argument("--motif", metavar="SEQ|NAME", help="motif sequence (e.g. TGACTCA), or a motif name in --meme")
    motif.add_argument("--meme", metavar="FILE", help="MEME file holding the motif")
    motif.add_argument("--sample", action="store_true",
                       help="with --meme: draw a motif instance per background from the PWM (default: consensus)")
    motif.add_argument("--position", type=int, default=None, help="motif start in the window (default: centred)")
    bg = parser.add_argument_group("backgrounds")
    bg.add_argument("--random", type=int, default=None, metavar="N", help="N random sequences (default 500 if no --background)")
    bg.add_argument("--gc", type=float, default=0.41, help="GC content of random backgrounds (default 0.41)")
    bg.add_argument("--background", metavar="BED", help="background windows from the genome (needs --fasta)")
    bg.add_argument("--fasta", metavar="FASTA", help="reference genome for --background")
    bg.add_argument("--shuffle", action="store_true", help="dinucleotide-shuffle the background windows")
    bg.add_argument("--seed", type=int, default=0)
    what = parser.add_argument_group("what to test")
    what.add_argument("--output", action="append", default=[], metavar="NAME", help="an experiment; repeatable")
    what.add_argument("--unit", action="append", default=[], metavar="NAME", help="a latent unit; repeatable")
    what.add_argument("--group", choices=["bio", "tech"], default=None)
    what.add_argument("--all-outputs", action="store_true", help="test every output (and no unit unless --unit)")
    what.add_argument("--scale", choices=["logit", "probability"], default="logit")
    common.add_compute_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import sys

    from ...errors import MFDError
    from ...evaluate.report import text_table
    from ...genome import Genome
    from ...interpret.gia import motif_importance
    from ...interpret.windows import read_windows

    if not args.motif:
        raise MFDError("no motif given", fix="pass --motif TGACTCA, or --meme FILE --motif NAME")
    if not args.meme and set(args.motif.upper()) - set("ACGTN"):
        raise MFDError(f"motif {args.motif!r} is not a DNA sequence", fix="use A, C, G, T (N for any), or --meme FILE")
    if args.meme:
        common.require_file(args.meme, "MEME file")
    if args.background and not args.fasta:
        raise MFDError("--background needs --fasta", fix="pass the genome the BED refers to with --fasta")
    model = common.load(args.model)
    windows = None
    if args.background:
        common.require_file(args.background, "background BED file")
        windows = read_windows(args.background, Genome(args.fasta), model.config.seq_len, what="background BED")
        if args.random:
            windows = common.random_subset(windows, args.random, args.seed)
    else:
        common.check_positive(args.random or 500, "--random")
        if not 0 < args.gc < 1:
            raise MFDError(f"--gc must be in (0, 1), got {args.gc}", fix="use e.g. --gc 0.41")
    result = motif_importance(model, args.motif, meme=args.meme, sample=args.sample, windows=windows,
                              windows_source=args.background, shuffle=args.shuffle, n_random=args.random or 500,
                              gc=args.gc, position=args.position, outputs=args.output, units=args.unit,
                              group=args.group, all_outputs=args.all_outputs, scale=args.scale, seed=args.seed,
                              batch_size=args.batch_size, device=args.device)
    result.write(args.out)
    print(f"mfd motifs gia: {result.summary()}", file=sys.stderr)
    print(text_table(result.table[["target", "kind", "n", "effect", "median_effect", "fraction_up", "p_value"]]))
    print(f"wrote {args.out}")
    return 0
