"""``mfd evaluate``: prediction performance, enhancer classification (Table 1), variant
enrichment (Table 2) and disentanglement diagnostics, as tables and figures.

    mfd evaluate results/ -m model.pt --simulated sim/ --store store/ --variant-scores scores.tsv
    mfd evaluate results/ -m model.pt --baseline-model baseline.pt \\
        --fasta hg38.fa --enhancers liver=liver_enh.bed,liver_bg.bed --enhancers heart=heart_enh.bed,random
    mfd evaluate results/ -m model.pt --parts variants --variant-scores gtex.tsv \\
        --variant-labels gtex_labels.tsv --cutoffs 0.9 0.95 0.99

Parts (``--parts``, default ``auto`` = every part whose inputs are given):

* ``performance`` (``--store``): AUROC / AUPRC per experiment on the ``--split`` bins (forward
  and reverse complement averaged), summarised by ``--group-by`` metadata columns;
* ``enhancers`` (``--enhancers TISSUE=POS.bed,NEG.bed``; NEG may be ``random``; with
  ``--simulated`` the ``truth/enhancers_<tissue>.bed`` / ``background_<tissue>.bed`` pairs):
  L2 logistic regression on frozen bio / tech / full features (and ``--baseline-model``
  features), C by cross-validation, balanced classes, stratified 80/20 split;
* ``variants`` (``--variant-scores`` from ``mfd score-variants``; labels from
  ``--variant-labels`` VCF/TSV or the simulated ``variants.vcf.gz``): odds ratios and Fisher
  tests of true variants at quantile cutoffs, per feature set, aggregated over outputs;
* ``diagnostics``: cross-subspace correlation and post-hoc adversary R2; with a per-bin truth
  table (``--truth-bins``, roles by ``bio:`` / ``tech:`` column prefixes or
  ``--biological-columns`` / ``--technical-columns``; with ``--simulated`` its
  ``truth/bins.tsv.gz``) also linear probes of bio / tech / full features against it.

* ``interpretation`` (``--importance DIR`` from ``mfd importance``, ``--motifs DIR`` from
  ``mfd motifs discover``, repeatable): their tables in the report (:mod:`mfd_model.evaluate.interpretation`).

``--simulated DIR`` only fills in what is not given: ``--fasta``, ``--enhancers``,
``--variant-labels``, ``--truth-bins``. With ``--baseline-model`` the performance part
evaluates the baseline on the same bins; the run ends with the paper's claims checked
(:mod:`mfd_model.evaluate.claims`). Everything is written to OUTDIR (TSV + markdown tables,
PNG figures, ``report.md``, ``summary.json``) only when the whole run succeeds.
"""
from __future__ import annotations

import argparse

from . import analysis_args as common
from .check_disentanglement import add_truth_role_arguments

OUTPUTS = ("outdir",)  # the arguments that name what it writes (never one of its inputs)

PARTS = ("performance", "enhancers", "variants", "diagnostics", "interpretation")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("outdir", metavar="OUTDIR", help="output folder for tables and figures")
    common.add_model_argument(parser)
    parser.add_argument("--baseline-model", metavar="MODEL", help="a baseline model whose features are compared too")
    parser.add_argument("--parts", default="auto",
                        help="comma-separated parts: performance, enhancers, variants, diagnostics, all "
                             "(default auto: every part whose inputs are given)")
    parser.add_argument("--simulated", metavar="DIR", help="a 'mfd simulate' folder: genome, enhancer sets, "
                                                           "variant labels and ground truth are taken from it")
    parser.add_argument("--fasta", metavar="FASTA", help="reference genome (default: the simulated genome, else the store's)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (subsets, splits, random windows)")

    perf = parser.add_argument_group("performance")
    perf.add_argument("--store", metavar="STORE", help="label store made by 'mfd prepare'")
    perf.add_argument("--split", default="test", choices=["train", "valid", "test"], help="bins to evaluate (default test)")
    perf.add_argument("--max-bins", type=int, default=20000, help="evaluate a random subset of this many bins (default 20000)")
    perf.add_argument("--group-by", default="assay,target",
                      help="metadata columns to summarise performance and per-output odds ratios by "
                           "(default assay,target; missing ones are skipped)")

    enh = parser.add_argument_group("enhancers")
    enh.add_argument("--enhancers", action="append", default=[], metavar="TISSUE=POS.bed,NEG.bed",
                     help="positive and negative intervals of one tissue (NEG 'random': random genome windows); repeatable")
    enh.add_argument("--strand", default="concat", choices=["fwd", "rc", "mean", "concat"],
                     help="how forward / reverse features combine (default concat, as the paper)")
    enh.add_argument("--folds", type=int, default=5, help="cross-validation folds for C (default 5)")
    enh.add_argument("--cs", default=None, metavar="C,...",
                     help="inverse regularisation strengths to choose from (default 1e-4 ... 1e2, 7 values)")
    enh.add_argument("--repeats", type=int, default=1, help="random 80/20 splits averaged (default 1)")
    enh.add_argument("--max-per-class", type=int, default=5000, help="subsample each class to at most this many")
    enh.add_argument("--random-negatives", type=int, default=3, metavar="K",
                     help="NEG 'random': K random genome windows per positive, avoiding the positives (default 3)")

    var = parser.add_argument_group("variants")
    var.add_argument("--variant-scores", metavar="TSV", help="variant scores table from 'mfd score-variants'")
    var.add_argument("--baseline-variant-scores", metavar="TSV", help="the baseline model's variant scores table")
    var.add_argument("--baseline-score", default=None, metavar="NAME", help="score name to use from the baseline table")
    var.add_argument("--score-map", default=None, metavar="SET=SCORE,...",
                     help="feature set -> score name, e.g. combined=diff,bio=bio,tech=tech (default: every score name)")
    var.add_argument("--score-column-pattern", default=None, metavar="REGEX",
                     help="regular expression with groups 'experiment' and 'score' for the score columns")
    var.add_argument("--variant-labels", metavar="VCF|TSV", help="true / control labels (VCF INFO field or TSV)")
    var.add_argument("--label-field", default="SIM", help="VCF INFO field holding the label (default SIM)")
    var.add_argument("--true-values", default=None, metavar="V,...",
                     help="label values that mark true variants (default: motif; simulated: motif and bias, separately)")
    var.add_argument("--control-values", default="control", metavar="V,...", help="label values of controls (default control)")
    var.add_argument("--cutoffs", nargs="+", default=None, metavar="Q",
                     help="quantile cutoffs: one-sided q (0.99) or two-sided lo,hi (0.01,0.99) (default 0.9 0.95 0.99)")
    var.add_argument("--two-sided", action="store_true", help="use the two-sided cutoffs (0.1,0.9) (0.01,0.99) (0.001,0.999)")

    diag = parser.add_argument_group("diagnostics")
    diag.add_argument("--truth-bins", metavar="TSV", help="per-bin truth table: chrom, start, end, one column per known "
                                                          "quantity (default: <simulated>/truth/bins.tsv.gz)")
    add_truth_role_arguments(diag)
    diag.add_argument("--diagnostic-bed", metavar="BED", help="regions for the subspace diagnostics (default: random windows)")
    diag.add_argument("--diagnostic-bins", type=int, default=3000, help="sequences for the diagnostics (default 3000)")
    diag.add_argument("--adversary-steps", type=int, default=300, help="training steps of the post-hoc adversaries")

    interp = parser.add_argument_group("interpretation")
    interp.add_argument("--importance", metavar="DIR", help="an 'mfd importance' output folder: its ablation table")
    interp.add_argument("--motifs", action="append", default=[], metavar="DIR",
                        help="an 'mfd motifs discover' output folder: its patterns and matches (repeatable)")
    common.add_compute_arguments(parser)


# ============================================================================ driver
def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from ..errors import MFDError
    from ..evaluate.claims import check_claims, claim_lines, claims_markdown
    from ..evaluate.simulated import simulated_layout
    from ..outputs import StagedDir

    sim = simulated_layout(args.simulated) if args.simulated else None
    for path, what in ((args.store, "label store"), (args.fasta, "FASTA file"), (args.variant_scores, "variant scores"),
                       (args.baseline_variant_scores, "baseline variant scores"),
                       (args.variant_labels, "variant labels"), (args.truth_bins, "truth bin table"),
                       (args.diagnostic_bed, "diagnostic BED"), (args.importance, "importance folder"),
                       *((m, "motif discovery folder") for m in args.motifs)):
        if path and not Path(path).exists():
            raise MFDError(f"{what} not found", path=path, fix="check the path")
    for name in ("max_bins", "folds", "repeats", "max_per_class", "random_negatives", "diagnostic_bins",
                 "adversary_steps", "batch_size"):
        common.check_positive(getattr(args, name), "--" + name.replace("_", "-"))
    enhancer_sets = _enhancer_specs(args, sim)
    available = {
        "performance": bool(args.store),
        "enhancers": bool(enhancer_sets),
        "variants": bool(args.variant_scores) and bool(args.variant_labels or (sim and sim.variants)),
        "diagnostics": bool(sim or args.fasta or args.diagnostic_bed or args.truth_bins),
        "interpretation": bool(args.importance or args.motifs),
    }
    needs = {"performance": "--store STORE", "enhancers": "--enhancers TISSUE=POS.bed,NEG.bed (or --simulated)",
             "variants": "--variant-scores TSV and --variant-labels (or --simulated)",
             "diagnostics": "--simulated DIR, --truth-bins TSV, --fasta FASTA or --diagnostic-bed BED",
             "interpretation": "--importance DIR or --motifs DIR"}
    if (args.biological_columns or args.technical_columns) and not (args.truth_bins or (sim and sim.bins)):
        raise MFDError("--biological-columns / --technical-columns name columns of a truth table, but none is given",
                       fix="add --truth-bins TSV (or --simulated DIR)")
    if args.parts == "auto":
        parts = [p for p in PARTS if available[p]]
        if not parts:
            raise MFDError("nothing to evaluate: no inputs given for any part",
                           fix="pass e.g. --simulated DIR, --store STORE, --enhancers ..., --variant-scores ...")
    else:
        parts = list(PARTS) if args.parts == "all" else [p.strip() for p in args.parts.split(",") if p.strip()]
        unknown = [p for p in parts if p not in PARTS]
        if unknown:
            raise MFDError(f"unknown part(s) {', '.join(unknown)}", fix=f"use any of {', '.join(PARTS)}, or all")
        for part in parts:
            if not available[part]:
                raise MFDError(f"part {part!r} needs {needs[part]}", fix=f"add {needs[part]}, or leave {part} out of --parts")
    model = common.load(args.model)
    baseline = common.load(args.baseline_model) if args.baseline_model else None
    if "diagnostics" in parts and not model.is_mfd:
        if args.parts != "auto":
            raise MFDError("diagnostics need an MFD model (a baseline model has no subspaces)",
                           fix="leave diagnostics out of --parts")
        parts.remove("diagnostics")
        available["diagnostics"] = False
        needs["diagnostics"] = "an MFD model (this is a baseline model)"

    report: list[str] = [f"# MFD evaluation\n\nmodel: {args.model or '(default)'}"
                         + (f"; baseline model: {args.baseline_model}" if baseline is not None else "") + "\n"]
    summary: dict = {"parts": parts, "model": args.model, "baseline_model": args.baseline_model}
    skipped = [p for p in PARTS if p not in parts]
    reasons = {p: (f"needs {needs[p]}" if not available[p] else "not in --parts") for p in skipped}
    with StagedDir(args.outdir) as out:
        if "performance" in parts:
            _performance(args, model, baseline, out, report, summary)
        if "enhancers" in parts:
            _enhancers(args, sim, enhancer_sets, model, baseline, out, report, summary)
        if "variants" in parts:
            _variants(args, sim, model, out, report, summary)
        if "diagnostics" in parts:
            _diagnostics(args, sim, model, out, report, summary)
        if "interpretation" in parts:
            _interpretation(args, out, report, summary)
        if skipped:
            report.append("Not run: " + "; ".join(f"{p} ({reasons[p]})" for p in skipped) + "\n")
        summary["claims"] = check_claims(summary)
        report.append(claims_markdown(summary["claims"]))
        (out / "report.md").write_text("\n".join(report))
        (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    if skipped:
        print("\nnot run: " + "; ".join(f"{p} ({reasons[p]})" for p in skipped))
    print(f"\nwrote {args.outdir}/report.md and the tables and figures next to it")
    print("\nthe paper's claims, checked:\n" + "\n".join(claim_lines(summary["claims"])))
    return 0


def _section(title: str, report: list[str], table, note: str = "") -> None:
    from ..evaluate.report import markdown, text_table

    print(f"\n== {title} ==")
    if note:
        print(note)
    print(text_table(table))
    report.append(f"## {title}\n\n" + (f"{note}\n\n" if note else "") + markdown(table) + "\n")


# ============================================================================ interpretation
def _interpretation(args, out, report, summary) -> None:
    from ..evaluate.interpretation import importance_table, motif_table

    if args.importance:
        table, info = importance_table(args.importance)
        table.to_csv(out / "importance.tsv", sep="\t", index=False)
        _section("Importance: test AUROC / AUPRC lost when a unit, a metadata group or a subspace is set to its mean",
                 report, table, note=f"from `mfd importance` ({args.importance}; {info['split']} bins, "
                                     f"intact mean AUROC {info['intact_mean_auroc']:.4f}), over all experiments")
        summary["importance"] = info
    if args.motifs:
        table, info = motif_table(args.motifs)
        table.to_csv(out / "motifs.tsv", sep="\t", index=False)
        _section("Motifs discovered per unit: DeepSHAP -> TF-MoDISco -> TomTom", report, table,
                 note="from `mfd motifs discover` (" + ", ".join(args.motifs) + "): per unit the patterns with "
                      "the most seqlets (at most 5) and each one's best database match (TomTom; significant: q < 0.05)")
        summary["motifs"] = info


# ============================================================================ performance
def _performance(args, model, baseline, out, report, summary) -> None:
    import pandas as pd

    from ..errors import MFDError
    from ..evaluate.performance import evaluate_store, summarise_by_metadata
    from ..evaluate.report import plot_performance, write_table
    try:
        from ..train.labels import LabelStore
    except ImportError:
        raise MFDError("this installation cannot read label stores (mfd_model.train.labels is missing)",
                       fix="install the full package, or leave performance out of --parts") from None

    store = LabelStore.open(args.store)
    evaluate = dict(split=args.split, max_bins=args.max_bins, seed=args.seed, fasta=args.fasta,   # same bins for both
                    batch_size=args.batch_size, device=args.device, progress=not args.no_progress)
    metrics, info = evaluate_store(model, store, **evaluate)
    base_metrics = evaluate_store(baseline, store, **evaluate)[0] if baseline is not None else None
    frame = store.metadata.frame
    id_column = _id_column(frame, metrics["experiment"])
    columns = [c.strip() for c in args.group_by.split(",") if c.strip() and c.strip() in frame.columns]
    grouped = summarise_by_metadata(metrics, frame, columns, id_column=id_column) if columns else None
    metrics.to_csv(out / "performance.tsv", sep="\t", index=False, float_format="%.6g")
    if base_metrics is not None:
        base_metrics.to_csv(out / "performance_baseline.tsv", sep="\t", index=False, float_format="%.6g")
    overall = pd.DataFrame([{"model": name, "experiments": len(m), "mean_auroc": m["auroc"].mean(),
                             "median_auroc": m["auroc"].median(), "mean_auprc": m["auprc"].mean(),
                             "median_auprc": m["auprc"].median()}
                            for name, m in (("MFD" if model.is_mfd else "model", metrics), ("baseline", base_metrics))
                            if m is not None])
    if grouped is not None and len(grouped):
        write_table(grouped, out, "performance_by_metadata")
    plot_performance(metrics, grouped if grouped is not None else pd.DataFrame(columns=["column", "value", "mean_auroc"]),
                     out / "performance.png")
    note = (f"{info['bins']} {args.split} bins, {info['experiments']} experiments "
            f"(forward and reverse complement averaged)" + ("; the baseline on the same bins" if baseline is not None else ""))
    _section("Prediction performance", report, overall, note)
    if grouped is not None and len(grouped):
        _section("Performance by metadata", report, grouped.round(4))
    summary["performance"] = {**info, "mean_auroc": float(metrics["auroc"].mean()),
                              "mean_auprc": float(metrics["auprc"].mean())}
    if base_metrics is not None:
        summary["performance"].update(baseline_mean_auroc=float(base_metrics["auroc"].mean()),
                                      baseline_mean_auprc=float(base_metrics["auprc"].mean()))


def _fasta(args, sim, what: str) -> str:
    """The genome: --fasta, else the simulated one, else the label store's."""
    from ..errors import MFDError

    if args.fasta or sim is not None:
        return str(args.fasta or sim.genome)
    try:
        from ..train.labels import LabelStore
    except ImportError:
        LabelStore = None
    if args.store and LabelStore is not None:
        return str(LabelStore.open(args.store).fasta_path)
    raise MFDError(f"{what} needs the genome", fix="pass --fasta FASTA (or --simulated DIR, or --store STORE)")


def _id_column(frame, names) -> str | None:
    wanted = set(map(str, names))
    for column in frame.columns:
        if wanted <= set(frame[column].astype(str)):
            return column
    return None


# ============================================================================ enhancers
def _enhancer_specs(args, sim) -> dict:
    """tissue -> (positive BED, negative BED or 'random')."""
    from pathlib import Path

    from ..errors import MFDError

    specs: dict = {}
    if sim is not None and not args.enhancers:
        specs.update({t: (str(p), str(n)) for t, (p, n) in sim.enhancers.items()})
    for item in args.enhancers:
        tissue, _, files = item.rpartition("=")
        parts = [p for p in files.split(",") if p]
        if len(parts) != 2:
            raise MFDError(f"--enhancers expects TISSUE=POS.bed,NEG.bed, got {item!r}",
                           fix="write e.g. --enhancers liver=liver_enh.bed,liver_bg.bed (NEG may be 'random')")
        positive, negative = parts
        for path in (positive,) + (() if negative == "random" else (negative,)):
            if not Path(path).exists():
                raise MFDError("enhancer BED file not found", path=path, fix="check the path")
        specs[tissue or Path(positive).name.split(".")[0]] = (positive, negative)
    return specs


def _enhancers(args, sim, specs, model, baseline, out, report, summary) -> None:
    import numpy as np
    import pandas as pd

    from ..bed import read_bed
    from ..errors import MFDError
    from ..evaluate.enhancers import DEFAULT_CS, enhancer_classification, enhancer_table
    from ..evaluate.report import FEATURE_LABELS, plot_enhancers, write_table
    from ..genome import Genome
    from ..interpret.embed import embed_windows
    from ..interpret.windows import random_windows, read_windows

    genome = Genome(_fasta(args, sim, "enhancer classification"))
    rng = np.random.default_rng(args.seed)
    cs = DEFAULT_CS
    if args.cs:
        try:
            cs = [float(c) for c in args.cs.split(",") if c.strip()]
        except ValueError:
            raise MFDError(f"--cs expects comma-separated numbers, got {args.cs!r}", fix="write e.g. --cs 0.01,0.1,1") from None
        if not cs or min(cs) <= 0:
            raise MFDError("--cs values must be positive", fix="write e.g. --cs 0.01,0.1,1")
    results, details, counts = {}, [], {}
    for tissue, (positive, negative) in specs.items():
        pos = read_windows(positive, genome, model.config.seq_len, what="enhancer BED")
        if negative == "random":
            neg = random_windows(genome, args.random_negatives * len(pos), model.config.seq_len, seed=args.seed,
                                 max_n_fraction=0.05, exclude=read_bed(positive))
        else:
            neg = read_windows(negative, genome, model.config.seq_len, what="background BED")
        pos = common.random_subset(pos, args.max_per_class, rng)
        neg = common.random_subset(neg, args.max_per_class, rng)
        counts[tissue] = {"positives": len(pos), "negatives": len(neg), "positives_skipped": pos.skipped,
                          "negatives_skipped": neg.skipped}
        print(f"enhancers {tissue}: positives {pos.skip_summary()}; negatives {neg.skip_summary()}")
        y = np.r_[np.ones(len(pos), int), np.zeros(len(neg), int)]
        features = {}
        sets = ["full", "bio", "tech"] if model.is_mfd else ["full"]
        for windows_ in (pos, neg):
            emb = embed_windows(model, windows_, sets, strand=args.strand, batch_size=args.batch_size,
                                device=args.device, progress=not args.no_progress)
            for name in sets:
                features.setdefault(name, []).append(emb.features[name])
            if baseline is not None:
                emb_b = embed_windows(baseline, _resized(windows_, baseline.config.seq_len), ["full"],
                                      strand=args.strand, batch_size=args.batch_size, device=args.device,
                                      progress=not args.no_progress)
                features.setdefault("baseline", []).append(emb_b.features["full"])
        features = {name: np.concatenate(parts) for name, parts in features.items()}
        per_set = enhancer_classification(features, y, Cs=cs, folds=args.folds, repeats=args.repeats, seed=args.seed)
        results[tissue] = per_set
        for name, r in per_set.items():
            details.append({"tissue": tissue, "feature_set": name, "auroc": r.auroc, "best_C": r.best_c,
                            "cv_auroc": r.cv_auroc, "n_train": r.n_train, "n_test": r.n_test,
                            "n_features": r.n_features})
    table = enhancer_table(results)
    shown = table.rename(columns={c: FEATURE_LABELS.get(c, c) for c in table.columns})
    write_table(shown, out, "enhancers")
    pd.DataFrame(details).to_csv(out / "enhancers_detail.tsv", sep="\t", index=False, float_format="%.6g")
    plot_enhancers(table, out / "enhancers.png")
    _section("Enhancer classification (Table 1: test AUROC)", report, shown.round(4),
             f"L2 logistic regression, C by {args.folds}-fold CV, balanced classes, stratified 80/20 split, "
             f"features strand={args.strand}")
    summary["enhancers"] = {"mean_auroc": {k: float(v) for k, v in table.loc["mean"].items()}, "counts": counts}


def _resized(windows, seq_len: int):
    """The same intervals as windows of another model's length (N-padded at contig ends)."""
    if windows.seq_len == seq_len:
        return windows
    import pandas as pd

    from ..interpret.windows import centred_windows

    centre = windows.start + windows.seq_len // 2
    frame = pd.DataFrame({"chrom": windows.chrom, "start": windows.source_start, "end": windows.source_end,
                          "name": windows.ids, "strand": windows.strand, "centre": centre})
    return centred_windows(frame, windows.genome, seq_len, allow_padding=True)


# ============================================================================ variants
def _variants(args, sim, model, out, report, summary) -> None:
    import numpy as np
    import pandas as pd

    from ..errors import MFDError
    from ..evaluate.enrichment import ONE_SIDED, TWO_SIDED, parse_cutoff, variant_enrichment
    from ..evaluate.report import plot_enrichment, write_table
    from ..evaluate.variant_io import (DEFAULT_PATTERN, align_labels, read_tsv_labels, read_variant_scores,
                                       read_vcf_labels)

    pattern = args.score_column_pattern or DEFAULT_PATTERN
    scores = read_variant_scores(args.variant_scores, pattern=pattern)
    mapping = None
    if args.score_map:
        mapping = {}
        for item in args.score_map.split(","):
            name, _, score = item.partition("=")
            if not name.strip() or not score.strip():
                raise MFDError(f"--score-map expects SET=SCORE pairs, got {item!r}", fix="write e.g. bio=bio,tech=tech")
            mapping[name.strip()] = score.strip()
    matrices = scores.select(mapping)
    if args.baseline_variant_scores:
        base = read_variant_scores(args.baseline_variant_scores, pattern=pattern)
        name = args.baseline_score or (base.score_names[0] if len(base.score_names) == 1 else
                                       "diff" if "diff" in base.score_names else None)
        if name is None or name not in base.matrices:
            raise MFDError(f"choose the baseline's score with --baseline-score (it has: {', '.join(base.score_names)})",
                           path=args.baseline_variant_scores, fix="pass --baseline-score NAME")
        index = {k: i for i, k in enumerate(base.keys)}
        rows = np.array([index.get(k, -1) for k in scores.keys])
        matrix = np.full((len(rows), base.matrices[name].shape[1]), np.nan)
        matrix[rows >= 0] = base.matrices[name][rows[rows >= 0]]
        matrices = {"baseline": matrix, **matrices}

    label_path = args.variant_labels or (str(sim.variants) if sim and sim.variants else None)
    controls = [v.strip() for v in args.control_values.split(",") if v.strip()]
    if args.true_values:
        classes = [[v.strip() for v in args.true_values.split(",") if v.strip()]]
    else:
        classes = [["motif"], ["bias"]] if sim is not None and not args.variant_labels else [["motif"]]
    is_vcf = label_path.endswith((".vcf", ".vcf.gz", ".vcf.bgz"))
    if args.cutoffs:
        cutoffs = [parse_cutoff(c) for c in args.cutoffs]
    else:
        cutoffs = list(TWO_SIDED if args.two_sided else ONE_SIDED)

    tables, per_outputs, info = [], [], {}
    for values in classes:
        if is_vcf:
            labels = read_vcf_labels(label_path, field_name=args.label_field, true_values=values,
                                     control_values=controls)
            by_id = False
        else:
            labels, by_id = read_tsv_labels(label_path, true_values=values if args.true_values else (),
                                            control_values=controls if args.true_values else ())
        rows, is_true, counts = align_labels(scores, labels, by_id=by_id)
        name = "+".join(values)
        info[name] = counts
        print(f"variants ({name} vs {'+'.join(controls)}): {counts['matched']} of {counts['scored']} scored variants "
              f"labelled ({counts['true']} true, {counts['control']} control); {labels.excluded} label records excluded")
        if counts["true"] == 0 or counts["control"] == 0:
            if len(classes) > 1:
                print(f"variants: no {'true' if counts['true'] == 0 else 'control'} variant for {name}; skipped")
                continue
            raise MFDError(f"no {'true' if counts['true'] == 0 else 'control'} variant among the scored ones",
                           path=label_path, fix="check --true-values / --control-values and that the tables match")
        labelled = np.zeros(len(scores.keys), bool)
        labelled[rows] = True
        truth = np.zeros(len(scores.keys), bool)
        truth[rows] = is_true
        table, per_output = variant_enrichment(matrices, truth, labelled=labelled, cutoffs=cutoffs)
        table.insert(0, "true_class", name)
        per_output.insert(0, "true_class", name)
        experiments = {k: scores.experiments.get((mapping or {}).get(k, k), []) for k in matrices}
        per_output["experiment"] = [experiments.get(s, [])[o] if o < len(experiments.get(s, [])) else str(o)
                                    for s, o in zip(per_output["feature_set"], per_output["output"])]
        tables.append(table)
        per_outputs.append(per_output)
    if not tables:
        raise MFDError("no variant class had both true and control variants", path=label_path,
                       fix="check --true-values / --control-values")
    table = pd.concat(tables, ignore_index=True)
    per_output = pd.concat(per_outputs, ignore_index=True)
    write_table(table, out, "variant_enrichment")
    per_output.to_csv(out / "variant_enrichment_per_output.tsv", sep="\t", index=False, float_format="%.6g")
    grouped = _odds_by_metadata(per_output, model, args.group_by)
    if grouped is not None:
        write_table(grouped, out, "variant_enrichment_by_metadata")
    plot_enrichment(table, per_output, out / "variant_enrichment.png")
    shown = table[["true_class", "cutoff", "feature_set", "tagged", "true_tagged", "control_tagged", "odds_ratio",
                   "p_value"]]
    _section("Variant enrichment (Table 2: odds ratio of true variants among tagged ones)", report, shown,
             "unique variants tagged by any output; one-sided Fisher exact test")
    summary["variants"] = info
    summary["variant_enrichment"] = shown.drop(columns="tagged").to_dict(orient="records")


def _odds_by_metadata(per_output, model, group_by: str):
    """Mean per-output odds ratio per metadata value (paper Fig. 4), when the outputs are the
    model's experiments; ``None`` otherwise."""
    import numpy as np

    table = getattr(model, "table", None)
    if table is None:
        return None
    frame = table.frame
    id_column = _id_column(frame, per_output["experiment"].unique())
    columns = [c.strip() for c in group_by.split(",") if c.strip() in frame.columns]
    if id_column is None or not columns:
        return None
    meta = frame.set_index(id_column)
    rows = []
    finite = per_output.replace([np.inf, -np.inf], np.nan)
    for column in columns:
        values = meta.loc[finite["experiment"], column].astype(str).str.split(",").to_numpy()
        exploded = finite.assign(value=values).explode("value")
        for (true_class, cutoff, feature_set, value), group in exploded.groupby(
                ["true_class", "cutoff", "feature_set", "value"], sort=False):
            rows.append({"true_class": true_class, "cutoff": cutoff, "feature_set": feature_set, "column": column,
                         "value": value.strip(), "n_outputs": len(group),
                         "mean_odds_ratio": float(group["odds_ratio"].mean())})
    import pandas as pd
    return pd.DataFrame(rows)


# ============================================================================ diagnostics
def _diagnostics(args, sim, model, out, report, summary) -> None:
    import pandas as pd

    from ..errors import MFDError
    from ..evaluate.disentanglement import probe_table, read_truth_bins, subspace_summary, truth_targets
    from ..evaluate.report import plot_probes, write_table
    from ..genome import Genome
    from ..interpret.embed import embed_windows
    from ..interpret.windows import centred_windows, random_windows, read_windows

    truth_path = args.truth_bins or (str(sim.bins) if sim and sim.bins else None)
    genome = Genome(_fasta(args, sim, "diagnostics"))
    length = model.config.seq_len
    targets = None
    if truth_path:
        roles = {"biological": args.biological_columns, "technical": args.technical_columns}
        bins = read_truth_bins(truth_path, **roles)
        bins = common.random_subset(bins, args.diagnostic_bins, args.seed)
        windows = centred_windows(bins, genome, length, allow_padding=True)
        if len(windows) != len(bins):
            raise MFDError(f"truth bins lie on contigs the genome lacks ({windows.skip_summary()})", path=truth_path,
                           fix="use the genome the truth table was made for (--fasta)")
        targets = truth_targets(bins.reset_index(drop=True), **roles)
        source = f"{len(windows)} bins of {truth_path}"
    elif args.diagnostic_bed:
        windows = read_windows(args.diagnostic_bed, genome, length)
        windows = common.random_subset(windows, args.diagnostic_bins, args.seed)
        source = f"{len(windows)} windows of {args.diagnostic_bed}"
    else:
        windows = random_windows(genome, args.diagnostic_bins, length, seed=args.seed, max_n_fraction=0.05)
        source = f"{len(windows)} random genome windows"
    if len(windows) < 20:
        raise MFDError(f"too few sequences for diagnostics ({source})", fix="use a larger genome or region set")
    emb = embed_windows(model, windows, ["bio", "tech", "full"], strand="mean", batch_size=args.batch_size,
                        device=args.device, progress=not args.no_progress)
    subspaces = subspace_summary(emb.features["bio"], emb.features["tech"], adversary_steps=args.adversary_steps,
                                 seed=args.seed)
    sub_table = pd.DataFrame([{"diagnostic": k, "value": v} for k, v in subspaces.items()])
    write_table(sub_table, out, "diagnostics_subspaces")
    _section("Disentanglement: subspace dependence", report, sub_table,
             f"{source}; 0 = independent subspaces (correlation: linear; adversary R2: non-linear, held-out)")
    summary["diagnostics"] = {"source": source, **subspaces}
    if targets:
        probes = probe_table(emb.features, targets, seed=args.seed)
        write_table(probes, out, "diagnostics_probes")
        plot_probes(probes, out / "diagnostics_probes.png")
        _section("Disentanglement: linear probes vs planted truth", report, probes,
                 "AUROC for presence targets (0.5 = chance), R2 for counts (0 = chance); "
                 "biological quantities should be best read from bio features, technical ones from tech features")
        summary["diagnostics"]["probes"] = probes.to_dict(orient="records")
