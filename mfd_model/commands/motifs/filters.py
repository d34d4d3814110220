"""``mfd motifs filters``: first-layer filters -> PWMs (MEME format), logos and a table
(:func:`mfd_model.interpret.filters.filter_motifs`)."""
from __future__ import annotations

import argparse

from .. import analysis_args as common


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bed", metavar="BED", help="regions to scan (e.g. peaks or test-set windows)")
    parser.add_argument("fasta", metavar="FASTA", help="reference genome")
    parser.add_argument("out", metavar="OUT.meme", help="output MEME file (a logo PNG and a TSV are written next to it)")
    common.add_model_argument(parser)
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="fraction of each filter's maximum activation a site must exceed (default 0.5)")
    parser.add_argument("--max-sequences", type=int, default=2000, help="scan at most this many windows (default 2000)")
    parser.add_argument("--min-sites", type=int, default=10, help="leave filters with fewer sites out of the MEME file")
    parser.add_argument("--compare", metavar="MEME", help="known motifs to match each filter against")
    parser.add_argument("--seed", type=int, default=0)
    common.add_compute_arguments(parser, batch_size=128)


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from ...errors import MFDError
    from ...evaluate.report import text_table
    from ...genome import Genome
    from ...interpret.filters import filter_motifs
    from ...interpret.motifs import read_meme
    from ...interpret.windows import read_windows

    common.require_file(args.bed, "BED file")
    common.require_file(args.fasta, "FASTA file")
    common.check_positive(args.max_sequences, "--max-sequences")
    if not 0 < args.threshold < 1:
        raise MFDError(f"--threshold must be in (0, 1), got {args.threshold}", fix="use e.g. --threshold 0.5")
    known = read_meme(args.compare) if args.compare else None
    model = common.load(args.model)
    windows = read_windows(args.bed, Genome(args.fasta), model.config.seq_len, allow_padding=True)
    windows = common.random_subset(windows, args.max_sequences, args.seed)
    result = filter_motifs(model, windows, threshold=args.threshold, min_sites=args.min_sites, known=known,
                           batch_size=args.batch_size, device=args.device)
    print(f"mfd motifs filters: {result.summary()}", file=sys.stderr)
    result.write(args.out)
    print(text_table(result.table.head(20)))
    out = Path(args.out)
    print(f"wrote {out}, {out.with_suffix('.png')}, {out.with_suffix('.tsv')}")
    return 0
