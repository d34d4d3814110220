"""Spread over seeds and rank agreement of variant effects, against hand-computed values."""
from __future__ import annotations

import numpy as np
import pytest

from mfd_model.errors import MFDError
from mfd_model.evaluate.robustness import effect_agreement, spearman, spread
from mfd_model.evaluate.variant_io import VariantScores


def _scores(matrix: np.ndarray, name: str = "run") -> VariantScores:
    n_variants, n_outputs = matrix.shape
    keys = np.array([f"1:{i + 1}:A>G" for i in range(n_variants)])
    return VariantScores(keys=keys, ids=keys, experiments={"biological": [f"e{j}" for j in range(n_outputs)]},
                         matrices={"biological": matrix}, path=f"{name}.tsv")


def test_spread_by_hand():
    s = spread({"seed0": 0.80, "seed1": 0.82, "seed2": 0.84})
    assert s["n"] == 3 and s["mean"] == pytest.approx(0.82) and s["sd"] == pytest.approx(0.02)
    assert (s["min"], s["max"]) == (0.80, 0.84) and s["range"] == pytest.approx(0.04)


def test_spearman_is_pearson_of_ranks_without_ties():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50)
    ranks = lambda x: np.argsort(np.argsort(x)).astype(float)          # brute force, no ties
    assert spearman(a, b) == pytest.approx(np.corrcoef(ranks(a), ranks(b))[0, 1])
    assert spearman(a, np.exp(a)) == pytest.approx(1.0)                  # monotone transform
    assert spearman(a, -a ** 3) == pytest.approx(-1.0)
    assert np.isnan(spearman(a, np.ones(50)))                            # undefined for a constant


def test_effect_agreement_between_seeds():
    rng = np.random.default_rng(1)
    base = rng.normal(size=(40, 3))
    runs = {"seed0": _scores(base), "seed1": _scores(2 * base + 1), "seed2": _scores(-base)}
    table = effect_agreement(runs, "biological").set_index(["run_a", "run_b"])
    assert table.loc[("seed0", "seed1"), "spearman_all"] == pytest.approx(1.0)
    assert table.loc[("seed0", "seed2"), "spearman_mean_effect"] == pytest.approx(-1.0)
    assert len(table) == 3 and (table["variants"] == 40).all()


def test_effect_agreement_refuses_different_variants():
    a = _scores(np.zeros((4, 2)) + np.arange(4)[:, None])
    b = _scores(np.zeros((5, 2)), "other")
    with pytest.raises(MFDError, match="other variants"):
        effect_agreement({"a": a, "b": b}, "biological")
    with pytest.raises(MFDError, match="not in the variant scores"):
        effect_agreement({"a": a, "b": a}, "technical")
