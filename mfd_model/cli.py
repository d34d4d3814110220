"""The ``mfd`` command line: one sub-command per task, one clear error line on bad input."""
from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
from typing import NoReturn, Sequence

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
    "importance": ("mfd_model.commands.importance", "test AUROC / AUPRC lost when a latent unit, metadata group or subspace is switched off"),
    "motifs": ("mfd_model.commands.motifs", "first-layer filters as PWMs (MEME); global importance analysis of a motif; de novo motifs (TF-MoDISco + TomTom)"),
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
    """Run one sub-command: its exit status, or 2 with one error line, or 128 + signal when ended by one.

    This is the one error boundary of every command: bad input (:class:`MFDError`) and failures
    of the system (full disk, broken pipe, permissions, missing device, undecodable text,
    overflow; :func:`mfd_model.errors.as_mfd_error`) print ``mfd COMMAND: error: ...`` on one
    line and exit 2; Ctrl-C, SIGTERM and SIGHUP exit 130 / 143 / 129. In every case the
    command's temporary outputs are gone by then (they are removed while the exception unwinds).
    """
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.command_line = " ".join(["mfd", *(shlex.quote(a) for a in argv)])   # provenance for what it writes
    if args.command is None:
        parser.print_help()
        return 2
    from .allocator import keep_freed_memory
    from .errors import as_mfd_error
    from .outputs import refuse_overwriting_inputs
    from .processes import exit_status, handle_termination
    keep_freed_memory()   # batch loops reuse freed tensor memory instead of faulting it in again
    handle_termination()  # SIGTERM / SIGHUP unwind like Ctrl-C: temporary outputs are removed
    module = importlib.import_module(COMMANDS[args.command][0])
    try:
        refuse_overwriting_inputs(*_outputs_and_inputs(args, getattr(module, "OUTPUTS", ())))
        if not hasattr(args, "threads"):
            return int(module.run(args) or 0)
        from .threads import command_threads
        with command_threads(args.threads):  # --threads, OMP_NUM_THREADS, or the cores not busy
            return int(module.run(args) or 0)
    except KeyboardInterrupt as interrupt:
        status, name = exit_status(interrupt)
        print(f"mfd {args.command}: interrupted ({name}); temporary outputs removed", file=sys.stderr)
        return status
    except Exception as err:
        failure = as_mfd_error(err)
        if failure is None:
            raise
        if isinstance(err, BrokenPipeError):
            _discard_stdout()
        print(f"mfd {args.command}: error: {failure.one_line()}", file=sys.stderr)
        return 2


def command() -> NoReturn:
    """The ``mfd`` program (``python -m mfd_model``, the ``mfd`` script): :func:`main`'s status as the
    process's exit status, without the interpreter's slow teardown (:func:`mfd_model.processes.exit_now`)."""
    status = main()
    from .processes import exit_now
    exit_now(status)


def _outputs_and_inputs(args: argparse.Namespace, outputs: Sequence[str]) -> tuple[list[str], list[str]]:
    """The paths of the arguments a command names in its ``OUTPUTS``, and every other argument's (the inputs)."""
    def paths(value) -> list[str]:
        values = value if isinstance(value, (list, tuple)) else [value]
        return [str(v) for v in values if isinstance(v, (str, os.PathLike)) and str(v)]

    written = [path for name in outputs for path in paths(getattr(args, name, None))]
    inputs = [path for name, value in vars(args).items() if name not in outputs and name not in ("command", "command_line")
              for path in paths(value)]
    return written, inputs


def _discard_stdout() -> None:
    """After a broken pipe on stdout, send what is left to /dev/null (no second error at exit)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    command()
