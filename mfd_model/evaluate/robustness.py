"""Is a result robust? Spread over training seeds and agreement of variant effects between seeds.

The review among the project's references asks how stable a model's attributions and variant
effects are when only the random seed of training changes. Two measures, both from files the
other commands write:

* the paper's claims per training seed and on the seed mean (``claims.average_summaries``): one
  seed's verdict can flip with the seed, the mean's is what the data say;
* the spread of a scalar (test mean AUROC) over seeds: mean, standard deviation, min, max;
* the rank agreement of variant effects between each pair of seeds: Spearman correlation of the
  effect of every (variant, experiment) pair, and of each variant's effect averaged over the
  experiments (what a user ranking variants would look at);
* the rank agreement of ``mfd importance`` between each pair of seeds: Spearman correlation of the
  AUROC lost per (ablation, experiment group), and whether the most important ablation is the same;
* the agreement of ``mfd motifs discover`` between each pair of seeds, per unit: the overlap
  (Jaccard index) of the sets of database motifs that the discovered patterns match significantly,
  and whether the pattern with the most seqlets matches the same motif.
"""
from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import MFDError
from ..tables import read_tsv
from .interpretation import read_importance, read_patterns
from .variant_io import VariantScores


def spread(values: Mapping[str, float]) -> dict[str, float]:
    """Mean, sample standard deviation, min, max and range of one scalar over runs."""
    v = np.asarray(list(values.values()), dtype=np.float64)
    if v.size == 0:
        raise MFDError("no runs to summarise")
    return {"n": int(v.size), "mean": float(v.mean()), "sd": float(v.std(ddof=1)) if v.size > 1 else 0.0,
            "min": float(v.min()), "max": float(v.max()), "range": float(v.max() - v.min())}


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two arrays of the same shape (flattened; pairs with a NaN dropped)."""
    from scipy.stats import spearmanr
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    keep = np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 3 or np.ptp(a[keep]) == 0 or np.ptp(b[keep]) == 0:
        return float("nan")
    return float(spearmanr(a[keep], b[keep]).statistic)


def effect_agreement(runs: Mapping[str, VariantScores], score: str) -> pd.DataFrame:
    """Rank agreement of one effect (e.g. ``biological``) between every pair of runs.

    Args:
        runs: run name -> scores of the same variants and experiments (``mfd score-variants``).
        score: the score name to compare.
    Returns:
        One row per pair: run_a, run_b, variants, spearman_all (over every variant x experiment
        pair), spearman_mean_effect (over variants, effect averaged over experiments).
    """
    names = list(runs)
    if len(names) < 2:
        raise MFDError("effect agreement needs at least two runs")
    first = runs[names[0]]
    for name in names:
        scores = runs[name]
        if score not in scores.matrices:
            raise MFDError(f"score {score!r} is not in the variant scores of run {name!r}", path=scores.path,
                           fix=f"score the variants with -s {score}")
        if not np.array_equal(scores.keys, first.keys) or scores.experiments[score] != first.experiments[score]:
            raise MFDError(f"run {name!r} scored other variants or experiments than run {names[0]!r}",
                           path=scores.path, fix="score the same VCF with models of the same experiments")
    rows = []
    for a, b in combinations(names, 2):
        x, y = runs[a].matrices[score], runs[b].matrices[score]
        rows.append({"run_a": a, "run_b": b, "variants": int(x.shape[0]),
                     "spearman_all": spearman(x, y),
                     "spearman_mean_effect": spearman(np.nanmean(x, axis=1), np.nanmean(y, axis=1))})
    return pd.DataFrame(rows)


# ============================================================================ the demo's robustness report
def importance_agreement(runs: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Rank agreement of ``mfd importance`` between every pair of runs.

    Args:
        runs: run name -> its ``importance.tsv`` (columns ``ablation``, ``column``, ``value``,
            ``drop_auroc``; one row per ablation and experiment group).
    Returns:
        one row per pair: ``run_a``, ``run_b``, ``rows`` (the (ablation, group) rows both have),
        ``spearman`` of ``drop_auroc`` over those rows, ``top_a`` / ``top_b`` (each run's ablation
        with the largest loss over all experiments, ``column == "all"``).
    """
    key = ["ablation", "column", "value"]
    rows = []
    for (a, ta), (b, tb) in combinations(runs.items(), 2):
        both = ta[key + ["drop_auroc"]].merge(tb[key + ["drop_auroc"]], on=key, suffixes=("_a", "_b"))
        if both.empty:
            raise MFDError(f"the importance tables of {a} and {b} share no (ablation, group) row",
                           fix="run mfd importance with the same --group-by on both models")
        top = [t.loc[t["column"] == "all"].sort_values("drop_auroc", ascending=False)["ablation"].iloc[0]
               if (t["column"] == "all").any() else None for t in (ta, tb)]
        rows.append({"run_a": a, "run_b": b, "rows": len(both),
                     "spearman": spearman(both["drop_auroc_a"].to_numpy(), both["drop_auroc_b"].to_numpy()),
                     "top_a": top[0], "top_b": top[1]})
    return pd.DataFrame(rows)


def motif_agreement(runs: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Agreement of ``mfd motifs discover`` (one unit) between every pair of runs.

    Args:
        runs: run name -> its ``patterns.tsv`` (columns ``pattern``, ``n_seqlets``,
            ``best_match_name``, ``significant``; one row per discovered pattern).
    Returns:
        one row per pair: ``run_a``, ``run_b``, ``matched_a`` / ``matched_b`` (the motifs matched
        significantly, sorted and comma-joined), ``jaccard`` (shared / either; NaN when neither
        run matched any), ``top_a`` / ``top_b`` (the significant match of each run's pattern with
        the most seqlets, ``-`` when it has none) and ``same_top``.
    """
    def summarise(table: pd.DataFrame) -> tuple[set[str], str]:
        """(motifs matched significantly, the significant match of the pattern with most seqlets or ``-``)."""
        significant = _significant(table).to_numpy()
        names = table["best_match_name"].astype(str).to_numpy()
        if not len(table):
            return set(), "-"
        first = int(np.argmax(table["n_seqlets"].astype(int).to_numpy()))   # the first of the largest
        return set(names[significant]), str(names[first]) if significant[first] else "-"

    summaries = {name: summarise(table) for name, table in runs.items()}
    rows = []
    for a, b in combinations(runs, 2):
        (ma, top_a), (mb, top_b) = summaries[a], summaries[b]
        union = ma | mb
        rows.append({"run_a": a, "run_b": b, "matched_a": ", ".join(sorted(ma)), "matched_b": ", ".join(sorted(mb)),
                     "jaccard": len(ma & mb) / len(union) if union else float("nan"),
                     "top_a": top_a, "top_b": top_b, "same_top": top_a == top_b != "-"})
    return pd.DataFrame(rows)


def _significant(table: pd.DataFrame) -> pd.Series:
    """``significant`` as booleans (a TSV read back gives strings ``True`` / ``False``)."""
    return table["significant"].astype(str).str.lower().isin(("true", "1"))


def claims_over_seeds(summaries: Mapping[str, Mapping]) -> list[dict]:
    """Each claim of :func:`~.claims.check_claims` per run and on the mean over runs.

    Args:
        summaries: run name (e.g. ``seed 0``) -> its ``mfd evaluate`` summary.
    Returns:
        one dict per claim: ``claim``, ``bound``, ``values`` / ``passed`` (run name -> value /
        verdict), ``mean`` / ``mean_passed`` (the claim judged on the averaged numbers) and
        ``n_passed`` of ``n_checked`` runs.
    """
    from .claims import average_summaries, check_claims
    per_run = {name: check_claims(summary) for name, summary in summaries.items()}
    on_mean = check_claims(average_summaries(list(summaries.values())))
    rows = []
    for k, mean_claim in enumerate(on_mean):
        verdicts = {name: claims[k]["passed"] for name, claims in per_run.items()}
        rows.append({"claim": mean_claim["claim"], "bound": mean_claim["bound"],
                     "values": {name: claims[k]["value"] for name, claims in per_run.items()},
                     "passed": verdicts, "mean": mean_claim["value"], "mean_passed": mean_claim["passed"],
                     "n_passed": sum(v is True for v in verdicts.values()),
                     "n_checked": sum(v is not None for v in verdicts.values())})
    return rows


def _claims_of(flow: Path) -> list[dict]:
    summary = flow / "evaluation" / "summary.json"
    if not summary.exists():
        raise MFDError("evaluation summary not found", path=summary, fix="run the whole demo flow first")
    return json.loads(summary.read_text()).get("claims", [])


def _criteria_of(flow: Path) -> pd.DataFrame:
    path = flow / "disentanglement" / "criteria.tsv"
    if not path.exists():
        raise MFDError("disentanglement criteria not found", path=path, fix="run mfd check-disentanglement with --out")
    return read_tsv(path, what="disentanglement criteria", fix="re-run mfd check-disentanglement with --out")


def robustness_report(flows: Mapping[str, Path], seeds: Mapping[int, Path], outdir: Path) -> Path:
    """``outdir/report.md`` and ``summary.json``: each simulation's claims and disentanglement
    criteria side by side, the spread of test AUROC over training seeds and the rank agreement of
    the biological variant effects between seeds.

    Args:
        flows: simulation name -> the folder of one whole demo flow (``evaluation/summary.json``,
            ``disentanglement/criteria.tsv``).
        seeds: training seed -> folder with ``evaluation/summary.json`` (its claims need the
            performance, enhancers and variant parts with a baseline of the same seed) and
            ``variants.tsv`` (with the ``biological`` score); when every seed's folder also has
            ``importance/importance.tsv`` (``mfd importance``), the report adds its agreement; and
            for every unit whose ``motifs/<unit>/patterns.tsv`` (``mfd motifs discover``) every seed
            has, the agreement of the discovered motifs.
    """
    from .variant_io import read_variant_scores
    from ..outputs import StagedDir

    marks = {True: "PASS", False: "FAIL", None: "not checked"}
    claims = {name: _claims_of(folder) for name, folder in flows.items()}
    criteria = {name: _criteria_of(folder) for name, folder in flows.items()}
    names = list(flows)
    lines = ["# MFD robustness: the demo's verdicts on a second simulation and over training seeds", "",
             "## The paper's claims, per simulation", "",
             "| claim | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for k, first in enumerate(claims[names[0]]):
        cells = []
        for name in names:
            c = claims[name][k]
            value = "" if c["value"] is None else f" ({c['value']:+.4f})"
            cells.append(marks[c["passed"]] + value)
        lines.append(f"| {first['claim']} | " + " | ".join(cells) + " |")
    lines += ["", "## `mfd check-disentanglement`, per simulation", ""]
    for name in names:
        lines += [f"{name}:", ""] + [f"- {r.result} {r.criterion}" for r in criteria[name].itertuples()] + [""]

    seed_summaries = {f"seed {s}": json.loads((f / "evaluation" / "summary.json").read_text()) for s, f in seeds.items()}
    over_seeds = claims_over_seeds(seed_summaries)
    lines += ["## The paper's claims over training seeds (demo data)", "",
              "Each seed's MFD against its own baseline (same seed), and the claim judged on the numbers "
              "averaged over the seeds (one seed's verdict can flip with the seed; docs/convergence.md).", "",
              "| claim | " + " | ".join(seed_summaries) + " | on the mean | seeds passing |",
              "|---|" + "---|" * (len(seed_summaries) + 2)]
    for row in over_seeds:
        cells = [marks[row["passed"][n]] + ("" if row["values"][n] is None else f" ({row['values'][n]:+.4f})")
                 for n in seed_summaries]
        mean = marks[row["mean_passed"]] + ("" if row["mean"] is None else f" ({row['mean']:+.4f})")
        lines.append(f"| {row['claim']} | " + " | ".join(cells) + f" | {mean} | {row['n_passed']} of {row['n_checked']} |")
    lines.append("")
    aurocs = {name: summary["performance"]["mean_auroc"] for name, summary in seed_summaries.items()}
    seed_spread = spread(aurocs)
    agreement = effect_agreement({f"seed {s}": read_variant_scores(f / "variants.tsv") for s, f in seeds.items()},
                                 "biological")
    lines += ["## Training seeds (demo data, demo config)", "",
              "Test-bin mean AUROC per seed: " + ", ".join(f"{k} {v:.4f}" for k, v in aurocs.items())
              + f"; mean {seed_spread['mean']:.4f}, sd {seed_spread['sd']:.4f}, range {seed_spread['range']:.4f}.", "",
              "Rank agreement (Spearman) of the biological variant effects between seeds, over every "
              "(variant, experiment) pair and over variants (effect averaged over experiments):", "",
              "| seeds | variants | all pairs | mean effect |", "|---|---|---|---|"]
    lines += [f"| {r.run_a} vs {r.run_b} | {r.variants} | {r.spearman_all:.3f} | {r.spearman_mean_effect:.3f} |"
              for r in agreement.itertuples()]
    summary = {"claims": claims, "claims_over_seeds": over_seeds, "criteria": {n: c.to_dict(orient="records") for n, c in criteria.items()},
               "test_auroc_by_seed": aurocs, "test_auroc_spread": seed_spread,
               "biological_effect_agreement": agreement.to_dict(orient="records")}
    folders = {f"seed {s}": f / "importance" for s, f in seeds.items()}
    if all((folder / "importance.tsv").exists() for folder in folders.values()):
        ranking = importance_agreement({name: read_importance(folder) for name, folder in folders.items()})
        lines += ["", "Rank agreement (Spearman) of `mfd importance` between seeds: the test AUROC lost per "
                  "(ablation, experiment group), and each seed's most important ablation:", "",
                  "| seeds | rows | Spearman | most important |", "|---|---|---|---|"]
        lines += [f"| {r.run_a} vs {r.run_b} | {r.rows} | {r.spearman:.3f} | {r.top_a} / {r.top_b} |"
                  for r in ranking.itertuples()]
        summary["importance_agreement"] = ranking.to_dict(orient="records")
    units = sorted({p.parent.name for f in seeds.values() for p in (f / "motifs").glob("*/patterns.tsv")})
    motif_rows = []
    for unit in units:
        folders = {f"seed {s}": f / "motifs" / unit for s, f in seeds.items()}
        if not all((folder / "patterns.tsv").exists() for folder in folders.values()):
            continue
        agreement = motif_agreement({name: read_patterns(folder) for name, folder in folders.items()})
        motif_rows += [{"unit": unit, **r} for r in agreement.to_dict(orient="records")]
    if motif_rows:
        lines += ["", "Agreement of `mfd motifs discover` between seeds, per unit: the overlap (Jaccard) of the "
                  "motifs matched significantly, and the match of each seed's pattern with the most seqlets:", "",
                  "| unit | seeds | matched (a) | matched (b) | Jaccard | top match |", "|---|---|---|---|---|---|"]
        lines += [f"| {r['unit']} | {r['run_a']} vs {r['run_b']} | {r['matched_a'] or '-'} | {r['matched_b'] or '-'} "
                  f"| {r['jaccard']:.2f} | {r['top_a']} / {r['top_b']} |" for r in motif_rows]
        summary["motif_agreement"] = motif_rows
    with StagedDir(outdir) as out:
        (out / "report.md").write_text("\n".join(lines) + "\n")
        (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return Path(outdir) / "report.md"
