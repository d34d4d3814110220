"""Sequence encodings: base codes, 4-channel one-hot DNA and the order-2 (dinucleotide) encoding.

This module is the codebase's one base-code table and its one one-hot encoder. DNA is held as
**base codes**: ``uint8``, ``A, C, G, T -> 0..3`` (any case), every other letter (``N``, IUPAC
codes) ``-> 4`` (:data:`N_CODE`). The code array of a whole genome
(:mod:`mfd_model.genome_codes`), the simulator's genome and the windows of ``mfd predict`` all use
it; :func:`one_hot` turns codes into the model's input. :func:`base_indices` is the same table
with ``N -> -1`` (int8), the variant scorer's convention; :func:`one_hot` accepts both.

The model's public input is ordinary one-hot DNA of shape ``(N, 4, L)``, channels in
``ACGT`` order, float32: the layout Kipoi dataloaders, variant scorers and attribution
tools produce and mutate (the model also takes codes ``(N, L)`` and one-hot encodes them on
its device). MFD itself reads dinucleotides (docs/method.md section 3), so the
first, parameter-free step inside the model turns the one-hot into 16 channels:

    d[4a + b, i] = x[a, i] * x[b, i + 1] * clean[i] * clean[i + 1]

i.e. position ``i`` holds the 2-mer that *starts* at ``i`` (the paper assigns a
dinucleotide to its first nucleotide); the last position has no successor and is zero.
``clean[i]`` is 0 where position ``i`` is not a (possibly scaled) one-hot vector — an
``N`` written as all zeros or as kipoiseq's 0.25 in every channel — so any 2-mer that
touches an ``N`` is the all-zero vector. The product form keeps the encoding
differentiable, so gradients, Integrated Gradients (which scales the input) and
in-silico mutagenesis all work on the 4-channel input directly.

Importing this module does not import torch (``mfd simulate`` and ``mfd prepare`` use the
table); the torch functions import it when called.
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

if TYPE_CHECKING:
    import torch

ALPHABET = "ACGT"
DINUCLEOTIDES = tuple(a + b for a in ALPHABET for b in ALPHABET)
N_CODE = 4

#: byte -> base code, shape=(256,), uint8: ``ACGTacgt -> 0..3``, anything else -> 4.
CODE_OF_BYTE = np.full(256, N_CODE, dtype=np.uint8)
for _code, _base in enumerate(ALPHABET):
    CODE_OF_BYTE[ord(_base)] = _code
    CODE_OF_BYTE[ord(_base.lower())] = _code
CODE_OF_BYTE.flags.writeable = False

#: base code -> upper-case letter (``ACGTN``), shape=(5,), uint8.
LETTER_OF_CODE = np.frombuffer(b"ACGTN", dtype=np.uint8)
#: base code -> code of the complementary base (``N`` stays ``N``), shape=(5,), uint8.
COMPLEMENT_CODE = np.array([3, 2, 1, 0, N_CODE], dtype=np.uint8)
COMPLEMENT_CODE.flags.writeable = False
_INDEX_OF_CODE = np.array([0, 1, 2, 3, -1], dtype=np.int8)
_COMPLEMENT_LETTER = str.maketrans("ACGTN", "TGCAN")

# Complementing a dinucleotide a->b on the reverse strand gives comp(b)->comp(a);
# with ACGT order comp(k) = 3 - k.  _RC16[c'] is the source channel of channel c'.
_RC16 = [4 * (3 - (c % 4)) + (3 - c // 4) for c in range(16)]


def _is_tensor(x: Any) -> bool:
    """Whether ``x`` is a torch tensor (without importing torch: none exists before it is imported)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def base_codes(sequence: str | bytes) -> np.ndarray:
    """Base codes of a DNA string: A,C,G,T (any case) -> 0..3, anything else -> 4 (N).

    Returns:
        np.ndarray, shape=(L,), uint8.
    """
    raw = sequence.encode("ascii", "replace") if isinstance(sequence, str) else bytes(sequence)
    return CODE_OF_BYTE[np.frombuffer(raw, dtype=np.uint8)]


def base_indices(sequence: str | bytes) -> np.ndarray:
    """Base indices of a DNA string (the same table, ``N -> -1``): A,C,G,T -> 0..3, anything else -> -1.

    Returns:
        np.ndarray, shape=(L,), int8.
    """
    return _INDEX_OF_CODE[base_codes(sequence)]


def decode_codes(codes: np.ndarray) -> str:
    """Inverse of :func:`base_codes` for one sequence, shape=(L,); anything but 0..3 -> ``N``."""
    codes = np.asarray(codes)
    return LETTER_OF_CODE[np.where((codes >= 0) & (codes < 4), codes, N_CODE)].tobytes().decode("ascii")


def reverse_complement(sequence: str) -> str:
    """Reverse complement of a DNA string (``ACGTN``, upper case)."""
    return sequence.translate(_COMPLEMENT_LETTER)[::-1]


def reverse_complement_codes(codes: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """Reverse complement of base codes along the last axis (numpy, or a torch tensor on its device).

    Codes 0..3 (ACGT) become 3..0; any other value (``N``: 4 of :func:`base_codes`, -1 of
    :func:`base_indices`) stays as it is.

    Args:
        codes: integer codes, shape=(..., L).
    Returns:
        the same kind, dtype and shape.
    """
    if _is_tensor(codes):
        return codes.where((codes < 0) | (codes > 3), 3 - codes).flip(dims=(-1,))
    codes = np.asarray(codes)
    flipped = codes[..., ::-1]
    return np.where((flipped >= 0) & (flipped < 4), 3 - flipped, flipped).astype(codes.dtype, copy=False)


def one_hot(codes: np.ndarray | torch.Tensor, dtype: Any = None, n_value: float = 0.0) -> np.ndarray | torch.Tensor:
    """One-hot DNA from base codes (numpy on the CPU, or a torch tensor on its own device).

    Codes 0..3 are A, C, G, T; any other value (4, or -1 of :func:`base_indices`) is ``N``,
    encoded as ``n_value`` in all four channels (0 here; kipoiseq writes 0.25).

    Args:
        codes: integer codes, shape=(..., L).
        dtype: output dtype (default float32; a numpy dtype for arrays, a torch dtype for tensors).
        n_value: value of every channel at an ``N``.
    Returns:
        the same kind as ``codes``, shape=(..., 4, L).
    """
    if _is_tensor(codes):
        import torch
        dtype = torch.float32 if dtype is None else dtype
        bases = torch.arange(4, dtype=codes.dtype, device=codes.device).reshape(4, 1)
        match = codes.unsqueeze(-2) == bases
        out = match.to(dtype)
        if n_value:
            out = out + n_value * (~match.any(dim=-2, keepdim=True)).to(dtype)
        return out
    codes = np.asarray(codes)
    dtype = np.float32 if dtype is None else dtype
    match = codes[..., None, :] == np.arange(4, dtype=codes.dtype).reshape(4, 1)
    out = match.astype(dtype)
    if n_value:
        out += np.asarray(n_value, dtype=dtype) * ~match.any(axis=-2, keepdims=True)
    return out


def one_hot_encode(sequence: str | bytes, dtype: np.dtype = np.float32, n_value: float = 0.0) -> np.ndarray:
    """One-hot encode one DNA string (``N`` and other letters -> ``n_value``, default all zeros).

    Returns:
        np.ndarray, shape=(4, L).
    """
    return one_hot(base_codes(sequence), dtype, n_value)


def one_hot_encode_batch(sequences: Sequence[str | bytes], dtype: np.dtype = np.float32,
                         n_value: float = 0.0) -> np.ndarray:
    """One-hot encode equal-length DNA strings in one vectorised step.

    Args:
        sequences: N DNA strings of one length L.
        n_value: value of every channel at a non-ACGT position (0 here; kipoiseq writes 0.25).
    Returns:
        np.ndarray, shape=(N, 4, L).
    """
    if not sequences:
        return np.zeros((0, 4, 0), dtype=dtype)
    lengths = {len(s) for s in sequences}
    if len(lengths) != 1:
        raise ValueError(f"sequences must have equal length, got lengths {sorted(lengths)}")
    joined = "".join(sequences) if isinstance(sequences[0], str) else b"".join(map(bytes, sequences))
    codes = base_codes(joined).reshape(len(sequences), lengths.pop())
    return one_hot(codes, dtype, n_value)


def decode_one_hot(x: np.ndarray | torch.Tensor) -> str:
    """Inverse of :func:`one_hot_encode` for one sequence ``(4, L)``; non-clean positions -> ``N``."""
    x = np.asarray(x.detach().cpu() if _is_tensor(x) else x)
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
    if _is_tensor(x):
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
    import torch
    x = x * clean_positions(x)
    first, second = x[:, :, :-1], x[:, :, 1:]
    pairs = first.unsqueeze(2) * second.unsqueeze(1)  # (N, 4, 4, L-1)
    pairs = pairs.reshape(x.shape[0], 16, x.shape[2] - 1)
    return torch.nn.functional.pad(pairs, (0, 1))


def dinucleotides_from_codes(codes: torch.Tensor, dtype: Any = None) -> torch.Tensor:
    """The model's order-2 input straight from base codes, vectorised on the codes' device.

    Equals ``dinucleotide_encode(one_hot(codes))``: channel ``4a + b`` at position ``i`` is 1
    where bases ``a, b`` start at ``i``; 2-mers touching an ``N`` (any code but 0..3: 4, or -1 of
    :func:`base_indices`) and the last position are zero.

    Args:
        codes: integer tensor, shape=(N, L).
        dtype: output dtype (default float32).
    Returns:
        torch.Tensor, shape=(N, 16, L).
    """
    import torch
    dtype = torch.float32 if dtype is None else dtype
    first, second = codes[:, :-1].long(), codes[:, 1:].long()
    valid = (first >= 0) & (first < 4) & (second >= 0) & (second < 4)
    token = torch.where(valid, 4 * first + second, torch.full_like(first, 16))
    out = torch.zeros(codes.shape[0], 17, codes.shape[1], dtype=dtype, device=codes.device)
    out[:, :, :-1].scatter_(1, token.unsqueeze(1), 1.0)
    return out[:, :16]


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
    import torch
    flipped = d[:, _RC16, :].flip(dims=(-1,))
    return torch.roll(flipped, shifts=-1, dims=-1)
