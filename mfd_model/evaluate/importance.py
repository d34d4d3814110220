"""Ablation importance: the test accuracy a latent unit, a metadata group or a subspace carries.

Attribution methods say where in a sequence a unit looks; they do not say how much the unit is
worth. Here a unit is *switched off* and the loss of accuracy measured (the review's "objective
measure of a feature's importance"):

    bins of the test split (a seeded random subset, as ``mfd evaluate``)
      -> features of each bin's window, forward and reverse complement   (N, D) twice
      -> for each ablation: the ablated units set to their mean over those windows (:func:`ablate`)
      -> probabilities from the changed features, the two strands averaged (as ``mfd evaluate``)
      -> AUROC / AUPRC per experiment; the drop from the intact model's, per experiment and as
         the mean per experiment group (a value of a metadata column, and ``all``)

Ablations (:func:`default_ablations`): every named (``direct``) unit, e.g. ``bio/target:CTCF``;
every metadata group of units (the units of one direct column, ``bio/target``, and the
interaction units of each half, ``bio/interact``); the two subspaces ``bio`` and ``tech``.

Setting a unit to its mean keeps its average contribution to every logit, so only the
information it carries *between bins* is removed. An experiment whose weight on the unit is 0
is untouched; one whose logit reads only that unit becomes a constant predictor (AUROC 0.5,
AUPRC the positive rate). A drop near 0 means the experiment does not need the unit *given the
other units*: correlated units can stand in for each other.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd
import torch

from ..errors import MFDError
from ..model import GROUP_PREFIX, MFDModel
from ..strands import merge_strands
from .performance import per_experiment_metrics, store_bins, strand_outputs, summarise_by_metadata

AblationKind = Literal["subspace", "group", "unit"]


@dataclass(frozen=True)
class Ablation:
    """Latent units switched off together.

    Attributes:
        name: ``bio``, ``tech`` (subspaces), ``bio/target`` (a metadata group), ``bio/target:CTCF`` (a unit).
        kind: ``subspace``, ``group`` or ``unit``.
        units: indices into the latent features ``[bio | tech]``.
    """

    name: str
    kind: AblationKind
    units: tuple[int, ...]


def ablate(features: torch.Tensor, units: Sequence[int], values: torch.Tensor) -> torch.Tensor:
    """The one ablation hook, between ``model.features`` and ``model.logits_from_features``.

    Args:
        features: latent features, shape=(N, D).
        units: the units to switch off.
        values: the value each unit is set to, shape=(D,) (here its mean over the evaluated windows).
    Returns:
        a copy of ``features`` with ``features[:, units] = values[units]``, shape=(N, D).
    """
    out = features.clone()
    index = torch.as_tensor(list(units), dtype=torch.long)
    out[:, index] = values[index].to(out.dtype)
    return out


def default_ablations(model: MFDModel) -> list[Ablation]:
    """The subspaces, the metadata groups of units and every named unit of an MFD model.

    Groups: the units of each ``direct`` metadata column (``bio/target``: every ``bio/target:*``
    unit) and the interaction units of each half (``bio/interact``), where there are any.
    """
    model._require_mfd("ablate subspaces")
    half = model.config.half_dim
    names = model.unit_names
    out = [Ablation(prefix, "subspace", tuple(range(k * half, (k + 1) * half)))
           for k, prefix in enumerate(GROUP_PREFIX.values())]
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        prefix, rest = name.split("/", 1)
        column = rest.split(":", 1)[0] if ":" in rest else "interact"
        groups.setdefault(f"{prefix}/{column}", []).append(i)
    out += [Ablation(name, "group", tuple(units)) for name, units in groups.items()]
    out += [Ablation(name, "unit", (i,)) for i, name in enumerate(names) if ":" in name]
    return out


@dataclass
class ImportanceResult:
    """Per-experiment and per-group accuracy drops of every ablation (see the module docstring).

    Attributes:
        intact: :func:`~.performance.per_experiment_metrics` of the intact model on the bins.
        per_experiment: one row per ablation and experiment: ``ablation kind n_units experiment
            auroc auprc auroc_intact auprc_intact drop_auroc drop_auprc`` (drop = intact - ablated).
        by_group: one row per ablation and experiment group (``column``/``value``; ``all``/``all``
            for every experiment): ``n_experiments n_scored`` and the means of the columns above.
        info: bins, seed, split, experiments, the group columns, the model's provenance.
    """

    intact: pd.DataFrame
    per_experiment: pd.DataFrame
    by_group: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    def largest_drops(self, column: str = "all", n: int = 10) -> pd.DataFrame:
        """The ``n`` ablations with the largest mean AUROC drop over the groups of ``column``."""
        part = self.by_group[self.by_group["column"] == column]
        return part.sort_values("drop_auroc", ascending=False).head(n)

    def report(self, n: int = 12) -> str:
        """A few lines for the terminal: the intact model and the largest drops over all experiments."""
        from .report import text_table

        rows = self.largest_drops("all", n)[["ablation", "kind", "n_units", "auroc", "drop_auroc", "drop_auprc"]]
        return (f"intact: mean AUROC {self.intact['auroc'].mean():.4f}, mean AUPRC {self.intact['auprc'].mean():.4f} "
                f"on {self.info['bins']} {self.info['split']} bins, {self.info['experiments']} experiments\n"
                f"largest mean drops when switched off (unit = its mean over the bins):\n" + text_table(rows.round(4)))

    def write(self, outdir: str | Path) -> list[Path]:
        """``importance.tsv`` (by group), ``importance_per_experiment.tsv``, ``performance_intact.tsv``,
        ``importance.png`` and ``summary.json`` in ``outdir``, all at once (staged, then renamed)."""
        from ..outputs import StagedDir

        with StagedDir(outdir) as out:
            self.by_group.to_csv(out / "importance.tsv", sep="\t", index=False, float_format="%.6g")
            self.per_experiment.to_csv(out / "importance_per_experiment.tsv", sep="\t", index=False,
                                       float_format="%.6g")
            self.intact.to_csv(out / "performance_intact.tsv", sep="\t", index=False, float_format="%.6g")
            plot_importance(self.by_group, out / "importance.png")
            (out / "summary.json").write_text(json.dumps(self.info, indent=2, default=str))
        return out.written


def ablation_importance(model: MFDModel, store: Any, *, ablations: Sequence[Ablation] | None = None,
                        split: str = "test", max_bins: int | None = 2000, seed: int = 0, fasta: str | None = None,
                        group_by: Sequence[str] = ("assay", "target"), batch_size: int = 256,
                        device: str | None = None, progress: bool = True) -> ImportanceResult:
    """The drop in AUROC / AUPRC per experiment and experiment group when units are switched off.

    Args:
        model: an MFD model.
        store: a :class:`mfd_model.train.labels.LabelStore` (see :func:`~.performance.evaluate_store`).
        ablations: what to switch off (default :func:`default_ablations`).
        split, max_bins, seed, fasta: the bins, as :func:`~.performance.evaluate_store` chooses them.
        group_by: metadata columns whose values form the experiment groups.
    Returns:
        :class:`ImportanceResult`.
    """
    ablations = list(ablations) if ablations is not None else default_ablations(model)
    if not ablations:
        raise MFDError("nothing to ablate", fix="pass at least one unit, group or subspace")
    frame, id_column, separator = _metadata(model)
    missing = [c for c in group_by if c not in frame.columns]
    if missing:
        raise MFDError(f"no metadata column {missing[0]!r} to group experiments by",
                       fix=f"use some of: {', '.join(c for c in frame.columns if c != id_column)}")
    bins = store_bins(model, store, split=split, max_bins=max_bins, seed=seed, fasta=fasta)
    fwd, rc = strand_outputs(model, bins.genome, bins.chrom, bins.bin_start, bins.bin_size,
                             output="features", batch_size=batch_size, device=device,
                             progress=progress, desc="features of the bins")
    fwd, rc = torch.as_tensor(fwd), torch.as_tensor(rc)
    means = torch.cat([fwd, rc]).mean(dim=0)                                  # (D,) over both strands

    def metrics(units: Sequence[int]) -> pd.DataFrame:
        scores = probabilities(model, fwd, rc, units, means)[:, bins.model_index]
        return per_experiment_metrics(bins.labels, scores, bins.experiments)

    intact = metrics(())
    experiments, groups = [], []
    for ablation in ablations:
        ablated = metrics(ablation.units)
        table = pd.DataFrame({"ablation": ablation.name, "kind": ablation.kind, "n_units": len(ablation.units),
                              "experiment": ablated["experiment"], "auroc": ablated["auroc"],
                              "auprc": ablated["auprc"], "auroc_intact": intact["auroc"],
                              "auprc_intact": intact["auprc"]})
        table["drop_auroc"] = table["auroc_intact"] - table["auroc"]
        table["drop_auprc"] = table["auprc_intact"] - table["auprc"]
        experiments.append(table)
        groups.append(_by_group(ablation, intact, ablated, frame, id_column, separator, group_by))
    info = {**bins.info, "split": split, "max_bins": max_bins, "seed": seed, "group_by": list(group_by),
            "ablation_value": "mean of each unit over the evaluated windows (both strands)",
            "ablations": len(ablations), "intact_mean_auroc": float(intact["auroc"].mean()),
            "intact_mean_auprc": float(intact["auprc"].mean()), "model_info": getattr(model, "info", {})}
    return ImportanceResult(intact, pd.concat(experiments, ignore_index=True), pd.concat(groups, ignore_index=True),
                            info)


def probabilities(model: MFDModel, fwd: torch.Tensor, rc: torch.Tensor, units: Sequence[int],
                  values: torch.Tensor) -> np.ndarray:
    """Probabilities with ``units`` ablated, the two strands averaged.

    Args:
        fwd, rc: features of the forward and reverse-complement windows, shape=(N, D) each.
        units: the units switched off (empty: the intact model).
        values: what they are set to, shape=(D,).
    Returns:
        float32, shape=(N, O).
    """
    with torch.no_grad():
        p = [torch.sigmoid(model.logits_from_features(ablate(f.to(values.dtype), units, values) if len(units) else f))
             for f in (fwd, rc)]
    return merge_strands(p[0], p[1], "mean").numpy()


def _metadata(model: MFDModel) -> tuple[pd.DataFrame, str, str]:
    """The model's metadata table, its id column and its value separator."""
    model._require_mfd("ablate subspaces")
    schema = model.encoder.schema
    return model.table.frame, schema.id_column, schema.separator


def _by_group(ablation: Ablation, intact: pd.DataFrame, ablated: pd.DataFrame, frame: pd.DataFrame,
              id_column: str, separator: str, columns: Sequence[str]) -> pd.DataFrame:
    """Means per experiment group of the intact and ablated metrics, and their differences."""
    def summary(metrics: pd.DataFrame) -> pd.DataFrame:
        everything = pd.DataFrame([{"column": "all", "value": "all", "n_experiments": len(metrics),
                                    "n_scored": int(metrics["auroc"].notna().sum()),
                                    "mean_auroc": float(metrics["auroc"].mean()),
                                    "mean_auprc": float(metrics["auprc"].mean())}])
        if not columns:
            return everything
        grouped = summarise_by_metadata(metrics, frame, columns, id_column=id_column, separator=separator)
        return pd.concat([everything, grouped[everything.columns]], ignore_index=True)

    before, after = summary(intact), summary(ablated)
    out = before[["column", "value", "n_experiments", "n_scored"]].copy()
    out.insert(0, "n_units", len(ablation.units))
    out.insert(0, "kind", ablation.kind)
    out.insert(0, "ablation", ablation.name)
    out["auroc_intact"], out["auroc"] = before["mean_auroc"], after["mean_auroc"]
    out["drop_auroc"] = out["auroc_intact"] - out["auroc"]
    out["auprc_intact"], out["auprc"] = before["mean_auprc"], after["mean_auprc"]
    out["drop_auprc"] = out["auprc_intact"] - out["auprc"]
    return out


def plot_importance(by_group: pd.DataFrame, path: str | Path) -> Path:
    """Heat map of the mean AUROC drop: ablations (rows) x experiment groups (columns)."""
    from ..interpret.plots import pyplot, save

    plt = pyplot()
    table = by_group.assign(group=np.where(by_group["column"] == "all", "all",
                                           by_group["column"] + "=" + by_group["value"].astype(str)))
    matrix = table.pivot_table(index="ablation", columns="group", values="drop_auroc", sort=False)
    matrix = matrix[["all"] + [c for c in matrix.columns if c != "all"]]
    values = matrix.to_numpy(dtype=float)
    limit = max(float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 0.0, 1e-3)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.42 * matrix.shape[1] + 3.5), max(3.0, 0.28 * matrix.shape[0] + 1.6)))
    image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(np.arange(matrix.shape[1]), matrix.columns, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(np.arange(matrix.shape[0]), matrix.index, fontsize=7)
    ax.set_title("drop in mean test AUROC when switched off (unit = its mean)", fontsize=9)
    fig.colorbar(image, ax=ax, shrink=0.8, label="AUROC drop")
    fig.tight_layout()
    return save(fig, path)
