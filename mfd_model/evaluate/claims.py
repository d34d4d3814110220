"""The paper's claims, checked on the numbers of an evaluation (``mfd evaluate``'s ``summary.json``).

Rakowski, Monti et al. (2024) claim that MFD costs (almost) no prediction performance and
that its two feature halves mean what they say. :func:`check_claims` turns that into six
comparisons of numbers ``mfd evaluate`` puts in its summary:

1. test-bin mean AUROC: MFD within 0.01 of the baseline — ``value = baseline - MFD <= 0.01``
   (``summary["performance"]["mean_auroc"]`` and ``["baseline_mean_auroc"]``, the same bins);
2. Table 1 (enhancer classification, mean over tissues): MFD's combined (full) features within
   0.02 of the baseline's — ``value = baseline - combined <= 0.02``
   (``summary["enhancers"]["mean_auroc"]``: keys ``baseline``, ``full``, ``bio``, ``tech``);
3. Table 1: biological features at least as good as technical ones — ``value = bio - tech >= 0``;
4. Table 2 at the 0.9 quantile, bias variants: the technical effect's odds ratio above the
   biological effect's — ``value = technical - biological > 0``
   (``summary["variant_enrichment"]``: rows with ``true_class``, ``cutoff``, ``feature_set``,
   ``odds_ratio``; feature sets ``technical`` / ``tech`` and ``biological`` / ``bio``);
5. Table 2 at 0.9, motif variants: the biological odds ratio above the technical one —
   ``value = biological - technical > 0``;
6. Table 2 where the bias is planted (:mod:`~.bias_by_assay`): for every assay whose bias a model
   can tell from biology (``separable_share >= 0.5``), the technical odds ratio of its bias variants
   on its own outputs above the biological one, Haldane-corrected (a cell of 0 is common there) —
   ``value = min over those assays of log10(technical / biological) > 0``
   (``summary["bias_by_assay"]``: rows with ``assay``, ``separable_share``, ``cutoff``,
   ``feature_set``, ``odds_ratio_haldane``). Claim 4 mixes every output into one union; this one
   asks where the bias acts.

"Within" is one-sided: MFD better than the baseline passes. A claim whose numbers are absent
(a part not run, no baseline, no such variant class, an undefined odds ratio) is reported with
``passed = None`` and the reason in ``detail``; nothing here raises on a partial summary.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

PERFORMANCE_MARGIN = 0.01
ENHANCER_MARGIN = 0.02
QUANTILE = 0.9
SEPARABLE_SHARE = 0.5
FEATURE_SETS = {"bio": ("biological", "bio"), "tech": ("technical", "tech"), "full": ("full", "combined")}


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _claim(claim: str, value: float | None, bound: float, passed: bool | None, detail: str) -> dict[str, Any]:
    return {"claim": claim, "value": value, "bound": bound, "passed": passed, "detail": detail}


def _odds_ratio(rows: list[Mapping[str, Any]], true_class: str, feature_set: str) -> float | None:
    for name in FEATURE_SETS[feature_set]:
        for row in rows:
            if (row.get("true_class") == true_class and row.get("feature_set") == name
                    and _number(row.get("cutoff")) == QUANTILE):
                return _number(row.get("odds_ratio"))
    return None


def check_claims(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The six claims (module docstring) as ``{claim, value, bound, passed, detail}`` dicts.

    Args:
        summary: ``mfd evaluate``'s summary (parts may be missing).
    Returns:
        one dict per claim, in the order of the module docstring; ``passed`` is ``True``,
        ``False``, or ``None`` (not checked: its inputs are absent; ``detail`` says which).
    """
    claims = []
    performance = summary.get("performance") or {}
    mfd, base = _number(performance.get("mean_auroc")), _number(performance.get("baseline_mean_auroc"))
    claim = f"test-bin mean AUROC, MFD within {PERFORMANCE_MARGIN} of the baseline: baseline - MFD <= {PERFORMANCE_MARGIN}"
    if mfd is None or base is None:
        claims.append(_claim(claim, None, PERFORMANCE_MARGIN, None,
                             "needs the performance part with --store and --baseline-model"))
    else:
        claims.append(_claim(claim, base - mfd, PERFORMANCE_MARGIN, base - mfd <= PERFORMANCE_MARGIN,
                             f"MFD {mfd:.4f}, baseline {base:.4f}"))

    table1 = (summary.get("enhancers") or {}).get("mean_auroc") or {}
    sets = {key: next((_number(table1.get(n)) for n in names if _number(table1.get(n)) is not None), None)
            for key, names in FEATURE_SETS.items()}
    base = _number(table1.get("baseline"))
    claim = (f"Table 1 mean AUROC, MFD combined features within {ENHANCER_MARGIN} of the baseline: "
             f"baseline - combined <= {ENHANCER_MARGIN}")
    if sets["full"] is None or base is None:
        claims.append(_claim(claim, None, ENHANCER_MARGIN, None,
                             "needs the enhancers part with --baseline-model"))
    else:
        claims.append(_claim(claim, base - sets["full"], ENHANCER_MARGIN, base - sets["full"] <= ENHANCER_MARGIN,
                             f"combined {sets['full']:.4f}, baseline {base:.4f}"))
    claim = "Table 1 mean AUROC, biological features at least as good as technical: biological - technical >= 0"
    if sets["bio"] is None or sets["tech"] is None:
        claims.append(_claim(claim, None, 0.0, None, "needs the enhancers part with an MFD model"))
    else:
        claims.append(_claim(claim, sets["bio"] - sets["tech"], 0.0, sets["bio"] >= sets["tech"],
                             f"biological {sets['bio']:.4f}, technical {sets['tech']:.4f}"))

    rows = list(summary.get("variant_enrichment") or [])
    for true_class, better, worse in (("bias", "tech", "bio"), ("motif", "bio", "tech")):
        names = {"bio": "biological", "tech": "technical"}
        claim = (f"Table 2 odds ratio at the {QUANTILE} quantile, {true_class} variants: "
                 f"{names[better]} - {names[worse]} > 0")
        high, low = _odds_ratio(rows, true_class, better), _odds_ratio(rows, true_class, worse)
        if high is None or low is None:
            claims.append(_claim(claim, None, 0.0, None,
                                 f"needs {true_class} variants scored with biological and technical "
                                 f"effects at cutoff {QUANTILE} (an undefined odds ratio counts as absent)"))
            continue
        value = high - low if not (math.isinf(high) and math.isinf(low)) else None
        claims.append(_claim(claim, value, 0.0, high > low, f"{names[better]} {high:.3g}, {names[worse]} {low:.3g}"))
    claims.append(_bias_where_planted(list(summary.get("bias_by_assay") or [])))
    return claims


def _bias_where_planted(rows: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Claim 6 (module docstring)."""
    claim = (f"Table 2 where the bias is planted, at the {QUANTILE} quantile: on the outputs of each assay separable "
             f"from biology (share >= {SEPARABLE_SHARE}), its bias variants' technical odds ratio above the "
             f"biological (Haldane): min log10(technical / biological) > 0")
    odds: dict[str, dict[str, float]] = {}
    shares: dict[str, float] = {}
    for row in rows:
        if _number(row.get("cutoff")) != QUANTILE:
            continue
        for key, names in FEATURE_SETS.items():
            value = _number(row.get("odds_ratio_haldane"))
            if row.get("feature_set") in names and value is not None and value > 0:
                odds.setdefault(str(row.get("assay")), {})[key] = value
        shares[str(row.get("assay"))] = _number(row.get("separable_share")) or 0.0
    judged = sorted(a for a in odds if shares[a] >= SEPARABLE_SHARE and {"bio", "tech"} <= set(odds[a]))
    skipped = sorted(a for a in odds if shares[a] < SEPARABLE_SHARE)
    if not judged:
        return _claim(claim, None, 0.0, None, "needs bias variants with their assay (INFO ASSAY) scored with "
                      "biological and technical effects, on an assay separable from biology"
                      + (f" (not separable: {', '.join(skipped)})" if skipped else ""))
    ratios = {a: math.log10(odds[a]["tech"] / odds[a]["bio"]) for a in judged}
    detail = "; ".join(f"{a}: technical {odds[a]['tech']:.3g}, biological {odds[a]['bio']:.3g}" for a in judged)
    if skipped:
        detail += f"; not judged (its assay follows from the biological metadata): {', '.join(skipped)}"
    value = min(ratios.values())
    return _claim(claim, value, 0.0, value > 0, detail)


def average_summaries(summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The mean over runs (e.g. training seeds) of every number :func:`check_claims` reads.

    ``check_claims(average_summaries(runs))`` judges the claims on the seed mean, which one seed's
    noise cannot flip. A number absent from some runs is averaged over the runs that have it; an
    odds ratio that is infinite in any run stays infinite.

    Args:
        summaries: ``mfd evaluate`` summaries of the same data set, one per run.
    Returns:
        a summary with ``performance`` (``mean_auroc``, ``baseline_mean_auroc``), ``enhancers``
        (``mean_auroc`` per feature set), ``variant_enrichment`` (one row per true class,
        cutoff and feature set, ``odds_ratio`` averaged) and ``bias_by_assay`` (one row per assay,
        cutoff and feature set, ``odds_ratio_haldane`` and ``separable_share`` averaged), plus ``n_runs``.
    """
    def mean(values: list[float | None]) -> float | None:
        present = [v for v in values if v is not None]
        return sum(present) / len(present) if present else None

    performance = {key: mean([_number((s.get("performance") or {}).get(key)) for s in summaries])
                   for key in ("mean_auroc", "baseline_mean_auroc")}
    names = sorted({n for s in summaries for n in ((s.get("enhancers") or {}).get("mean_auroc") or {})})
    table1 = {n: mean([_number(((s.get("enhancers") or {}).get("mean_auroc") or {}).get(n)) for s in summaries])
              for n in names}
    odds: dict[tuple[Any, Any, Any], list[float | None]] = {}
    for s in summaries:
        for row in s.get("variant_enrichment") or []:
            key = (row.get("true_class"), _number(row.get("cutoff")), row.get("feature_set"))
            odds.setdefault(key, []).append(_number(row.get("odds_ratio")))
    rows = [{"true_class": c, "cutoff": q, "feature_set": f, "odds_ratio": mean(v)} for (c, q, f), v in odds.items()]
    by_assay: dict[tuple[Any, Any, Any], list[Mapping[str, Any]]] = {}
    for s in summaries:
        for row in s.get("bias_by_assay") or []:
            by_assay.setdefault((row.get("assay"), _number(row.get("cutoff")), row.get("feature_set")), []).append(row)
    assay_rows = [{"assay": a, "cutoff": q, "feature_set": f,
                   "separable_share": mean([_number(r.get("separable_share")) for r in group]),
                   "odds_ratio_haldane": mean([_number(r.get("odds_ratio_haldane")) for r in group])}
                  for (a, q, f), group in by_assay.items()]
    return {"n_runs": len(summaries), "performance": performance, "enhancers": {"mean_auroc": table1},
            "variant_enrichment": rows, "bias_by_assay": assay_rows}


def claim_lines(claims: list[Mapping[str, Any]]) -> list[str]:
    """One ``PASS`` / ``FAIL`` / ``NOT CHECKED`` line per claim."""
    marks = {True: "PASS", False: "FAIL", None: "NOT CHECKED"}
    return [f"{marks[c['passed']]:<11}  {c['claim']} ({c['detail']})" for c in claims]


def claims_markdown(claims: list[Mapping[str, Any]]) -> str:
    """The report section "The paper's claims, checked"."""
    marks = {True: "PASS", False: "FAIL", None: "not checked"}
    lines = ["## The paper's claims, checked", "",
             "Rakowski, Monti et al. 2024: MFD predicts as well as the baseline and its halves mean what they say. "
             "Bounds are one-sided (better than the baseline passes).", "",
             "| claim | value | bound | result | detail |", "|---|---|---|---|---|"]
    for c in claims:
        value = "-" if c["value"] is None else f"{c['value']:.4g}"
        lines.append(f"| {c['claim']} | {value} | {c['bound']:g} | {marks[c['passed']]} | {c['detail']} |")
    return "\n".join(lines) + "\n"
