"""Devices, eval state and the batched call of a function of the model on a tensor.

:func:`resolve_device` and :func:`evaluating_on` (eval mode, device, ``torch.inference_mode``, restored
afterwards) are used by every model call. Model *outputs on windows* (predictions, features, with
strands, shifts, precision) go through the inference engine, :mod:`mfd_model.inference.engine`.
:func:`predict` is the plain batched call that remains for work the engine does not do: gradients
(Integrated Gradients, gradient x input, DeepLIFT re-enable autograd inside ``func``) and functions
of part of the network (first-layer filter activations). The local recomputation
(:mod:`mfd_model.local`) runs in :func:`evaluating_on` itself.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn

from .errors import MFDError


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``None`` -> CUDA when available, else CPU; a named device must exist on this machine.

    ``cuda:7`` on a machine with fewer GPUs (or none), ``mps`` without Apple's backend or a
    misspelt name is an :class:`MFDError` that says which devices there are.
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise MFDError(f"unknown device {str(device)!r}", fix="use cpu, cuda or cuda:N (a GPU's number)") from None
    if resolved.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise MFDError(f"device {str(device)!r} asked for, but this machine has no usable CUDA GPU",
                           fix="use --device cpu, or leave --device out")
        if resolved.index is not None and resolved.index >= count:
            raise MFDError(f"device {str(device)!r} asked for, but this machine has {count} CUDA GPU(s)",
                           fix=f"use cuda:0 ... cuda:{count - 1}")
    elif resolved.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise MFDError(f"device {str(device)!r} asked for, but Apple's MPS backend is not available here",
                       fix="use --device cpu, or leave --device out")
    return resolved


def predict(model: nn.Module, X: torch.Tensor | np.ndarray, *, batch_size: int = 256,
            device: str | torch.device | None = None,
            func: Callable[[nn.Module, torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """Apply ``func(model, batch)`` (default ``model(batch)``) to ``X`` in batches.

    The model is put in eval mode for the call and its previous mode restored afterwards;
    it is moved to ``device`` (and back) only if it is not already there.

    Args:
        model: any module, e.g. :class:`~mfd_model.model.MFDModel`.
        X: inputs, shape=(N, ...), e.g. one-hot DNA (N, 4, L).
        batch_size: sequences per call.
        device: where to compute (``None``: CUDA if available).
        func: what to compute, e.g. ``lambda m, x: m.features(x)``.
    Returns:
        torch.Tensor on the CPU, shape=(N, ...) as ``func`` gives.
    """
    device = resolve_device(device)
    X = torch.as_tensor(X)
    func = func or (lambda m, x: m(x))
    outputs = []
    with evaluating_on(model, device):
        for start in range(0, X.shape[0], batch_size):
            outputs.append(func(model, X[start:start + batch_size].to(device)).cpu())
    return torch.cat(outputs) if outputs else torch.empty(0)


@contextlib.contextmanager
def evaluating_on(model: nn.Module, device: torch.device) -> Iterator[None]:
    """For the block: eval mode, ``device``, ``torch.inference_mode``; afterwards the model's
    previous mode and device (it is moved only if it is not already on ``device``)."""
    was_training = model.training
    first = next(model.parameters(), None)
    original = first.device if first is not None else device
    model.eval()
    if original != device:
        model.to(device)
    try:
        with torch.inference_mode():
            yield
    finally:
        if original != device:
            model.to(original)
        model.train(was_training)
