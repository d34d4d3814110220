"""``mfd motifs discover``: de novo motifs of a unit: DeepSHAP -> TF-MoDISco -> TomTom
(:func:`mfd_model.interpret.discover.discover_motifs`; its database: :func:`~mfd_model.interpret.discover.motif_database`)."""
from __future__ import annotations

import argparse

from .. import analysis_args as common


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bed", metavar="BED", help="regions to explain (e.g. peaks or test-set windows)")
    parser.add_argument("fasta", metavar="FASTA", help="reference genome")
    parser.add_argument("out", metavar="OUT", help="output folder (report.md, patterns.tsv, matches.tsv, "
                                                   "patterns.meme, logos/, summary.json)")
    common.add_model_argument(parser)
    what = parser.add_argument_group("what to explain (one)")
    what.add_argument("--unit", metavar="NAME", help="a latent unit (e.g. CTCF, bio/target:CTCF, DNase-seq) or index")
    what.add_argument("--output", metavar="NAME", help="an experiment (output) instead")
    what.add_argument("--group", choices=["bio", "tech"], default=None, help="the half a unit name refers to")
    what.add_argument("--max-regions", type=int, default=500, metavar="N",
                      help="explain at most N regions, a seeded random subset (default 500)")
    what.add_argument("--references", type=int, default=10, metavar="R",
                      help="dinucleotide-shuffled DeepSHAP references per region (default 10)")
    what.add_argument("--seed", type=int, default=0)
    db = parser.add_argument_group("motif databases (TomTom)")
    db.add_argument("--jaspar-release", default="JASPAR2024", help="JASPAR release shipped with pyjaspar (default JASPAR2024)")
    db.add_argument("--jaspar-collection", default="CORE", help="JASPAR collection (default CORE)")
    db.add_argument("--jaspar-taxon", action="append", default=[], metavar="TAXON",
                    help="taxonomic group, repeatable (default vertebrates; 'all' for every group)")
    db.add_argument("--no-jaspar", action="store_true", help="match against --meme / --kmer only")
    db.add_argument("--meme", action="append", default=[], metavar="FILE", help="a MEME motif file, repeatable")
    db.add_argument("--kmer", action="append", default=[], metavar="SEQ", help="an exact k-mer as a motif, repeatable")
    db.add_argument("--top", type=int, default=5, help="matches reported per pattern (default 5)")
    db.add_argument("--q-threshold", type=float, default=0.05, help="q-value below which a match is significant")
    mod = parser.add_argument_group("TF-MoDISco")
    mod.add_argument("--max-seqlets", type=int, default=2000, help="seqlets per metacluster (default 2000)")
    mod.add_argument("--window", type=int, default=15, help="seqlet core width in bp (default 15)")
    mod.add_argument("--flank", type=int, default=5, help="bp added on each side of a seqlet (default 5)")
    mod.add_argument("--min-seqlets", type=int, default=50, help="fewest seqlets to cluster a metacluster (default 50)")
    mod.add_argument("--min-pattern", type=int, default=20, help="fewest seqlets per reported pattern (default 20)")
    mod.add_argument("--leiden-runs", type=int, default=4, help="Leiden clusterings (fixed seeds; default 4)")
    mod.add_argument("--trim", type=float, default=0.3,
                     help="a pattern's core: positions with |CWM| >= TRIM x the maximum (default 0.3)")
    common.add_compute_arguments(parser, batch_size=16)


def run(args: argparse.Namespace) -> int:
    import sys

    from ...errors import MFDError
    from ...evaluate.report import text_table
    from ...genome import Genome
    from ...interpret.discover import ModiscoParams, discover_motifs, motif_database, require_packages
    from ...interpret.motifs import read_meme
    from ...interpret.targets import output_target, unit_target
    from ...interpret.windows import read_windows

    common.require_file(args.bed, "BED file")
    common.require_file(args.fasta, "FASTA file")
    if (args.unit is None) == (args.output is None):
        raise MFDError("explain one unit or one output", fix="pass --unit NAME (e.g. CTCF) or --output NAME")
    for name in ("max_regions", "references", "top", "max_seqlets", "window", "min_seqlets", "min_pattern",
                 "leiden_runs", "batch_size"):
        common.check_positive(getattr(args, name), "--" + name.replace("_", "-"))
    if args.flank < 0:
        raise MFDError(f"--flank must be >= 0, got {args.flank}", fix="use e.g. --flank 5")
    if not 0 < args.trim < 1:
        raise MFDError(f"--trim must be in (0, 1), got {args.trim}", fix="use e.g. --trim 0.3")
    if not 0 < args.q_threshold <= 1:
        raise MFDError(f"--q-threshold must be in (0, 1], got {args.q_threshold}", fix="use e.g. --q-threshold 0.05")
    require_packages(jaspar=not args.no_jaspar)
    memes = []  # the databases first: a bad motif file fails before any model call
    for path in args.meme:
        common.require_file(path, "MEME file")
        memes.append((path, read_meme(path)))
    database = motif_database(memes, args.kmer, jaspar_release=None if args.no_jaspar else args.jaspar_release,
                              jaspar_collection=args.jaspar_collection,
                              jaspar_taxa=None if "all" in args.jaspar_taxon else (args.jaspar_taxon or ["vertebrates"]))
    model = common.load(args.model)
    target = output_target(model, args.output) if args.output is not None else unit_target(model, args.unit, args.group)
    windows = read_windows(args.bed, Genome(args.fasta), model.config.seq_len, allow_padding=True)
    windows = common.random_subset(windows, args.max_regions, args.seed)
    print(f"mfd motifs discover: {target.label}; {windows.skip_summary()}; "
          f"{len(database.motifs)} database motifs", file=sys.stderr)
    params = ModiscoParams(max_seqlets=args.max_seqlets, window=args.window, flank=args.flank,
                           min_metacluster=args.min_seqlets, min_pattern=args.min_pattern,
                           leiden_runs=args.leiden_runs, trim=args.trim)
    result = discover_motifs(model, windows.one_hot(), target, database.motifs, database_names=database.sources,
                             n_references=args.references, seed=args.seed, params=params, top=args.top,
                             q_threshold=args.q_threshold, batch_size=args.batch_size, device=args.device,
                             progress=not args.no_progress,
                             info={"bed": str(args.bed), "fasta": str(args.fasta), "model": str(args.model),
                                   "command": getattr(args, "command_line", "")})
    result.write(args.out)
    table = result.best_matches()
    if len(table):
        print(text_table(table[["pattern", "n_seqlets", "consensus", "best_match", "best_match_name", "q_value"]]))
    else:
        print("no pattern found (too few seqlets passed the threshold)")
    print(f"wrote {args.out}/report.md, patterns.tsv, matches.tsv" + (", patterns.meme, logos/" if len(table) else ""))
    return 0
