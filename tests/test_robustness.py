"""Spread over seeds and rank agreement of variant effects, against hand-computed values."""
from __future__ import annotations

import json

import numpy as np
import pytest

from mfd_model.errors import MFDError
from mfd_model.evaluate.robustness import effect_agreement, importance_agreement, spearman, spread
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


def _importance(drops: dict[tuple[str, str, str], float]):
    import pandas as pd
    return pd.DataFrame([{"ablation": a, "column": c, "value": v, "drop_auroc": d} for (a, c, v), d in drops.items()])


def test_importance_agreement_by_hand():
    # four shared (ablation, group) rows; seed 1 swaps the two smallest losses, seed 2 has an extra row
    seed0 = _importance({("bio", "all", "all"): 0.10, ("tech", "all", "all"): 0.20,
                         ("bio", "assay", "DNase-seq"): 0.05, ("tech", "assay", "DNase-seq"): 0.30})
    seed1 = _importance({("bio", "all", "all"): 0.04, ("tech", "all", "all"): 0.20,
                         ("bio", "assay", "DNase-seq"): 0.06, ("tech", "assay", "DNase-seq"): 0.30})
    seed2 = _importance({("bio", "all", "all"): 0.30, ("tech", "all", "all"): 0.01,
                         ("bio", "assay", "DNase-seq"): 0.20, ("tech", "assay", "DNase-seq"): 0.02,
                         ("bio", "target", "CTCF"): 0.5})
    table = importance_agreement({"seed 0": seed0, "seed 1": seed1, "seed 2": seed2}).set_index(["run_a", "run_b"])
    # ranks (1 = smallest) of seed 0: 2, 3, 1, 4; seed 1: 1, 3, 2, 4 -> d^2 = 1 + 0 + 1 + 0 = 2
    assert table.loc[("seed 0", "seed 1"), "spearman"] == pytest.approx(1 - 6 * 2 / (4 * (16 - 1)))
    # seed 2's ranks 4, 1, 3, 2 against seed 0's 2, 3, 1, 4 -> d^2 = 4 + 4 + 4 + 4 = 16 -> rho = -0.6
    assert table.loc[("seed 0", "seed 2"), "spearman"] == pytest.approx(1 - 6 * 16 / 60)
    assert table.loc[("seed 0", "seed 2"), "rows"] == 4                  # the extra CTCF row is not shared
    assert tuple(table.loc[("seed 0", "seed 1"), ["top_a", "top_b"]]) == ("tech", "tech")
    assert tuple(table.loc[("seed 0", "seed 2"), ["top_a", "top_b"]]) == ("tech", "bio")
    with pytest.raises(MFDError, match="share no"):
        importance_agreement({"a": seed0, "b": _importance({("x", "all", "all"): 0.1})})


def test_effect_agreement_refuses_different_variants():
    a = _scores(np.zeros((4, 2)) + np.arange(4)[:, None])
    b = _scores(np.zeros((5, 2)), "other")
    with pytest.raises(MFDError, match="other variants"):
        effect_agreement({"a": a, "b": b}, "biological")
    with pytest.raises(MFDError, match="not in the variant scores"):
        effect_agreement({"a": a, "b": a}, "technical")


def _write_flow(folder, passed: bool, criteria: list[tuple[str, str]]) -> None:
    (folder / "evaluation").mkdir(parents=True)
    (folder / "disentanglement").mkdir()
    claims = [{"claim": "test-bin mean AUROC within 0.01", "value": 0.004 if passed else 0.03, "bound": 0.01,
               "passed": passed, "detail": ""},
              {"claim": "Table 2 bias variants", "value": None, "bound": 0.0, "passed": None, "detail": "absent"}]
    (folder / "evaluation" / "summary.json").write_text(json.dumps({"claims": claims}))
    (folder / "disentanglement" / "criteria.tsv").write_text(
        "result\tcriterion\n" + "".join(f"{r}\t{c}\n" for r, c in criteria))


def _write_seed(folder, auroc: float, effects: np.ndarray) -> None:
    (folder / "evaluation").mkdir(parents=True, exist_ok=True)
    path = folder / "evaluation" / "summary.json"        # the demo's own flow has claims there too
    summary = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**summary, "performance": {"mean_auroc": auroc}}))
    header = "#CHROM\tPOS\tID\tREF\tALT\t" + "\t".join(f"MFD/e{j}/biological" for j in range(effects.shape[1]))
    rows = [f"1\t{i + 1}\tv{i}\tA\tG\t" + "\t".join(f"{v:.6f}" for v in row) for i, row in enumerate(effects)]
    (folder / "variants.tsv").write_text("\n".join([header, *rows]) + "\n")


def test_robustness_report_from_the_demo_files(tmp_path):
    from mfd_model.evaluate.robustness import robustness_report
    demo, second = tmp_path / "demo", tmp_path / "second"
    _write_flow(demo, True, [("PASS", "biology: bio features 0.9 vs tech features 0.6")])
    _write_flow(second, False, [("FAIL", "kmer_X: tech features 0.6 vs bio features 0.7")])
    rng = np.random.default_rng(2)
    effects = rng.normal(size=(30, 2))
    seeds = {0: demo, 1: tmp_path / "seed1", 2: tmp_path / "seed2"}
    for (seed, folder), auroc, eff in zip(seeds.items(), (0.80, 0.82, 0.84), (effects, 3 * effects, -effects)):
        _write_seed(folder, auroc, eff)
    report = robustness_report({"demo": demo, "second simulation": second}, seeds, tmp_path / "robustness")
    text = report.read_text()
    assert "| test-bin mean AUROC within 0.01 | PASS (+0.0040) | FAIL (+0.0300) |" in text
    assert "| Table 2 bias variants | not checked | not checked |" in text
    assert "- FAIL kmer_X" in text and "sd 0.0200" in text
    summary = json.loads((tmp_path / "robustness" / "summary.json").read_text())
    assert summary["test_auroc_spread"]["mean"] == pytest.approx(0.82)
    pairs = {(r["run_a"], r["run_b"]): r for r in summary["biological_effect_agreement"]}
    assert pairs[("seed 0", "seed 1")]["spearman_all"] == pytest.approx(1.0)
    assert pairs[("seed 0", "seed 2")]["spearman_mean_effect"] == pytest.approx(-1.0)
