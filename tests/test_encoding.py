"""The input encodings against brute-force references."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from mfd_model.encoding import (ALPHABET, DINUCLEOTIDES, base_codes, base_indices, decode_codes, decode_one_hot,
                                dinucleotide_encode, one_hot, one_hot_encode, one_hot_encode_batch,
                                reverse_complement_codes, reverse_complement_dinucleotide, reverse_complement_one_hot)

COMPLEMENT = {"A": "T", "C": "G", "G": "C", "T": "A", "N": "N"}


def random_sequence(rng: np.random.Generator, length: int, n_rate: float = 0.05) -> str:
    seq = rng.choice(list("ACGT"), size=length)
    seq[rng.random(length) < n_rate] = "N"
    return "".join(seq)


def brute_force_dinucleotides(seq: str) -> np.ndarray:
    """Loop over positions and all 16 2-mers by name."""
    out = np.zeros((16, len(seq)), dtype=np.float32)
    for i in range(len(seq) - 1):
        for c, pair in enumerate(DINUCLEOTIDES):
            if seq[i:i + 2].upper() == pair:
                out[c, i] = 1
    return out


def reverse_complement(seq: str) -> str:
    return "".join(COMPLEMENT[b] for b in reversed(seq.upper()))


def test_one_hot_matches_definition():
    seq = "ACGTNacgtX"
    x = one_hot_encode(seq)
    assert x.shape == (4, 10) and x.dtype == np.float32
    for i, base in enumerate(seq.upper()):
        expected = [1.0 if base == b else 0.0 for b in ALPHABET]
        assert x[:, i].tolist() == expected
    assert decode_one_hot(x) == "ACGTNACGTN"


def test_one_hot_batch_equals_single():
    rng = np.random.default_rng(1)
    seqs = [random_sequence(rng, 50) for _ in range(5)]
    batch = one_hot_encode_batch(seqs)
    assert np.array_equal(batch, np.stack([one_hot_encode(s) for s in seqs]))
    with pytest.raises(ValueError, match="equal length"):
        one_hot_encode_batch(["ACG", "AC"])


def test_base_codes_are_the_one_table():
    """Every byte: ACGT (any case) -> 0..3, anything else -> 4 (N); indices are the same with N -> -1."""
    every_byte = bytes(range(256))
    expected = ["ACGT".index(chr(b).upper()) if chr(b).upper() in "ACGT" else 4 for b in range(256)]
    assert base_codes(every_byte).tolist() == expected and base_codes(every_byte).dtype == np.uint8
    assert base_indices(every_byte).tolist() == [-1 if c == 4 else c for c in expected]
    assert decode_codes(base_codes("acgtNRyx")) == "ACGTNNNN"
    rng = np.random.default_rng(3)
    seqs = [random_sequence(rng, 40, n_rate=0.2) for _ in range(5)]
    codes = np.stack([base_codes(s) for s in seqs])
    assert [decode_codes(c) for c in reverse_complement_codes(codes)] == [reverse_complement(s) for s in seqs]


def test_one_hot_of_codes_numpy_torch_and_kipoiseq_n():
    """One encoder for codes (uint8, N = 4), indices (int8, N = -1), numpy and torch; N as 0 or 0.25."""
    rng = np.random.default_rng(4)
    seqs = [random_sequence(rng, 30, n_rate=0.2) for _ in range(6)]
    expected = np.zeros((6, 4, 30), dtype=np.float32)
    for n, seq in enumerate(seqs):
        for i, base in enumerate(seq):
            expected[n, :, i] = [float(base == b) for b in ALPHABET] if base in ALPHABET else 0.25
    codes = np.stack([base_codes(s) for s in seqs])
    indices = np.stack([base_indices(s) for s in seqs])
    for kind in (codes, indices):
        np.testing.assert_array_equal(one_hot(kind, n_value=0.25), expected)
        np.testing.assert_array_equal(one_hot(torch.from_numpy(kind), n_value=0.25).numpy(), expected)
        np.testing.assert_array_equal(one_hot(kind), np.where(expected == 0.25, 0, expected))
    assert one_hot(codes).dtype == np.float32 and one_hot(torch.from_numpy(codes)).dtype == torch.float32
    assert one_hot(codes, dtype=np.float64).dtype == np.float64
    np.testing.assert_array_equal(one_hot_encode_batch(seqs, n_value=0.25), expected)
    np.testing.assert_array_equal(one_hot(reverse_complement_codes(codes)), reverse_complement_one_hot(one_hot(codes)))


def test_dinucleotides_equal_brute_force_loop():
    rng = np.random.default_rng(0)
    seqs = [random_sequence(rng, 97) for _ in range(6)] + ["NNNN" + "ACGT" * 5, "".join(a + b for a, b in itertools.product("ACGT", repeat=2))]
    seqs = [s[:97].ljust(97, "A") for s in seqs]
    x = torch.from_numpy(one_hot_encode_batch(seqs))
    got = dinucleotide_encode(x).numpy()
    expected = np.stack([brute_force_dinucleotides(s) for s in seqs])
    assert got.shape == (len(seqs), 16, 97)
    np.testing.assert_array_equal(got, expected)
    from mfd_model.encoding import dinucleotides_from_codes  # codes straight to 2-mers (the model's integer input)
    for codes in (np.stack([base_codes(q) for q in seqs]), np.stack([base_indices(q) for q in seqs])):
        np.testing.assert_array_equal(dinucleotides_from_codes(torch.from_numpy(codes)).numpy(), expected)
    assert dinucleotides_from_codes(torch.from_numpy(base_codes("ACGT")[None]), torch.float64).dtype == torch.float64


def test_kipoiseq_style_n_gives_zero_dinucleotides():
    seq = "ACGNTTA"
    x = torch.from_numpy(one_hot_encode(seq))[None]
    x_kipoi = x.clone()
    x_kipoi[0, :, 3] = 0.25  # kipoiseq writes N as 0.25 in every channel
    np.testing.assert_array_equal(dinucleotide_encode(x_kipoi).numpy(), dinucleotide_encode(x).numpy())
    d = dinucleotide_encode(x_kipoi)[0]
    assert d[:, 2].sum() == 0 and d[:, 3].sum() == 0   # GN and NT
    assert d[:, 6].sum() == 0                           # last position has no successor
    assert d[:, :2].sum() == 2 and d[:, 4:6].sum() == 2


def test_scaled_one_hot_is_scaled_product():
    """Integrated Gradients scales the input: the encoding must stay the smooth product there."""
    x = torch.from_numpy(one_hot_encode("ACGTTGCA"))[None]
    alpha = 0.3
    np.testing.assert_allclose(dinucleotide_encode(alpha * x).numpy(), alpha ** 2 * dinucleotide_encode(x).numpy(),
                               rtol=1e-6)


def test_reverse_complement_of_16_channels_equals_encoding_of_reverse_complement():
    rng = np.random.default_rng(2)
    seqs = [random_sequence(rng, 64, n_rate=0.1) for _ in range(8)]
    x = torch.from_numpy(one_hot_encode_batch(seqs))
    rc_seqs = [reverse_complement(s) for s in seqs]
    x_rc_strings = torch.from_numpy(one_hot_encode_batch(rc_seqs))
    # one-hot reverse complement equals encoding the reverse-complemented string
    np.testing.assert_array_equal(reverse_complement_one_hot(x).numpy(), x_rc_strings.numpy())
    np.testing.assert_array_equal(reverse_complement_one_hot(x.numpy()), x_rc_strings.numpy())
    # 16-channel reverse complement equals the encoding of the reverse-complemented sequence
    d = dinucleotide_encode(x)
    np.testing.assert_array_equal(reverse_complement_dinucleotide(d).numpy(), dinucleotide_encode(x_rc_strings).numpy())
    # and it is an involution
    np.testing.assert_array_equal(reverse_complement_dinucleotide(reverse_complement_dinucleotide(d)).numpy(), d.numpy())


def test_dinucleotide_gradients_reach_both_bases():
    x = torch.from_numpy(one_hot_encode("ACGT"))[None].requires_grad_(True)
    dinucleotide_encode(x)[0, DINUCLEOTIDES.index("CG"), 1].backward()
    grad = x.grad[0]
    assert grad[1, 1] == 1 and grad[2, 2] == 1  # d(C_1 * G_2)/dC_1 = G_2 = 1, and vice versa
    assert grad.abs().sum() == 2
