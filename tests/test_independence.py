"""The independence penalty against numpy Pearson correlations and analytic cases."""
from __future__ import annotations

import numpy as np
import torch

from mfd_model import IndependencePenalty, cross_correlation_penalty, r2_penalty


def numpy_r2(pred: np.ndarray, target: np.ndarray) -> float:
    return float(sum(np.corrcoef(pred[:, k], target[:, k])[0, 1] ** 2 for k in range(pred.shape[1])))


def test_r2_equals_numpy_pearson():
    rng = np.random.default_rng(0)
    target = rng.normal(size=(300, 5))
    pred = 0.7 * target + rng.normal(size=(300, 5)) * np.array([0.1, 0.5, 1, 2, 5])
    got = r2_penalty(torch.from_numpy(pred), torch.from_numpy(target)).item()
    assert abs(got - numpy_r2(pred, target)) < 1e-6


def test_r2_is_zero_for_independent_and_dims_for_identical_halves():
    torch.manual_seed(0)
    a = torch.randn(20000, 8, dtype=torch.float64)
    b = torch.randn(20000, 8, dtype=torch.float64)
    assert r2_penalty(a, b).item() < 0.01          # expected 8 / N
    assert abs(r2_penalty(a, a).item() - 8) < 1e-6
    assert abs(r2_penalty(-3 * a + 1, a).item() - 8) < 1e-6   # sign and scale do not matter


def test_cross_correlation_penalty_equals_numpy():
    rng = np.random.default_rng(1)
    bio = rng.normal(size=(500, 4))
    tech = np.c_[bio[:, :2] + rng.normal(size=(500, 2)), rng.normal(size=(500, 3))]
    full = np.corrcoef(bio.T, tech.T)[:4, 4:]
    got = cross_correlation_penalty(torch.from_numpy(bio), torch.from_numpy(tech)).item()
    assert abs(got - (full ** 2).sum()) < 1e-6


def test_adversaries_are_two_separate_predictors_that_can_find_dependence():
    torch.manual_seed(0)
    penalty = IndependencePenalty(half_dim=4, hidden=32, layers=2)
    assert penalty.bio_from_tech is not penalty.tech_from_bio
    ids_a = {id(p) for p in penalty.bio_from_tech.parameters()}
    assert not ids_a & {id(p) for p in penalty.tech_from_bio.parameters()}
    # the adversary step (maximise R2) finds a non-linear dependence: bio = tech ** 2
    tech = torch.randn(512, 4)
    bio = tech ** 2
    opt = torch.optim.Adam(penalty.parameters(), lr=1e-2, amsgrad=True)
    start = penalty(bio, tech).item()
    for _ in range(150):
        opt.zero_grad()
        (-penalty(bio, tech)).backward()
        opt.step()
    penalty.eval()
    found = r2_penalty(penalty.bio_from_tech(tech), bio).item()
    assert found > 3.0 > start   # close to the 4 dimensions; a linear probe of tech**2 on tech gets ~0
