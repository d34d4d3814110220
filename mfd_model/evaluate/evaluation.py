"""One evaluation run (``mfd evaluate``): which parts run, running them, and the result that writes itself.

:func:`evaluate` chooses the parts (``options.parts``: a list, ``all``, or ``auto`` = every part
whose inputs are given), loads the model(s), runs the parts of :mod:`mfd_model.evaluate.parts`
in the order of :data:`PARTS` (each prints its tables as it goes) and checks the paper's claims
(:mod:`mfd_model.evaluate.claims`) on the summary. The :class:`Evaluation` it returns writes
``report.md``, ``summary.json`` and every part's tables and figures into one folder, all or
nothing (:class:`mfd_model.outputs.StagedDir`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import MFDError
from .options import EvaluationOptions
from .parts import Part

PARTS = ("performance", "enhancers", "variants", "diagnostics", "interpretation")


@dataclass
class Evaluation:
    """The result of :func:`evaluate`: the parts asked for (as listed), each part run (name ->
    :class:`Part`, in the order of :data:`PARTS`), the parts not run (name -> why), the claims
    checked; ``write(outdir)`` publishes everything."""

    model: str | None
    baseline_model: str | None
    chosen: list[str]
    parts: dict[str, Part]
    skipped: dict[str, str]
    claims: list = field(default_factory=list)

    def summary(self) -> dict:
        """``summary.json``: the parts run, the models, each part's entries, the claims."""
        summary: dict = {"parts": self.chosen, "model": self.model, "baseline_model": self.baseline_model}
        for part in self.parts.values():
            summary.update(part.summary)
        return {**summary, "claims": self.claims} if self.claims is not None else summary

    def report(self) -> str:
        """``report.md``: the header, each part's sections, the parts not run, the claims."""
        from .claims import claims_markdown

        lines = [f"# MFD evaluation\n\nmodel: {self.model or '(default)'}"
                 + (f"; baseline model: {self.baseline_model}" if self.baseline_model else "") + "\n"]
        for part in self.parts.values():
            lines.extend(part.sections)
        if self.skipped:
            lines.append("Not run: " + "; ".join(f"{p} ({why})" for p, why in self.skipped.items()) + "\n")
        lines.append(claims_markdown(self.claims))
        return "\n".join(lines)

    def write(self, outdir: str | Path) -> None:
        """Write the tables, figures, ``report.md`` and ``summary.json`` into ``outdir`` (all or nothing)."""
        from ..outputs import StagedDir

        with StagedDir(outdir) as out:
            for part in self.parts.values():
                part.write(out)
            (out / "report.md").write_text(self.report())
            (out / "summary.json").write_text(json.dumps(self.summary(), indent=2, default=str))

    def closing(self, outdir: str | Path) -> str:
        """The lines printed at the end: the parts not run, where the report is, the claims."""
        from .claims import claim_lines

        text = ""
        if self.skipped:
            text += "\nnot run: " + "; ".join(f"{p} ({why})" for p, why in self.skipped.items()) + "\n"
        text += f"\nwrote {outdir}/report.md and the tables and figures next to it\n"
        return text + "\nthe paper's claims, checked:\n" + "\n".join(claim_lines(self.claims))


def evaluate(options: EvaluationOptions, load: Callable[[str | None], Any], simulated: Any = None,
             outdir: str | Path | None = None) -> Evaluation:
    """Run the chosen parts of the evaluation; ``load`` turns a model path into a model.

    ``simulated``: the layout of ``options.simulated`` when already read
    (:func:`mfd_model.evaluate.simulated.simulated_layout`). ``outdir``: where the result will be
    written, refused before the parts run if it is an existing file. Raises :class:`MFDError` when
    a part asked for lacks its inputs, or when nothing can run.
    """
    from ..outputs import refuse_file_as_folder
    from . import parts as run
    from .claims import check_claims
    from .simulated import simulated_layout

    sim = simulated if simulated is not None or not options.simulated else simulated_layout(options.simulated)
    enhancer_sets = run.enhancer_specs(options, sim)
    available = {
        "performance": bool(options.store),
        "enhancers": bool(enhancer_sets),
        "variants": bool(options.variant_scores) and bool(options.variant_labels or (sim and sim.variants)),
        "diagnostics": bool(sim or options.fasta or options.diagnostic_bed or options.truth_bins),
        "interpretation": bool(options.importance or options.motifs),
    }
    needs = {"performance": "--store STORE", "enhancers": "--enhancers TISSUE=POS.bed,NEG.bed (or --simulated)",
             "variants": "--variant-scores TSV and --variant-labels (or --simulated)",
             "diagnostics": "--simulated DIR, --truth-bins TSV, --fasta FASTA or --diagnostic-bed BED",
             "interpretation": "--importance DIR or --motifs DIR"}
    if (options.biological_columns or options.technical_columns) and not (options.truth_bins or (sim and sim.bins)):
        raise MFDError("--biological-columns / --technical-columns name columns of a truth table, but none is given",
                       fix="add --truth-bins TSV (or --simulated DIR)")
    chosen = _chosen_parts(options.parts, available, needs)
    model = load(options.model)
    baseline = load(options.baseline_model) if options.baseline_model else None
    if "diagnostics" in chosen and not model.is_mfd:
        if options.parts != "auto":
            raise MFDError("diagnostics need an MFD model (a baseline model has no subspaces)",
                           fix="leave diagnostics out of --parts")
        chosen.remove("diagnostics")
        available["diagnostics"] = False
        needs["diagnostics"] = "an MFD model (this is a baseline model)"
    if outdir is not None:
        refuse_file_as_folder(outdir)
    skipped = {p: (f"needs {needs[p]}" if not available[p] else "not in --parts") for p in PARTS if p not in chosen}
    results: dict[str, Part] = {}
    for name in [p for p in PARTS if p in chosen]:
        if name == "performance":
            results[name] = run.performance(options, model, baseline)
        elif name == "enhancers":
            results[name] = run.enhancers(options, sim, enhancer_sets, model, baseline)
        elif name == "variants":
            results[name] = run.variants(options, sim, model)
        elif name == "diagnostics":
            results[name] = run.diagnostics(options, sim, model)
        else:
            results[name] = run.interpretation(options)
    evaluation = Evaluation(options.model, options.baseline_model, chosen, results, skipped, claims=None)
    evaluation.claims = check_claims(evaluation.summary())
    return evaluation


def _chosen_parts(parts: str, available: dict[str, bool], needs: dict[str, str]) -> list[str]:
    """The parts to run, in the order of :data:`PARTS`: ``auto``, ``all`` or a comma-separated list."""
    if parts == "auto":
        chosen = [p for p in PARTS if available[p]]
        if not chosen:
            raise MFDError("nothing to evaluate: no inputs given for any part",
                           fix="pass e.g. --simulated DIR, --store STORE, --enhancers ..., --variant-scores ...")
        return chosen
    chosen = list(PARTS) if parts == "all" else [p.strip() for p in parts.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in PARTS]
    if unknown:
        raise MFDError(f"unknown part(s) {', '.join(unknown)}", fix=f"use any of {', '.join(PARTS)}, or all")
    for part in chosen:
        if not available[part]:
            raise MFDError(f"part {part!r} needs {needs[part]}", fix=f"add {needs[part]}, or leave {part} out of --parts")
    return chosen
