"""Sequence encodings: 4-channel one-hot DNA and the order-2 (dinucleotide) encoding.

The model's public input is ordinary one-hot DNA of shape ``(N, 4, L)``, channels in
``ACGT`` order, float32: the layout Kipoi dataloaders, variant scorers and attribution
tools produce and mutate. MFD itself reads dinucleotides (METHOD.md section 3), so the
first, parameter-free step inside the model turns the one-hot into 16 channels:

    d[4a + b, i] = x[a, i] * x[b, i + 1] * clean[i] * clean[i + 1]

i.e. position ``i`` holds the 2-mer that *starts* at ``i`` (the paper assigns a
dinucleotide to its first nucleotide); the last position has no successor and is zero.
``clean[i]`` is 0 where position ``i`` is not a (possibly scaled) one-hot vector — an
``N`` written as all zeros or as kipoiseq's 0.25 in every channel — so any 2-mer that
touches an ``N`` is the all-zero vector. The product form keeps the encoding
differentiable, so gradients, Integrated Gradients (which scales the input) and
in-silico mutagenesis all work on the 4-channel input directly.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

ALPHABET = "ACGT"
DINUCLEOTIDES = tuple(a + b for a in ALPHABET for b in ALPHABET)

_BASE_INDEX = np.full(256, -1, dtype=np.int8)
for _i, _base in enumerate(ALPHABET):
    _BASE_INDEX[ord(_base)] = _i
    _BASE_INDEX[ord(_base.lower())] = _i

# Complementing a dinucleotide a->b on the reverse strand gives comp(b)->comp(a);
# with ACGT order comp(k) = 3 - k.  _RC16[c'] is the source channel of channel c'.
_RC16 = [4 * (3 - (c % 4)) + (3 - c // 4) for c in range(16)]


def base_indices(sequence: str | bytes) -> np.ndarray:
    """Map a DNA string to base indices: A,C,G,T (any case) -> 0..3, anything else -> -1.

    Returns:
        np.ndarray, shape=(L,), dtype int8.
    """
    raw = sequence.encode("ascii", "replace") if isinstance(sequence, str) else bytes(sequence)
    return _BASE_INDEX[np.frombuffer(raw, dtype=np.uint8)]


def one_hot_encode(sequence: str | bytes, dtype: np.dtype = np.float32) -> np.ndarray:
    """One-hot encode one DNA string (vectorised; ``N`` and other letters -> all zeros).

    Returns:
        np.ndarray, shape=(4, L).
    """
    idx = base_indices(sequence)
    out = np.zeros((4, idx.shape[0]), dtype=dtype)
    known = idx >= 0
    out[idx[known], np.nonzero(known)[0]] = 1
    return out


def one_hot_encode_batch(sequences: Sequence[str | bytes], dtype: np.dtype = np.float32) -> np.ndarray:
    """One-hot encode equal-length DNA strings.

    Returns:
        np.ndarray, shape=(N, 4, L).
    """
    if not sequences:
        return np.zeros((0, 4, 0), dtype=dtype)
    lengths = {len(s) for s in sequences}
    if len(lengths) != 1:
        raise ValueError(f"sequences must have equal length, got lengths {sorted(lengths)}")
    idx = np.stack([base_indices(s) for s in sequences])  # (N, L)
    out = np.zeros((idx.shape[0], 4, idx.shape[1]), dtype=dtype)
    n, pos = np.nonzero(idx >= 0)
    out[n, idx[n, pos], pos] = 1
    return out


def decode_one_hot(x: np.ndarray | torch.Tensor) -> str:
    """Inverse of :func:`one_hot_encode` for one sequence ``(4, L)``; non-clean positions -> ``N``."""
    x = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x)
    clean = (np.count_nonzero(x, axis=0) == 1)
    letters = np.array(list(ALPHABET))[np.argmax(x, axis=0)]
    return "".join(np.where(clean, letters, "N"))


def reverse_complement_one_hot(x: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
    """Reverse complement of one-hot DNA: with ACGT order, complementing reverses the channels.

    Args:
        x: shape=(..., 4, L).
    Returns:
        the same type and shape.
    """
    if isinstance(x, torch.Tensor):
        return x.flip(dims=(-2, -1))
    return np.ascontiguousarray(x[..., ::-1, ::-1])


def clean_positions(x: torch.Tensor) -> torch.Tensor:
    """Positions that hold a (possibly scaled) one-hot vector: exactly one non-zero channel.

    Args:
        x: shape=(N, 4, L).
    Returns:
        float mask, shape=(N, 1, L); 0 for ``N`` (all zeros, or kipoiseq's 0.25 everywhere).
    """
    return ((x != 0).sum(dim=1, keepdim=True) == 1).to(x.dtype)


def dinucleotide_encode(x: torch.Tensor) -> torch.Tensor:
    """Order-2 encoding of one-hot DNA (the model's first step; see the module docstring).

    Args:
        x: one-hot DNA, shape=(N, 4, L), ACGT order.
    Returns:
        torch.Tensor, shape=(N, 16, L); channel ``4a + b`` at position ``i`` is the 2-mer
        ``(a, b)`` starting at ``i``; the last position and any 2-mer touching an N are zero.
    """
    x = x * clean_positions(x)
    first, second = x[:, :, :-1], x[:, :, 1:]
    pairs = first.unsqueeze(2) * second.unsqueeze(1)  # (N, 4, 4, L-1)
    pairs = pairs.reshape(x.shape[0], 16, x.shape[2] - 1)
    return torch.nn.functional.pad(pairs, (0, 1))


def reverse_complement_dinucleotide(d: torch.Tensor) -> torch.Tensor:
    """Reverse complement of the 16-channel encoding, without going back to the sequence.

    Equals ``dinucleotide_encode(reverse_complement_one_hot(x))`` for ``d = dinucleotide_encode(x)``:
    the channels are permuted (a->b becomes comp(b)->comp(a)), the length axis is flipped, and
    the result moves left by one position because a 2-mer is stored at its first base.

    Args:
        d: shape=(N, 16, L).
    Returns:
        torch.Tensor, shape=(N, 16, L).
    """
    flipped = d[:, _RC16, :].flip(dims=(-1,))
    return torch.roll(flipped, shifts=-1, dims=-1)
