"""The inputs and settings of one evaluation (:func:`mfd_model.evaluate.evaluation.evaluate`)."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class EvaluationOptions:
    """The inputs and settings of one evaluation (the ``mfd evaluate`` options, same names and defaults)."""

    model: str | None = None
    baseline_model: str | None = None
    parts: str = "auto"
    simulated: str | None = None
    fasta: str | None = None
    seed: int = 0
    store: str | None = None
    split: str = "test"
    max_bins: int = 20000
    group_by: str = "assay,target"
    enhancers: list[str] = field(default_factory=list)
    strand: str = "concat"
    folds: int = 5
    cs: str | None = None
    repeats: int = 1
    max_per_class: int = 5000
    random_negatives: int = 3
    variant_scores: str | None = None
    baseline_variant_scores: str | None = None
    baseline_score: str | None = None
    score_map: str | None = None
    score_column_pattern: str | None = None
    variant_labels: str | None = None
    label_field: str = "SIM"
    true_values: str | None = None
    control_values: str = "control"
    cutoffs: list[str] | None = None
    two_sided: bool = False
    truth_bins: str | None = None
    biological_columns: str | None = None
    technical_columns: str | None = None
    diagnostic_bed: str | None = None
    diagnostic_bins: int = 3000
    adversary_steps: int = 300
    importance: str | None = None
    motifs: list[str] = field(default_factory=list)
    batch_size: int = 256
    device: str | None = None
    no_progress: bool = False

    @classmethod
    def from_namespace(cls, namespace: Any) -> "EvaluationOptions":
        """The options of an object with one attribute per field (an ``argparse.Namespace``)."""
        return cls(**{f.name: getattr(namespace, f.name) for f in fields(cls)})
