"""Attributions: Integrated Gradients completeness, gradient x input vs finite differences,
and a hand-built motif detector whose attributions must sit on its motif."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from interpret_helpers import MOTIF, MOTIF_START, detector_model, plant, random_one_hot
from toy_models import he_weights_, toy_mfd
from mfd_model.interpret.attribution import attribute, gradient_x_input, integrated_gradients
from mfd_model.interpret.targets import Target, output_target, resolve_targets, unit_target
from mfd_model.errors import MFDError


@pytest.fixture
def small_mfd(toy_paths):
    return toy_mfd(toy_paths)


def _direct(model, X: np.ndarray, target: Target) -> np.ndarray:
    """The target's value computed straight from the model (the independent reference)."""
    with torch.no_grad():
        x = torch.as_tensor(X)
        if target.kind == "unit":
            return model.features(x)[:, target.index].double().numpy()
        return model.logits(x)[:, target.index].double().numpy()


@pytest.mark.parametrize("kind", ["unit", "output"])
def test_integrated_gradients_completeness(small_mfd, kind):
    model = small_mfd.double()
    he_weights_(model)
    X = random_one_hot(2, model.config.seq_len, seed=1).astype(np.float64)
    target = unit_target(model, "CTCF") if kind == "unit" else output_target(model, "dnase_k562")
    attr, gap = integrated_gradients(model, X, target, n_steps=400, batch_size=2, return_delta=True)
    expected = _direct(model, X, target) - _direct(model, np.zeros_like(X), target)
    total = attr.astype(np.float64).sum(axis=(1, 2))
    assert np.all(np.abs(expected) > 0.05)                      # a non-trivial difference to explain
    np.testing.assert_allclose(total, expected, rtol=5e-3, atol=1e-4)
    np.testing.assert_allclose(gap, total - expected, atol=1e-6)
    # the integration error shrinks with more steps (max-pool kinks make it converge slowly)
    _, coarse_gap = integrated_gradients(model, X, target, n_steps=16, batch_size=2, return_delta=True)
    assert np.abs(gap).sum() < np.abs(coarse_gap).sum()
    # IG with a zero baseline only credits bases that are present
    assert np.all(attr[X == 0] == 0)


def test_integrated_gradients_batch_size_independent(small_mfd):
    X = random_one_hot(3, small_mfd.config.seq_len, seed=2)
    target = unit_target(small_mfd, "DNase-seq", group="tech")
    a = integrated_gradients(small_mfd, X, target, n_steps=8, batch_size=1)
    b = integrated_gradients(small_mfd, X, target, n_steps=8, batch_size=3, internal_batch_size=5)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_gradient_x_input_matches_directional_derivative(small_mfd):
    """sum_i grad_i x_i = d/da f(a x) at a = 1, estimated by central differences."""
    model = small_mfd.double()
    X = random_one_hot(2, model.config.seq_len, seed=3).astype(np.float64)
    for target in (unit_target(model, "CTCF"), output_target(model, 0)):
        gxi = gradient_x_input(model, X, target, batch_size=1).astype(np.float64).sum(axis=(1, 2))
        eps = 1e-5
        numeric = (_direct(model, X * (1 + eps), target) - _direct(model, X * (1 - eps), target)) / (2 * eps)
        np.testing.assert_allclose(gxi, numeric, rtol=1e-3, atol=1e-6)


def test_detector_attributions_sit_on_the_motif():
    model = detector_model()
    start = MOTIF_START
    X = plant(random_one_hot(4, model.config.seq_len, seed=4), MOTIF, start)
    motif = slice(start, start + len(MOTIF))
    targets = [Target("unit", 0, "unit_0"), Target("output", 0, "detector")]
    for method in ("ig", "grad", "ism"):
        kwargs = {"ism_start": start - 40, "ism_end": start + 48} if method == "ism" else {}
        attr = attribute(model, X, targets, method=method, n_steps=64, progress=False, **kwargs)
        scores = np.abs(attr).sum(axis=2) if method == "ism" else np.abs(attr.sum(axis=2))   # (N, T, L)
        for t in range(len(targets)):
            assert np.all((np.argmax(scores[:, t], axis=1) >= motif.start) & (np.argmax(scores[:, t], axis=1) < motif.stop))
            share = scores[:, t, motif].sum(axis=1) / scores[:, t].sum(axis=1)
            assert np.all(share > 0.95), (method, t, share)


def test_detector_ignores_sequences_without_the_motif():
    model = detector_model()
    X = random_one_hot(3, model.config.seq_len, seed=5)
    attr = attribute(model, X, [Target("unit", 0, "unit_0")], method="ig", n_steps=32, progress=False)
    planted = attribute(model, plant(X, MOTIF, MOTIF_START), [Target("unit", 0, "unit_0")], method="ig", n_steps=32,
                        progress=False)
    assert np.abs(attr).sum() < 1e-3 * np.abs(planted).sum()


def test_target_resolution(small_mfd):
    assert unit_target(small_mfd, "CTCF").name == "bio/target:CTCF"
    assert unit_target(small_mfd, "DNase-seq", group="tech").name == "tech/assay:DNase-seq"
    assert unit_target(small_mfd, "3").index == 3
    assert output_target(small_mfd, "ep300_hepg2").index == 2
    targets = resolve_targets(small_mfd, ["1"], ["CTCF"])
    assert [t.kind for t in targets] == ["output", "unit"]
    with pytest.raises(MFDError, match="no latent unit named 'NOPE'"):
        unit_target(small_mfd, "NOPE")
    with pytest.raises(MFDError, match="no output"):
        output_target(small_mfd, "missing_experiment")
    with pytest.raises(MFDError, match="out of range"):
        unit_target(small_mfd, 999)
