"""``mfd export``: a trained model -> a Kipoi model source (PyTorch and TensorFlow variants).

    mfd export run/model.pt build/kipoi                      # build/kipoi/MFD/{pytorch,tensorflow}
    mfd export run/model.pt build/kipoi --variant lambda0=sweep/l0/model.pt --variant baseline=base/model.pt
    mfd export run/model.pt build/kipoi --check --check-fasta hg38.fa   # prove TF == PyTorch
    mfd export run/model.pt build/kipoi --root .              # also regenerate the repository's root model

Then point a local Kipoi source at OUTDIR (see docs/kipoi.md) and run ``kipoi test MFD/pytorch``,
``kipoi predict MFD/pytorch ...``.
"""
from __future__ import annotations

import argparse
import re

OUTPUTS = ("outdir",)  # the arguments that name what it writes (never one of its inputs)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="the model: a .pt model file, an mfd train checkpoint (.ckpt) or a Kipoi "
                                           "model folder")
    parser.add_argument("outdir", help="the Kipoi model source folder to write MFD/ into")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=CHECKPOINT",
                        help="a further checkpoint exported as MFD/NAME/{pytorch,tensorflow} (lambda sweeps, "
                             "the baseline); repeatable")
    parser.add_argument("--only", choices=["pytorch", "tensorflow"],
                        help="write only this variant kind (default: both)")
    parser.add_argument("--check", action="store_true",
                        help="compare every TensorFlow SavedModel with PyTorch on 1,000 random windows (+ "
                             "--check-fasta windows) and print the largest differences; a failure writes nothing")
    parser.add_argument("--check-fasta", action="append", default=[], metavar="FASTA",
                        help="also compare on windows of this real FASTA (repeatable; implies --check)")
    parser.add_argument("--check-windows", type=int, default=1000, metavar="N",
                        help="windows per comparison set (default 1000)")
    parser.add_argument("--root", metavar="REPO",
                        help="also regenerate the repository's root default model (model.yaml, kipoi_model.py, "
                             "mfd_model/default_model/) from CHECKPOINT")
    parser.add_argument("--force", action="store_true", help="replace an existing OUTDIR/MFD")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated example files (default 0)")


def _parse_variants(items: list[str]) -> dict[str, str]:
    from ..errors import MFDError

    variants: dict[str, str] = {}
    for item in items:
        name, sep, path = item.partition("=")
        name = name.strip()
        if not sep or not path:
            raise MFDError(f"--variant expects NAME=CHECKPOINT, got {item!r}", fix="write e.g. --variant lambda0=l0.pt")
        if not _NAME.match(name) or name in ("pytorch", "tensorflow"):
            raise MFDError(f"variant name {name!r} is not allowed",
                           fix="use letters, digits, '_', '.', '-' (not 'pytorch' or 'tensorflow')")
        if name in variants:
            raise MFDError(f"variant name {name!r} given twice", fix="give each --variant a different name")
        variants[name] = path
    return variants


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..errors import MFDError
    from ..export.kipoi_source import VARIANT_KINDS, export_source, write_root_model
    from ..model_io import load_model

    if args.check_windows < 1:
        raise MFDError(f"--check-windows must be >= 1, got {args.check_windows}", fix="pass --check-windows 1000")
    check = args.check or bool(args.check_fasta)
    kinds = (args.only,) if args.only else VARIANT_KINDS
    if check and "tensorflow" not in kinds:
        raise MFDError("--check compares the TensorFlow variant with PyTorch, but --only pytorch skips it",
                       fix="drop --only, or drop --check")
    for fasta in args.check_fasta:
        if not Path(fasta).exists():
            raise MFDError("FASTA file not found", path=fasta, fix="check the --check-fasta path")
    models = {"": load_model(args.checkpoint)}
    for name, path in _parse_variants(args.variant).items():
        models[name] = load_model(path)
    report = export_source(models, args.outdir, kinds=kinds, check=check, check_fastas=tuple(args.check_fasta),
                           n_check_windows=args.check_windows, force=args.force, seed=args.seed)
    for folder in report.variants:
        print(f"wrote {folder}")
    if args.root:
        for path in write_root_model(models[""], args.root, seed=args.seed):
            print(f"wrote {path}")
    source = Path(args.outdir).resolve()
    print(f"use it: add to ~/.kipoi/config.yaml under model_sources:  mfd: {{type: local, local_path: {source}}}\n"
          f"        then: kipoi test MFD/pytorch --source mfd")
    return 0
