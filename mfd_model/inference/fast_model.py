"""The MFD network rebuilt for fast CPU inference (used by ``mfd predict`` on the CPU).

The same weights, the same operations, in the layout oneDNN runs fastest: every ``Conv1d`` /
``BatchNorm1d`` / ``MaxPool1d`` of the trunk becomes its 2D counterpart over ``(N, C, 1, L)``
tensors in channels-last memory format, and the metadata hypernetwork's output layer, constant
at inference, is computed once (``W``, ``b`` from ``experiment_weights()``) instead of at every
call. On 2 CPU cores this runs the demo-size model about 1.5x faster than the module itself;
outputs agree to float32 rounding (tested against :class:`~mfd_model.model.MFDModel`).

Inference only: no gradients are meant to flow through it (use the model itself for attribution).
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from mfd_model.encoding import dinucleotide_encode, dinucleotides_from_codes
from mfd_model.errors import MFDError
from mfd_model.heads import BaselineHead, MFDHead
from mfd_model.model import MFDModel
from mfd_model.trunk import BasenjiTrunk, Residual


class StridedMax(nn.Module):
    """Max pooling over the last axis with kernel = stride = ``size``, no padding (``MaxPool1d(size)``):
    the element-wise maximum of ``size`` strided views. The same values as ``max_pool2d``, which on
    channels-last (N, C, 1, L) tensors also computes indices and runs 2-4x slower.

    Shapes: (N, C, 1, L) -> (N, C, 1, L // size), in the input's memory format.
    """

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = int(size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        end = x.shape[-1] // self.size * self.size
        out = x[..., 0:end:self.size]
        for j in range(1, self.size):
            out = torch.maximum(out, x[..., j:end:self.size])
        return out

    def extra_repr(self) -> str:
        return f"size={self.size}"


def to_2d(module: nn.Module) -> nn.Module:
    """The 2D (height 1) equivalent of a trunk module; weights copied, not shared."""
    if isinstance(module, nn.Sequential):
        return nn.Sequential(*[to_2d(m) for m in module])
    if isinstance(module, Residual):
        return Residual(to_2d(module.block))
    if isinstance(module, nn.Conv1d):
        padding = module.padding if isinstance(module.padding, str) else (0, module.padding[0])
        conv = nn.Conv2d(module.in_channels, module.out_channels, (1, module.kernel_size[0]), stride=(1, module.stride[0]),
                         padding=padding, dilation=(1, module.dilation[0]), groups=module.groups,
                         bias=module.bias is not None, dtype=module.weight.dtype, device=module.weight.device)
        with torch.no_grad():
            conv.weight.copy_(module.weight[:, :, None, :])
            if module.bias is not None:
                conv.bias.copy_(module.bias)
        return conv
    if isinstance(module, nn.BatchNorm1d):
        reference = next(iter(module.state_dict().values()), None)
        norm = nn.BatchNorm2d(module.num_features, eps=module.eps, momentum=module.momentum, affine=module.affine,
                              track_running_stats=module.track_running_stats,
                              dtype=None if reference is None else reference.dtype,
                              device=None if reference is None else reference.device)
        norm.load_state_dict(module.state_dict())
        return norm
    if isinstance(module, nn.MaxPool1d):
        size, stride, padding, dilation = (v if isinstance(v, int) else v[0] for v in (
            module.kernel_size, module.stride, module.padding, module.dilation))
        if size == stride and padding == 0 and dilation == 1 and not module.ceil_mode:
            return StridedMax(size)
        return nn.MaxPool2d((1, size), (1, stride), padding=(0, padding), dilation=(1, dilation),
                            ceil_mode=module.ceil_mode)
    if isinstance(module, (nn.GELU, nn.Dropout, nn.Identity)):
        return copy.deepcopy(module)
    raise MFDError(f"cannot rebuild a {type(module).__name__} for fast inference", fix="use the model directly")


class ChannelsLastMFD(nn.Module):
    """Inference copy of an :class:`MFDModel`.

    Shapes: (N, 4, seq_len) one-hot or (N, seq_len) integer base codes -> (N, O) probabilities.
    """

    def __init__(self, model: MFDModel) -> None:
        super().__init__()
        was_training = model.training
        trunk = model.eval().trunk
        self.seq_len = model.config.seq_len
        self.n_experiments = model.n_experiments
        self.crop = trunk.crop
        self.trunk = nn.Sequential(to_2d(trunk.stem), to_2d(trunk.tower), to_2d(trunk.dilated))
        self.embed = to_2d(trunk.embed)
        self.feature_norm = copy.deepcopy(model.feature_norm)
        with torch.no_grad():
            weight, bias = model.experiment_weights()
        model.train(was_training)
        self.register_buffer("head_weight", weight.detach().clone())  # (O, latent)
        self.register_buffer("head_bias", bias.detach().clone())  # (O,)
        self.eval().to(memory_format=torch.channels_last)

    @property
    def stages(self) -> list[nn.Module]:
        """The 2D twins of :attr:`mfd_model.local.LocalTrunk.stages` (stem, tower blocks, dilated blocks), in order."""
        return [self.trunk[0], *self.trunk[1], *self.trunk[2]]

    @staticmethod
    def trunk_input(h: torch.Tensor) -> torch.Tensor:
        """The model's dinucleotide input shape=(N, 16, L) in this network's layout: shape=(N, 16, 1, L),
        channels-last."""
        return h[:, :, None, :].contiguous(memory_format=torch.channels_last)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Latent features, shape=(N, latent_dim), from one-hot DNA shape=(N, 4, seq_len) or
        integer base codes shape=(N, seq_len) (as :class:`MFDModel` reads them)."""
        dtype = self.head_weight.dtype
        if x.ndim == 2 and not x.is_floating_point() and x.shape[1] == self.seq_len:
            h = dinucleotides_from_codes(x, dtype)
        elif x.ndim == 3 and tuple(x.shape[1:]) == (4, self.seq_len):
            h = dinucleotide_encode(x.to(dtype))
        else:
            raise ValueError(f"expected one-hot DNA of shape (N, 4, {self.seq_len}) or base codes of shape "
                             f"(N, {self.seq_len}), got {tuple(x.shape)}")
        h = self.trunk(self.trunk_input(h))
        if self.crop:
            h = h[:, :, :, self.crop:-self.crop]
        return self.feature_norm(self.embed(h)[:, :, 0, 0])

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Shapes: (N, 4, seq_len) or (N, seq_len) -> (N, O)."""
        return torch.addmm(self.head_bias, self.features(x), self.head_weight.T)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Probabilities. Shapes: (N, 4, seq_len) or (N, seq_len) -> (N, O)."""
        return torch.sigmoid(self.logits(x))


def rebuildable(model: nn.Module) -> bool:
    """Whether :class:`ChannelsLastMFD` computes what ``model`` computes: an :class:`MFDModel` with
    the forward pass as written (not overridden), exactly a :class:`~mfd_model.trunk.BasenjiTrunk` and
    one of the two heads (linear in the features at inference: ``W``, ``b`` of ``experiment_weights()``)."""
    return (isinstance(model, MFDModel) and type(model.trunk) is BasenjiTrunk
            and type(model.trunk).forward is BasenjiTrunk.forward and type(model.head) in (MFDHead, BaselineHead)
            and all(getattr(type(model), name) is getattr(MFDModel, name)
                    for name in ("forward", "logits", "features", "_order2", "logits_from_features")))


def inference_model(model: MFDModel, device: torch.device | str) -> nn.Module:
    """What to run for prediction on ``device``: the channels-last copy on the CPU, the model elsewhere.

    A model the copy cannot be built from (:func:`rebuildable`, or a trunk module it does not know)
    is run as it is.
    """
    if torch.device(device).type != "cpu" or not rebuildable(model):
        return model
    try:
        return ChannelsLastMFD(model)
    except MFDError:
        return model
