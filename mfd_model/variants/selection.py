"""Which experiments a variant score is reported for, and how they are aggregated.

* ``experiments``: named experiments (the model's output labels).
* ``select``: metadata groups ``column=value`` (e.g. ``target=CTCF``: every experiment whose
  ``target`` cell holds CTCF, multi-valued cells split on commas, case-insensitive), through
  the model's metadata table (:meth:`MetadataTable.select`).

Without aggregation the output has one column per selected experiment (the union of the named
experiments and the groups, in model order; all experiments when nothing is selected). With
``aggregate`` (``mean``, ``median``, ``min``, ``max``, ``absmax``) it has one column per group
and aggregation instead, labelled ``mean(target=CTCF)``; named experiments form one group
``selected``, and with no selection at all the group is ``all``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..errors import MFDError

if TYPE_CHECKING:
    from ..model import MFDModel

AGGREGATIONS = ("mean", "median", "min", "max", "absmax")


@dataclass(frozen=True)
class ExperimentSelection:
    """The experiments to predict and the output labels ("columns") per score.

    Attributes:
        indices: model output indices to predict, shape=(E,), in model order.
        labels: one label per output column (experiment names, or ``agg(group)``).
        groups: for aggregated output, per group its positions within ``indices``; else ``None``.
        aggregations: the aggregations, one column per (aggregation, group), aggregation-major.
    """

    indices: np.ndarray
    labels: tuple[str, ...]
    groups: tuple[np.ndarray, ...] | None = None
    aggregations: tuple[str, ...] = ()

    @property
    def n_columns(self) -> int:
        return len(self.labels)

    def reduce(self, values: np.ndarray) -> np.ndarray:
        """Per-experiment values -> output columns.

        Args:
            values: shape=(A, E), one value per allele and selected experiment.
        Returns:
            np.ndarray, shape=(A, n_columns).
        """
        if self.groups is None:
            return values
        out = [aggregate(values[:, g], how) for how in self.aggregations for g in self.groups]
        return np.stack(out, axis=1) if out else np.zeros((values.shape[0], 0), values.dtype)


def aggregate(values: np.ndarray, how: str) -> np.ndarray:
    """Aggregate over the last axis: mean, median, min, max or absmax (signed value of largest |x|)."""
    if how == "mean":
        return values.mean(axis=-1)
    if how == "median":
        return np.median(values, axis=-1)
    if how == "min":
        return values.min(axis=-1)
    if how == "max":
        return values.max(axis=-1)
    if how == "absmax":
        pick = np.argmax(np.abs(values), axis=-1)
        return np.take_along_axis(values, pick[..., None], axis=-1)[..., 0]
    raise MFDError(f"unknown aggregation {how!r}", fix=f"use one of: {', '.join(AGGREGATIONS)}")


def _parse_select(item: str) -> tuple[str, str]:
    if "=" not in item:
        raise MFDError(f"--select expects COLUMN=VALUE, got {item!r}", fix="write e.g. --select target=CTCF")
    column, value = (part.strip() for part in item.split("=", 1))
    if not column or not value:
        raise MFDError(f"--select expects COLUMN=VALUE, got {item!r}", fix="write e.g. --select target=CTCF")
    return column, value


def select_experiments(model: "MFDModel", experiments: Sequence[str] = (), select: Sequence[str] = (),
                       aggregate_by: Sequence[str] = ()) -> ExperimentSelection:
    """Resolve named experiments and metadata groups against a model.

    Args:
        model: the model (its ``experiment_names`` and metadata ``table``).
        experiments: experiment names (each item may be comma-separated).
        select: metadata groups ``column=value``.
        aggregate_by: aggregations; empty for per-experiment columns.
    Returns:
        the selection.
    """
    names = list(model.experiment_names)
    position = {n: i for i, n in enumerate(names)}
    wanted = [n.strip() for item in experiments for n in str(item).split(",") if n.strip()]
    unknown = [n for n in wanted if n not in position]
    if unknown:
        shown = ", ".join(names[:10]) + (f", ... ({len(names)} in all)" if len(names) > 10 else "")
        raise MFDError(f"unknown experiment(s): {', '.join(unknown)}", fix=f"the model's experiments are: {shown}")
    for how in aggregate_by:
        if how not in AGGREGATIONS:
            raise MFDError(f"unknown aggregation {how!r}", fix=f"use one of: {', '.join(AGGREGATIONS)}")

    groups: list[tuple[str, list[int]]] = []
    if wanted:
        groups.append(("selected", sorted({position[n] for n in wanted})))
    for item in select:
        column, value = _parse_select(item)
        if model.table is None:
            raise MFDError(f"--select {item}: this model has no experiment metadata table",
                           fix="name experiments with --experiments instead")
        if column not in model.table.columns:
            raise MFDError(f"--select {item}: no metadata column {column!r}",
                           fix=f"use one of: {', '.join(map(str, model.table.columns))}")
        rows = model.table.select(column, value)
        if not rows:
            values = sorted({v.strip() for cell in model.table.column(column) for v in str(cell).split(",") if v.strip()})
            shown = ", ".join(values[:15]) + (", ..." if len(values) > 15 else "")
            raise MFDError(f"--select {item}: no experiment has {column} = {value!r}", fix=f"{column} values: {shown}")
        groups.append((f"{column}={value}", rows))
    if not groups:
        groups.append(("all", list(range(len(names)))))

    indices = np.array(sorted({i for _, rows in groups for i in rows}), dtype=np.int64)
    if not aggregate_by:
        return ExperimentSelection(indices, tuple(names[i] for i in indices))
    where = {int(i): k for k, i in enumerate(indices)}
    members = tuple(np.array([where[i] for i in rows], dtype=np.int64) for _, rows in groups)
    labels = tuple(f"{how}({label})" for how in aggregate_by for label, _ in groups)
    return ExperimentSelection(indices, labels, members, tuple(aggregate_by))
