"""Spread over seeds and rank agreement of variant effects, against hand-computed values."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
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
    return pd.DataFrame([{"ablation": a, "kind": "unit", "n_units": 1, "column": c, "value": v, "auroc_intact": 0.9,
                          "drop_auroc": d, "drop_auprc": d} for (a, c, v), d in drops.items()])


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
    for folder, top in zip(seeds.values(), ("CTCF", "CTCF", "GCCGA")):
        (folder / "motifs" / "CTCF").mkdir(parents=True)
        _patterns([("p0", 100, top, True)]).to_csv(folder / "motifs" / "CTCF" / "patterns.tsv", sep="\t", index=False)
    report = robustness_report({"demo": demo, "second simulation": second}, seeds, tmp_path / "robustness")
    text = report.read_text()
    assert "| CTCF | seed 0 vs seed 1 | CTCF | CTCF | 1.00 | CTCF / CTCF |" in text
    assert "| CTCF | seed 0 vs seed 2 | CTCF | GCCGA | 0.00 | CTCF / GCCGA |" in text
    assert "| test-bin mean AUROC within 0.01 | PASS (+0.0040) | FAIL (+0.0300) |" in text
    assert "| Table 2 bias variants | not checked | not checked |" in text
    assert "- FAIL kmer_X" in text and "sd 0.0200" in text
    assert "## The paper's claims over training seeds" in text and "| not checked | 0 of 0 |" in text
    summary = json.loads((tmp_path / "robustness" / "summary.json").read_text())
    assert summary["test_auroc_spread"]["mean"] == pytest.approx(0.82)
    pairs = {(r["run_a"], r["run_b"]): r for r in summary["biological_effect_agreement"]}
    assert pairs[("seed 0", "seed 1")]["spearman_all"] == pytest.approx(1.0)
    assert pairs[("seed 0", "seed 2")]["spearman_mean_effect"] == pytest.approx(-1.0)


def _seed_summary(mfd: float, base: float, bias: tuple[float, float], enhancers: dict | None = None) -> dict:
    """An ``mfd evaluate`` summary with the numbers the claims read (bias: technical, biological odds ratio)."""
    rows = [{"true_class": "bias", "cutoff": 0.9, "feature_set": name, "odds_ratio": value}
            for name, value in zip(("technical", "biological"), bias)]
    summary = {"performance": {"mean_auroc": mfd, "baseline_mean_auroc": base}, "variant_enrichment": rows}
    if enhancers is not None:
        summary["enhancers"] = {"mean_auroc": enhancers}
    return summary


def test_claims_over_seeds_by_hand():
    from mfd_model.evaluate.robustness import claims_over_seeds
    summaries = {"seed 0": _seed_summary(0.885, 0.89, (5.0, 2.0), {"baseline": 0.9, "full": 0.89, "bio": 0.8, "tech": 0.7}),
                 "seed 1": _seed_summary(0.85, 0.89, (1.0, 4.0), {"baseline": 0.9, "full": 0.85, "bio": 0.7, "tech": 0.8}),
                 "seed 2": _seed_summary(0.90, 0.89, (3.0, 2.0))}
    rows = {r["claim"].split(":")[0]: r for r in claims_over_seeds(summaries)}
    accuracy = rows["test-bin mean AUROC, MFD within 0.01 of the baseline"]
    # gaps 0.005 (PASS), 0.04 (FAIL), -0.01 (PASS); mean 0.035 / 3 > 0.01 -> FAIL
    assert [accuracy["passed"][s] for s in summaries] == [True, False, True]
    assert accuracy["mean"] == pytest.approx(0.035 / 3) and accuracy["mean_passed"] is False
    assert (accuracy["n_passed"], accuracy["n_checked"]) == (2, 3)
    table1 = rows["Table 1 mean AUROC, MFD combined features within 0.02 of the baseline"]
    # seed 2 has no enhancer table: averaged over seeds 0 and 1, gaps 0.01 and 0.05 -> mean 0.03 FAIL
    assert table1["passed"]["seed 2"] is None and table1["n_checked"] == 2
    assert table1["mean"] == pytest.approx(0.03) and table1["mean_passed"] is False
    bias = rows["Table 2 odds ratio at the 0.9 quantile, bias variants"]
    # technical - biological: +3, -3, +1 -> 2 of 3; means 3.0 and 8 / 3 -> +1/3 PASS
    assert [bias["values"][s] for s in summaries] == pytest.approx([3.0, -3.0, 1.0])
    assert bias["mean"] == pytest.approx(1 / 3) and bias["mean_passed"] is True and bias["n_passed"] == 2
    assert rows["Table 2 odds ratio at the 0.9 quantile, motif variants"]["n_checked"] == 0


def test_average_summaries_keeps_an_infinite_odds_ratio():
    from mfd_model.evaluate.claims import average_summaries
    mean = average_summaries([_seed_summary(0.8, 0.8, (float("inf"), 2.0)), _seed_summary(0.9, 0.9, (3.0, 4.0))])
    odds = {r["feature_set"]: r["odds_ratio"] for r in mean["variant_enrichment"]}
    assert odds == {"technical": float("inf"), "biological": 3.0}
    assert mean["performance"]["mean_auroc"] == pytest.approx(0.85) and mean["n_runs"] == 2


def _patterns(rows: list[tuple[str, int, str, bool]]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=["pattern", "n_seqlets", "best_match_name", "significant"])
    return table.assign(consensus="ACGTACGT", source="JASPAR", q_value=[0.01 if s else 0.5 for s in table["significant"]])


def test_motif_agreement_by_hand(tmp_path):
    from mfd_model.evaluate.robustness import motif_agreement
    seed0 = _patterns([("p0", 150, "CTCF", True), ("p1", 30, "GCCGA", True), ("p2", 20, "EBF3", False)])
    seed1 = _patterns([("p0", 40, "GCCGA", True), ("p1", 90, "CTCF", True), ("p2", 25, "MA1930", True)])
    seed2 = _patterns([("p0", 80, "EBF3", False)])
    table = motif_agreement({"seed 0": seed0, "seed 1": seed1, "seed 2": seed2}).set_index(["run_a", "run_b"])
    # {CTCF, GCCGA} vs {CTCF, GCCGA, MA1930}: 2 shared of 3; both top patterns match CTCF
    assert table.loc[("seed 0", "seed 1"), "jaccard"] == pytest.approx(2 / 3)
    assert table.loc[("seed 0", "seed 1"), "same_top"] and table.loc[("seed 0", "seed 1"), "top_b"] == "CTCF"
    # seed 2 matched nothing significantly: no overlap, no top match
    assert table.loc[("seed 0", "seed 2"), "jaccard"] == 0.0
    assert table.loc[("seed 0", "seed 2"), "top_b"] == "-" and not table.loc[("seed 0", "seed 2"), "same_top"]
    # read back from a TSV the flags are strings: the same answer
    path = tmp_path / "patterns.tsv"
    seed1.to_csv(path, sep="\t", index=False)
    again = motif_agreement({"a": seed0, "b": pd.read_csv(path, sep="\t", dtype=str).astype({"n_seqlets": int})})
    assert again.loc[0, "jaccard"] == pytest.approx(2 / 3)
