"""Arguments and helpers shared by the analysis commands (embed, attribute, motifs, evaluate).

Standard library only at module level (command modules must stay light to import).
"""
from __future__ import annotations

import argparse
from typing import Any

from ..sampling import random_subset  # noqa: F401  (re-exported for the commands)


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-m", "--model", metavar="MODEL",
                        help="model: a .pt model file, a Kipoi model folder or a Lightning .ckpt "
                             "(default: the packaged default model)")


def add_compute_arguments(parser: argparse.ArgumentParser, batch_size: int | None = 256) -> None:
    """``--batch-size`` (``None``: each method's own default), ``--device``, ``--no-progress``."""
    group = parser.add_argument_group("compute")
    group.add_argument("--batch-size", type=int, default=batch_size, metavar="N",
                       help="sequences per model call (default " + (f"{batch_size})" if batch_size else
                                                                     "per method: IG 16, gradient 64, ISM 512 mutants)"))
    group.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: CUDA if available)")
    add_threads_argument(group)
    group.add_argument("--no-progress", action="store_true", help="no progress bars")


def add_threads_argument(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--threads``; :func:`mfd_model.cli.main` sets it (:mod:`mfd_model.threads`) for any command that has it."""
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="CPU threads of the model (default: OMP_NUM_THREADS if set, else the cores this "
                             "process may use (CPU affinity, cgroup quota) minus the 1-minute load average, at "
                             "least 1: extra threads on busy cores slow PyTorch down several times)")


PRECISIONS = ("fp32", "bf16", "tf32")  # mfd_model.inference.engine.PRECISIONS (kept here: no torch at start-up)


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """The inference engine's ``--precision`` and ``--compile`` (docs/inference.md)."""
    parser.add_argument("--precision", default="fp32", choices=PRECISIONS,
                        help="arithmetic of the model: fp32 (default, IEEE float32); bf16 (autocast: on the "
                             "default model probabilities deviate from fp32 by up to 0.021 and the diff / "
                             "biological / technical scores by up to 0.017, mean 7e-4; for GPUs, slower on CPUs "
                             "without bf16 units); tf32 (CUDA GPUs from Ampere on; a CPU computes fp32). "
                             "See docs/inference.md")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile the model, at the first batch (max deviation from fp32 9e-7; on a "
                             "CPU it needs a C++ compiler and takes 15-100 s, so it pays off only on large "
                             "jobs; a failure is one error line). See docs/inference.md")


def load(model: str | None) -> Any:
    """The model named on the command line (one clear error line if it cannot be loaded)."""
    from ..errors import MFDError
    from ..model_io import load_model

    try:
        return load_model(model)
    except TypeError:
        if model is None:
            raise MFDError("no model given and this installation has no default model",
                           fix="pass -m MODEL (a .pt model file, a Kipoi model folder or a .ckpt)") from None
        raise


def int_list(text: str, what: str) -> list[int]:
    """``"-2,0,2"`` -> [-2, 0, 2] (one clear error otherwise)."""
    from ..errors import MFDError

    try:
        values = [int(v) for v in text.replace(" ", "").split(",") if v != ""]
    except ValueError:
        raise MFDError(f"{what}: expected comma-separated integers, got {text!r}",
                       fix=f"write e.g. {what}=-2,0,2 (with '=' when the list starts with a minus)") from None
    if not values:
        raise MFDError(f"{what}: empty list", fix=f"write e.g. {what}=0")
    return values


def shifts(args: argparse.Namespace) -> list[int]:
    """Window shifts from ``--shifts LIST`` or ``--n-shifts N`` (N offsets centred on 0)."""
    from ..errors import MFDError

    if getattr(args, "n_shifts", None):
        if args.n_shifts < 1:
            raise MFDError("--n-shifts must be >= 1", fix="use e.g. --n-shifts 7")
        half = args.n_shifts // 2
        return list(range(-half, args.n_shifts - half))
    return int_list(args.shifts, "--shifts") if getattr(args, "shifts", None) else [0]


def check_positive(value: int, name: str) -> int:
    from ..errors import MFDError

    if value is None or value < 1:
        raise MFDError(f"{name} must be a positive integer, got {value}", fix=f"use {name} 1 or more")
    return value


def require_file(path: str, what: str) -> None:
    """A missing input file as one clear error line."""
    from pathlib import Path

    from ..errors import MFDError

    if not Path(path).exists():
        raise MFDError(f"{what} not found", path=path, fix="check the path")
    if Path(path).is_dir():
        raise MFDError(f"{what} is a folder, expected a file", path=path, fix="check the path")
