"""``mfd attribute``: per-nucleotide attributions around sites, minus a baseline (paper Figs 2-3).

    mfd attribute truth/motif_sites.bed genome.fa attr/ -m model.pt                 # all named units, IG
    mfd attribute sites.bed genome.fa attr/ -m model.pt --unit CTCF --unit DNase-seq --group tech
    mfd attribute sites.bed genome.fa attr/ -m model.pt --output ctcf_k562 --method ism --ism-window 64
    mfd attribute sites.bed genome.fa attr/ -m model.pt --background no_peaks.bed
    mfd attribute sites.bed genome.fa attr/ -m model.pt --unit CTCF --method deepliftshap --references 10

Targets: ``--output`` experiments (by name or index) and/or ``--unit`` latent units (by index
or by the name of a direct factor: ``CTCF``, ``target:CTCF``, ``bio/target:CTCF``; ``--group``
narrows bare names). Default: the named (direct) units of the model (at most 16).

Methods: ``ig`` Integrated Gradients (Captum; neuron attribution on the latent layer for
units), ``grad`` gradient x input, ``ism`` in-silico mutagenesis (every substitution; the
central ``--ism-window`` bp, by default 2 x ``--flank``; 0 for the whole window),
``deepliftshap`` DeepLIFT (rescale rule) averaged over ``--references`` dinucleotide-shuffled
copies of each window (exact: each sequence's convergence delta, ``sum(contributions) -
(f(x) - f(reference))``, is written to ``deltas.tsv`` and a warning printed past ``--delta-warning``).

The baseline profile comes from ``--background`` windows (sequences without peaks), or else
from ``--random-background N`` random genome windows that avoid the sites (default: as many
as sites, at most 500); ``--no-baseline`` turns the correction off.

Writes into OUTDIR: ``profiles.tsv`` (per target and position: site mean, absolute mean,
baseline, corrected), ``central_signal.tsv/.md``, ``profile.png`` (±--flank bp),
``profile_window.png`` (whole window), ``logo_mean.png`` (average attribution around the
centre), ``logo_site_<k>.png`` (the first --logos sites), ``attributions.npz`` (per-position
scores; with ``--save-raw`` also the (N, T, 4, L) attributions and one-hot inputs),
``deltas.tsv`` (``deepliftshap``: per window and target, the largest and mean convergence delta
over the references) and ``summary.json``.
"""
from __future__ import annotations

import argparse

from . import analysis_args as common

OUTPUTS = ("outdir",)  # the arguments that name what it writes (never one of its inputs)

MAX_DEFAULT_TARGETS = 16


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sites", metavar="SITES", help="site intervals (BED; strand in column 6 orients windows)")
    parser.add_argument("fasta", metavar="FASTA", help="reference genome (plain or BGZF FASTA)")
    parser.add_argument("outdir", metavar="OUTDIR", help="output folder")
    common.add_model_argument(parser)
    what = parser.add_argument_group("what to explain")
    what.add_argument("--output", action="append", default=[], metavar="NAME",
                      help="an experiment (name or index); repeatable")
    what.add_argument("--unit", action="append", default=[], metavar="NAME",
                      help="a latent unit (index, or direct-factor name such as CTCF or DNase-seq); repeatable")
    what.add_argument("--group", choices=["bio", "tech"], default=None, help="look unit names up in this subspace only")
    what.add_argument("--scale", choices=["logit", "probability"], default="logit",
                      help="explain outputs as logits (default) or probabilities")
    how = parser.add_argument_group("method")
    how.add_argument("--method", choices=["ig", "grad", "ism", "deepliftshap"], default="ig",
                     help="Integrated Gradients (default), gradient x input, in-silico mutagenesis, "
                          "or DeepLIFT / DeepSHAP over shuffled references")
    how.add_argument("--steps", type=int, default=50, help="Integrated Gradients steps (default 50)")
    how.add_argument("--ism-window", type=int, default=None, metavar="BP",
                     help="ISM: mutate only the central BP bases (default: 2 x --flank; 0: the whole window, "
                          "3 x seq_len substitutions per sequence)")
    how.add_argument("--references", type=int, default=10, metavar="N",
                     help="deepliftshap: dinucleotide-shuffled references per window (default 10; seeded by --seed)")
    how.add_argument("--delta-warning", type=float, default=1e-3, metavar="X",
                     help="deepliftshap: warn when a convergence delta exceeds X (default 1e-3)")
    data = parser.add_argument_group("sites and baseline")
    data.add_argument("--max-sites", type=int, default=500, help="attribute at most this many sites (random subset; default 500)")
    data.add_argument("--background", metavar="BED", help="baseline windows: intervals without peaks")
    data.add_argument("--random-background", type=int, default=None, metavar="N",
                      help="baseline from N random genome windows avoiding the sites (default: as many as sites)")
    data.add_argument("--no-baseline", action="store_true", help="no baseline subtraction")
    data.add_argument("--no-orient", action="store_true", help="do not reverse-complement minus-strand sites")
    data.add_argument("--seed", type=int, default=0, help="random seed for subsets and random windows")
    out = parser.add_argument_group("outputs")
    out.add_argument("--flank", type=int, default=50, help="profile plot range around the centre, bp (default 50)")
    out.add_argument("--logos", type=int, default=3, help="sequence logos of the first N sites (default 3)")
    out.add_argument("--save-raw", action="store_true", help="also save (N, T, 4, L) attributions and inputs")
    common.add_compute_arguments(parser, batch_size=None)


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    import numpy as np
    import pandas as pd

    from ..bed import read_bed
    from ..errors import MFDError
    from ..genome import Genome
    from ..interpret.deeplift import delta_table
    from ..interpret.plots import plot_attribution_logos, plot_profiles
    from ..interpret.profiles import central_signal, profile_table
    from ..interpret.sites import attribute_sites, mean_attribution_matrix
    from ..interpret.targets import default_unit_targets, resolve_targets
    from ..interpret.windows import random_windows, read_windows
    from ..evaluate.report import text_table, write_table
    from ..outputs import StagedDir

    common.require_file(args.sites, "sites BED file")
    common.require_file(args.fasta, "FASTA file")
    if args.background:
        common.require_file(args.background, "background BED file")
    if args.batch_size is not None:
        common.check_positive(args.batch_size, "--batch-size")
    for name in ("max_sites", "steps", "flank", "references"):
        common.check_positive(getattr(args, name), f"--{name.replace('_', '-')}")
    if args.ism_window is None:
        args.ism_window = 2 * args.flank
    elif args.ism_window < 0:
        from ..errors import MFDError
        raise MFDError(f"--ism-window must be >= 0, got {args.ism_window}", fix="use e.g. --ism-window 100 (0: whole window)")
    model = common.load(args.model)
    if args.output or args.unit:
        targets = resolve_targets(model, args.output, args.unit, args.group)
    else:
        targets = default_unit_targets(model)
        if len(targets) > MAX_DEFAULT_TARGETS:
            print(f"mfd attribute: explaining the first {MAX_DEFAULT_TARGETS} of {len(targets)} named units "
                  f"(choose others with --unit)", file=sys.stderr)
            targets = targets[:MAX_DEFAULT_TARGETS]
    genome = Genome(args.fasta)
    length = model.config.seq_len
    sites = read_windows(args.sites, genome, length, what="sites BED")
    sites = common.random_subset(sites, args.max_sites, args.seed)
    background = None
    if not args.no_baseline:
        if args.background:
            background = read_windows(args.background, genome, length, what="background BED")
            n_bg = args.random_background or min(len(background), args.max_sites)
            background = common.random_subset(background, n_bg, args.seed + 1)
        else:
            n_bg = args.random_background if args.random_background is not None else min(len(sites), 500)
            if n_bg > 0:
                exclude = read_bed(args.sites)
                background = random_windows(genome, n_bg, length, seed=args.seed, max_n_fraction=0.05, exclude=exclude)
                if not len(background):
                    raise MFDError("could not draw random baseline windows (genome too small or too many N)",
                                   path=args.fasta, fix="pass --background BED, or --no-baseline")
    batch = args.batch_size
    result = attribute_sites(model, sites, targets, method=args.method, background=background,
                             orient=not args.no_orient, ism_window=args.ism_window or None, n_steps=args.steps,
                             scale=args.scale, n_references=args.references, seed=args.seed, delta_warning=None,
                             batch_size=batch, device=args.device, progress=not args.no_progress)
    deltas = None
    if result.deltas is not None:
        deltas = delta_table(result.deltas, sites.ids, targets, "site")
        if result.background_deltas is not None:
            deltas = pd.concat([deltas, delta_table(result.background_deltas, background.ids, targets, "baseline")],
                               ignore_index=True)
    profile = result.profile
    signal = central_signal(profile, half_width=10, flank=args.flank)
    labels = [t.label for t in targets]
    with StagedDir(args.outdir) as out:
        profile_table(profile).to_csv(out / "profiles.tsv", sep="\t", index=False, float_format="%.6g")
        write_table(signal, out, "central_signal")
        plot_profiles(profile, out / "profile.png", flank=args.flank,
                      title=f"{args.method.upper()} around {profile.n_sites} sites"
                            + (f" minus {profile.n_baseline} baseline windows" if profile.n_baseline else ""))
        plot_profiles(profile, out / "profile_window.png", flank=length // 2, title="whole window")
        matrix, positions = mean_attribution_matrix(result, half_width=min(25, args.flank))
        plot_attribution_logos(matrix, labels, out / "logo_mean.png", positions=positions,
                               title=f"mean attribution over {profile.n_sites} aligned sites")
        centre = length // 2
        lo, hi = max(centre - 30, 0), min(centre + 31, length)
        for k in range(min(args.logos, len(sites))):
            plot_attribution_logos(result.attributions[k, :, :, lo:hi], labels, out / f"logo_site_{k}.png",
                                   positions=np.arange(lo, hi) - centre, title=str(sites.ids[k]))
        arrays = {"ids": sites.ids.astype(str), "chrom": sites.chrom.astype(str), "start": sites.start,
                  "strand": sites.strand.astype(str), "targets": np.array(labels),
                  "scores": result.attributions.sum(axis=2).astype(np.float32),
                  "window": np.array(result.window)}
        if result.background is not None:
            arrays["background_scores"] = result.background.sum(axis=2).astype(np.float32)
        if args.save_raw:
            arrays["attributions"] = result.attributions
            arrays["one_hot"] = result.X.astype(np.uint8)
            if result.ism_effects is not None:
                arrays["ism_effects"] = result.ism_effects
        np.savez_compressed(out / "attributions.npz", **arrays)
        if deltas is not None:
            deltas.to_csv(out / "deltas.tsv", sep="\t", index=False, float_format="%.3g")
        summary = {"method": args.method, "targets": labels, "sites_read": sites.n_read, "sites_usable": sites.usable,
                   "sites_attributed": len(sites), "skipped": sites.skipped,
                   "baseline": (profile.n_baseline if background is not None else 0),
                   "baseline_source": (args.background or ("random windows" if background is not None else None)),
                   "window": list(result.window), "model_info": getattr(model, "info", {})}
        if deltas is not None:
            summary["deeplift"] = {"references": args.references, "seed": args.seed,
                                   "max_abs_delta": float(deltas["max_abs_delta"].max()),
                                   "windows_past_warning": int((deltas["max_abs_delta"] > args.delta_warning).sum()),
                                   "delta_warning": args.delta_warning}
        (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    print(f"mfd attribute: {sites.skip_summary()}; attributed {len(sites)}"
          + (f", baseline {profile.n_baseline} windows" + (" (random)" if not args.background else "")
             if profile.n_baseline else ", no baseline"), file=sys.stderr)
    print(f"attribution on the sites ({args.method}): mean |score| within ±10 bp of the centre, in the "
          f"±{args.flank} bp flanks, and at the same positions of the baseline windows:")
    print(text_table(signal))
    if deltas is not None:
        worst = float(deltas["max_abs_delta"].max())
        past = deltas[deltas["max_abs_delta"] > args.delta_warning]
        print(f"DeepLIFT convergence deltas (sum of contributions - (f(x) - f(reference))): largest |delta| {worst:.3g}")
        if len(past):
            print(f"mfd attribute: warning: {past['window'].nunique()} window(s) have |delta| > {args.delta_warning:g} "
                  f"(largest {worst:.3g}): their attributions do not sum to f(x) - f(reference); see deltas.tsv",
                  file=sys.stderr)
    print(f"wrote {args.outdir}/: profiles.tsv, central_signal.tsv, profile.png, logo_mean.png, attributions.npz")
    return 0

