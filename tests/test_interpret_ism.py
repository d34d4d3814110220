"""In-silico mutagenesis: both engines against brute-force single substitutions, windows,
batch sizes, N positions, and the fallback for layers the fast engine does not know."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from interpret_helpers import random_one_hot
from toy_models import he_weights_, small_config, toy_mfd
from mfd_model.interpret.ersatz import substitutions
from mfd_model.interpret.ism import ism_to_contributions, saturation_mutagenesis
from mfd_model.interpret.targets import Target, output_target, unit_target
from mfd_model.model import MFDModel


@pytest.fixture
def model(toy_paths):
    return he_weights_(toy_mfd(toy_paths)).eval().double()


def brute_force(model, x: np.ndarray, targets, start: int, end: int) -> np.ndarray:
    """One substitution at a time, each straight through the model: shape=(T, 4, L)."""
    def values(seq: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            t = torch.as_tensor(seq[None])
            feats = model.features(t)
            logits = model.logits_from_features(feats)
            return np.array([(feats if tg.kind == "unit" else logits)[0, tg.index].item() for tg in targets])
    ref = values(x)
    out = np.zeros((len(targets), 4, x.shape[1]))
    for i in range(start, end):
        for b in range(4):
            if x[b, i] == 1:
                continue
            mutant = x.copy()
            mutant[:, i] = 0
            mutant[b, i] = 1
            out[:, b, i] = values(mutant) - ref
    return out


@pytest.mark.parametrize("method", ["fast", "full"])
def test_ism_equals_brute_force(model, method):
    X = random_one_hot(2, model.config.seq_len, seed=1).astype(np.float64)
    targets = [unit_target(model, "CTCF"), output_target(model, "dnase_k562"), unit_target(model, 12)]
    windows = [(0, 6), (140, 150), (282, 288)]                     # both sequence ends and the centre
    for start, end in windows:
        ism = saturation_mutagenesis(model, X, targets, start=start, end=end, method=method, batch_size=13,
                                     progress=False)
        for n in range(2):
            expected = brute_force(model, X[n], targets, start, end)
            assert np.abs(expected).max() > 1e-3
            np.testing.assert_allclose(ism[n], expected, rtol=1e-5, atol=1e-6)
        outside = np.ones(X.shape[2], bool)
        outside[start:end] = False
        assert np.all(ism[..., outside] == 0)


def test_windowed_ism_is_the_slice_of_the_whole_and_batch_size_free(model):
    X = random_one_hot(2, model.config.seq_len, seed=2).astype(np.float64)
    targets = [unit_target(model, "DNase-seq", group="tech"), output_target(model, 0)]
    whole = saturation_mutagenesis(model, X, targets, method="fast", batch_size=512, progress=False)
    window = saturation_mutagenesis(model, X, targets, start=100, end=180, method="fast", batch_size=7, progress=False)
    np.testing.assert_allclose(window[..., 100:180], whole[..., 100:180], rtol=1e-6, atol=1e-9)
    full = saturation_mutagenesis(model, X, targets, start=100, end=180, method="full", batch_size=64, progress=False)
    np.testing.assert_allclose(full, window, rtol=1e-5, atol=1e-7)
    # every substitution of the whole sequence was scored: exactly 3 non-reference entries per position
    assert np.all((whole != 0).sum(axis=2) == 3)


def test_ism_at_n_positions_scores_all_four_bases(model):
    X = random_one_hot(1, model.config.seq_len, seed=3).astype(np.float64)
    X[0, :, 141] = 0                                                   # an N
    targets = [unit_target(model, "CTCF")]
    ism = saturation_mutagenesis(model, X, targets, start=139, end=144, progress=False)
    np.testing.assert_allclose(ism[0], brute_force(model, X[0], targets, 139, 144), rtol=1e-5, atol=1e-6)
    assert np.all(ism[0, 0, :, 141] != 0)


def test_unknown_layer_falls_back_to_full(toy_paths, caplog):
    model = he_weights_(MFDModel(small_config(), ["a", "b"])).eval().double()
    model.trunk.tower[0][0][1] = torch.nn.Tanh()                      # a layer without a local rule
    X = random_one_hot(1, model.config.seq_len, seed=4).astype(np.float64)
    targets = [Target("output", 1, "b")]
    with caplog.at_level("WARNING"):
        ism = saturation_mutagenesis(model, X, targets, start=10, end=14, progress=False)
    assert "fast ISM does not support" in caplog.text
    np.testing.assert_allclose(ism[0], brute_force(model, X[0], targets, 10, 14), rtol=1e-5, atol=1e-7)


def test_substitutions_and_contributions():
    x = random_one_hot(1, 12, seed=5)[0]
    X_mut, positions, bases = substitutions(x, 3, 6)
    assert X_mut.shape == (9, 4, 12) and list(positions) == [3, 3, 3, 4, 4, 4, 5, 5, 5]
    for m in range(9):
        diff = np.nonzero((X_mut[m] != x).any(axis=0))[0]
        assert list(diff) == [positions[m]] and X_mut[m, bases[m], positions[m]] == 1
    ism = np.zeros((1, 1, 4, 12))
    ism[0, 0, :, 4] = [1.0, 2.0, 3.0, 6.0]
    ism[0, 0, np.argmax(x[:, 4]), 4] = 0
    contributions = ism_to_contributions(ism, x[None])
    assert contributions[0, 0, np.argmax(x[:, 4]), 4] == pytest.approx(-ism[0, 0, :, 4].sum() / 3)
    assert np.count_nonzero(contributions) == 1
