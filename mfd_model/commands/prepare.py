"""``mfd prepare``: FASTA + metadata table + peak files -> a label store for training.

    mfd prepare genome.fa metadata.tsv labels/ --peaks-column file --blacklist blacklist.bed
    mfd prepare --config train.yaml                 # reads the config's 'data:' section
    mfd prepare --config train.yaml --bin-size 200  # options given here override the config

Defaults follow docs/method.md section 6 (see mfd_model.train.prepare for every rule).
"""
from __future__ import annotations

import argparse
import logging
import sys

OUTPUTS = ("store",)  # the arguments that name what it writes (never one of its inputs)


def _int(text: str) -> int:
    """Integers, also written as 1e6 or 1,000,000."""
    try:
        number = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not number.is_integer():
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}")
    return int(number)


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("fasta", nargs="?", metavar="FASTA", help="reference FASTA (plain or BGZF-compressed)")
    parser.add_argument("metadata", nargs="?", metavar="METADATA",
                        help="metadata table (TSV): one row per experiment, a column naming its peak file")
    parser.add_argument("store", nargs="?", metavar="STORE", help="output label store (a directory)")
    parser.add_argument("--config", metavar="FILE.yaml",
                        help="read the settings from the config's 'data:' section (options given here override it)")
    parser.add_argument("--peaks-column", dest="peaks_column", metavar="NAME",
                        help="metadata column with each experiment's peak file, relative to the table's folder "
                             "(default: peak_file)")
    parser.add_argument("--id-column", dest="id_column", metavar="NAME",
                        help="metadata column with unique experiment names (default: experiment)")
    parser.add_argument("--bin-size", dest="bin_size", type=_int, metavar="BP", help="bin width (default: 128)")
    parser.add_argument("--min-overlap", dest="min_overlap", type=_int, metavar="BP",
                        help="bp a bin must share with a merged peak to be positive (default: 64)")
    parser.add_argument("--blacklist", metavar="BED", help="drop bins overlapping these regions (default: none)")
    parser.add_argument("--max-n-fraction", dest="max_n_fraction", type=float, metavar="F",
                        help="drop bins with more than this fraction of N bases (default: 0.1)")
    parser.add_argument("--min-positive-experiments", dest="min_positive_experiments", type=_int, metavar="K",
                        help="drop bins positive in fewer experiments (default: 0, keep all)")
    parser.add_argument("--test-chromosomes", dest="test_chromosomes", type=_names, metavar="LIST",
                        help="comma-separated test contigs (default: chr9,chr10; '' for none)")
    parser.add_argument("--test-regions", dest="test_regions", type=_names, metavar="LIST",
                        help="comma-separated extra test intervals chr:start-end, 0-based half-open, "
                             "e.g. chr20:10.9e6-11.1e6 (default: none)")
    parser.add_argument("--valid-fraction", dest="valid_fraction", type=float, metavar="F",
                        help="share of non-test bins for validation (default: 0.05)")
    parser.add_argument("--valid-block-bins", dest="valid_block_bins", type=_int, metavar="K",
                        help="validation blocks of this many consecutive bins (default: 100)")
    parser.add_argument("--seed", type=_int, help="seed of the validation block draw (default: 0)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing label store")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


class _StderrHandler(logging.StreamHandler):
    """Writes to the current ``sys.stderr`` (which tests and notebooks may swap)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _show_progress_messages() -> logging.Handler:
    """INFO messages of mfd_model (what prepare did, contig aliases, ignored records) on stderr,
    until the returned handler is removed (``mfd demo`` runs later commands in this process)."""
    logger = logging.getLogger("mfd_model")
    logger.setLevel(logging.INFO)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("mfd prepare: %(message)s"))
    logger.addHandler(handler)
    return handler


def run(args: argparse.Namespace) -> int:
    from ..train.prepare import params_from_args, prepare_labels
    from ..yamlio import load_yaml

    handler = _show_progress_messages()
    try:
        config = load_yaml(args.config) if args.config else None
        params = params_from_args(args, config)
        store = prepare_labels(params, progress=not args.quiet)
    finally:
        logging.getLogger("mfd_model").removeHandler(handler)
    print(store.summary())
    return 0
