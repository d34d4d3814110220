"""Table 2 where the bias is planted: each assay's bias variants on that assay's own outputs.

The paper's Table 2 counts a variant as tagged when *any* output tags it. For variants that break
an assay's bias k-mer (``mfd simulate``'s ``SIM=bias;ASSAY=...`` records) that union mixes the
outputs where the bias acts with all the others, where a technical effect has nothing to find and
the quantile cutoff still tags its top 10 % (mostly controls, by noise). This view asks the
question the bias variants were planted for: on the outputs of assay ``A``, does the technical
effect tag ``A``'s bias variants (against the controls) better than the biological effect?

Whether any model *can* put an assay's bias in its technical half depends on the metadata: when
every experiment of ``A`` has biological metadata that no other assay has (in ENCODE and in the
simulation every ChIP-seq experiment names a TF or histone target, and only ChIP-seq does), the
assay is a function of the biological metadata and the two halves are interchangeable for its
bias. :func:`assay_separability` measures this: the share of ``A``'s experiments whose biological
metadata (all biological columns together) also occurs in an experiment of another assay.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .enrichment import ONE_SIDED, Cutoff, variant_enrichment


def assay_separability(frame: pd.DataFrame, assay_column: str, biological_columns: Sequence[str]
                       ) -> dict[str, float]:
    """Per assay, the share of its experiments whose biological metadata another assay also has.

    Args:
        frame: the metadata table, one row per experiment.
        assay_column: the column naming each experiment's assay.
        biological_columns: the schema's biological columns (their values together are an
            experiment's biological context; an empty value is a value).
    Returns:
        assay -> share in [0, 1] (0: the assay is determined by the biological metadata).
    """
    context = frame[list(biological_columns)].astype(str).agg("\x1f".join, axis=1)
    assays = frame[assay_column].astype(str)
    shared = assays.groupby(context).transform("nunique") > 1
    return {a: float(shared[assays == a].mean()) for a in sorted(assays.unique())}


def bias_by_assay(scores: Mapping[str, np.ndarray], variant_assay: np.ndarray, is_control: np.ndarray,
                  output_assay: np.ndarray, *, cutoffs: Sequence[Cutoff] = ONE_SIDED,
                  separability: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Odds ratios of each assay's bias variants among those its own outputs tag.

    For assay ``A``: the outputs are those with ``output_assay == A``; the 2 x 2 table counts the
    bias variants of ``A`` (true) and the controls (control), each tagged when any of those
    outputs tags it (:func:`~.enrichment.variant_enrichment`, quantiles over all scored variants).

    Args:
        scores: feature set -> VEP matrix, shape=(V, O).
        variant_assay: str, shape=(V,): the assay whose bias k-mer a bias variant breaks; ``""``
            for every other variant.
        is_control: bool, shape=(V,): the control variants.
        output_assay: str, shape=(O,): each output's assay.
        cutoffs: quantile cutoffs.
        separability: :func:`assay_separability`, copied into the table when given.
    Returns:
        one row per (assay, cutoff, feature set): ``assay``, ``n_outputs``, ``separable_share``
        and :func:`~.enrichment.variant_enrichment`'s columns.
    """
    variant_assay = np.asarray(variant_assay, dtype=str)
    is_control = np.asarray(is_control, dtype=bool)
    output_assay = np.asarray(output_assay, dtype=str)
    tables = []
    for assay in sorted(set(variant_assay[variant_assay != ""]) & set(output_assay)):
        outputs = output_assay == assay
        is_true = variant_assay == assay
        table, _ = variant_enrichment({name: np.asarray(vep)[:, outputs] for name, vep in scores.items()},
                                      is_true, labelled=is_true | is_control, cutoffs=cutoffs)
        table.insert(0, "assay", assay)
        table.insert(1, "n_outputs", int(outputs.sum()))
        table.insert(2, "separable_share", (separability or {}).get(assay, np.nan))
        tables.append(table)
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
