"""Local recomputation of the trunk: the one engine of fast ISM and of the variant scorer's SNVs.

A substitution at position ``i`` changes the dinucleotide encoding only at ``i - 1`` and ``i``
(a short MNV a few more); each convolution widens the changed region by its reach and each
pooling halves it. Most of every layer's activations of a mutant therefore equal the reference
sequence's. This module carries, for a batch of mutants, only the *changed window* of each
layer's activations (``mut``, shape=(B, C, w), starting at position ``lo`` (B,)) next to the
reference activations of their source sequences, and computes each layer on the window alone
(the idea of "fast ISM", Sasse et al. 2023 / yuzu, Schreiber et al. 2022; fastISM, Nair et al.
2022). The result equals a full forward pass of every mutant up to float rounding; the work per
mutant shrinks from the whole sequence to the receptive field of a base at each layer.

Users: :func:`mfd_model.interpret.ism.saturation_mutagenesis` (``method="fast"``: every
substitution, :meth:`LocalTrunk.features`) and :class:`mfd_model.variants.effects.VariantEffectPredictor`
(SNV / short-MNV alternative windows as changed dinucleotide windows,
:meth:`LocalTrunk.features_of_changes`).

Supported modules (the MFD trunk, :mod:`mfd_model.trunk`): ``Conv1d`` (stride 1, zero
padding), ``MaxPool1d`` (kernel = stride, no padding), point-wise modules (``BatchNorm1d`` in
eval mode, ``GELU``, ``ReLU``, ``Dropout`` in eval mode, ``Identity``), ``Sequential`` and
``Residual``. Anything else raises :class:`UnsupportedModule` and the caller falls back to
full forward passes.

The reference activations can come from the inference engine's network (``net``: on a CPU the
channels-last rebuild, :class:`~mfd_model.inference.fast_model.ChannelsLastMFD`, about 1.5x the
module's speed): its 2D twin of every module computes the reference and the local steps read the
same activations as (N, C, L) views; the changed windows are computed with the model's own
modules. Same numbers up to float rounding.

Invariant of every step: a mutant's activation equals the reference everywhere outside
``[lo, lo + w)``, and ``mut`` holds its values inside. ``lo`` is a tensor (one start per mutant:
ISM) or an ``int`` (one start for the batch: the variant scorer's alternatives at one shift), which
reads the reference with slices instead of gathers.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .encoding import dinucleotide_encode
from .model import MFDModel
from .trunk import BasenjiTrunk, Residual

POINTWISE = (nn.BatchNorm1d, nn.GELU, nn.ReLU, nn.Dropout, nn.Identity, nn.SiLU, nn.Softplus)


class UnsupportedModule(NotImplementedError):
    """The trunk holds a module the local recomputation does not know."""


def supported(model: nn.Module) -> bool:
    """Whether the trunk is exactly :class:`~mfd_model.trunk.BasenjiTrunk` (its ``forward`` is the
    stem -> tower -> dilated -> crop -> embed that :class:`LocalTrunk` replays), so the replay needs
    no check against the model (the variant scorer relies on this; ISM checks its first chunk)."""
    trunk = getattr(model, "trunk", None)
    return type(trunk) is BasenjiTrunk and type(trunk).forward is BasenjiTrunk.forward


Start = torch.Tensor | int   # per mutant, shape=(B,), or one for the batch


def _clamp(x: Start, low: int, high: int) -> Start:
    return x.clamp(low, high) if isinstance(x, torch.Tensor) else min(max(x, low), high)


def _window(padded: torch.Tensor, pad: int, seq: torch.Tensor, mut: torch.Tensor, lo: Start,
            start: Start, width: int) -> torch.Tensor:
    """Mutant activations on ``[start, start + width)`` (zero outside the sequence).

    Args:
        padded: reference activations zero-padded by ``pad`` on both sides, shape=(S, C, L + 2 pad).
        seq: source sequence of each mutant, shape=(B,).
        mut, lo: the changed windows, shape=(B, C, w) and (B,); ``[lo, lo + w)`` must lie inside
            ``[start, start + width)``.
        start: first wanted position per mutant, shape=(B,), ``>= -pad``.
        width: number of wanted positions.
    Returns:
        torch.Tensor, shape=(B, C, width): the reference there, overwritten by the changed window.
    """
    length = padded.shape[2] - 2 * pad
    if not isinstance(start, torch.Tensor):      # one start for the batch: slices
        if mut.shape[2] == length and start <= 0 and start + width >= length:
            return F.pad(mut, (-start, start + width - length))
        out = padded[:, :, start + pad:start + pad + width][seq]                 # (B, C, width), a copy
        out[:, :, lo - start:lo - start + mut.shape[2]] = mut
        return out
    if mut.shape[2] == length:                   # the whole layer changed: only padding to add
        first = int(start[0])
        if bool((start == first).all()) and first <= 0 and first + width >= length:
            return F.pad(mut, (-first, first + width - length))
    out = padded.unfold(2, width, 1)[seq, :, start + pad]                     # (B, C, width)
    offsets = (lo - start)[:, None, None] + torch.arange(mut.shape[2], device=lo.device)[None, None, :]
    return out.scatter_(2, offsets.expand(-1, mut.shape[1], -1), mut)


def _as_1d(x: torch.Tensor) -> torch.Tensor:
    """Activations shape=(S, C, L) as they are, or shape=(S, C, 1, L) (the 2D network's) as an (S, C, L) view."""
    return x[:, :, 0] if x.ndim == 4 else x


class LocalTrunk:
    """Mutant features of one model from reference activations plus changed windows.

    Args:
        model: an :class:`~mfd_model.model.MFDModel` (MFD or baseline head), in eval mode.
        materialize_at: once a stage's changed windows cover more than this fraction of its
            output, the mutants continue as whole tensors (the reference's with the window written
            in), which batched convolutions run faster than window reads.
        net: the network that computes the reference activations: a
            :class:`~mfd_model.inference.fast_model.ChannelsLastMFD` of this model (the inference
            engine's :attr:`~mfd_model.inference.engine.Engine.net` on a CPU; anything with its
            ``stages`` and ``trunk_input``) runs them in its channels-last layout; anything else
            (``None``, the model itself) runs the model's modules.

    Usage: :meth:`set_reference` once per chunk of source sequences, then :meth:`features`
    for batches of substitutions of those sequences (ISM); or :meth:`set_reference_dinucleotides`,
    then :meth:`features_of_changes` for changed windows of any width (the variant scorer).
    """

    def __init__(self, model: MFDModel, materialize_at: float = 0.5, net: nn.Module | None = None) -> None:
        trunk = model.trunk
        for name in ("stem", "tower", "dilated", "embed", "crop"):
            if not hasattr(trunk, name):
                raise UnsupportedModule(f"trunk has no {name!r}")
        self.model = model
        self.trunk = trunk
        self.body = [trunk.stem, trunk.tower, trunk.dilated]
        self._check(nn.Sequential(*self.body))
        self.stages = [trunk.stem, *trunk.tower, *trunk.dilated]   # where mutants may become whole tensors
        self.materialize_at = materialize_at
        self.net = net if hasattr(net, "stages") and hasattr(net, "trunk_input") else None
        if self.net is not None:
            self._check_twin(nn.Sequential(*self.stages), nn.Sequential(*self.net.stages))
        self._x: torch.Tensor | None = None

    # ------------------------------------------------------------------ structure
    def _check(self, module: nn.Module) -> None:
        if isinstance(module, nn.Sequential):
            for child in module:
                self._check(child)
        elif isinstance(module, Residual):
            self._check(module.block)
        elif isinstance(module, nn.Conv1d):
            if module.stride != (1,) or module.padding_mode != "zeros":
                raise UnsupportedModule(f"Conv1d with stride {module.stride} / padding mode {module.padding_mode}")
        elif isinstance(module, nn.MaxPool1d):
            k = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
            s = module.stride if isinstance(module.stride, int) else module.stride[0]
            p = module.padding if isinstance(module.padding, int) else module.padding[0]
            if k != s or p != 0 or module.dilation != 1 or module.ceil_mode:
                raise UnsupportedModule("MaxPool1d other than kernel = stride, no padding")
        elif not isinstance(module, POINTWISE):
            raise UnsupportedModule(f"no local rule for {type(module).__name__}")

    def _check_twin(self, module: nn.Module, twin: nn.Module) -> None:
        """``twin`` mirrors ``module`` as the 2D rebuild of :mod:`mfd_model.inference.fast_model` does:
        the same nesting, ``Conv2d`` (with this convolution's weights' shape and dilation) for ``Conv1d``,
        ``BatchNorm2d`` for ``BatchNorm1d``, a pooling without parameters for ``MaxPool1d``, the same
        point-wise modules."""
        def refuse() -> UnsupportedModule:
            return UnsupportedModule(f"the network's {type(twin).__name__} does not mirror {type(module).__name__}")

        if isinstance(module, (nn.Sequential, Residual)):
            children, twins = list(module.children()), list(twin.children())
            kind = nn.Sequential if isinstance(module, nn.Sequential) else Residual
            if not isinstance(twin, kind) or len(children) != len(twins):
                raise refuse()
            for child, child_twin in zip(children, twins):
                self._check_twin(child, child_twin)
        elif isinstance(module, nn.Conv1d):
            w = module.weight.shape
            if (not isinstance(twin, nn.Conv2d) or twin.weight.shape != (w[0], w[1], 1, w[2])
                    or twin.dilation[1] != module.dilation[0] or twin.groups != module.groups):
                raise refuse()
        elif isinstance(module, nn.BatchNorm1d):
            if not isinstance(twin, nn.BatchNorm2d) or twin.num_features != module.num_features:
                raise refuse()
        elif isinstance(module, nn.MaxPool1d):
            if isinstance(twin, POINTWISE) or any(True for _ in twin.parameters()):
                raise refuse()
        elif type(twin) is not type(module):
            raise refuse()

    # ------------------------------------------------------------------ reference
    @staticmethod
    def _reach(conv: nn.Conv1d) -> tuple[int, int]:
        """``(total, left)``: a convolution's span minus one and its left zero padding."""
        total = conv.dilation[0] * (conv.kernel_size[0] - 1)
        if conv.padding == "same":
            return total, total // 2
        return total, 0 if conv.padding == "valid" else conv.padding[0]

    def _pad(self, module: nn.Module) -> int:
        """Zero padding a module's input needs for window reads (a convolution's reach)."""
        if isinstance(module, nn.Conv1d):
            total, left = self._reach(module)
            return max(left, total - left)
        return 0

    def set_reference(self, X: torch.Tensor) -> torch.Tensor:
        """Compute and keep the reference activations of source sequences.

        Args:
            X: one-hot DNA, shape=(S, 4, L), on the model's device, in the model's dtype.
        Returns:
            reference features, shape=(S, latent_dim).
        """
        self._x = F.pad(X, (1, 1))
        return self.set_reference_dinucleotides(dinucleotide_encode(X))

    def set_reference_dinucleotides(self, ref: torch.Tensor) -> torch.Tensor:
        """:meth:`set_reference` from the model's order-2 input, shape=(S, 16, L) (for
        :meth:`features_of_changes`; :meth:`features` needs :meth:`set_reference`)."""
        self._inputs: dict[int, torch.Tensor] = {}       # module -> its padded reference input, (S, C, L + 2 pad)
        self._lengths: dict[int, int] = {}               # module -> its output length
        self._stage_out: list[torch.Tensor] = []         # (S, C, L_stage)
        if self.net is None:
            twins: list[nn.Module | None] = [None] * len(self.stages)
        else:
            twins, ref = self.net.stages, self.net.trunk_input(ref)
        for stage, twin in zip(self.stages, twins):
            ref = self._reference(stage, twin, ref)
            self._stage_out.append(_as_1d(ref))
        self._body_out = self._stage_out[-1]
        return self._head(self._body_out[:, :, self.trunk.crop:self.trunk.crop + 1])

    def _reference(self, module: nn.Module, twin: nn.Module | None, ref: torch.Tensor) -> torch.Tensor:
        """``module``'s reference output, keeping its (padded) input; with its 2D ``twin``, the
        activations are shape=(S, C, 1, L) channels-last and kept as (S, C, L) views."""
        if isinstance(module, nn.Sequential):
            for k, child in enumerate(module):
                ref = self._reference(child, None if twin is None else twin[k], ref)
            return ref
        pad = self._pad(module)
        # padding a (S, C, L) view copies it into the contiguous layout the window reads run fastest on
        self._inputs[id(module)] = F.pad(_as_1d(ref), (pad, pad)) if pad else _as_1d(ref)
        if isinstance(module, Residual):
            out = ref + self._reference(module.block, None if twin is None else twin.block, ref)
        else:
            out = (module if twin is None else twin)(ref)
        self._lengths[id(module)] = out.shape[-1]
        return out

    def _head(self, centre: torch.Tensor) -> torch.Tensor:
        """Central-bin activations (N, C, 1) -> features (N, latent_dim)."""
        return self.model.feature_norm(self.trunk.embed(centre).squeeze(-1))

    # ------------------------------------------------------------------ mutants
    def features(self, seq: torch.Tensor, positions: torch.Tensor, bases: torch.Tensor) -> torch.Tensor:
        """Features of substitution mutants of the reference sequences.

        Args:
            seq: index of each mutant's source sequence in the reference, shape=(B,).
            positions: substituted position, shape=(B,).
            bases: new base (0..3 = ACGT), shape=(B,).
        Returns:
            torch.Tensor, shape=(B, latent_dim).
        """
        x = self._x
        batch, length = seq.shape[0], x.shape[2] - 2
        mut = torch.zeros(batch, 4, 1, dtype=x.dtype, device=x.device)
        mut[torch.arange(batch, device=x.device), bases, 0] = 1
        # dinucleotides: d[j] reads x[j], x[j + 1]; a substitution at p changes d[p - 1] and d[p]
        w = min(2, length)
        lo = (positions - 1).clamp(0, length - w)
        h = dinucleotide_encode(_window(x, 1, seq, mut, positions, lo, w + 1))[:, :, :w]
        return self.features_of_changes(seq, h, lo)

    def features_of_changes(self, seq: torch.Tensor, h: torch.Tensor, lo: Start) -> torch.Tensor:
        """Features of mutants given as their changed window of the order-2 input.

        Args:
            seq: index of each mutant's source sequence in the reference, shape=(B,).
            h: the mutants' dinucleotide input on ``[lo, lo + w)`` (the reference's elsewhere),
                shape=(B, 16, w).
            lo: first position of each window, shape=(B,), or one ``int`` for all.
        Returns:
            torch.Tensor, shape=(B, latent_dim).
        """
        full = None
        for stage, ref_out in zip(self.stages, self._stage_out):
            if full is not None:
                full = stage(full)
                continue
            h, lo = self._local(stage, seq, h, lo)
            if h.shape[2] > self.materialize_at * ref_out.shape[2]:
                zero = torch.zeros_like(lo) if isinstance(lo, torch.Tensor) else 0
                full = _window(ref_out, 0, seq, h, lo, zero, ref_out.shape[2])
        crop = self.trunk.crop
        if full is not None:
            return self._head(full[:, :, crop:crop + 1])
        if not isinstance(lo, torch.Tensor):
            inside = lo <= crop < lo + h.shape[2]
            return self._head(h[:, :, crop - lo:crop - lo + 1] if inside else self._body_out[seq, :, crop:crop + 1])
        return self._head(self._centre(seq, h, lo, torch.full_like(lo, crop)))

    def _centre(self, seq: torch.Tensor, h: torch.Tensor, lo: torch.Tensor, centre: torch.Tensor) -> torch.Tensor:
        """Central position (B, C, 1), whether or not a mutant's changed window reaches it."""
        inside = (centre >= lo) & (centre < lo + h.shape[2])
        from_mut = torch.gather(h, 2, (centre - lo).clamp(0, h.shape[2] - 1)[:, None, None].expand(-1, h.shape[1], 1))
        from_ref = self._body_out[seq, :, self.trunk.crop:self.trunk.crop + 1]
        return torch.where(inside[:, None, None], from_mut, from_ref)

    def _local(self, module: nn.Module, seq: torch.Tensor, mut: torch.Tensor, lo: Start) -> tuple[torch.Tensor, Start]:
        """One module on the changed windows: returns (mutant window, its new start)."""
        if isinstance(module, nn.Sequential):
            for child in module:
                mut, lo = self._local(child, seq, mut, lo)
            return mut, lo
        if isinstance(module, POINTWISE):
            return module(mut), lo
        ref_in = self._inputs[id(module)]
        if isinstance(module, Residual):
            mut_b, lo_b = self._local(module.block, seq, mut, lo)
            width = mut_b.shape[2]
            if bool(torch.as_tensor((lo_b > lo) | (lo_b + width < lo + mut.shape[2])).any()):
                raise UnsupportedModule("residual branch does not cover its input's changed window")
            return _window(ref_in, 0, seq, mut, lo, lo_b, width) + mut_b, lo_b
        length_out = self._lengths[id(module)]
        if isinstance(module, nn.Conv1d):
            total, left = self._reach(module)
            w = min(mut.shape[2] + total, length_out)
            lo_out = _clamp(lo + left - total, 0, length_out - w)
            window = _window(ref_in, self._pad(module), seq, mut, lo, lo_out - left, w + total)
            out = F.conv1d(window, module.weight, module.bias, stride=1, padding=0, dilation=module.dilation[0],
                           groups=module.groups)
            return out, lo_out
        # MaxPool1d with kernel = stride = s
        s = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
        w = min((mut.shape[2] + s - 2) // s + 1, length_out)
        lo_out = _clamp(lo // s, 0, length_out - w)
        window = _window(ref_in, 0, seq, mut, lo, s * lo_out, s * w)
        return F.max_pool1d(window, s, s), lo_out
