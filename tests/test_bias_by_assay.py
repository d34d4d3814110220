"""Table 2 where the bias is planted (mfd_model/evaluate/bias_by_assay.py): counts against a loop
written from the definition, separability on a table worked by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mfd_model.evaluate.bias_by_assay import assay_separability, bias_by_assay


def test_separability_by_hand():
    frame = pd.DataFrame({
        "experiment": ["E1", "E2", "E3", "E4", "E5", "E6"],
        "target": ["Acc", "Acc", "Acc", "Acc", "CTCF", "CTCF"],
        "tissue": ["K562", "K562", "liver", "heart", "K562", "K562"],
        "assay": ["DNase", "ATAC", "DNase", "DNase", "ChIP", "ChIP"],
    })
    shares = assay_separability(frame, "assay", ["target", "tissue"])
    # DNase: E1 shares (Acc, K562) with ATAC's E2; E3 and E4 share with nobody -> 1/3
    # ATAC: E2 shares with E1 -> 1; ChIP: (CTCF, K562) only ever ChIP -> 0
    assert shares == pytest.approx({"ATAC": 1.0, "ChIP": 0.0, "DNase": 1 / 3})
    # with the tissue alone as biology, K562 is measured by all three assays
    assert assay_separability(frame, "assay", ["tissue"]) == pytest.approx({"ATAC": 1.0, "ChIP": 1.0, "DNase": 1 / 3})


def _brute_force(vep: np.ndarray, true: np.ndarray, control: np.ndarray, quantile: float) -> tuple[int, int]:
    """True and control variants tagged by any output: |VEP| at or above the output's quantile over all variants."""
    tagged = np.zeros(len(vep), bool)
    for o in range(vep.shape[1]):
        magnitude = np.abs(vep[:, o])
        tagged |= magnitude >= np.quantile(magnitude, quantile)
    return int((tagged & true).sum()), int((tagged & control).sum())


def test_counts_match_a_loop_over_outputs():
    rng = np.random.default_rng(5)
    n_variants, output_assay = 300, np.array(["DNase", "ATAC", "ChIP", "DNase", "ChIP", "ChIP"])
    variant_assay = rng.choice(["", "", "DNase", "ATAC", "ChIP"], n_variants)
    is_control = (variant_assay == "") & (rng.random(n_variants) < 0.8)   # the rest: other classes (e.g. motif)
    scores = {"technical": rng.standard_normal((n_variants, 6)), "biological": rng.standard_normal((n_variants, 6))}
    # the technical effect of each assay's outputs is large on that assay's bias variants
    for o, assay in enumerate(output_assay):
        scores["technical"][variant_assay == assay, o] *= 4
    table = bias_by_assay(scores, variant_assay, is_control, output_assay, cutoffs=[0.9],
                          separability={"DNase": 0.75})
    assert sorted(table["assay"].unique()) == ["ATAC", "ChIP", "DNase"]
    for row in table.itertuples():
        columns = output_assay == row.assay
        true = variant_assay == row.assay
        expected = _brute_force(scores[row.feature_set][:, columns], true, is_control, 0.9)
        assert (row.true_tagged, row.control_tagged) == expected, row
        assert row.true_tagged + row.true_untagged == true.sum()
        assert row.control_tagged + row.control_untagged == is_control.sum()
        assert row.n_outputs == columns.sum()
    dnase = table.set_index(["assay", "feature_set"])
    assert dnase.loc[("DNase", "technical"), "separable_share"] == 0.75
    assert np.isnan(dnase.loc[("ATAC", "technical"), "separable_share"])
    # the planted effect shows: technical above biological on every assay
    for assay in ("DNase", "ATAC", "ChIP"):
        assert dnase.loc[(assay, "technical"), "odds_ratio_haldane"] > dnase.loc[(assay, "biological"), "odds_ratio_haldane"]


def test_no_assay_names_no_rows():
    scores = {"technical": np.ones((4, 2))}
    table = bias_by_assay(scores, np.array(["", "", "", ""]), np.array([True] * 4), np.array(["A", "B"]))
    assert table.empty
