"""The five parts of an evaluation (:func:`mfd_model.evaluate.evaluation.evaluate`), each returning a
:class:`Part`: its report sections (printed as they are made),
its summary entries and the writers of its tables and figures.

* :func:`performance`: AUROC / AUPRC per experiment on the label store's bins (and the baseline's);
* :func:`enhancers`: paper Table 1, logistic regression on frozen features of enhancer windows;
* :func:`variants`: paper Table 2, odds ratios of true variants among tagged ones;
* :func:`diagnostics`: subspace dependence, and linear probes against a per-bin truth table;
* :func:`interpretation`: the tables of ``mfd importance`` and ``mfd motifs discover`` outputs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import MFDError
from ..sampling import random_subset
from .options import EvaluationOptions


@dataclass
class Part:
    """What one part found: markdown sections of ``report.md``, entries of ``summary.json``, and
    the writers of its tables and figures (each called with the output folder)."""

    sections: list[str] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    files: list[Callable[[Path], Any]] = field(default_factory=list)

    def section(self, title: str, table: Any, note: str = "") -> None:
        """Print ``table`` (a DataFrame) under ``title`` and add it to the report as markdown."""
        from .report import markdown, text_table

        print(f"\n== {title} ==")
        if note:
            print(note)
        print(text_table(table))
        self.sections.append(f"## {title}\n\n" + (f"{note}\n\n" if note else "") + markdown(table) + "\n")

    def write(self, folder: Path) -> None:
        for writer in self.files:
            writer(folder)


# ============================================================================ interpretation
def interpretation(options: EvaluationOptions) -> Part:
    """The tables of an ``mfd importance`` folder and of ``mfd motifs discover`` folders."""
    from .interpretation import importance_table, motif_table

    part = Part()
    if options.importance:
        table, info = importance_table(options.importance)
        part.files.append(lambda out, table=table: table.to_csv(out / "importance.tsv", sep="\t", index=False))
        part.section("Importance: test AUROC / AUPRC lost when a unit, a metadata group or a subspace is set to its mean",
                     table, note=f"from `mfd importance` ({options.importance}; {info['split']} bins, "
                                 f"intact mean AUROC {info['intact_mean_auroc']:.4f}), over all experiments")
        part.summary["importance"] = info
    if options.motifs:
        table, info = motif_table(options.motifs)
        part.files.append(lambda out, table=table: table.to_csv(out / "motifs.tsv", sep="\t", index=False))
        part.section("Motifs discovered per unit: DeepSHAP -> TF-MoDISco -> TomTom", table,
                     note="from `mfd motifs discover` (" + ", ".join(options.motifs) + "): per unit the patterns "
                          "with the most seqlets (at most 5) and each one's best database match (TomTom; significant: q < 0.05)")
        part.summary["motifs"] = info
    return part


# ============================================================================ performance
def performance(options: EvaluationOptions, model: Any, baseline: Any = None) -> Part:
    """AUROC / AUPRC per experiment on ``options.max_bins`` bins of the store's ``options.split`` (the
    baseline on the same bins), overall and by the ``options.group_by`` metadata columns."""
    import pandas as pd

    from .performance import evaluate_store, summarise_by_metadata
    from .report import plot_performance, write_table
    try:
        from ..train.labels import LabelStore
    except ImportError:
        raise MFDError("this installation cannot read label stores (mfd_model.train.labels is missing)",
                       fix="install the full package, or leave performance out of --parts") from None

    store = LabelStore.open(options.store)
    evaluate = dict(split=options.split, max_bins=options.max_bins, seed=options.seed, fasta=options.fasta,   # same bins for both
                    batch_size=options.batch_size, device=options.device, progress=not options.no_progress)
    metrics, info = evaluate_store(model, store, **evaluate)
    base_metrics = evaluate_store(baseline, store, **evaluate)[0] if baseline is not None else None
    frame = store.metadata.frame
    id_column = _id_column(frame, metrics["experiment"])
    columns = [c.strip() for c in options.group_by.split(",") if c.strip() and c.strip() in frame.columns]
    grouped = summarise_by_metadata(metrics, frame, columns, id_column=id_column) if columns else None
    part = Part()
    part.files.append(lambda out: metrics.to_csv(out / "performance.tsv", sep="\t", index=False, float_format="%.6g"))
    if base_metrics is not None:
        part.files.append(lambda out: base_metrics.to_csv(out / "performance_baseline.tsv", sep="\t", index=False,
                                                          float_format="%.6g"))
    overall = pd.DataFrame([{"model": name, "experiments": len(m), "mean_auroc": m["auroc"].mean(),
                             "median_auroc": m["auroc"].median(), "mean_auprc": m["auprc"].mean(),
                             "median_auprc": m["auprc"].median()}
                            for name, m in (("MFD" if model.is_mfd else "model", metrics), ("baseline", base_metrics))
                            if m is not None])
    if grouped is not None and len(grouped):
        part.files.append(lambda out: write_table(grouped, out, "performance_by_metadata"))
    shown = grouped if grouped is not None else pd.DataFrame(columns=["column", "value", "mean_auroc"])
    part.files.append(lambda out: plot_performance(metrics, shown, out / "performance.png"))
    note = (f"{info['bins']} {options.split} bins, {info['experiments']} experiments "
            f"(forward and reverse complement averaged)" + ("; the baseline on the same bins" if baseline is not None else ""))
    part.section("Prediction performance", overall, note)
    if grouped is not None and len(grouped):
        part.section("Performance by metadata", grouped.round(4))
    part.summary["performance"] = {**info, "mean_auroc": float(metrics["auroc"].mean()),
                              "mean_auprc": float(metrics["auprc"].mean())}
    if base_metrics is not None:
        part.summary["performance"].update(baseline_mean_auroc=float(base_metrics["auroc"].mean()),
                                      baseline_mean_auprc=float(base_metrics["auprc"].mean()))
    return part


def _fasta(options: EvaluationOptions, sim: Any, what: str) -> str:
    """The genome: --fasta, else the simulated one, else the label store's."""

    if options.fasta or sim is not None:
        return str(options.fasta or sim.genome)
    try:
        from ..train.labels import LabelStore
    except ImportError:
        LabelStore = None
    if options.store and LabelStore is not None:
        return str(LabelStore.open(options.store).fasta_path)
    raise MFDError(f"{what} needs the genome", fix="pass --fasta FASTA (or --simulated DIR, or --store STORE)")


def _id_column(frame: Any, names: Any) -> str | None:
    """The metadata column that holds every one of ``names`` (the experiment ids), if any."""
    wanted = set(map(str, names))
    for column in frame.columns:
        if wanted <= set(frame[column].astype(str)):
            return column
    return None


# ============================================================================ enhancers
def enhancer_specs(options: EvaluationOptions, sim: Any) -> dict[str, tuple[str, str]]:
    """tissue -> (positive BED, negative BED or 'random'): ``options.enhancers``, else the simulated sets."""
    from pathlib import Path


    specs: dict = {}
    if sim is not None and not options.enhancers:
        specs.update({t: (str(p), str(n)) for t, (p, n) in sim.enhancers.items()})
    for item in options.enhancers:
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


def enhancers(options: EvaluationOptions, sim: Any, specs: dict[str, tuple[str, str]], model: Any,
              baseline: Any = None) -> Part:
    """Paper Table 1: per tissue, logistic regression of enhancer vs background windows on the
    frozen features (N, F) of each feature set (full / bio / tech, and the baseline's)."""
    import numpy as np
    import pandas as pd

    from ..bed import read_bed
    from .enhancers import DEFAULT_CS, enhancer_classification, enhancer_table
    from .report import FEATURE_LABELS, plot_enhancers, write_table
    from ..genome import Genome
    from ..interpret.embed import embed_windows
    from ..interpret.windows import random_windows, read_windows

    genome = Genome(_fasta(options, sim, "enhancer classification"))
    rng = np.random.default_rng(options.seed)
    cs = DEFAULT_CS
    if options.cs:
        try:
            cs = [float(c) for c in options.cs.split(",") if c.strip()]
        except ValueError:
            raise MFDError(f"--cs expects comma-separated numbers, got {options.cs!r}", fix="write e.g. --cs 0.01,0.1,1") from None
        if not cs or min(cs) <= 0:
            raise MFDError("--cs values must be positive", fix="write e.g. --cs 0.01,0.1,1")
    results, details, counts = {}, [], {}
    for tissue, (positive, negative) in specs.items():
        pos = read_windows(positive, genome, model.config.seq_len, what="enhancer BED")
        if negative == "random":
            neg = random_windows(genome, options.random_negatives * len(pos), model.config.seq_len, seed=options.seed,
                                 max_n_fraction=0.05, exclude=read_bed(positive))
        else:
            neg = read_windows(negative, genome, model.config.seq_len, what="background BED")
        pos = random_subset(pos, options.max_per_class, rng)
        neg = random_subset(neg, options.max_per_class, rng)
        counts[tissue] = {"positives": len(pos), "negatives": len(neg), "positives_skipped": pos.skipped,
                          "negatives_skipped": neg.skipped}
        print(f"enhancers {tissue}: positives {pos.skip_summary()}; negatives {neg.skip_summary()}")
        y = np.r_[np.ones(len(pos), int), np.zeros(len(neg), int)]
        features = {}
        sets = ["full", "bio", "tech"] if model.is_mfd else ["full"]
        for windows_ in (pos, neg):
            emb = embed_windows(model, windows_, sets, strand=options.strand, batch_size=options.batch_size,
                                device=options.device, progress=not options.no_progress)
            for name in sets:
                features.setdefault(name, []).append(emb.features[name])
            if baseline is not None:
                emb_b = embed_windows(baseline, _resized(windows_, baseline.config.seq_len), ["full"],
                                      strand=options.strand, batch_size=options.batch_size, device=options.device,
                                      progress=not options.no_progress)
                features.setdefault("baseline", []).append(emb_b.features["full"])
        features = {name: np.concatenate(parts) for name, parts in features.items()}
        per_set = enhancer_classification(features, y, Cs=cs, folds=options.folds, repeats=options.repeats, seed=options.seed)
        results[tissue] = per_set
        for name, r in per_set.items():
            details.append({"tissue": tissue, "feature_set": name, "auroc": r.auroc, "best_C": r.best_c,
                            "cv_auroc": r.cv_auroc, "n_train": r.n_train, "n_test": r.n_test,
                            "n_features": r.n_features})
    table = enhancer_table(results)
    shown = table.rename(columns={c: FEATURE_LABELS.get(c, c) for c in table.columns})
    detail = pd.DataFrame(details)
    part = Part(files=[lambda out: write_table(shown, out, "enhancers"),
                       lambda out: detail.to_csv(out / "enhancers_detail.tsv", sep="\t", index=False,
                                                 float_format="%.6g"),
                       lambda out: plot_enhancers(table, out / "enhancers.png")])
    part.section("Enhancer classification (Table 1: test AUROC)", shown.round(4),
             f"L2 logistic regression, C by {options.folds}-fold CV, balanced classes, stratified 80/20 split, "
             f"features strand={options.strand}")
    part.summary["enhancers"] = {"mean_auroc": {k: float(v) for k, v in table.loc["mean"].items()},
                                 "counts": counts}
    return part


def _resized(windows: Any, seq_len: int) -> Any:
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
def variants(options: EvaluationOptions, sim: Any, model: Any) -> Part:
    """Paper Table 2: odds ratios and Fisher tests of true variants among those tagged at each
    quantile cutoff, per feature set (score matrices (variants, outputs)), per true class."""
    import numpy as np
    import pandas as pd

    from .enrichment import ONE_SIDED, TWO_SIDED, parse_cutoff, variant_enrichment
    from .report import plot_enrichment, write_table
    from .variant_io import (DEFAULT_PATTERN, align_labels, read_tsv_labels, read_variant_scores,
                                       read_vcf_labels)

    pattern = options.score_column_pattern or DEFAULT_PATTERN
    scores = read_variant_scores(options.variant_scores, pattern=pattern)
    mapping = None
    if options.score_map:
        mapping = {}
        for item in options.score_map.split(","):
            name, _, score = item.partition("=")
            if not name.strip() or not score.strip():
                raise MFDError(f"--score-map expects SET=SCORE pairs, got {item!r}", fix="write e.g. bio=bio,tech=tech")
            mapping[name.strip()] = score.strip()
    matrices = scores.select(mapping)
    if options.baseline_variant_scores:
        base = read_variant_scores(options.baseline_variant_scores, pattern=pattern)
        name = options.baseline_score or (base.score_names[0] if len(base.score_names) == 1 else
                                       "diff" if "diff" in base.score_names else None)
        if name is None or name not in base.matrices:
            raise MFDError(f"choose the baseline's score with --baseline-score (it has: {', '.join(base.score_names)})",
                           path=options.baseline_variant_scores, fix="pass --baseline-score NAME")
        index = {k: i for i, k in enumerate(base.keys)}
        rows = np.array([index.get(k, -1) for k in scores.keys])
        matrix = np.full((len(rows), base.matrices[name].shape[1]), np.nan)
        matrix[rows >= 0] = base.matrices[name][rows[rows >= 0]]
        matrices = {"baseline": matrix, **matrices}

    label_path = options.variant_labels or (str(sim.variants) if sim and sim.variants else None)
    controls = [v.strip() for v in options.control_values.split(",") if v.strip()]
    if options.true_values:
        classes = [[v.strip() for v in options.true_values.split(",") if v.strip()]]
    else:
        classes = [["motif"], ["bias"]] if sim is not None and not options.variant_labels else [["motif"]]
    is_vcf = label_path.endswith((".vcf", ".vcf.gz", ".vcf.bgz"))
    if options.cutoffs:
        cutoffs = [parse_cutoff(c) for c in options.cutoffs]
    else:
        cutoffs = list(TWO_SIDED if options.two_sided else ONE_SIDED)

    experiments = {k: scores.experiments.get((mapping or {}).get(k, k), []) for k in matrices}
    tables, per_outputs, info = [], [], {}
    for values in classes:
        if is_vcf:
            labels = read_vcf_labels(label_path, field_name=options.label_field, true_values=values,
                                     control_values=controls)
            by_id = False
        else:
            labels, by_id = read_tsv_labels(label_path, true_values=values if options.true_values else (),
                                            control_values=controls if options.true_values else ())
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
        per_output["experiment"] = [experiments.get(s, [])[o] if o < len(experiments.get(s, [])) else str(o)
                                    for s, o in zip(per_output["feature_set"], per_output["output"])]
        tables.append(table)
        per_outputs.append(per_output)
    if not tables:
        raise MFDError("no variant class had both true and control variants", path=label_path,
                       fix="check --true-values / --control-values")
    table = pd.concat(tables, ignore_index=True)
    per_output = pd.concat(per_outputs, ignore_index=True)
    part = Part(files=[lambda out: write_table(table, out, "variant_enrichment"),
                       lambda out: per_output.to_csv(out / "variant_enrichment_per_output.tsv", sep="\t",
                                                     index=False, float_format="%.6g")])
    grouped = _odds_by_metadata(per_output, model, options.group_by)
    if grouped is not None:
        part.files.append(lambda out: write_table(grouped, out, "variant_enrichment_by_metadata"))
    by_assay = _bias_by_assay(matrices, experiments, scores.keys, label_path if is_vcf else None, model,
                              controls, cutoffs, options.label_field)
    part.files.append(lambda out: plot_enrichment(table, per_output, out / "variant_enrichment.png"))
    shown = table[["true_class", "cutoff", "feature_set", "tagged", "true_tagged", "control_tagged", "odds_ratio",
                   "p_value"]]
    part.section("Variant enrichment (Table 2: odds ratio of true variants among tagged ones)", shown,
             "unique variants tagged by any output; one-sided Fisher exact test")
    part.summary["variants"] = info
    part.summary["variant_enrichment"] = shown.drop(columns="tagged").to_dict(orient="records")
    if by_assay is not None:
        part.files.append(lambda out: write_table(by_assay, out, "variant_enrichment_bias_by_assay"))
        part.section("Bias variants on their own assay's outputs (Table 2 where the bias is planted)",
                     by_assay[["assay", "n_outputs", "separable_share", "cutoff", "feature_set", "true_tagged",
                               "control_tagged", "odds_ratio", "odds_ratio_haldane", "p_value"]],
                     "each assay's bias variants against the controls, tagged by any output of that assay; "
                     "separable_share: share of the assay's experiments whose biological metadata another assay "
                     "also has (0: the assay follows from the biological metadata, so no model can tell its bias "
                     "from biology)")
        part.summary["bias_by_assay"] = by_assay.drop(columns=["tagged"]).to_dict(orient="records")
    return part


def _bias_by_assay(matrices: dict, experiments: dict, keys: Any, label_vcf: str | None, model: Any,
                   controls: list[str], cutoffs: list, label_field: str) -> Any:
    """:func:`~.bias_by_assay.bias_by_assay` for the feature sets whose outputs are the model's
    experiments, when the label VCF names each bias variant's assay (INFO ``ASSAY``, as ``mfd
    simulate`` writes) and a technical column of the model's metadata has those assays; else ``None``."""
    import numpy as np

    from .bias_by_assay import assay_separability, bias_by_assay
    from .variant_io import read_vcf_fields

    table, encoder = getattr(model, "table", None), getattr(model, "encoder", None)
    if label_vcf is None or table is None or encoder is None:
        return None
    fields = read_vcf_fields(label_vcf, ["ASSAY", label_field])
    assay_of, labels = fields["ASSAY"], fields[label_field]
    frame = table.frame
    assay_columns = [c.column for c in encoder.schema.technical.columns if c.column in frame.columns
                     and set(assay_of.values()) <= set(frame[c.column].astype(str))]
    names = [k for k in matrices if experiments.get(k) and list(experiments[k]) == list(model.experiment_names)]
    if not assay_of or not assay_columns or not names:
        return None
    control_set = {v.lower() for v in controls}
    biological = list(dict.fromkeys(c.column for c in encoder.schema.biological.columns))
    by_experiment = frame.set_index(encoder.schema.id_column)[assay_columns[0]].astype(str)
    result = bias_by_assay({k: matrices[k] for k in names}, np.array([assay_of.get(k, "") for k in keys]),
                           np.array([labels.get(k, "").lower() in control_set for k in keys]),
                           by_experiment.loc[list(model.experiment_names)].to_numpy(), cutoffs=cutoffs,
                           separability=assay_separability(frame, assay_columns[0], biological))
    return result if len(result) else None


def _odds_by_metadata(per_output: Any, model: Any, group_by: str) -> Any:
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
def diagnostics(options: EvaluationOptions, sim: Any, model: Any) -> Part:
    """Cross-subspace correlation and adversary R2 of the bio / tech features (N, F) of windows;
    with a per-bin truth table also linear probes of each feature set against its columns."""
    import pandas as pd

    from .disentanglement import probe_table, read_truth_bins, subspace_summary, truth_targets
    from .report import plot_probes, write_table
    from ..genome import Genome
    from ..interpret.embed import embed_windows
    from ..interpret.windows import centred_windows, random_windows, read_windows

    truth_path = options.truth_bins or (str(sim.bins) if sim and sim.bins else None)
    genome = Genome(_fasta(options, sim, "diagnostics"))
    length = model.config.seq_len
    targets = None
    if truth_path:
        roles = {"biological": options.biological_columns, "technical": options.technical_columns}
        bins = read_truth_bins(truth_path, **roles)
        bins = random_subset(bins, options.diagnostic_bins, options.seed)
        windows = centred_windows(bins, genome, length, allow_padding=True)
        if len(windows) != len(bins):
            raise MFDError(f"truth bins lie on contigs the genome lacks ({windows.skip_summary()})", path=truth_path,
                           fix="use the genome the truth table was made for (--fasta)")
        targets = truth_targets(bins.reset_index(drop=True), **roles)
        source = f"{len(windows)} bins of {truth_path}"
    elif options.diagnostic_bed:
        windows = read_windows(options.diagnostic_bed, genome, length)
        windows = random_subset(windows, options.diagnostic_bins, options.seed)
        source = f"{len(windows)} windows of {options.diagnostic_bed}"
    else:
        windows = random_windows(genome, options.diagnostic_bins, length, seed=options.seed, max_n_fraction=0.05)
        source = f"{len(windows)} random genome windows"
    if len(windows) < 20:
        raise MFDError(f"too few sequences for diagnostics ({source})", fix="use a larger genome or region set")
    emb = embed_windows(model, windows, ["bio", "tech", "full"], strand="mean", batch_size=options.batch_size,
                        device=options.device, progress=not options.no_progress)
    subspaces = subspace_summary(emb.features["bio"], emb.features["tech"], adversary_steps=options.adversary_steps,
                                 seed=options.seed)
    sub_table = pd.DataFrame([{"diagnostic": k, "value": v} for k, v in subspaces.items()])
    part = Part(files=[lambda out: write_table(sub_table, out, "diagnostics_subspaces")])
    part.section("Disentanglement: subspace dependence", sub_table,
             f"{source}; 0 = independent subspaces (correlation: linear; adversary R2: non-linear, held-out)")
    part.summary["diagnostics"] = {"source": source, **subspaces}
    if targets:
        probes = probe_table(emb.features, targets, seed=options.seed)
        part.files += [lambda out: write_table(probes, out, "diagnostics_probes"),
                       lambda out: plot_probes(probes, out / "diagnostics_probes.png")]
        part.section("Disentanglement: linear probes vs planted truth", probes,
                 "AUROC for presence targets (0.5 = chance), R2 for counts (0 = chance); "
                 "biological quantities should be best read from bio features, technical ones from tech features")
        part.summary["diagnostics"]["probes"] = probes.to_dict(orient="records")
    return part
