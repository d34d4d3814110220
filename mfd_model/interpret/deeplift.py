"""DeepLIFT (rescale rule) and DeepSHAP on the MFD model, exact to float rounding.

DeepLIFT explains ``f(x) - f(ref)`` by propagating *multipliers* ``m = dy / dx`` between a
sequence and a reference instead of gradients; the contributions ``m * (x - ref)`` sum to
``f(x) - f(ref)`` (*completeness*, the "summation-to-delta" property) when every layer
follows a rule that conserves it. DeepSHAP averages DeepLIFT over several references, here
dinucleotide-shuffled copies of each sequence (:func:`.ersatz.dinucleotide_shuffle`, seeded).
Each position's contribution (summed over its four channels) is reported on its present base,
like Integrated Gradients'; the *hypothetical* contributions of all four bases (what TF-MoDISco
reads) are available too.

**The dinucleotide step.** The model's first step multiplies neighbouring one-hot positions,
``d[4a + b, i] = x[a, i] * x[b, i + 1]``; a product is not a layer DeepLIFT's rules cover
(run through a generic implementation, completeness fails by up to 0.37 on the default model).
For one-hot input (every position one base, or all zeros for ``N``) the same values are

    d[4a + b, i] = ReLU(x[a, i] + x[b, i + 1] - 1)

a linear map followed by a ReLU, which the rescale rule handles exactly. :class:`DeepLiftNetwork`
is the model rewritten that way; it gives the same predictions on one-hot input (tested).

**The rules** (:func:`_propagate`, one per module type of :mod:`mfd_model.trunk`):

* linear layers (``Conv1d``, ``BatchNorm1d`` in eval mode, residual sums, the crop, ``Dropout``
  in eval mode, the head) — multipliers are the gradients; nothing to change;
* element-wise nonlinearities (``ReLU``, ``GELU``, the final sigmoid) — the rescale rule
  ``m = (f(x) - f(ref)) / (x - ref)``, the local derivative where ``|x - ref| < eps``;
* ``MaxPool1d`` — the output difference of each window, ``max(x) - max(ref)``, is split into
  ``max(max(x), max(ref)) - max(ref)`` given to the input's arg-max and
  ``max(x) - max(max(x), max(ref))`` given to the reference's arg-max, each divided by that
  position's ``x - ref`` (DeepLIFT's max-pooling rule as Captum implements it): conserving;
* the hypernetwork head — for fixed metadata a constant matrix, ``logits = s @ W.T + b``
  (:meth:`MFDModel.experiment_weights`).

Sequences and references travel in one batch, inputs first; each nonlinearity computes its
multipliers from the two halves in the forward pass and uses them in the backward pass.

**Convergence delta.** ``delta = sum(m * (x - ref)) - (f(x) - f(ref))`` per sequence, target
and reference; zero up to float rounding (below ``1e-10`` in float64, about ``1e-6`` of the
output's scale in float32). A delta past ``warning_threshold`` warns: it means the network
holds a layer the rules above do not cover, or an input that is not one-hot.
"""
from __future__ import annotations

import warnings
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..encoding import clean_positions
from ..errors import MFDError
from ..model import MFDModel
from ..predict import predict
from ..trunk import BasenjiTrunk, Residual
from .targets import Scale, Target

#: element-wise nonlinearities handled by the rescale rule
ELEMENTWISE = (nn.ReLU, nn.GELU, nn.Sigmoid, nn.Tanh, nn.SiLU, nn.Softplus, nn.ELU)
#: layers that are linear (affine) at inference: multipliers are their gradients
LINEAR = (nn.Conv1d, nn.BatchNorm1d, nn.Identity, nn.Dropout, nn.Linear)


def _eps(dtype: torch.dtype) -> float:
    """Below this ``|x - ref|`` a nonlinearity uses its derivative: the rescale ratio would divide
    rounding noise, while ``f'(x) (x - ref)`` is then exact to second order."""
    return 1e-10 if dtype == torch.float64 else 1e-6


class _Multiply(torch.autograd.Function):
    """Returns ``y`` unchanged; its backward pass is ``backward(grad)`` with respect to ``x``.

    The DeepLIFT multipliers of a nonlinearity replace its derivative this way.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, y: torch.Tensor, backward: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        ctx.backward = backward
        return y.clone()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return ctx.backward(grad), None, None


def _halves(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(inputs, references)``: the batch is inputs first, then one reference per input."""
    n = t.shape[0] // 2
    return t[:n], t[n:]


def _rescale(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """An element-wise nonlinearity with the rescale rule. Shapes: any (2M, ...) -> the same."""
    with torch.no_grad():
        y = module(x)
        (x_in, x_ref), (y_in, y_ref) = _halves(x), _halves(y)
        dx = x_in - x_ref
        far = dx.abs() > _eps(x.dtype)
    with torch.no_grad():
        m_in = (y_in - y_ref) / torch.where(far, dx, torch.ones_like(dx))
    if not bool(far.all()):
        with torch.enable_grad():
            local = x_in.detach().requires_grad_(True)
            (derivative,) = torch.autograd.grad(module(local).sum(), local)
        m_in = torch.where(far, m_in, derivative)
    multiplier = torch.cat([m_in, m_in])
    return _Multiply.apply(x, y, lambda grad: grad * multiplier)


def _maxpool(pool: nn.MaxPool1d, x: torch.Tensor) -> torch.Tensor:
    """``MaxPool1d`` with DeepLIFT's max-pooling rule (module docstring). Shapes: (2M, C, L) -> (2M, C, L')."""
    with torch.no_grad():
        y, idx = F.max_pool1d(x, pool.kernel_size, pool.stride, pool.padding, pool.dilation,
                              ceil_mode=pool.ceil_mode, return_indices=True)
        (x_in, x_ref), (y_in, y_ref), (idx_in, idx_ref) = _halves(x), _halves(y), _halves(idx)
        dx = x_in - x_ref
        far = dx.abs() > _eps(x.dtype)
        top = torch.maximum(y_in, y_ref)

    def scatter(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """Sum ``values`` (M, C, L') back onto the pooled positions ``index`` -> (M, C, L)."""
        return torch.zeros_like(x_in).scatter_add_(2, index, values)

    def backward(grad: torch.Tensor) -> torch.Tensor:
        g = grad[:len(dx)]
        moved = scatter(g * (top - y_ref), idx_in) + scatter(g * (y_in - top), idx_ref)
        m_in = torch.where(far, moved / torch.where(far, dx, torch.ones_like(dx)), scatter(g, idx_in))
        return torch.cat([m_in, m_in])

    return _Multiply.apply(x, y, backward)


def _propagate(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``module(x)`` with the DeepLIFT rule of each layer (module docstring)."""
    if isinstance(module, nn.Sequential):
        for layer in module:
            x = _propagate(layer, x)
        return x
    if isinstance(module, Residual):
        return x + _propagate(module.block, x)
    if isinstance(module, ELEMENTWISE):
        return _rescale(module, x)
    if isinstance(module, nn.MaxPool1d):
        return _maxpool(module, x)
    if isinstance(module, (*LINEAR, PairSum)):
        if module.training and isinstance(module, (nn.BatchNorm1d, nn.Dropout)):
            raise MFDError(f"DeepLIFT needs the model in eval mode ({type(module).__name__} is training)",
                           fix="call model.eval() first")
        return module(x)
    raise MFDError(f"DeepLIFT has no rule for the layer {type(module).__name__}",
                   fix="use --method ig or ism for this model, or add the layer's rule to mfd_model/interpret/deeplift.py")


class PairSum(nn.Module):
    """The linear half of the dinucleotide step: ``z[4a + b, i] = x[a, i] + x[b, i + 1] - 1``.

    The last position (no successor) is ``-1``, so ``ReLU(z)`` is the dinucleotide encoding of
    one-hot DNA: 1 where both bases are present, 0 where one or none is (N: all zeros).
    Shapes: (N, 4, L) -> (N, 16, L).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first, second = x[:, :, :-1], x[:, :, 1:]
        pairs = (first.unsqueeze(2) + second.unsqueeze(1) - 1).reshape(x.shape[0], 16, x.shape[2] - 1)
        return F.pad(pairs, (0, 1), value=-1.0)


class DeepLiftNetwork(nn.Module):
    """The MFD model as layers DeepLIFT's rules cover: one-hot DNA -> the targets' values.

    ``PairSum -> ReLU`` (the dinucleotide step), the model's trunk and feature BatchNorm, then a
    fixed readout: a latent unit ``s[k]``, or an experiment's logit ``s @ W[o] + b[o]`` (through
    a sigmoid for ``scale="probability"``). Shares the model's modules (no copy).

    Args:
        model: an MFD or baseline model with the :class:`~mfd_model.trunk.BasenjiTrunk`.
        targets: the T targets.
        scale: outputs as logits or probabilities.

    Shapes: (N, 4, seq_len) one-hot (``N`` as all zeros) -> (N, T). With :meth:`attribute_batch`
    the forward pass applies the DeepLIFT rules.
    """

    def __init__(self, model: MFDModel, targets: Sequence[Target], scale: Scale = "logit") -> None:
        super().__init__()
        if not isinstance(model.trunk, BasenjiTrunk):
            raise MFDError(f"DeepLIFT knows the Basenji trunk, not {type(model.trunk).__name__}",
                           fix="use --method ig or ism for this model")
        self.model = model
        self.targets = list(targets)
        self.scale = scale
        self.encode = nn.Sequential(PairSum(), nn.ReLU())
        self.units = [t.index for t in self.targets if t.kind == "unit"]
        self.outputs = [t.index for t in self.targets if t.kind == "output"]
        self.order = np.argsort([i for i, t in enumerate(self.targets) if t.kind == "unit"]
                                + [i for i, t in enumerate(self.targets) if t.kind == "output"])
        self.sigmoid = nn.Sigmoid()

    def _trunk(self, x16: torch.Tensor, run: Callable[[nn.Module, torch.Tensor], torch.Tensor]) -> torch.Tensor:
        trunk = self.model.trunk
        h = run(trunk.dilated, run(trunk.tower, run(trunk.stem, x16)))
        if trunk.crop:
            h = h[:, :, trunk.crop:-trunk.crop]
        return run(trunk.embed, h).squeeze(-1)

    def _values(self, x: torch.Tensor, run: Callable[[nn.Module, torch.Tensor], torch.Tensor]) -> torch.Tensor:
        features = run(self.model.feature_norm, self._trunk(run(self.encode, x), run))
        columns = [features[:, self.units]]
        if self.outputs:
            weights, bias = self.model.experiment_weights()
            weights, bias = weights.detach()[self.outputs], bias.detach()[self.outputs]
            logits = features @ weights.T + bias
            columns.append(run(self.sigmoid, logits) if self.scale == "probability" else logits)
        return torch.cat(columns, dim=1)[:, self.order]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The targets' values (plain forward pass). Shapes: (N, 4, L) -> (N, T)."""
        return self._values(x, lambda module, h: module(h))

    def attribute_batch(self, x: torch.Tensor, references: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """DeepLIFT multipliers of every target for paired sequences and references.

        Args:
            x: one-hot DNA, shape=(M, 4, L).
            references: one reference per sequence, shape=(M, 4, L).
        Returns:
            ``(multipliers, differences)``: shape=(M, T, 4, L) and ``f(x) - f(ref)`` shape=(M, T).
        """
        m = x.shape[0]
        batch = torch.cat([x, references]).detach().requires_grad_(True)
        with torch.enable_grad():
            values = self._values(batch, _propagate)                      # (2M, T)
            multipliers = []
            for t in range(values.shape[1]):
                (grad,) = torch.autograd.grad(values[:m, t].sum(), batch, retain_graph=t + 1 < values.shape[1])
                multipliers.append(grad[:m])
        return torch.stack(multipliers, dim=1).detach(), (values[:m] - values[m:]).detach()


def one_hot_input(X: np.ndarray | torch.Tensor, what: str = "sequences") -> torch.Tensor:
    """``X`` with ``N`` positions (all zeros or 0.25 everywhere) as all zeros; an error unless one-hot.

    The model ignores ``N`` positions either way (their 2-mers are zero), so its predictions do
    not change. Shapes: (N, 4, L) -> (N, 4, L).
    """
    X = torch.as_tensor(X)
    if X.ndim != 3 or X.shape[1] != 4:
        raise MFDError(f"DeepLIFT: {what} must be one-hot DNA of shape (N, 4, L), got {tuple(X.shape)}")
    X = X * clean_positions(X)
    if bool(((X != 0) & (X != 1)).any()):
        raise MFDError(f"DeepLIFT: {what} are not one-hot (values other than 0 and 1 at a base)",
                       fix="pass one-hot DNA; DeepLIFT's dinucleotide rule is exact only for one-hot input")
    return X


def shuffled_references(X: np.ndarray, n_references: int, seed: int = 0) -> np.ndarray:
    """``n_references`` dinucleotide-shuffled copies of each sequence (seeds ``seed``, ``seed + 1``, ...).

    Args:
        X: one-hot DNA, shape=(N, 4, L).
    Returns:
        np.ndarray, shape=(N, n_references, 4, L).
    """
    from .ersatz import dinucleotide_shuffle

    X = np.asarray(X)
    return np.stack([dinucleotide_shuffle(X, seed=seed + r) for r in range(n_references)], axis=1)


def deep_lift_shap(model: MFDModel, X: np.ndarray | torch.Tensor, targets: Sequence[Target], *,
                   references: np.ndarray | torch.Tensor | None = None, n_references: int = 10, seed: int = 0,
                   scale: Scale = "logit", hypothetical: bool = False, batch_size: int = 16,
                   device: str | None = None, warning_threshold: float | None = 1e-3,
                   progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """DeepSHAP: DeepLIFT (rescale rule) of several targets, averaged over references.

    Computed in the model's dtype (``model.double()`` for float64).

    Args:
        model: the model (put in eval mode for the call).
        X: one-hot DNA, shape=(N, 4, seq_len); ``N`` positions as zeros or 0.25.
        targets: outputs and/or latent units.
        references: shape=(N, R, 4, seq_len) or (R, 4, seq_len) (the same for every sequence);
            default ``n_references`` dinucleotide shuffles of each sequence (seeded).
        scale: outputs as logits or probabilities (units are raw features).
        hypothetical: return the hypothetical contributions of every base instead of the
            contributions of the present bases (below).
        batch_size: sequences per model call; each is paired with its R references.
        warning_threshold: warn when a ``|delta|`` exceeds it (``None``: never).
    Returns:
        ``(attributions, deltas)``, averaged over the references:

        * attributions, float32, shape=(N, T, 4, seq_len): each position's contribution
          ``sum_c m_r[c, i] (x[c, i] - ref_r[c, i])`` on its present base, 0 elsewhere (as IG
          and gradient x input); a sequence's sum is the mean of ``f(x) - f(ref_r)`` (where the
          references keep the sequence's ``N`` positions, as shuffles do). With
          ``hypothetical=True``, what each base ``b`` would contribute at each position,
          ``sum_c m_r[c, i] (onehot_b[c] - ref_r[c, i])`` (the input of TF-MoDISco); times the
          one-hot input it is the former;
        * the convergence deltas ``sum(m_r * (x - ref_r)) - (f(x) - f(ref_r))``, float64,
          shape=(N, T, R).
    """
    from tqdm.auto import tqdm

    X = one_hot_input(X)
    if references is None:
        if n_references < 1:
            raise MFDError(f"DeepLIFT needs at least one reference, got {n_references}", fix="use e.g. 10")
        references = shuffled_references(X.numpy(), n_references, seed)
    R = torch.as_tensor(references)
    if R.ndim == 3:
        R = R.unsqueeze(0).expand(X.shape[0], *R.shape)
    if R.ndim != 4 or R.shape[0] != X.shape[0] or tuple(R.shape[2:]) != tuple(X.shape[1:]):
        raise MFDError(f"references must have shape (N, R, 4, L) or (R, 4, L) matching the sequences "
                       f"{tuple(X.shape)}, got {tuple(R.shape)}")
    n_ref = R.shape[1]
    R = one_hot_input(R.reshape(-1, *X.shape[1:]), "references").reshape(R.shape)
    dtype = next(model.parameters()).dtype
    network = DeepLiftNetwork(model, targets, scale)
    T, L = len(targets), X.shape[2]
    stacked = torch.cat([X.unsqueeze(1), R], dim=1).to(dtype)                 # (N, 1 + R, 4, L)
    bar = tqdm(total=X.shape[0], desc="DeepLIFT/SHAP", unit="seq", disable=not progress)

    def func(_: MFDModel, z: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode(False):
            z = z.clone()
            b = z.shape[0]
            x = z[:, :1].expand(-1, n_ref, -1, -1).reshape(b * n_ref, 4, L)
            ref = z[:, 1:].reshape(b * n_ref, 4, L)
            multipliers, differences = network.attribute_batch(x, ref)        # (bR, T, 4, L), (bR, T)
            deltas = (multipliers * (x - ref).unsqueeze(1)).sum(dim=(2, 3)) - differences
            hyp = multipliers - (multipliers * ref.unsqueeze(1)).sum(dim=2, keepdim=True)
            hyp = hyp.reshape(b, n_ref, T, 4, L).mean(dim=1)                   # (b, T, 4, L)
            attr = (hyp if hypothetical else hyp * z[:, 0].unsqueeze(1)).reshape(b, T, 4 * L)
            deltas = deltas.reshape(b, n_ref, T).transpose(1, 2)
            bar.update(b)
            return torch.cat([attr.double(), deltas.double()], dim=2)          # (b, T, 4 L + R)

    try:
        out = predict(model, stacked, batch_size=batch_size, device=device, func=func)
    finally:
        bar.close()
    attributions = out[:, :, :4 * L].reshape(X.shape[0], T, 4, L).numpy().astype(np.float32)
    deltas = out[:, :, 4 * L:].numpy()
    worst = float(np.abs(deltas).max()) if deltas.size else 0.0
    if warning_threshold is not None and worst > warning_threshold:
        warnings.warn(f"DeepLIFT convergence deltas up to {worst:.3g} (threshold {warning_threshold:g}): "
                      f"the attributions do not sum to f(x) - f(reference)", stacklevel=2)
    return attributions, deltas


def delta_table(deltas: np.ndarray, ids: Sequence[str], targets: Sequence[Target], kind: str = "sequence"):
    """The convergence deltas as a table: one row per sequence and target.

    Args:
        deltas: from :func:`deep_lift_shap`, shape=(N, T, R).
        ids: the N sequences' names.
        kind: written to the ``kind`` column (e.g. ``site``, ``baseline``).
    Returns:
        DataFrame ``window kind target max_abs_delta mean_abs_delta`` (over the R references).
    """
    import pandas as pd

    n, t, _ = deltas.shape
    return pd.DataFrame({"window": np.repeat(np.asarray(ids).astype(str), t), "kind": kind,
                         "target": np.tile([target.label for target in targets], n),
                         "max_abs_delta": np.abs(deltas).max(axis=2).ravel(),
                         "mean_abs_delta": np.abs(deltas).mean(axis=2).ravel()})
