"""Alternative-allele features from the reference's activations: recompute only what a change reaches.

An SNV (or a short MNV) changes a few positions of a window. In the trunk's stem and tower
every activation depends on a bounded neighbourhood of the layer below, so the alternative
window's activations differ from the reference's only in a *region* that grows by the reach of
each convolution and halves at each pooling. This module runs the reference windows through the
stem and the tower once and carries, for each alternative, only the slab of activations inside
its region (a *patch*), computed from the patch below and the reference activations around it,
with the convolution's zero padding where the slab meets the window edge. Deep in the tower,
where the regions cover the sequence, the patches are written into copies of the reference
activations and the rest of the network (dilated layers, crop, embedding) runs on whole tensors.

Only the structure of :class:`~mfd_model.trunk.BasenjiTrunk` is needed: ``Conv1d`` (stride 1,
``padding="same"``), ``MaxPool1d(2)``, element-wise layers (BatchNorm in eval mode, GELU,
Dropout in eval mode, Identity), ``Sequential`` and ``Residual``. Any other layer raises
:class:`Unsupported` and the caller computes the alternative windows in full. The idea is that
of fastISM (Nair et al., Bioinformatics 2022); the result equals the full computation up to
floating-point summation order (the tests compare the two).

For a window of 1,152 bp the stem and the first tower layers -- most of the work -- are
recomputed on a few dozen positions instead of 1,152, so an SNV's alternative costs a small
fraction of its reference.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..trunk import BasenjiTrunk, Residual

ELEMENTWISE = (nn.BatchNorm1d, nn.GELU, nn.ReLU, nn.Dropout, nn.Identity)


class Unsupported(Exception):
    """A layer the patch walk does not know; compute the alternatives in full instead."""


@dataclass
class Patch:
    """Activations of a group of alternatives inside ``[lo, hi)``; the reference's elsewhere.

    Attributes:
        rows: the reference window of each alternative (row of the reference batch), shape=(A,).
        lo, hi: the region, in positions of the current layer.
        values: shape=(A, C, hi - lo).
    """

    rows: torch.Tensor
    lo: int
    hi: int
    values: torch.Tensor


def _slab(ref: torch.Tensor, patch: Patch, start: int, end: int) -> torch.Tensor:
    """The alternatives' activations on ``[start, end)`` (zeros outside the sequence).

    Args:
        ref: reference activations, shape=(R, C, L).
    Returns:
        torch.Tensor, shape=(A, C, end - start).
    """
    length = ref.shape[-1]
    out = ref.new_zeros((patch.rows.shape[0], ref.shape[1], end - start))
    lo, hi = max(start, 0), min(end, length)
    if hi > lo:
        out[:, :, lo - start:hi - start] = ref[patch.rows, :, lo:hi]
    out[:, :, patch.lo - start:patch.hi - start] = patch.values
    return out


def _conv(module: nn.Conv1d, ref_in: torch.Tensor, ref_out: torch.Tensor, patch: Patch) -> Patch:
    if module.stride != (1,) or module.padding != "same" or module.groups != 1:
        raise Unsupported(f"Conv1d with stride {module.stride}, padding {module.padding!r}")
    total = module.dilation[0] * (module.kernel_size[0] - 1)
    left, right = total // 2, total - total // 2
    lo, hi = max(0, patch.lo - right), min(ref_out.shape[-1], patch.hi + left)
    slab = _slab(ref_in, patch, lo - left, hi + right)
    values = F.conv1d(slab, module.weight, module.bias, dilation=module.dilation)
    return Patch(patch.rows, lo, hi, values)


def _pool(module: nn.MaxPool1d, ref_in: torch.Tensor, ref_out: torch.Tensor, patch: Patch) -> Patch:
    if (module.kernel_size, module.stride, module.padding, module.dilation, module.ceil_mode) not in \
            ((2, 2, 0, 1, False), ((2,), (2,), (0,), (1,), False)):
        raise Unsupported(f"MaxPool1d {module}")
    lo, hi = patch.lo // 2, min(ref_out.shape[-1], (patch.hi + 1) // 2)
    values = F.max_pool1d(_slab(ref_in, patch, 2 * lo, 2 * hi), 2)
    return Patch(patch.rows, lo, hi, values)


def walk(module: nn.Module, ref: torch.Tensor, patches: list[Patch]) -> tuple[torch.Tensor, list[Patch]]:
    """Run ``module`` on the reference batch and carry every patch through it.

    Args:
        module: a layer (or container) of the trunk.
        ref: reference activations, shape=(R, C, L).
        patches: groups of alternatives.
    Returns:
        ``(module(ref), patches after the module)``.
    """
    if isinstance(module, Residual):
        inner, inner_patches = walk(module.block, ref, patches)
        out_patches = []
        for p, q in zip(patches, inner_patches):
            lo, hi = min(p.lo, q.lo), max(p.hi, q.hi)
            out_patches.append(Patch(p.rows, lo, hi, _slab(ref, p, lo, hi) + _slab(inner, q, lo, hi)))
        return ref + inner, out_patches
    if isinstance(module, nn.Sequential):
        for child in module:
            ref, patches = walk(child, ref, patches)
        return ref, patches
    if isinstance(module, ELEMENTWISE):
        if module.training and not isinstance(module, (nn.GELU, nn.ReLU, nn.Identity)):
            raise Unsupported("layer in training mode")
        return module(ref), [Patch(p.rows, p.lo, p.hi, module(p.values)) for p in patches]
    out = module(ref)
    if isinstance(module, nn.Conv1d):
        return out, [_conv(module, ref, out, p) for p in patches]
    if isinstance(module, nn.MaxPool1d):
        return out, [_pool(module, ref, out, p) for p in patches]
    raise Unsupported(type(module).__name__)


def supported(model: nn.Module) -> bool:
    """Whether :func:`features_with_patches` applies to this model's trunk."""
    trunk = getattr(model, "trunk", None)
    return type(trunk) is BasenjiTrunk and type(trunk).forward is BasenjiTrunk.forward


def features_with_patches(model: nn.Module, ref16: torch.Tensor, patches: list[Patch],
                          materialize_at: float = 0.5) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Latent features of reference windows and of alternatives given as input patches.

    Args:
        model: an MFD model with a :class:`BasenjiTrunk` (see :func:`supported`).
        ref16: dinucleotide-encoded reference windows, shape=(R, 16, L).
        patches: per group of alternatives, their dinucleotide input on the region that differs.
        materialize_at: switch to whole tensors once a region covers this fraction of a layer.
    Returns:
        ``(features of the references (R, D), [features of each group (A_g, D)])``.
    """
    trunk: BasenjiTrunk = model.trunk
    ref = ref16
    stages = [trunk.stem, *trunk.tower]
    full: list[torch.Tensor] | None = None
    for stage in stages:
        if full is None:
            ref, patches = walk(stage, ref, patches)
            length = ref.shape[-1]
            if any(p.hi - p.lo > materialize_at * length for p in patches):
                full = []
                for p in patches:
                    alt = ref[p.rows].clone()
                    alt[:, :, p.lo:p.hi] = p.values
                    full.append(alt)
        else:
            ref = stage(ref)
            full = [stage(alt) for alt in full]
    if full is None:
        full = []
        for p in patches:
            alt = ref[p.rows].clone()
            alt[:, :, p.lo:p.hi] = p.values
            full.append(alt)

    def finish(h: torch.Tensor) -> torch.Tensor:
        h = trunk.dilated(h)
        if trunk.crop:
            h = h[:, :, trunk.crop:-trunk.crop]
        return model.feature_norm(trunk.embed(h).squeeze(-1))

    sizes = [alt.shape[0] for alt in full]
    everything = finish(torch.cat([ref, *full]))
    parts = torch.split(everything[ref.shape[0]:], sizes)
    return everything[:ref.shape[0]], list(parts)
