"""The ``mfd`` command line: one sub-command per task, one clear error line on bad input."""
from __future__ import annotations

import argparse
import importlib
import shlex
import sys
from typing import Sequence

# name -> (module, one-line help). Modules are imported to build their parsers; they keep
# their module level light (standard library only).
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("mfd_model.commands.demo", "run MFD end to end on the embedded default (simulated data) under build/demo"),
    "describe": ("mfd_model.commands.describe", "show the architecture, receptive field and named latent units"),
    "prepare": ("mfd_model.commands.prepare", "FASTA + metadata + peak files -> a sparse label store for training"),
    "train": ("mfd_model.commands.train", "train MFD (or the baseline) from a label store: mfd train --config FILE.yaml"),
    "simulate": ("mfd_model.commands.simulate", "write a synthetic ENCODE-like data set with known biology and biases"),
    "check-disentanglement": ("mfd_model.commands.check_disentanglement",
                              "against a per-bin truth table: do biological / technical features hold the biology / bias?"),
    "embed": ("mfd_model.commands.embed", "biological / technical / full features of BED intervals (Parquet or NPZ)"),
    "attribute": ("mfd_model.commands.attribute", "attributions (IG, gradient x input, ISM) around sites, minus a baseline"),
    "motifs": ("mfd_model.commands.motifs", "first-layer filters as PWMs (MEME); global importance analysis of a motif"),
    "evaluate": ("mfd_model.commands.evaluate", "performance, enhancer classification, variant enrichment, diagnostics"),
    "export": ("mfd_model.commands.export", "a trained model -> Kipoi model source (PyTorch + TensorFlow variants)"),
    "predict": ("mfd_model.commands.predict", "BED + FASTA -> per-experiment probabilities (TSV, Parquet, HDF5)"),
    "score-variants": ("mfd_model.commands.score_variants", "score the variants of a VCF: kipoi-veff scores and MFD's biological / technical effects"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mfd", description="MFD: metadata-guided feature disentanglement for functional genomics (Kipoi plugin).")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"mfd {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).add_arguments(cmd)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.command_line = " ".join(["mfd", *(shlex.quote(a) for a in argv)])   # provenance for what it writes
    if args.command is None:
        parser.print_help()
        return 2
    from .allocator import keep_freed_memory
    from .errors import MFDError
    keep_freed_memory()   # batch loops reuse freed tensor memory instead of faulting it in again
    try:
        return int(importlib.import_module(COMMANDS[args.command][0]).run(args) or 0)
    except MFDError as err:
        print(f"mfd {args.command}: error: {err.one_line()}", file=sys.stderr)
        return 2
    except (FileNotFoundError, PermissionError, IsADirectoryError) as err:
        print(f"mfd {args.command}: error: {err.filename or ''}: {err.strerror} (fix: check the path and permissions)",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mfd {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
