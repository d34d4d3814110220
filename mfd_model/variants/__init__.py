"""Variant effect prediction: VCF in, kipoi-veff scores and MFD's biological / technical effects out.

One module per idea, read in this order:

    vcf         reading VCF / VCF.gz / BCF records (fixed columns, line-numbered problems)
    windows     variant-centred reference / alternative windows (sequence edits, no model)
    dataloader  VariantWindowDl: the Kipoi dataloader and the scorer's data path
    selection   which experiments to score, metadata groups and aggregation over them
    scores      the scores (kipoi-veff semantics + MFD's swap effects) and strand merging
    effects     the model calls: windows -> shift-averaged, per-strand predictions
    score_writers  TSV (kipoi-veff2 columns), annotated VCF, Parquet, rejects TSV
    scoring     score_variants(): the streaming pipeline end to end
    bruteforce  a one-variant-at-a-time reference implementation (tests, benchmarks)
"""
from __future__ import annotations

from ..lazy import lazy_exports

_EXPORTS = {
    "read_vcf": "vcf", "VcfRecord": "vcf", "VcfHeader": "vcf",
    "WindowSpec": "windows", "VariantChunk": "windows", "build_chunk": "windows",
    "REASONS": "windows",
    "VariantWindowDl": "dataloader", "ChunkStream": "dataloader", "parse_shifts": "dataloader",
    "ExperimentSelection": "selection", "select_experiments": "selection",
    "SCORES": "scores", "RC_MERGES": "scores", "AGGREGATIONS": "selection",
    "VariantEffectPredictor": "effects", "ChunkScores": "effects",
    "score_variants": "scoring", "ScoringSummary": "scoring", "ScoringOptions": "scoring",
    "brute_force_scores": "bruteforce",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
