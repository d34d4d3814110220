"""The interpretation part of ``mfd evaluate``: the tables ``mfd importance`` and ``mfd motifs discover``
wrote, brought into the evaluation report.

Neither analysis is recomputed here: each command writes its own folder (``importance.tsv`` +
``summary.json``; ``patterns.tsv`` + ``summary.json``) and this module reads them, so the report
shows exactly what the commands found:

* importance: per ablation (a named unit, a metadata group of units, a whole subspace), the test
  AUROC / AUPRC lost over all experiments when it is set to its mean, largest loss first;
* motifs: per analysed unit, its discovered patterns (most seqlets first) with the database motif
  each matches best and the TomTom q-value.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from ..errors import MFDError
from ..tables import read_tsv

IMPORTANCE_COLUMNS = ("ablation", "kind", "n_units", "auroc_intact", "drop_auroc", "drop_auprc")
MOTIF_COLUMNS = ("unit", "pattern", "n_seqlets", "consensus", "best_match_name", "source", "q_value", "significant")


def _summary(folder: Path, what: str, command: str) -> dict[str, Any]:
    path = folder / "summary.json"
    if not path.exists():
        raise MFDError(f"{what} summary not found", path=path, fix=f"run {command} with this folder as its output")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise MFDError(f"{what} summary is not JSON (line {err.lineno})", path=path,
                       fix=f"re-run {command}") from None


def read_importance(folder: str | Path) -> pd.DataFrame:
    """``FOLDER/importance.tsv`` as ``mfd importance`` wrote it (one row per ablation and
    experiment group), its columns checked."""
    path = Path(folder) / "importance.tsv"
    table = read_tsv(path, what="importance table", fix="re-run mfd importance")
    missing = [c for c in (*IMPORTANCE_COLUMNS, "column", "value") if c not in table.columns]
    if missing:
        raise MFDError(f"importance table lacks column(s) {', '.join(missing)}", path=path,
                       fix="re-run mfd importance with this version of mfd")
    return table


def read_patterns(folder: str | Path) -> pd.DataFrame:
    """``FOLDER/patterns.tsv`` as ``mfd motifs discover`` wrote it (one row per pattern), its columns checked."""
    path = Path(folder) / "patterns.tsv"
    patterns = read_tsv(path, what="motif patterns", fix="re-run mfd motifs discover")
    missing = [c for c in MOTIF_COLUMNS[1:] if c not in patterns.columns]
    if missing:
        raise MFDError(f"motif pattern table lacks column(s) {', '.join(missing)}", path=path,
                       fix="re-run mfd motifs discover with this version of mfd")
    return patterns


def importance_table(folder: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The ablations of one ``mfd importance`` folder over all experiments, largest AUROC loss first.

    Returns:
        (table with :data:`IMPORTANCE_COLUMNS`, one row per ablation; summary for ``summary.json``:
        the folder, its split, bins and the intact mean AUROC).
    """
    folder = Path(folder)
    info = _summary(folder, "importance", "mfd importance")
    table = read_importance(folder)
    overall = table.loc[table["column"].astype(str) == "all", list(IMPORTANCE_COLUMNS)]
    overall = overall.astype({c: float for c in ("auroc_intact", "drop_auroc", "drop_auprc")})
    overall = overall.sort_values("drop_auroc", ascending=False, kind="stable").reset_index(drop=True)
    return overall, {"folder": str(folder), "split": info.get("split"), "bins": info.get("bins"),
                     "intact_mean_auroc": info.get("intact_mean_auroc"), "ablations": overall.to_dict(orient="records")}


def motif_table(folders: Sequence[str | Path], top: int = 5) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The discovered patterns of each ``mfd motifs discover`` folder (at most ``top`` per folder,
    most seqlets first) with their best database match.

    Returns:
        (table with :data:`MOTIF_COLUMNS`; per folder, a summary: unit, windows analysed, largest
        convergence delta, databases, and its patterns).
    """
    rows, summaries = [], []
    for folder in map(Path, folders):
        info = _summary(folder, "motif discovery", "mfd motifs discover")
        patterns = read_patterns(folder).astype({"n_seqlets": int}).sort_values("n_seqlets", ascending=False, kind="stable")
        unit = str(info.get("target", folder.name)).removeprefix("unit ")
        chosen = patterns.head(top).assign(unit=unit)[list(MOTIF_COLUMNS)]
        rows.append(chosen)
        summaries.append({"folder": str(folder), "unit": unit, "n_windows": info.get("n_windows"),
                          "max_abs_delta": info.get("max_abs_delta"), "database": info.get("database"),
                          "patterns": chosen.to_dict(orient="records")})
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=list(MOTIF_COLUMNS))
    return table, summaries
