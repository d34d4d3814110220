"""Batched model calls: one place owns batching, device moves, ``no_grad`` and eval state.

Every analysis (prediction, features, variant scores, attributions) is "build the inputs,
then call a function of the model on them in batches" — this module is that call.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``None`` -> CUDA when available, else CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


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
