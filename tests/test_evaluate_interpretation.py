"""The interpretation part of mfd evaluate: the tables of mfd importance and mfd motifs discover, read back."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from mfd_model.errors import MFDError
from mfd_model.evaluate.interpretation import importance_table, motif_table


def _importance(folder, rows):
    folder.mkdir()
    columns = ["ablation", "kind", "n_units", "column", "value", "auroc_intact", "drop_auroc", "drop_auprc"]
    pd.DataFrame(rows, columns=columns).to_csv(folder / "importance.tsv", sep="\t", index=False)
    (folder / "summary.json").write_text(json.dumps({"split": "test", "bins": 100, "intact_mean_auroc": 0.9}))


def _motifs(folder, unit, rows):
    folder.mkdir()
    columns = ["pattern", "sign", "n_seqlets", "width", "consensus", "best_match", "best_match_name", "source",
               "p_value", "q_value", "significant"]
    pd.DataFrame(rows, columns=columns).to_csv(folder / "patterns.tsv", sep="\t", index=False)
    (folder / "summary.json").write_text(json.dumps({"target": f"unit {unit}", "n_windows": 10, "max_abs_delta": 1e-6}))


def test_importance_table_keeps_the_overall_rows_largest_loss_first(tmp_path):
    _importance(tmp_path / "imp", [("bio", "subspace", 16, "all", "all", 0.9, 0.10, 0.2),
                                   ("bio", "subspace", 16, "assay", "DNase-seq", 0.9, 0.30, 0.3),
                                   ("tech", "subspace", 16, "all", "all", 0.9, 0.15, 0.1),
                                   ("bio/target:CTCF", "unit", 1, "all", "all", 0.9, -0.001, 0.0)])
    table, info = importance_table(tmp_path / "imp")
    assert table["ablation"].tolist() == ["tech", "bio", "bio/target:CTCF"]     # the assay row is not overall
    assert table["drop_auroc"].tolist() == pytest.approx([0.15, 0.10, -0.001])
    assert info["intact_mean_auroc"] == 0.9 and len(info["ablations"]) == 3


def test_motif_table_takes_the_largest_patterns_per_unit(tmp_path):
    rows = [(f"pos_pattern_{k}", 1, n, 5, "CCTTG", "m", name, "k-mer", 1e-5, q, q < 0.05)
            for k, (n, name, q) in enumerate([(10, "A", 0.01), (50, "B", 0.2), (30, "C", 0.001)])]
    _motifs(tmp_path / "ctcf", "bio/target:CTCF", rows)
    _motifs(tmp_path / "dnase", "tech/assay:DNase-seq", rows[:1])
    table, info = motif_table([tmp_path / "ctcf", tmp_path / "dnase"], top=2)
    assert table["unit"].tolist() == ["bio/target:CTCF"] * 2 + ["tech/assay:DNase-seq"]
    assert table["best_match_name"].tolist() == ["B", "C", "A"]
    assert table["significant"].astype(str).tolist() == ["False", "True", "True"]
    assert [s["unit"] for s in info] == ["bio/target:CTCF", "tech/assay:DNase-seq"]


def test_missing_or_foreign_folders_are_one_clear_error(tmp_path):
    with pytest.raises(MFDError, match="importance summary not found"):
        importance_table(tmp_path)
    _importance(tmp_path / "imp", [("bio", "subspace", 16, "all", "all", 0.9, 0.1, 0.2)])
    (tmp_path / "imp" / "importance.tsv").write_text("ablation\tcolumn\nbio\tall\n")
    with pytest.raises(MFDError, match="lacks column"):
        importance_table(tmp_path / "imp")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "summary.json").write_text("{not json")
    with pytest.raises(MFDError, match="not JSON"):
        motif_table([tmp_path / "m"])


def test_mfd_evaluate_puts_both_tables_in_the_report(tmp_path):
    from mfd_model.cli import main
    _importance(tmp_path / "imp", [("tech", "subspace", 16, "all", "all", 0.9, 0.15, 0.1)])
    _motifs(tmp_path / "ctcf", "bio/target:CTCF", [("pos_pattern_0", 1, 99, 15, "GCCAC", "CTCF", "CTCF", "planted",
                                                    1e-20, 1e-18, True)])
    assert main(["evaluate", str(tmp_path / "out"), "--importance", str(tmp_path / "imp"),
                 "--motifs", str(tmp_path / "ctcf")]) == 0
    report = (tmp_path / "out" / "report.md").read_text()
    assert "| tech | subspace | 16 | 0.900 | 0.150 | 0.100 |" in report
    assert "| bio/target:CTCF | pos_pattern_0 | 99 | GCCAC | CTCF | planted |" in report
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["parts"] == ["interpretation"] and summary["motifs"][0]["n_windows"] == 10
