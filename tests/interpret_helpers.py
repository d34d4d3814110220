"""Hand-built models and tiny files for the interpretation and evaluation tests.

:func:`motif_detector` sets a model's weights so that one latent unit is, analytically,
"the motif occurs in the central bin": the first (dinucleotide) filter scores the motif's
consecutive 2-mers, every later layer passes channel 0 straight through (centre taps,
identity BatchNorm, zero residual branches), and the embedding copies channel 0 to the unit.
"""
from __future__ import annotations


import numpy as np
import torch

from mfd_model.config import ModelConfig
from mfd_model.encoding import ALPHABET
from mfd_model.model import MFDModel
from toy_models import SEQ_LEN, small_config
from variant_helpers import write_fasta  # noqa: F401  (re-exported: one FASTA writer for all tests)

MOTIF = "TGACTCAG"          # AP-1-like, 8 bp
OTHER_MOTIF = "CCGCGGAA"    # shares no 2-mer pattern position with MOTIF


MOTIF_START = 130          # the detector's first filter peaks at MOTIF_START + 7, inside the central bin


def identity_batchnorm(module: torch.nn.Module) -> None:
    for bn in module.modules():
        if isinstance(bn, torch.nn.BatchNorm1d):
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0)
            bn.weight.data.fill_(1.0)
            bn.bias.data.zero_()


@torch.no_grad()
def set_first_layer_motif(model: MFDModel, motif: str, filter_index: int = 0, strength: float = 3.0) -> None:
    """Filter ``filter_index`` of the stem scores ``strength`` for a full match, 0 for one mismatch,
    ``-strength`` per further mismatch; it peaks at position ``start + left`` (left = 7 for k = 15)."""
    conv = model.trunk.stem[0]
    conv.weight[filter_index].zero_()
    idx = [ALPHABET.index(b) for b in motif]
    for j in range(len(motif) - 1):
        conv.weight[filter_index, 4 * idx[j] + idx[j + 1], j] = strength
    conv.bias[filter_index] = -strength * (len(motif) - 2)


@torch.no_grad()
def motif_detector(model: MFDModel, motif: str = MOTIF, unit: int = 0, strength: float = 3.0) -> MFDModel:
    """Make latent unit ``unit`` detect ``motif`` in the central bin (see the module docstring)."""
    trunk = model.trunk
    for p in trunk.parameters():
        p.zero_()
    identity_batchnorm(model)
    set_first_layer_motif(model, motif, 0, strength)
    for layer in trunk.tower:
        conv = layer[0][2]                       # ConvBlock: BN, GELU, Conv1d
        conv.weight[0, 0, conv.kernel_size[0] // 2] = 1.0
    trunk.embed[2].weight[unit, 0, 0] = 1.0
    return model.eval()


def detector_model(motif: str = MOTIF, unit: int = 0, **config) -> MFDModel:
    """A baseline-head model whose unit ``unit`` detects ``motif``; output 0 reads that unit."""
    model = MFDModel(small_config(**config), ["detector", "other"])
    motif_detector(model, motif, unit)
    with torch.no_grad():
        model.head.linear.weight.zero_()
        model.head.linear.weight[0, unit] = 2.0
        model.head.linear.bias.fill_(-1.0)
    return model.eval()


def random_one_hot(n: int, length: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = np.zeros((n, 4, length), dtype=np.float32)
    X[np.arange(n)[:, None], rng.integers(0, 4, (n, length)), np.arange(length)[None, :]] = 1
    return X


def plant(X: np.ndarray, motif: str, start: int) -> np.ndarray:
    X = X.copy()
    for k, base in enumerate(motif):
        X[:, :, start + k] = 0
        X[:, ALPHABET.index(base), start + k] = 1
    return X




def random_dna(length: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    return "".join(np.array(list(ALPHABET))[rng.integers(0, 4, length)])
