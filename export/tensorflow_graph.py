"""The MFD network rebuilt in TensorFlow ops from trained PyTorch weights (the ``tensorflow2`` variant).

Kipoi's ``tensorflow2`` type calls ``tf.saved_model.load(path)(x)``: that works for the SavedModel
of a ``tf.Module`` whose ``__call__`` is a ``tf.function`` with a fixed input signature (Keras 3
exports are not callable that way). :func:`build_tf_module` builds such a module:

* the trunk is translated layer by layer from the PyTorch module tree (``Sequential``, the
  residual wrapper, ``BatchNorm1d`` in its eval form ``x * scale + shift``, GELU with the tanh
  approximation, ``Conv1d`` with PyTorch's ``'same'`` padding made explicit, ``MaxPool1d``;
  dropout is the identity at inference), in TensorFlow's native length-major layout;
* the dinucleotide encoding is the same parameter-free first step as in PyTorch (a position
  that is not a clean one-hot — ``N`` as zeros or 0.25 — gives all-zero 2-mers);
* the head is a fixed matrix: the metadata embedding is constant at inference, so
  ``logits = features @ W.T + b`` with ``(W, b) = model.experiment_weights()``.

The public input is the same as the PyTorch variant's: one-hot DNA ``(N, 4, seq_len)``, ACGT,
float32 (kipoiseq ``SeqIntervalDl`` with ``alphabet_axis: 0``, ``dtype: np.float32``).

Exposed ``tf.function`` s (all with fixed signatures, all saved):
``__call__(seq)`` probabilities (N, O); ``logits(seq)``; ``features(seq)`` (N, latent);
and for MFD models ``biological_features(seq)``, ``technical_features(seq)`` (N, half) and
``predict_from_halves(bio, tech)``, ``logits_from_halves(bio, tech)`` (N, O) for variant scoring
with swapped subspaces. Variables ``experiment_names`` and ``unit_names`` hold the labels.

This module imports TensorFlow; only export code paths import it.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter off the terminal

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from mfd_model.errors import MFDError  # noqa: E402
from mfd_model.model import MFDModel  # noqa: E402
from mfd_model.trunk import Residual  # noqa: E402

TensorFn = Callable[[tf.Tensor], tf.Tensor]


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().double().numpy()


def _constant(value: np.ndarray, name: str) -> tf.Variable:
    """A non-trainable float32 variable (stored in the SavedModel's variables, not the graph)."""
    return tf.Variable(np.asarray(value, dtype=np.float32), trainable=False, name=name)


class BatchNormEval(tf.Module):
    """``BatchNorm1d`` in eval mode folded to ``x * scale + shift`` over the last (channel) axis."""

    def __init__(self, bn: nn.BatchNorm1d, name: str) -> None:
        super().__init__(name=name)
        if bn.running_mean is None or bn.running_var is None:
            raise MFDError(f"{name}: BatchNorm without running statistics cannot be exported",
                           fix="train with track_running_stats=True (the default)")
        scale = 1.0 / np.sqrt(_numpy(bn.running_var) + bn.eps)
        if bn.weight is not None:
            scale = scale * _numpy(bn.weight)
        shift = -_numpy(bn.running_mean) * scale
        if bn.bias is not None:
            shift = shift + _numpy(bn.bias)
        self.scale = _constant(scale, "scale")
        self.shift = _constant(shift, "shift")

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return x * self.scale + self.shift


class Conv1D(tf.Module):
    """``Conv1d`` (stride 1) with PyTorch's padding made explicit. Shapes: (N, L, c_in) -> (N, L_out, c_out)."""

    def __init__(self, conv: nn.Conv1d, name: str) -> None:
        super().__init__(name=name)
        if conv.stride != (1,) or conv.groups != 1:
            raise MFDError(f"{name}: only stride-1, ungrouped convolutions are exported", fix="use the MFD trunk")
        self.kernel = _constant(_numpy(conv.weight).transpose(2, 1, 0), "kernel")  # (k, c_in, c_out)
        self.bias = _constant(_numpy(conv.bias), "bias") if conv.bias is not None else None
        self.dilation = int(conv.dilation[0])
        reach = self.dilation * (conv.kernel_size[0] - 1)
        if conv.padding == "same":
            self.pad = (reach // 2, reach - reach // 2)  # PyTorch puts the odd extra on the right
        elif conv.padding == "valid":
            self.pad = (0, 0)
        else:
            self.pad = (int(conv.padding[0]), int(conv.padding[0]))

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        if any(self.pad):
            x = tf.pad(x, [[0, 0], list(self.pad), [0, 0]])
        y = tf.nn.convolution(x, self.kernel, padding="VALID", dilations=[self.dilation])
        return y + self.bias if self.bias is not None else y


class Sequence(tf.Module):
    """A chain of translated layers; ``residual`` adds the input to the chain's output."""

    def __init__(self, layers: list, residual: bool, name: str) -> None:
        super().__init__(name=name)
        self.layers = layers
        self.residual = residual

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        y = x
        for layer in self.layers:
            y = layer(y)
        return x + y if self.residual else y


def _gelu_tanh(x: tf.Tensor) -> tf.Tensor:
    return tf.nn.gelu(x, approximate=True)


def _max_pool(size: int) -> TensorFn:
    return lambda x: tf.nn.max_pool1d(x, ksize=size, strides=size, padding="VALID")


def translate(module: nn.Module, name: str) -> tf.Module | TensorFn:
    """The TensorFlow equivalent (length-major layout) of one PyTorch trunk module."""
    if isinstance(module, nn.Sequential):
        return Sequence([translate(m, f"{name}_{i}") for i, m in enumerate(module)], residual=False, name=name)
    if isinstance(module, Residual):
        inner = translate(module.block, f"{name}_block")
        return Sequence([inner], residual=True, name=name)
    if isinstance(module, nn.BatchNorm1d):
        return BatchNormEval(module, name)
    if isinstance(module, nn.Conv1d):
        return Conv1D(module, name)
    if isinstance(module, nn.GELU):
        if module.approximate != "tanh":
            raise MFDError(f"{name}: only GELU with the tanh approximation is exported", fix="use the MFD trunk")
        return _gelu_tanh
    if isinstance(module, nn.MaxPool1d):
        size = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
        stride = module.stride if isinstance(module.stride, int) else module.stride[0]
        if stride != size or module.padding not in (0, (0,)) or module.dilation not in (1, (1,)):
            raise MFDError(f"{name}: only non-overlapping max-pooling is exported", fix="use the MFD trunk")
        return _max_pool(size)
    if isinstance(module, (nn.Dropout, nn.Identity)):
        return tf.identity
    raise MFDError(f"{name}: cannot translate a {type(module).__name__} to TensorFlow",
                   fix="export models built from the MFD trunk")


def dinucleotide_encode(seq: tf.Tensor) -> tf.Tensor:
    """Order-2 encoding, as :func:`mfd_model.encoding.dinucleotide_encode` but length-major.

    Args:
        seq: one-hot DNA, shape=(N, 4, L).
    Returns:
        tf.Tensor, shape=(N, L, 16); channel ``4a + b`` at position ``i`` is the 2-mer starting at ``i``.
    """
    x = tf.transpose(seq, [0, 2, 1])  # (N, L, 4)
    clean = tf.cast(tf.math.count_nonzero(x, axis=-1, keepdims=True) == 1, x.dtype)
    x = x * clean
    pairs = x[:, :-1, :, None] * x[:, 1:, None, :]  # (N, L-1, 4, 4)
    shape = tf.shape(pairs)
    pairs = tf.reshape(pairs, [shape[0], shape[1], 16])
    return tf.pad(pairs, [[0, 0], [0, 1], [0, 0]])


class _MFDGraph(tf.Module):
    """Trunk + feature norm + fixed head; :func:`build_tf_module` adds the ``tf.function`` s."""

    def __init__(self, model: MFDModel) -> None:
        super().__init__(name="mfd")
        trunk = model.trunk
        self.seq_len = model.config.seq_len
        self.half_dim = model.config.half_dim
        self.crop = trunk.crop
        self.stem = translate(trunk.stem, "stem")
        self.tower = translate(trunk.tower, "tower")
        self.dilated = translate(trunk.dilated, "dilated")
        self.embed = translate(trunk.embed, "embed")
        self.feature_norm = translate(model.feature_norm, "feature_norm")
        with torch.no_grad():
            weight, bias = model.experiment_weights()
        self.head_kernel = _constant(_numpy(weight).T, "head_kernel")  # (latent, O)
        self.head_bias = _constant(_numpy(bias), "head_bias")
        self.experiment_names = tf.Variable(model.experiment_names, trainable=False, name="experiment_names")
        self.unit_names = tf.Variable(model.unit_names, trainable=False, name="unit_names")

    def _features(self, seq: tf.Tensor) -> tf.Tensor:
        h = self.dilated(self.tower(self.stem(dinucleotide_encode(seq))))
        if self.crop:
            h = h[:, self.crop:-self.crop, :]
        h = self.embed(h)[:, 0, :]
        return self.feature_norm(h)

    def _logits_from_features(self, features: tf.Tensor) -> tf.Tensor:
        return tf.matmul(features, self.head_kernel) + self.head_bias

    def _logits_from_halves_raw(self, bio: tf.Tensor, tech: tf.Tensor) -> tf.Tensor:
        return self._logits_from_features(tf.concat([bio, tech], axis=1))


# The functions the SavedModel exposes (methods of the generated class; ``self`` is an _MFDGraph).
def _probabilities(self, seq: tf.Tensor) -> tf.Tensor:
    """Probabilities, shape=(N, O), from one-hot DNA shape=(N, 4, seq_len)."""
    return tf.sigmoid(self._logits_from_features(self._features(seq)))


def _logits(self, seq: tf.Tensor) -> tf.Tensor:
    """Logits, shape=(N, O)."""
    return self._logits_from_features(self._features(seq))


def _latent(self, seq: tf.Tensor) -> tf.Tensor:
    """Latent features ``[bio | tech]``, shape=(N, latent_dim)."""
    return self._features(seq)


def _biological(self, seq: tf.Tensor) -> tf.Tensor:
    """``s_bio``, shape=(N, half_dim)."""
    return self._features(seq)[:, :self.half_dim]


def _technical(self, seq: tf.Tensor) -> tf.Tensor:
    """``s_tech``, shape=(N, half_dim)."""
    return self._features(seq)[:, self.half_dim:]


def _logits_from_halves(self, bio: tf.Tensor, tech: tf.Tensor) -> tf.Tensor:
    """Logits from a (bio, tech) pair, possibly of different sequences, shape=(N, O)."""
    return self._logits_from_halves_raw(bio, tech)


def _predict_from_halves(self, bio: tf.Tensor, tech: tf.Tensor) -> tf.Tensor:
    """Probabilities from a (bio, tech) pair, shape=(N, O)."""
    return tf.sigmoid(self._logits_from_halves_raw(bio, tech))


def build_tf_module(model: MFDModel) -> tf.Module:
    """A ``tf.Module`` computing what ``model`` computes, ready for :func:`tf.saved_model.save`.

    Args:
        model: a trained MFD (or baseline) model; it is read, not changed.
    Returns:
        the module; ``module(seq)`` with seq shape=(N, 4, seq_len) float32 gives probabilities (N, O).
    """
    model = model.eval()
    seq = [tf.TensorSpec([None, 4, model.config.seq_len], tf.float32, name="seq")]
    halves = [tf.TensorSpec([None, model.config.half_dim], tf.float32, name="bio"),
              tf.TensorSpec([None, model.config.half_dim], tf.float32, name="tech")]
    functions = {"__call__": (_probabilities, seq), "logits": (_logits, seq), "features": (_latent, seq)}
    if model.is_mfd:
        functions.update(biological_features=(_biological, seq), technical_features=(_technical, seq),
                         logits_from_halves=(_logits_from_halves, halves),
                         predict_from_halves=(_predict_from_halves, halves))
    methods = {name: tf.function(func, input_signature=signature) for name, (func, signature) in functions.items()}
    return type("MFDTensorFlow", (_MFDGraph,), methods)(model)


def save_tf_module(model: MFDModel, path: str | Path) -> Path:
    """Write the SavedModel of :func:`build_tf_module` to ``path`` (a new folder)."""
    module = build_tf_module(model)
    path = Path(path)
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.__call__.get_concrete_function()})
    return path


def load_tf_module(path: str | Path):
    """``tf.saved_model.load`` as Kipoi does it; an unreadable folder is one clear error."""
    try:
        return tf.saved_model.load(str(path))
    except (OSError, ValueError, tf.errors.OpError) as err:
        raise MFDError(f"cannot load the TensorFlow SavedModel ({' '.join(str(err).split())[:160]})", path=path,
                       fix="re-export it with 'mfd export'") from None
