"""``mfd motifs``: motif-level analyses of a model (the review's filter PWMs, GIA, de novo discovery).

    mfd motifs filters peaks.bed genome.fa filters.meme -m model.pt [--compare truth/motifs.meme]
    mfd motifs gia out.tsv -m model.pt --motif TGACTCA --random 500
    mfd motifs gia out.tsv -m model.pt --meme truth/motifs.meme --motif-name AP1 \\
        --background background.bed --fasta genome.fa --shuffle --unit CTCF
    mfd motifs discover peaks.bed genome.fa out/ -m model.pt --unit CTCF [--meme truth/motifs.meme] \\
        [--jaspar-release JASPAR2024 --jaspar-taxon vertebrates | --no-jaspar] [--kmer CCTTG]

``filters``: first-layer filters as PWMs — positions where a filter's activation exceeds
``--threshold`` x its maximum over the sequences are cut out (the filter's k + 1 input bases;
the first layer reads dinucleotides) and counted; MEME output plus logos, and with
``--compare`` the most similar known motif per filter.

``gia``: global importance analysis — the motif is written into background sequences (random
with ``--gc``, given windows, or their dinucleotide shuffles) and the paired prediction
differences are tested (Wilcoxon signed-rank) per output / unit.

``discover``: DeepSHAP hypothetical contributions of one unit (or output) over the windows ->
TF-MoDISco patterns (modisco-lite) -> TomTom (memelite) against JASPAR (pyjaspar's shipped
database), a MEME file and / or exact k-mers -> ``report.md``, ``patterns.tsv``, ``matches.tsv``
(q-values), ``patterns.meme``, ``logos/`` (:mod:`mfd_model.interpret.discover`).
"""
from __future__ import annotations

import argparse

from . import analysis_args as common

OUTPUTS = ("out",)  # the arguments that name what it writes (never one of its inputs)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    filters = sub.add_parser("filters", help="first-layer filters -> PWMs (MEME format)",
                             description="first-layer filters -> PWMs (MEME format)")
    filters.add_argument("bed", metavar="BED", help="regions to scan (e.g. peaks or test-set windows)")
    filters.add_argument("fasta", metavar="FASTA", help="reference genome")
    filters.add_argument("out", metavar="OUT.meme", help="output MEME file (a logo PNG and a TSV are written next to it)")
    common.add_model_argument(filters)
    filters.add_argument("--threshold", type=float, default=0.5,
                         help="fraction of each filter's maximum activation a site must exceed (default 0.5)")
    filters.add_argument("--max-sequences", type=int, default=2000, help="scan at most this many windows (default 2000)")
    filters.add_argument("--min-sites", type=int, default=10, help="leave filters with fewer sites out of the MEME file")
    filters.add_argument("--compare", metavar="MEME", help="known motifs to match each filter against")
    filters.add_argument("--seed", type=int, default=0)
    common.add_compute_arguments(filters, batch_size=128)

    gia = sub.add_parser("gia", help="global importance analysis of a motif",
                         description="global importance analysis of a motif")
    gia.add_argument("out", metavar="OUT.tsv", help="output table (one row per output / unit)")
    common.add_model_argument(gia)
    motif = gia.add_argument_group("motif")
    motif.add_argument("--motif", metavar="SEQ|NAME", help="motif sequence (e.g. TGACTCA), or a motif name in --meme")
    motif.add_argument("--meme", metavar="FILE", help="MEME file holding the motif")
    motif.add_argument("--sample", action="store_true",
                       help="with --meme: draw a motif instance per background from the PWM (default: consensus)")
    motif.add_argument("--position", type=int, default=None, help="motif start in the window (default: centred)")
    bg = gia.add_argument_group("backgrounds")
    bg.add_argument("--random", type=int, default=None, metavar="N", help="N random sequences (default 500 if no --background)")
    bg.add_argument("--gc", type=float, default=0.41, help="GC content of random backgrounds (default 0.41)")
    bg.add_argument("--background", metavar="BED", help="background windows from the genome (needs --fasta)")
    bg.add_argument("--fasta", metavar="FASTA", help="reference genome for --background")
    bg.add_argument("--shuffle", action="store_true", help="dinucleotide-shuffle the background windows")
    bg.add_argument("--seed", type=int, default=0)
    what = gia.add_argument_group("what to test")
    what.add_argument("--output", action="append", default=[], metavar="NAME", help="an experiment; repeatable")
    what.add_argument("--unit", action="append", default=[], metavar="NAME", help="a latent unit; repeatable")
    what.add_argument("--group", choices=["bio", "tech"], default=None)
    what.add_argument("--all-outputs", action="store_true", help="test every output (and no unit unless --unit)")
    what.add_argument("--scale", choices=["logit", "probability"], default="logit")
    common.add_compute_arguments(gia)

    disc = sub.add_parser("discover", help="de novo motifs of a unit: DeepSHAP -> TF-MoDISco -> TomTom",
                          description="de novo motifs of a unit: DeepSHAP -> TF-MoDISco -> TomTom")
    disc.add_argument("bed", metavar="BED", help="regions to explain (e.g. peaks or test-set windows)")
    disc.add_argument("fasta", metavar="FASTA", help="reference genome")
    disc.add_argument("out", metavar="OUT", help="output folder (report.md, patterns.tsv, matches.tsv, "
                                                 "patterns.meme, logos/, summary.json)")
    common.add_model_argument(disc)
    what = disc.add_argument_group("what to explain (one)")
    what.add_argument("--unit", metavar="NAME", help="a latent unit (e.g. CTCF, bio/target:CTCF, DNase-seq) or index")
    what.add_argument("--output", metavar="NAME", help="an experiment (output) instead")
    what.add_argument("--group", choices=["bio", "tech"], default=None, help="the half a unit name refers to")
    what.add_argument("--max-regions", type=int, default=500, metavar="N",
                      help="explain at most N regions, a seeded random subset (default 500)")
    what.add_argument("--references", type=int, default=10, metavar="R",
                      help="dinucleotide-shuffled DeepSHAP references per region (default 10)")
    what.add_argument("--seed", type=int, default=0)
    db = disc.add_argument_group("motif databases (TomTom)")
    db.add_argument("--jaspar-release", default="JASPAR2024", help="JASPAR release shipped with pyjaspar (default JASPAR2024)")
    db.add_argument("--jaspar-collection", default="CORE", help="JASPAR collection (default CORE)")
    db.add_argument("--jaspar-taxon", action="append", default=[], metavar="TAXON",
                    help="taxonomic group, repeatable (default vertebrates; 'all' for every group)")
    db.add_argument("--no-jaspar", action="store_true", help="match against --meme / --kmer only")
    db.add_argument("--meme", action="append", default=[], metavar="FILE", help="a MEME motif file, repeatable")
    db.add_argument("--kmer", action="append", default=[], metavar="SEQ", help="an exact k-mer as a motif, repeatable")
    db.add_argument("--top", type=int, default=5, help="matches reported per pattern (default 5)")
    db.add_argument("--q-threshold", type=float, default=0.05, help="q-value below which a match is significant")
    mod = disc.add_argument_group("TF-MoDISco")
    mod.add_argument("--max-seqlets", type=int, default=2000, help="seqlets per metacluster (default 2000)")
    mod.add_argument("--window", type=int, default=15, help="seqlet core width in bp (default 15)")
    mod.add_argument("--flank", type=int, default=5, help="bp added on each side of a seqlet (default 5)")
    mod.add_argument("--min-seqlets", type=int, default=50, help="fewest seqlets to cluster a metacluster (default 50)")
    mod.add_argument("--min-pattern", type=int, default=20, help="fewest seqlets per reported pattern (default 20)")
    mod.add_argument("--leiden-runs", type=int, default=4, help="Leiden clusterings (fixed seeds; default 4)")
    mod.add_argument("--trim", type=float, default=0.3,
                     help="a pattern's core: positions with |CWM| >= TRIM x the maximum (default 0.3)")
    common.add_compute_arguments(disc, batch_size=16)


def run(args: argparse.Namespace) -> int:
    from ..errors import MFDError

    if args.action == "filters":
        return _filters(args)
    if args.action == "gia":
        return _gia(args)
    if args.action == "discover":
        return _discover(args)
    raise MFDError("choose an action: filters, gia or discover",
                   fix="run 'mfd motifs filters ...', 'mfd motifs gia ...' or 'mfd motifs discover ...'")


def _filters(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from ..evaluate.report import text_table
    from ..genome import Genome
    from ..interpret.motifs import filter_pwms, match_motifs, read_meme, write_meme
    from ..interpret.plots import plot_motif_logos
    from ..interpret.windows import read_windows
    from ..outputs import atomic_path

    common.require_file(args.bed, "BED file")
    common.require_file(args.fasta, "FASTA file")
    common.check_positive(args.max_sequences, "--max-sequences")
    if not 0 < args.threshold < 1:
        from ..errors import MFDError
        raise MFDError(f"--threshold must be in (0, 1), got {args.threshold}", fix="use e.g. --threshold 0.5")
    known = read_meme(args.compare) if args.compare else None
    model = common.load(args.model)
    windows = read_windows(args.bed, Genome(args.fasta), model.config.seq_len, allow_padding=True)
    windows = common.random_subset(windows, args.max_sequences, args.seed)
    motifs = filter_pwms(model, windows.one_hot(), threshold=args.threshold, batch_size=args.batch_size,
                         device=args.device)
    kept = sorted((m for m in motifs if m.n_sites >= args.min_sites), key=lambda m: -m.n_sites)
    out = Path(args.out)
    print(f"mfd motifs filters: {windows.skip_summary()}; {len(kept)} of {len(motifs)} filters have "
          f">= {args.min_sites} sites", file=sys.stderr)
    if not kept:
        from ..errors import MFDError
        raise MFDError("no filter reached --min-sites; nothing written", path=out,
                       fix="scan more sequences (--max-sequences) or lower --min-sites / --threshold")
    if known:
        table = match_motifs(kept, known)
    else:
        import pandas as pd
        table = pd.DataFrame([{"query": m.name, "n_sites": m.n_sites, "consensus": m.consensus,
                               "information_bits": float(m.information().sum())} for m in kept])
    write_meme(kept, out)
    plot_motif_logos(kept, out.with_suffix(".png"), title=f"first-layer filters ({len(windows)} sequences)")
    with atomic_path(out.with_suffix(".tsv")) as tmp:
        table.to_csv(tmp, sep="\t", index=False, float_format="%.4g")
    print(text_table(table.head(20)))
    print(f"wrote {out}, {out.with_suffix('.png')}, {out.with_suffix('.tsv')}")
    return 0


def _gia(args: argparse.Namespace) -> int:
    import sys

    from ..errors import MFDError
    from ..evaluate.report import text_table
    from ..genome import Genome
    from ..interpret.ersatz import dinucleotide_shuffle, motif_one_hot, random_sequences, sample_motifs
    from ..interpret.gia import global_importance
    from ..interpret.motifs import read_meme
    from ..interpret.targets import Target, default_unit_targets, resolve_targets
    from ..interpret.windows import read_windows
    from ..outputs import atomic_path

    if not args.motif:
        raise MFDError("no motif given", fix="pass --motif TGACTCA, or --meme FILE --motif NAME")
    if not args.meme and set(args.motif.upper()) - set("ACGTN"):
        raise MFDError(f"motif {args.motif!r} is not a DNA sequence", fix="use A, C, G, T (N for any), or --meme FILE")
    if args.meme:
        common.require_file(args.meme, "MEME file")
    if args.background and not args.fasta:
        raise MFDError("--background needs --fasta", fix="pass the genome the BED refers to with --fasta")
    model = common.load(args.model)
    length = model.config.seq_len
    if args.background:
        common.require_file(args.background, "background BED file")
        windows = read_windows(args.background, Genome(args.fasta), length, what="background BED")
        if args.random:
            windows = common.random_subset(windows, args.random, args.seed)
        background = windows.one_hot()
        if args.shuffle:
            background = dinucleotide_shuffle(background, seed=args.seed)
        source = f"{len(background)} windows of {args.background}" + (" (dinucleotide-shuffled)" if args.shuffle else "")
    else:
        n = args.random or 500
        common.check_positive(n, "--random")
        if not 0 < args.gc < 1:
            raise MFDError(f"--gc must be in (0, 1), got {args.gc}", fix="use e.g. --gc 0.41")
        background = random_sequences(n, length, gc=args.gc, seed=args.seed)
        source = f"{n} random sequences (GC {args.gc:g})"
    if args.meme:
        motifs = {m.name: m for m in read_meme(args.meme)}
        if args.motif not in motifs:
            raise MFDError(f"no motif named {args.motif!r} in the MEME file", path=args.meme,
                           fix=f"use one of: {', '.join(list(motifs)[:10])}")
        pwm = motifs[args.motif].pwm
        motif = sample_motifs(pwm, len(background), seed=args.seed) if args.sample else \
            motif_one_hot("".join("ACGT"[i] for i in pwm.argmax(axis=1)))
    else:
        motif = motif_one_hot(args.motif.upper())
    k = motif.shape[-1]
    if k > length or (args.position is not None and not 0 <= args.position <= length - k):
        raise MFDError(f"a {k} bp motif does not fit at position {args.position} of a {length} bp window",
                       fix=f"use --position between 0 and {length - k}")
    if args.all_outputs:
        targets = [Target("output", i, n) for i, n in enumerate(model.experiment_names)]
        targets += resolve_targets(model, [], args.unit, args.group) if args.unit else []
    elif args.output or args.unit:
        targets = resolve_targets(model, args.output, args.unit, args.group)
    else:
        targets = default_unit_targets(model)
    table = global_importance(model, background, motif, targets, position=args.position, scale=args.scale,
                              batch_size=args.batch_size, device=args.device)
    table.insert(0, "motif", args.motif)
    with atomic_path(args.out) as tmp:
        table.to_csv(tmp, sep="\t", index=False, float_format="%.6g")
    print(f"mfd motifs gia: {args.motif} ({k} bp) inserted into {source}", file=sys.stderr)
    print(text_table(table[["target", "kind", "n", "effect", "median_effect", "fraction_up", "p_value"]]))
    print(f"wrote {args.out}")
    return 0


def _discover(args: argparse.Namespace) -> int:
    import sys

    from ..errors import MFDError
    from ..evaluate.report import text_table
    from ..genome import Genome
    from ..interpret.discover import ModiscoParams, discover_motifs, jaspar_motifs, kmer_motif, require_packages
    from ..interpret.motifs import read_meme
    from ..interpret.targets import output_target, unit_target
    from ..interpret.windows import read_windows

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
    # the databases first: a bad motif file fails before any model call
    database, names = [], []
    for path in args.meme:
        common.require_file(path, "MEME file")
        motifs = read_meme(path)
        for m in motifs:
            m.info = {**(m.info or {}), "tf": m.name, "source": str(path)}
        database += motifs
        names.append(f"{path} ({len(motifs)} motifs)")
    if args.kmer:
        database += [kmer_motif(k) for k in args.kmer]
        names.append(f"k-mers {', '.join(k.upper() for k in args.kmer)}")
    if not args.no_jaspar:
        taxa = None if "all" in args.jaspar_taxon else (args.jaspar_taxon or ["vertebrates"])
        motifs = jaspar_motifs(args.jaspar_release, args.jaspar_collection, taxa)
        database += motifs
        names.append(f"{motifs[0].info['source']} ({len(motifs)} motifs)")
    if not database:
        raise MFDError("no motif database to match against",
                       fix="drop --no-jaspar, or pass --meme FILE and / or --kmer SEQ")
    model = common.load(args.model)
    target = output_target(model, args.output) if args.output is not None else unit_target(model, args.unit, args.group)
    windows = read_windows(args.bed, Genome(args.fasta), model.config.seq_len, allow_padding=True)
    windows = common.random_subset(windows, args.max_regions, args.seed)
    print(f"mfd motifs discover: {target.label}; {windows.skip_summary()}; "
          f"{len(database)} database motifs", file=sys.stderr)
    params = ModiscoParams(max_seqlets=args.max_seqlets, window=args.window, flank=args.flank,
                           min_metacluster=args.min_seqlets, min_pattern=args.min_pattern,
                           leiden_runs=args.leiden_runs, trim=args.trim)
    result = discover_motifs(model, windows.one_hot(), target, database, database_names=names,
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
