"""Per-nucleotide attributions: Integrated Gradients and gradient x input.

Paper section 3.1 applies Captum's *neuron* Integrated Gradients to each latent unit. Here
the model's public input is 4-channel one-hot DNA and the dinucleotide step is inside the
model and differentiable, so attributions come out per nucleotide directly (the paper, whose
input was already dinucleotides, assigned each 2-mer's score to its first base).

* :func:`integrated_gradients` — latent units: ``captum.attr.NeuronIntegratedGradients`` on
  the latent layer (``model.feature_norm``, whose output is ``[s_bio | s_tech]``); outputs:
  ``captum.attr.IntegratedGradients`` on the experiment's logit (or probability). The
  all-zero sequence is the default baseline. Completeness:
  ``sum(attr) = f(x) - f(baseline)`` up to the integration error (more steps, smaller error).
* :func:`gradient_x_input` — the gradient at ``x`` times ``x``.
* :func:`attribute` — one call for several targets and any method (``ig``, ``grad``, ``ism``,
  ``deepliftshap``: DeepLIFT / DeepSHAP, :mod:`.deeplift`); returns ``(N, T, 4, L)``.

Batching, devices and eval mode are :func:`mfd_model.predict.predict`'s job: each method is a
``func(model, batch)`` that re-enables gradients inside it.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..model import MFDModel
from ..predict import predict
from .targets import Scale, Target

METHODS = ("ig", "grad", "ism", "deepliftshap")


def _scalar_function(model: MFDModel, target: Target, scale: Scale):
    """``x -> (N,)`` values of one output target (units go through the neuron-attribution path)."""
    def forward(x: torch.Tensor) -> torch.Tensor:
        out = model.logits(x)[:, target.index]
        return torch.sigmoid(out) if scale == "probability" else out
    return forward


def _target_scalar(model: MFDModel, x: torch.Tensor, target: Target, scale: Scale) -> torch.Tensor:
    if target.kind == "unit":
        return model.features(x)[:, target.index]
    return _scalar_function(model, target, scale)(x)


def integrated_gradients(model: MFDModel, X: np.ndarray | torch.Tensor, target: Target, *,
                         baseline: np.ndarray | torch.Tensor | None = None, n_steps: int = 50,
                         scale: Scale = "logit", batch_size: int = 16, internal_batch_size: int | None = None,
                         device: str | None = None, return_delta: bool = False
                         ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Integrated Gradients of one target with respect to the one-hot input.

    Args:
        model: the model.
        X: one-hot DNA, shape=(N, 4, seq_len).
        target: a latent unit (neuron IG on the latent layer) or an output.
        baseline: reference input, shape=(4, seq_len) or (N, 4, seq_len); default all zeros
            (the all-``N`` sequence, whose dinucleotide encoding is zero).
        n_steps: integration steps (Gauss-Legendre).
        scale: outputs as logits or probabilities (units are always raw features).
        batch_size: sequences per :func:`predict` call; each is expanded ``n_steps`` times
            (``internal_batch_size`` caps that expansion).
        return_delta: also return the completeness gap per sequence.
    Returns:
        float32 attributions, shape=(N, 4, seq_len) [and the gap
        ``sum(attr) - (f(x) - f(baseline))``, shape=(N,)].
    """
    from captum.attr import IntegratedGradients, NeuronIntegratedGradients

    X = torch.as_tensor(X, dtype=torch.float32)
    B = torch.zeros_like(X) if baseline is None else torch.as_tensor(baseline, dtype=torch.float32).expand_as(X)
    stacked = torch.cat([X, B], dim=1)                                   # (N, 8, L): one batch axis for both

    def func(m: MFDModel, z: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode(False), torch.enable_grad():
            x, b = z[:, :4].clone(), z[:, 4:].clone()
            if target.kind == "unit":
                method = NeuronIntegratedGradients(m.features, m.feature_norm)
                attr = method.attribute(x, neuron_selector=target.index, baselines=b, n_steps=n_steps,
                                        internal_batch_size=internal_batch_size)
            else:
                method = IntegratedGradients(_scalar_function(m, target, scale))
                attr = method.attribute(x, baselines=b, n_steps=n_steps, internal_batch_size=internal_batch_size)
            attr = attr.detach()
            if not return_delta:
                return attr
            with torch.no_grad():
                gap = attr.sum(dim=(1, 2)) - (_target_scalar(m, x, target, scale) - _target_scalar(m, b, target, scale))
            return torch.cat([attr.flatten(1), gap[:, None]], dim=1)

    out = predict(model, stacked, batch_size=batch_size, device=device, func=func)
    if not return_delta:
        return out.numpy().astype(np.float32)
    attr = out[:, :-1].reshape(X.shape).numpy().astype(np.float32)
    return attr, out[:, -1].numpy()


def gradient_x_input(model: MFDModel, X: np.ndarray | torch.Tensor, target: Target, *, scale: Scale = "logit",
                     batch_size: int = 64, device: str | None = None) -> np.ndarray:
    """Gradient of one target at ``x``, times ``x``.

    Args:
        X: one-hot DNA, shape=(N, 4, seq_len).
    Returns:
        float32, shape=(N, 4, seq_len) (non-zero only at the present bases).
    """
    def func(m: MFDModel, x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode(False), torch.enable_grad():
            x = x.clone().requires_grad_(True)
            value = _target_scalar(m, x, target, scale).sum()
            (grad,) = torch.autograd.grad(value, x)
            return (grad * x).detach()

    return predict(model, torch.as_tensor(X, dtype=torch.float32), batch_size=batch_size, device=device,
                   func=func).numpy().astype(np.float32)


def attribute(model: MFDModel, X: np.ndarray | torch.Tensor, targets: Sequence[Target], *, method: str = "ig",
              n_steps: int = 50, scale: Scale = "logit", ism_start: int | None = None, ism_end: int | None = None,
              n_references: int = 10, seed: int = 0, batch_size: int | None = None, device: str | None = None,
              progress: bool = True) -> np.ndarray:
    """Attributions of several targets with one method.

    Args:
        X: one-hot DNA, shape=(N, 4, seq_len).
        targets: outputs and/or latent units.
        method: ``ig`` (Integrated Gradients), ``grad`` (gradient x input), ``ism``
            (in-silico mutagenesis effects ``f(mutant) - f(x)``; see :mod:`.ism`) or
            ``deepliftshap`` (DeepLIFT averaged over shuffled references; see :mod:`.deeplift`,
            whose :func:`.deeplift.deep_lift_shap` also returns the convergence deltas).
        ism_start, ism_end: ISM window (default: the whole sequence).
        n_references, seed: DeepSHAP's dinucleotide-shuffled references per sequence, and their seed.
    Returns:
        float32, shape=(N, T, 4, seq_len). IG / gradient x input are non-zero at the present
        base only; ISM holds the effect of writing each base (0 at the reference base);
        DeepSHAP each position's contribution on its present base (averaged over the references).
    """
    from tqdm.auto import tqdm

    from .ism import saturation_mutagenesis

    if method not in METHODS:
        raise ValueError(f"unknown attribution method {method!r}; use one of {', '.join(METHODS)}")
    X = torch.as_tensor(X, dtype=torch.float32)
    if method == "deepliftshap":
        from .deeplift import deep_lift_shap
        return deep_lift_shap(model, X, targets, n_references=n_references, seed=seed, scale=scale,
                              batch_size=batch_size or 16, device=device, progress=progress)[0]
    if method == "ism":
        return saturation_mutagenesis(model, X, targets, start=ism_start, end=ism_end, scale=scale,
                                      batch_size=batch_size or 512, device=device, progress=progress)
    out = np.zeros((X.shape[0], len(targets), *X.shape[1:]), dtype=np.float32)
    for t, target in enumerate(tqdm(targets, desc=f"attribution ({method})", disable=not progress)):
        if method == "ig":
            out[:, t] = integrated_gradients(model, X, target, n_steps=n_steps, scale=scale,
                                             batch_size=batch_size or 16, device=device)
        else:
            out[:, t] = gradient_x_input(model, X, target, scale=scale, batch_size=batch_size or 64, device=device)
    return out
