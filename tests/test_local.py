"""mfd_model.local, the one local-recomputation engine (fast ISM and the variant scorer's SNVs / MNVs):
mutant features from changed windows equal each mutant straight through the model (float64)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from interpret_helpers import random_one_hot
from toy_models import SEQ_LEN, toy_mfd
from mfd_model.encoding import dinucleotide_encode
from mfd_model.inference.engine import Engine
from mfd_model.local import LocalTrunk, UnsupportedModule, supported


@pytest.fixture
def model(toy_paths):
    torch.manual_seed(0)
    return toy_mfd(toy_paths).double().eval()


def _mutants(X: np.ndarray, rng: np.random.Generator, n: int, max_width: int):
    """``n`` random changes of 1..max_width consecutive bases, also at both window edges."""
    seq = rng.integers(0, len(X), n)
    width = rng.integers(1, max_width + 1, n)
    start = rng.integers(0, SEQ_LEN - width + 1)
    start[:2], start[2:4] = 0, SEQ_LEN - width[2:4]
    mutants = X[seq].copy()
    for m in range(n):
        mutants[m, :, start[m]:start[m] + width[m]] = np.eye(4)[:, rng.integers(0, 4, width[m])]
    return seq, start, width, mutants


@pytest.mark.parametrize("max_width", [1, 5])
@pytest.mark.parametrize("net", ["model", "engine"])
def test_changed_windows_equal_each_mutant_through_the_model(model, max_width, net):
    """Also with the reference activations from the inference engine's channels-last network (``net``)."""
    rng = np.random.default_rng(max_width)
    X = random_one_hot(3, SEQ_LEN, seed=1).astype(np.float64)
    seq, start, width, mutants = _mutants(X, rng, 12, max_width)
    lo, hi = np.maximum(start - 1, 0), start + width   # the 2-mers touching a changed base
    engine = LocalTrunk(model, net=Engine(model, output="features", device="cpu").net if net == "engine" else None)
    assert (engine.net is not None) == (net == "engine")
    with torch.no_grad():
        ref = engine.set_reference(torch.from_numpy(X))
        np.testing.assert_allclose(ref.numpy(), model.features(torch.from_numpy(X)).numpy(), rtol=0, atol=1e-12)
        want = model.features(torch.from_numpy(mutants)).numpy()
        d16 = dinucleotide_encode(torch.from_numpy(mutants))
        for i in range(len(seq)):  # one mutant per call
            got = engine.features_of_changes(torch.tensor([seq[i]]), d16[i:i + 1, :, lo[i]:hi[i]], torch.tensor([lo[i]]))
            np.testing.assert_allclose(got.numpy(), want[i:i + 1], rtol=0, atol=1e-12)
        for w in np.unique(hi - lo):  # mutants of one window width in one call, as the variant scorer groups them
            group = np.flatnonzero(hi - lo == w)
            h = torch.stack([d16[i, :, lo[i]:hi[i]] for i in group])
            got = engine.features_of_changes(torch.from_numpy(seq[group]), h, torch.from_numpy(lo[group]))
            np.testing.assert_allclose(got.numpy(), want[group], rtol=0, atol=1e-12)
        if max_width == 1:  # the ISM entry: substitutions by position and base
            bases = torch.from_numpy(mutants[np.arange(12), :, start].argmax(axis=1))
            got = engine.features(torch.from_numpy(seq), torch.from_numpy(start), bases)
            np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-12)


def test_reference_from_dinucleotides_is_the_same_reference(model):
    X = torch.from_numpy(random_one_hot(2, SEQ_LEN, seed=3).astype(np.float64))
    engine = LocalTrunk(model)
    with torch.no_grad():
        a = engine.set_reference(X)
        b = engine.set_reference_dinucleotides(dinucleotide_encode(X))
    torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_unknown_layers_are_refused(model):
    assert supported(model)
    model.trunk.tower[0][0][1] = torch.nn.Tanh()
    with pytest.raises(UnsupportedModule, match="Tanh"):
        LocalTrunk(model)


def test_a_network_that_does_not_mirror_the_model_is_refused(model, toy_paths):
    """The reference activations come from the engine's network only if it is this model's rebuild."""
    from mfd_model.inference.fast_model import ChannelsLastMFD
    net = ChannelsLastMFD(model)
    net.trunk[1][0][0][1] = torch.nn.Identity()   # a ConvBlock's GELU of the first tower block
    with pytest.raises(UnsupportedModule, match="does not mirror"):
        LocalTrunk(model, net=net)
