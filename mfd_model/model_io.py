"""Saving and loading trained models: one file with the weights and everything needed to use them.

A model file (``.pt``) is a ``torch.save`` of a plain dict, loadable with ``weights_only=True``::

    {"format": "mfd-model/1",
     "spec": {"config": {...}, "experiment_names": [...],
              "encoder": {...} | None, "metadata": [row, ...] | None, "info": {...}},
     "state_dict": {...}}

``spec`` is :class:`~mfd_model.model_spec.ModelSpec`'s dictionary form (JSON-compatible): the Kipoi export writes it next to a bare state dict
(``spec.json`` + ``weights.pth``), and :func:`load_model` also reads such a Kipoi model folder,
or the packaged default model when no path is given.
"""
from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from .errors import ConfigError, MFDError
from .model import MFDModel
from .model_spec import ModelSpec
from .outputs import atomic_path

FORMAT = "mfd-model/1"


def model_spec(model: MFDModel) -> dict[str, Any]:
    """Everything but the weights needed to rebuild ``model`` (:class:`ModelSpec`'s dictionary form)."""
    return ModelSpec.of(model).to_dict()


def model_arguments(spec: dict[str, Any], source: str | Path = "<spec>") -> dict[str, Any]:
    """The keyword arguments of :class:`MFDModel` that :func:`model_spec` output describes.

    Used by :func:`build_model` and by the Kipoi wrapper class (a subclass of ``MFDModel``).
    """
    return ModelSpec.from_dict(spec, source).model_arguments()


def build_model(spec: ModelSpec | dict[str, Any], source: str | Path = "<spec>") -> MFDModel:
    """Rebuild an (untrained) model from a :class:`ModelSpec` or its dictionary form."""
    try:
        arguments = spec.model_arguments() if isinstance(spec, ModelSpec) else model_arguments(spec, source)
        return MFDModel(**arguments)
    except ConfigError as err:
        raise MFDError(f"model description is invalid: {err.one_line()}", path=source) from None
    except (KeyError, TypeError, ValueError) as err:
        raise MFDError(f"model description is incomplete or malformed ({type(err).__name__}: {err})", path=source,
                       fix="re-export the model with this version of mfd") from None


def load_state(model: MFDModel, state_dict: dict[str, torch.Tensor], source: str | Path) -> MFDModel:
    """Load weights into ``model``; a mismatch names what is missing, unexpected or mis-shaped."""
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    shapes = [f"{k} {tuple(state_dict[k].shape)} vs {tuple(v.shape)}" for k, v in own.items()
              if k in state_dict and tuple(state_dict[k].shape) != tuple(v.shape)]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        if shapes:
            parts.append(f"{len(shapes)} with another shape (e.g. {shapes[0]})")
        raise MFDError(f"weights do not fit the model architecture: {'; '.join(parts)}", path=source,
                       fix="use the weights file that belongs to this model description")
    model.load_state_dict(state_dict)
    return model.eval()


def save_model(model: MFDModel, path: str | Path) -> Path:
    """Write the model file atomically (temporary name, then rename)."""
    path = Path(path)
    payload = {"format": FORMAT, "spec": model_spec(model),
               "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def read_torch_file(path: str | Path) -> Any:
    """``torch.load`` on CPU with ``weights_only``; unreadable files become one clear :class:`MFDError`."""
    path = Path(path)
    if not path.exists():
        raise MFDError("model file not found", path=path, fix="check the path")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, OSError, ValueError) as err:
        reason = " ".join(str(err).split())[:160]
        raise MFDError(f"cannot read the weights: the file is corrupt, truncated or not a PyTorch file ({reason})",
                       path=path, fix="re-create it (mfd train / mfd export) or download it again") from None


def _from_lightning_checkpoint(payload: dict[str, Any], path: str | Path) -> MFDModel:
    """A training checkpoint (``mfd train``): the spec is in its hyperparameters, the weights under ``model.``."""
    spec = (payload.get("hyper_parameters") or {}).get("spec")
    if not isinstance(spec, dict):
        raise MFDError("this Lightning checkpoint was not written by mfd train (no model spec inside)", path=path,
                       fix="pass a checkpoint from 'mfd train' or a model file from 'mfd export'")
    state = {k[len("model."):]: v for k, v in payload["state_dict"].items() if k.startswith("model.")}
    return load_state(build_model(spec, path), state, path)


def load_model(path: str | Path | None = None) -> MFDModel:
    """Load a model, in eval mode on the CPU.

    Args:
        path: a model file (:func:`save_model`), an ``mfd train`` checkpoint (``.ckpt``), a Kipoi
            model folder written by ``mfd export`` (its PyTorch variant, or the group folder holding
            it), or ``None`` for the packaged default model (the repository's root Kipoi model).
    """
    if path is None or Path(path).is_dir():
        from .kipoi_folder import default_model_files, kipoi_model_files, read_spec
        spec_path, weights_path = default_model_files() if path is None else kipoi_model_files(path)
        return load_state(build_model(read_spec(spec_path), spec_path), read_torch_file(weights_path), weights_path)
    payload = read_torch_file(path)
    if isinstance(payload, dict) and "state_dict" in payload and "hyper_parameters" in payload:
        return _from_lightning_checkpoint(payload, path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise MFDError(f"not an MFD model file (expected format {FORMAT!r})", path=path,
                       fix="pass a file written by mfd (a model .pt or a training checkpoint)")
    return load_state(build_model(payload["spec"], path), payload["state_dict"], path)
