"""mfd_model.strands: the one strand merge, and every analysis that merges strands, against a brute force.

The reference predicts each window alone, forward and reverse complement (reversed by hand:
positions reversed, and A<->T, C<->G, i.e. the ACGT channels reversed), and merges by hand.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from interpret_helpers import write_fasta
from toy_models import SEQ_LEN, toy_mfd
from mfd_model.errors import MFDError
from mfd_model.strands import STRAND_MERGES, merge_strands, reverse_complement_windows

BY_HAND = {
    "fwd": lambda f, r: f,
    "rc": lambda f, r: r,
    "mean": lambda f, r: (f + r) / 2,
    "median": lambda f, r: np.median(np.stack([f, r]), axis=0),
    "max": lambda f, r: np.array([max(a, b) for a, b in zip(f.ravel(), r.ravel())]).reshape(f.shape),
    "min": lambda f, r: np.array([min(a, b) for a, b in zip(f.ravel(), r.ravel())]).reshape(f.shape),
    "absmax": lambda f, r: np.array([b if abs(b) > abs(a) else a for a, b in zip(f.ravel(), r.ravel())]).reshape(f.shape),
    "concat": lambda f, r: np.hstack([f, r]),
}


def _random_one_hot(n: int, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    X = np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(n, SEQ_LEN))].transpose(0, 2, 1)
    X[0, :, :10] = 0  # some N
    return torch.from_numpy(np.ascontiguousarray(X))


def _rc_by_hand(x: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x.numpy()[::-1, ::-1]))


def _each_alone(func, X: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """func of every window alone, forward and reverse complement."""
    with torch.no_grad():
        fwd = np.stack([func(x[None])[0].numpy() for x in X])
        rc = np.stack([func(_rc_by_hand(x)[None])[0].numpy() for x in X])
    return fwd, rc


@pytest.fixture
def model(toy_paths):
    torch.manual_seed(0)
    return toy_mfd(toy_paths)


@pytest.mark.parametrize("how", STRAND_MERGES)
def test_merge_strands_by_hand_numpy_and_torch(how):
    rng = np.random.default_rng(1)
    f, r = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    r[0] = -f[0]  # |ties|: absmax keeps the forward value, as kipoi-veff
    r[1] = f[1]
    expected = BY_HAND[how](f, r)
    np.testing.assert_array_equal(merge_strands(f, r, how), expected)
    np.testing.assert_array_equal(merge_strands(torch.from_numpy(f), torch.from_numpy(r), how).numpy(), expected)


def test_merge_strands_refuses_unknown():
    with pytest.raises(MFDError, match="unknown strand merge 'average'"):
        merge_strands(np.zeros(2), np.zeros(2), "average")


def test_reverse_complement_windows_codes_and_one_hot_by_hand():
    from mfd_model.encoding import base_codes, base_indices, one_hot_encode, reverse_complement

    seqs = ["ACGTNNAC", "TTGCANCG"]
    for encode in (base_codes, base_indices):
        codes = np.stack([encode(s) for s in seqs])
        want = np.stack([encode(reverse_complement(s)) for s in seqs])
        np.testing.assert_array_equal(reverse_complement_windows(codes), want)
        got = reverse_complement_windows(torch.from_numpy(codes))
        assert got.dtype == torch.from_numpy(codes).dtype
        np.testing.assert_array_equal(got.numpy(), want)
    X = np.stack([one_hot_encode(s) for s in seqs])
    want = np.stack([one_hot_encode(reverse_complement(s)) for s in seqs])
    np.testing.assert_array_equal(reverse_complement_windows(X), want)
    np.testing.assert_array_equal(reverse_complement_windows(torch.from_numpy(X)).numpy(), want)


@pytest.mark.parametrize("strand", ["fwd", "rc", "mean", "concat"])
def test_embed_merges_as_by_hand(model, strand):
    from mfd_model.interpret.embed import embed

    X = _random_one_hot(4, seed=2)
    fwd, rc = _each_alone(model.features, X)
    h = model.config.half_dim
    got = embed(model, X, ["bio", "tech", "full"], strand=strand, batch_size=3, device="cpu")
    bio = BY_HAND[strand](fwd[:, :h], rc[:, :h])
    tech = BY_HAND[strand](fwd[:, h:], rc[:, h:])
    np.testing.assert_allclose(got["bio"], bio, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["tech"], tech, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["full"], np.hstack([bio, tech]), rtol=1e-5, atol=1e-6)


def test_evaluate_and_importance_average_strands_as_by_hand(model, tmp_path):
    from mfd_model.encoding import one_hot_encode
    from mfd_model.evaluate.importance import probabilities
    from mfd_model.evaluate.performance import predict_bins
    from mfd_model.genome import Genome

    rng = np.random.default_rng(3)
    fasta = write_fasta(tmp_path / "g.fa", {"c1": "".join(rng.choice(list("ACGT"), 2000))})
    genome = Genome(fasta)
    bin_start, bin_size = np.array([0, 320, 1000, 1900]), 32  # the first and last windows run off the contig
    starts = bin_start + bin_size // 2 - SEQ_LEN // 2
    X = torch.from_numpy(np.stack([one_hot_encode(genome.fetch("c1", int(s), int(s) + SEQ_LEN)) for s in starts]))
    fwd, rc = _each_alone(model, X)
    got = predict_bins(model, genome, ["c1"] * 4, bin_start, bin_size, batch_size=3, device="cpu", progress=False)
    np.testing.assert_allclose(got, (fwd + rc) / 2, rtol=1e-5, atol=1e-6)

    f_feats, r_feats = _each_alone(model.features, X)
    intact = probabilities(model, torch.from_numpy(f_feats), torch.from_numpy(r_feats), (),
                           torch.zeros(f_feats.shape[1]))
    np.testing.assert_allclose(intact, (fwd + rc) / 2, rtol=1e-5, atol=1e-6)
    genome.close()


@pytest.mark.parametrize("how", ["mean", "median", "max", "min", "absmax", "none"])
def test_variant_scores_merge_as_by_hand(how):
    from mfd_model.variants.scores import merge_strands as merge_scores

    rng = np.random.default_rng(4)
    values = rng.normal(size=(7, 2, 3))
    values[0, 1] = -values[0, 0]
    expected = values[:, 0] if how == "none" else BY_HAND[how](values[:, 0], values[:, 1])
    np.testing.assert_array_equal(merge_scores(values, how), expected)
    np.testing.assert_array_equal(merge_scores(values[:, :1], how), values[:, 0])  # one strand: forward only
    with pytest.raises(MFDError, match="unknown reverse-complement merge"):
        merge_scores(values, "concat")
