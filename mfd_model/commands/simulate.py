"""``mfd simulate``: write an ENCODE-like synthetic data set with known structure.

    mfd simulate build/sim                                   # the demo set: 2 Mb, 4 chromosomes, 96 experiments
    mfd simulate build/big --genome-size 1e8 --n-experiments 2000 --workers 2
    mfd simulate build/sim --set gc_strength=0 --set years=[2016,2020]   # any SimulationParams field
    mfd simulate build/sim2 --seed 1 --motif-set alternative --kmer-strength 3   # other TFs, seed and biases

The layout and the generative model are in OUTDIR/README.txt and mfd_model.train.simulate.
"""
from __future__ import annotations

import argparse

OUTPUTS = ("outdir",)  # the arguments that name what it writes (never one of its inputs)

# flag -> (SimulationParams field, type, help); defaults are SimulationParams' (shown in the help)
OPTIONS: dict[str, tuple[str, str, str]] = {
    "--genome-size": ("genome_size", "bp", "total genome length, e.g. 2e6 or 1e8 (default 2e6)"),
    "--n-chromosomes": ("n_chromosomes", "int", "chromosomes chr1..chrN of unequal lengths (default 4)"),
    "--n-experiments": ("n_experiments", "int", "experiments (peak files) in all, a multiple of --replicates "
                                                 "x labs_per_condition (default 96)"),
    "--replicates": ("replicates", "int", "experiments per metadata condition (default 2)"),
    "--seed": ("seed", "int", "random seed; the same seed gives byte-identical files (default 0)"),
    "--bin-size": ("bin_size", "int", "bin size in bp (default 128)"),
    "--motifs-per-kb": ("motifs_per_kb", "float", "planted TF instances per kb (default 2.0)"),
    "--motif-set": ("motif_set", "str", "TF catalogue to plant: jaspar (CTCF, GATA1, TAL1, HNF4A, FOXA2, MEF2A) or "
                                        "alternative (ZNF143, SPI1, RUNX1, CEBPB, HNF1A, NFE2) (default jaspar)"),
    "--biology-strength": ("biology_strength", "float", "score of a bin with a relevant TF instance (default 4.5)"),
    "--kmer-strength": ("kmer_strength", "float", "score per assay bias k-mer occurrence (default 4.0)"),
    "--gc-strength": ("gc_strength", "float", "score of a GC-rich bin in the most biased lab (default 4.0)"),
    "--threshold": ("threshold", "float", "calling threshold of the newest year; noise is N(0, 1) (default 2.5)"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("outdir", metavar="OUTDIR", help="folder to create (see OUTDIR/README.txt for its layout)")
    for flag, (_, kind, help_text) in OPTIONS.items():
        parser.add_argument(flag, default=None, metavar={"bp": "BP", "str": "NAME"}.get(kind, "X"), help=help_text)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="set any other simulation parameter, e.g. --set gc_sd=0.05 or "
                             "--set years=[2012,2016,2020] (repeatable)")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes writing peak files; the output does not depend on it (default 1)")
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier mfd simulate output in OUTDIR")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _convert(flag: str, kind: str, text: str) -> int | float | str:
    """A flag's value: ``str`` (as given; SimulationParams checks it), ``float``, ``int``, or ``bp``
    (a whole number, scientific notation allowed)."""
    from ..errors import ConfigError
    if kind == "str":
        return text
    try:
        if kind == "float":
            return float(text)
        if kind == "int":
            return int(text)
        number = float(text)
        if not number.is_integer():
            raise ValueError(text)
        return int(number)
    except (ValueError, OverflowError):
        example = {"bp": "2e6", "float": "1.5", "int": "4"}[kind]
        raise ConfigError(f"{flag} expects {'a number' if kind == 'float' else 'a whole number'}, got {text!r}",
                          fix=f"e.g. {flag} {example}") from None


def parameters(args: argparse.Namespace):
    """The :class:`SimulationParams` the command line asks for."""
    from ..errors import ConfigError
    from ..train.simulate import SimulationParams
    from ..yamlio import parse_overrides

    values = parse_overrides(args.set, "KEY=VALUE")
    for flag, (field, kind, _) in OPTIONS.items():
        text = getattr(args, flag[2:].replace("-", "_"))
        if text is not None:
            values[field] = _convert(flag, kind, text)
    return SimulationParams.from_dict(values)


def run(args: argparse.Namespace) -> int:
    from ..train.simulate import simulate

    summary = simulate(args.outdir, parameters(args), overwrite=args.overwrite, progress=not args.quiet,
                       workers=args.workers)
    print(summary.describe())
    return 0
