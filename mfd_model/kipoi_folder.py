"""Kipoi model folders written by ``mfd export``: where the model description and weights are.

A PyTorch variant folder (``MFD/pytorch``) holds::

    model.yaml        type: pytorch; args.weights, args.module_kwargs.spec (+ weights_md5)
    kipoi_model.py    the wrapper class Kipoi instantiates (builds MFDModel from spec.json)
    spec.json         the model description (:class:`mfd_model.model_spec.ModelSpec`, as a dictionary)
    weights.pth       a CPU state dict (Kipoi calls ``torch.load`` without ``map_location``)

The repository root is the default Kipoi model; its description and weights are package data in
``mfd_model/default_model/`` so that an installed package finds them too.

This module reads ``model.yaml`` only to find those two files; it imports neither kipoi nor
TensorFlow.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .errors import MFDError

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "default_model"
SPEC_FILE = "spec.json"
WEIGHTS_FILE = "weights.pth"
GROUP = "MFD"


def file_md5(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """Hex MD5 of a file's bytes (what Kipoi records for weights)."""
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_md5(path: str | Path, expected: str | None) -> None:
    """Raise :class:`MFDError` when ``path`` is missing or its MD5 differs from ``expected`` (if given)."""
    path = Path(path)
    if not path.exists():
        raise MFDError("weights file not found", path=path, fix="re-export the model folder with 'mfd export'")
    if expected and file_md5(path) != expected:
        raise MFDError(f"weights file is corrupt or replaced: its MD5 is not the {expected} recorded in model.yaml",
                       path=path, fix="re-export the model folder with 'mfd export', or restore the file")


def read_spec(path: str | Path) -> dict[str, Any]:
    """Read a ``spec.json`` model description; unreadable JSON is one clear error."""
    path = Path(path)
    if not path.exists():
        raise MFDError("model description (spec.json) not found", path=path,
                       fix="re-export the model folder with 'mfd export'")
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise MFDError(f"model description is not valid JSON ({err})", path=path,
                       fix="re-export the model folder with 'mfd export'") from None
    if not isinstance(spec, dict) or "config" not in spec:
        raise MFDError("not an MFD model description (no 'config')", path=path,
                       fix="re-export the model folder with 'mfd export'")
    return spec


def default_model_files() -> tuple[Path, Path]:
    """``(spec.json, weights.pth)`` of the packaged default model (the root Kipoi model)."""
    spec, weights = DEFAULT_MODEL_DIR / SPEC_FILE, DEFAULT_MODEL_DIR / WEIGHTS_FILE
    if not (spec.exists() and weights.exists()):
        raise MFDError("the default model is not installed", path=DEFAULT_MODEL_DIR,
                       fix="regenerate it with 'mfd export CHECKPOINT OUTDIR --root .' in the repository, "
                           "or pass a model with -m")
    return spec, weights


def _model_yaml(folder: Path) -> Path | None:
    for name in ("model.yaml", "model.yml"):
        if (folder / name).exists():
            return folder / name
    return None


def resolve_variant_folder(folder: str | Path) -> Path:
    """The PyTorch variant folder for ``folder``: itself if it holds a ``model.yaml``, else its
    ``pytorch/`` (a group folder) or ``MFD/pytorch/`` (a model source written by ``mfd export``)."""
    folder = Path(folder)
    for candidate in (folder, folder / "pytorch", folder / GROUP / "pytorch"):
        if _model_yaml(candidate) is not None:
            return candidate
    raise MFDError("not a Kipoi model folder (no model.yaml here, nor in pytorch/ or MFD/pytorch/)", path=folder,
                   fix="pass a folder written by 'mfd export', a model .pt file or a checkpoint")


def kipoi_model_files(folder: str | Path) -> tuple[Path, Path]:
    """``(spec.json, weights.pth)`` named by a PyTorch variant's ``model.yaml``, weights MD5-checked."""
    import yaml

    folder = resolve_variant_folder(folder)
    yaml_path = _model_yaml(folder)
    try:
        description = yaml.safe_load(yaml_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise MFDError(f"model.yaml is not valid YAML ({' '.join(str(err).split())})", path=yaml_path,
                       fix="re-export the model folder with 'mfd export'") from None
    kind = description.get("type") or description.get("defined_as")
    if kind != "pytorch":
        sibling = folder.parent / "pytorch"
        fix = f"pass {sibling}" if _model_yaml(sibling) else "pass the pytorch variant written next to it"
        raise MFDError(f"this is a Kipoi {kind!r} model; mfd loads the PyTorch variant (type: pytorch)",
                       path=yaml_path, fix=fix)
    args = description.get("args") or {}
    kwargs = args.get("module_kwargs") or {}
    if "weights" not in args or "spec" not in kwargs:
        raise MFDError("model.yaml was not written by 'mfd export' (args.weights or args.module_kwargs.spec missing)",
                       path=yaml_path, fix="re-export the model folder with 'mfd export'")
    weights = folder / args["weights"]
    check_md5(weights, kwargs.get("weights_md5"))
    return folder / kwargs["spec"], weights
