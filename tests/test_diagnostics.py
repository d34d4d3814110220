"""Disentanglement diagnostics on synthetic features with known structure."""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from mfd_model.diagnostics import cross_subspace_correlation, posthoc_adversary_r2, probe_score


def _subspaces(n: int = 2000, seed: int = 0):
    rng = np.random.default_rng(seed)
    biology = rng.integers(0, 2, n)          # planted per-sequence biology
    bias = rng.normal(size=n)                # planted technical bias (continuous)
    bio = rng.normal(size=(n, 6)); bio[:, 0] += 2.0 * biology
    tech = rng.normal(size=(n, 6)); tech[:, 0] += 2.0 * bias
    return biology, bias, bio, tech


def test_probes_find_each_signal_in_its_own_subspace():
    biology, bias, bio, tech = _subspaces()
    assert probe_score(bio, biology) > 0.8 > 0.6 > probe_score(tech, biology)
    assert probe_score(tech, bias) > 0.6 > 0.05 > probe_score(bio, bias)
    # analytic reference for the continuous probe: R^2 of y on 2y + noise is 4 / 5
    assert abs(probe_score(tech[:, :1], bias) - 0.8) < 0.03


def test_binary_probe_matches_sklearn_in_sample_order_of_magnitude():
    biology, _, bio, _ = _subspaces(seed=1)
    in_sample = roc_auc_score(biology, LogisticRegression().fit(bio, biology).decision_function(bio))
    assert abs(probe_score(bio, biology) - in_sample) < 0.02


def test_cross_subspace_correlation_analytic():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50000, 3))
    assert cross_subspace_correlation(a, rng.normal(size=(50000, 4))) < 1e-3
    # tech_0 = bio_0: one of the 3 x 3 pairs has correlation 1, the others ~0 -> 1/9
    b = np.c_[a[:, 0], rng.normal(size=(50000, 2))]
    assert abs(cross_subspace_correlation(a, b) - 1 / 9) < 1e-3


def test_posthoc_adversary_detects_nonlinear_dependence():
    rng = np.random.default_rng(0)
    tech = rng.normal(size=(2000, 4)).astype(np.float32)
    independent = rng.normal(size=(2000, 4)).astype(np.float32)
    dependent = tech ** 2
    high = posthoc_adversary_r2(dependent, tech, hidden=32, steps=200)[0]
    low = posthoc_adversary_r2(independent, tech, hidden=32, steps=200)[0]
    assert high > 0.5 and low < 0.05
    assert cross_subspace_correlation(dependent, tech) < 0.01   # invisible to the linear measure
