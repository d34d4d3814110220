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
    import sys

    from ..errors import MFDError
    from ..interpret.around_sites import attribute_around_sites, choose_targets

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
        raise MFDError(f"--ism-window must be >= 0, got {args.ism_window}", fix="use e.g. --ism-window 100 (0: whole window)")
    model = common.load(args.model)
    targets = choose_targets(model, args.output, args.unit, args.group)
    found = attribute_around_sites(
        model, args.sites, args.fasta, targets, method=args.method, max_sites=args.max_sites,
        background_bed=args.background, random_background=args.random_background, baseline=not args.no_baseline,
        orient=not args.no_orient, ism_window=args.ism_window, steps=args.steps, scale=args.scale,
        references=args.references, delta_warning=args.delta_warning, seed=args.seed, flank=args.flank,
        logos=args.logos, save_raw=args.save_raw, batch_size=args.batch_size, device=args.device,
        progress=not args.no_progress)
    found.write(args.outdir)
    print(found.counts(), file=sys.stderr)
    print(found.report())
    if found.warning():
        print(found.warning(), file=sys.stderr)
    print(f"wrote {args.outdir}/: profiles.tsv, central_signal.tsv, profile.png, logo_mean.png, attributions.npz")
    return 0
