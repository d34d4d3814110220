"""Downstream evaluation: performance, enhancer classification, variant enrichment, diagnostics.

    evaluation        one mfd evaluate run: evaluate -> Evaluation (parts chosen and run, claims; writes itself)
    options           EvaluationOptions, the inputs and settings of one run
    parts             the five parts (performance, enhancers, variants, diagnostics, interpretation) -> Part
    performance       per-experiment AUROC / AUPRC on the test split, by metadata group
    importance        the AUROC / AUPRC lost when a latent unit, metadata group or subspace is switched off
    enhancers         paper Table 1: logistic regression on frozen bio / tech / full features
    enrichment        paper Table 2: odds ratios (Fisher) of true variants at |VEP| quantile cutoffs
    variant_io        reading variant-score TSVs and variant labels (VCF INFO / TSV)
    disentanglement   cross-subspace correlation, adversary R2, probes vs a per-bin truth table (its format)
    disentanglement_check  the pass / fail check of mfd check-disentanglement: probes per model, the criteria
    simulated         the file layout of `mfd simulate` output
    claims            the paper's claims checked on an evaluation summary
    report            tables (text / TSV / markdown) and figures
"""
from __future__ import annotations

from ..lazy import lazy_exports

_EXPORTS = {
    "per_experiment_metrics": "performance", "summarise_by_metadata": "performance", "evaluate_store": "performance",
    "predict_bins": "performance", "store_bins": "performance", "strand_outputs": "performance",
    "ablation_importance": "importance", "default_ablations": "importance", "ablate": "importance",
    "enhancer_classification": "enhancers", "enhancer_table": "enhancers", "classify": "enhancers",
    "variant_enrichment": "enrichment", "tag_variants": "enrichment", "contingency": "enrichment",
    "read_variant_scores": "variant_io", "read_vcf_labels": "variant_io", "read_tsv_labels": "variant_io",
    "align_labels": "variant_io",
    "probe_table": "disentanglement", "truth_targets": "disentanglement", "read_truth_bins": "disentanglement",
    "subspace_summary": "disentanglement", "truth_columns": "disentanglement",
    "check_disentanglement": "disentanglement_check", "disentanglement_report": "disentanglement_check",
    "held_out_bins": "disentanglement_check",
    "simulated_layout": "simulated",
    "check_claims": "claims",
    "evaluate": "evaluation", "Evaluation": "evaluation", "EvaluationOptions": "options", "Part": "parts",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
