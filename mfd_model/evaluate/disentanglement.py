"""Disentanglement diagnostics on real sequences, and on any data set with a per-bin truth table.

Reuses :mod:`mfd_model.diagnostics` (no second implementation):

* cross-subspace correlation — mean squared Pearson correlation of (bio unit, tech unit) pairs;
* post-hoc adversary R2 — fresh adversaries trained to predict one subspace from the other;
* probes — a cross-validated linear probe from bio, tech and full features to each known
  quantity of a truth table (below). Disentanglement shows as bio features beating tech
  features on biological quantities and tech features beating bio features on technical ones.

**Truth table** (``--truth-bins``; ``mfd simulate`` writes one as ``truth/bins.tsv.gz``): a TSV
(gzipped if the name ends in ``.gz``) with one header line (a leading ``#`` is ignored), then one
row per bin: ``chrom``, ``start``, ``end`` (0-based, half-open; each bin once) and one numeric
column per known quantity. A column's role is

* ``biology`` (biological) — named ``bio:NAME`` (or ``biological:NAME``), or listed in
  ``--biological-columns``: checked, bio features must predict it better than tech features;
* ``bias`` (technical) — named ``tech:NAME`` (or ``technical:NAME``), or listed in
  ``--technical-columns``: checked, tech features must predict it better;
* otherwise the simulator's names: ``biology`` (checked) and ``motif_<TF>`` (descriptive) are
  biological, as presence (count > 0); ``kmer_<assay>`` and ``gc_rich`` (checked) and ``gc``
  (descriptive) technical; ``n_fraction`` is not probed.

A table that declares roles (a ``bio:`` / ``tech:`` column, or either option) must give every
other column a role (a simulator name counts); a table that declares none must have a simulator
name. Declared columns are probed on their values: 0/1 columns by AUROC, others by R2. Constant
columns are left out (nothing to predict).
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd

from ..diagnostics import cross_subspace_correlation, posthoc_adversary_r2, probe_score
from ..errors import MFDError
from ..tables import read_tsv
from .enhancers import single_threaded_blas

BIOLOGY, BIAS = "biology", "bias"
ROLE_PREFIXES = {"bio": BIOLOGY, "biological": BIOLOGY, "tech": BIAS, "technical": BIAS}
COORDINATES = ("chrom", "start", "end")
NOT_PROBED = ("n_fraction",)
ROLE_FIX = ("prefix the column bio: or tech:, name it in --biological-columns / --technical-columns, "
            "or remove it")


class TruthColumn(NamedTuple):
    """How one truth-table column is probed."""

    name: str           # the target's name (the column without its role prefix)
    role: str           # BIOLOGY or BIAS
    checked: bool       # judged by mfd check-disentanglement (else descriptive)
    presence: bool      # probed as presence (value > 0) rather than as the value


class TruthTarget(NamedTuple):
    """A quantity to probe for: its role, its values (rows aligned with the bins), whether it is checked."""

    role: str
    values: np.ndarray
    checked: bool = True


def _simulator_role(column: str) -> TruthColumn | None:
    if column == "biology":
        return TruthColumn(column, BIOLOGY, True, True)
    if column.startswith("motif_"):
        return TruthColumn(column, BIOLOGY, False, True)
    if column.startswith("kmer_") or column == "gc_rich":
        return TruthColumn(column, BIAS, True, False)
    if column == "gc":
        return TruthColumn(column, BIAS, False, False)
    return None


def _column_list(names: str | Sequence[str] | None) -> list[str]:
    if names is None:
        return []
    if isinstance(names, str):
        names = names.split(",")
    return [n.strip() for n in names if n and n.strip()]


def truth_columns(columns: Sequence[str], *, biological: str | Sequence[str] | None = None,
                  technical: str | Sequence[str] | None = None,
                  path: str | Path | None = None) -> dict[str, TruthColumn]:
    """The role of every probed column of a truth table (header ``columns``; see the module docstring).

    Args:
        biological, technical: column names (with or without their prefix; a list or ``"a,b"``)
            declared biological / technical, as ``--biological-columns`` / ``--technical-columns``.
        path: the table, for error messages.
    Returns:
        column -> :class:`TruthColumn`, in table order.
    Raises:
        MFDError: (the header, line 1) a named column is absent or named twice, a declared role
        contradicts a prefix, a column has no role although the table declares roles, two
        columns share a name, or no column has a role.
    """
    declared = {}
    for role, names, option in ((BIOLOGY, biological, "--biological-columns"),
                                (BIAS, technical, "--technical-columns")):
        for name in _column_list(names):
            if name in declared and declared[name][0] != role:
                raise MFDError(f"truth column {name!r} is named in both --biological-columns and --technical-columns",
                               path=path, fix="name it in one of them")
            declared[name] = (role, option)
    prefixed = {}
    for column in columns:
        head, sep, rest = str(column).partition(":")
        if sep and head.strip().lower() in ROLE_PREFIXES and rest.strip():
            prefixed[column] = (ROLE_PREFIXES[head.strip().lower()], rest.strip())
    explicit = bool(declared or prefixed)
    roles: dict[str, TruthColumn] = {}
    used: set[str] = set()
    for column in columns:
        column = str(column)
        if column in COORDINATES:
            continue
        prefix_role, name = prefixed.get(column, (None, column))
        option = declared.get(column) or declared.get(name)
        used.update(n for n in (column, name) if n in declared)
        if option is not None and prefix_role is not None and option[0] != prefix_role:
            raise MFDError(f"truth column {column!r} is named in {option[1]} but its prefix says "
                           f"{'biological' if prefix_role == BIOLOGY else 'technical'}", path=path, line=1,
                           fix="drop it from the option or rename the column")
        role = option[0] if option is not None else prefix_role
        if role is not None:
            roles[column] = TruthColumn(name, role, True, False)
        elif (simulator := _simulator_role(column)) is not None:
            roles[column] = simulator
        elif explicit and column not in NOT_PROBED:
            raise MFDError(f"truth column {column!r} has no role (the table declares roles for others)",
                           path=path, line=1, fix=ROLE_FIX)
    missing = [n for n in declared if n not in used]
    if missing:
        raise MFDError(f"truth table has no column {', '.join(map(repr, missing))} (named in "
                       f"{', '.join(sorted({declared[n][1] for n in missing}))})", path=path, line=1,
                       fix=f"use the header's names: {', '.join(c for c in map(str, columns) if c not in COORDINATES)}")
    names = [c.name for c in roles.values()]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise MFDError(f"truth columns share the name {', '.join(map(repr, twice))} once their prefixes are removed",
                       path=path, line=1, fix="give every column a distinct name")
    if not roles:
        raise MFDError("truth table has no column with a role to probe", path=path, line=1,
                       fix="prefix the columns bio:NAME / tech:NAME, or pass --biological-columns / --technical-columns")
    return roles


def _cell(value) -> str:
    return "an empty cell" if pd.isna(value) else repr(str(value))


def read_truth_bins(path: str | Path, *, biological: str | Sequence[str] | None = None,
                    technical: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Read and check a per-bin truth table (format: the module docstring).

    Checks the coordinates (present, integers, ``end > start``, no bin twice), the roles
    (:func:`truth_columns` with ``biological`` / ``technical``) and that every probed column
    holds numbers; each problem is one :class:`MFDError` naming the file, the line and the fix.
    Returns the table (column names as in the file, ``#`` stripped); ``attrs["path"]`` is ``path``.
    """
    path = Path(path)
    fix = "pass a truth table: TSV with header chrom, start, end and one column per known quantity"
    if not path.exists():
        raise MFDError("truth bin table not found", path=path, fix=fix)
    frame = read_tsv(path, what="truth bin table", fix=fix, dtype={"chrom": str})
    frame.columns = [str(c).lstrip("#").strip() for c in frame.columns]
    if "chrom" in frame.columns:
        frame["chrom"] = frame["chrom"].astype(str)
    missing = [c for c in COORDINATES if c not in frame.columns]
    if missing:
        raise MFDError(f"truth bin table lacks column(s) {', '.join(missing)}", path=path, line=1,
                       fix="the header must name chrom, start, end and the truth columns")
    for column in ("start", "end"):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy() | (values.to_numpy() % 1 != 0))
        if len(bad):
            raise MFDError(f"{column} {_cell(frame[column].iloc[bad[0]])} is not an integer", path=path, line=int(bad[0]) + 2,
                           fix="write bins as chrom, 0-based start, end")
        frame[column] = values.astype(np.int64)
    bad = np.flatnonzero((frame["end"] <= frame["start"]).to_numpy() | (frame["start"] < 0).to_numpy())
    if len(bad):
        raise MFDError(f"bin {frame['start'].iloc[bad[0]]}-{frame['end'].iloc[bad[0]]} is empty or negative",
                       path=path, line=int(bad[0]) + 2, fix="write bins as chrom, 0-based start, end > start")
    repeated = np.flatnonzero(frame.duplicated(list(COORDINATES)).to_numpy())
    if len(repeated):
        row = frame.iloc[repeated[0]]
        raise MFDError(f"bin {row['chrom']}:{row['start']}-{row['end']} is listed twice", path=path,
                       line=int(repeated[0]) + 2, fix="give each bin one row")
    for column in truth_columns(list(frame.columns), biological=biological, technical=technical, path=path):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy())
        if len(bad):
            raise MFDError(f"truth column {column!r} holds {_cell(frame[column].iloc[bad[0]])}, not a number",
                           path=path, line=int(bad[0]) + 2, fix="write a number for every bin (0/1 for presence)")
        frame[column] = values
    frame.attrs["path"] = str(path)
    return frame


def truth_targets(bins: pd.DataFrame, *, biological: str | Sequence[str] | None = None,
                  technical: str | Sequence[str] | None = None) -> dict[str, TruthTarget]:
    """Known quantities to probe for: target name -> :class:`TruthTarget` ``(role, values, checked)``.

    Roles from :func:`truth_columns`; presence columns (the simulator's ``biology`` and
    ``motif_<TF>``) become 0/1, other 0/1 columns stay 0/1 (probed by AUROC), the rest are
    numbers (R2). Constant columns are left out (nothing to predict).
    """
    targets: dict[str, TruthTarget] = {}
    roles = truth_columns(list(bins.columns), biological=biological, technical=technical,
                          path=bins.attrs.get("path"))
    for column, spec in roles.items():
        values = pd.to_numeric(bins[column], errors="coerce").to_numpy(dtype=np.float64)
        if np.isnan(values).any():
            raise MFDError(f"truth column {column!r} has a missing or non-numeric value", path=bins.attrs.get("path"),
                           fix="write a number for every bin")
        if spec.presence:
            y = (values > 0).astype(int)
        elif set(np.unique(values).tolist()) <= {0.0, 1.0}:
            y = values.astype(int)
        else:
            y = values
        if np.unique(y).size > 1:
            targets[spec.name] = TruthTarget(spec.role, y, spec.checked)
    return targets


def probe_table(features: Mapping[str, np.ndarray], targets: Mapping[str, tuple], *,
                folds: int = 5, seed: int = 0) -> pd.DataFrame:
    """Probe score of every feature set for every target.

    Args:
        features: feature set (``bio``, ``tech``, ``full``) -> shape=(N, d).
        targets: from :func:`truth_targets` (rows aligned with the features); ``(role, values)``
            pairs count as checked.
    Returns:
        DataFrame with ``target``, ``role``, ``checked``, ``metric`` (``AUROC`` for 0/1 targets,
        ``R2`` otherwise), one column per feature set, and ``best`` (bio vs tech, whichever is higher);
        the same columns and no row when no target can be probed (constant, or too few of a class).
    """
    rows = []
    for name, target in targets.items():
        role, y, checked = (*target, True)[:3]
        binary = np.unique(y).size == 2 and set(np.unique(y).tolist()) <= {0, 1}
        if binary and min(int(y.sum()), int(len(y) - y.sum())) < folds:
            continue
        row = {"target": name, "role": role, "checked": bool(checked), "metric": "AUROC" if binary else "R2"}
        with single_threaded_blas():
            for set_name, values in features.items():
                row[set_name] = probe_score(values, y, folds=folds, seed=seed)
        if "bio" in row and "tech" in row:
            row["best"] = "bio" if row["bio"] > row["tech"] else "tech"
        rows.append(row)
    columns = ["target", "role", "checked", "metric", *features, *(["best"] if {"bio", "tech"} <= set(features) else [])]
    return pd.DataFrame(rows, columns=columns)


def subspace_summary(bio: np.ndarray, tech: np.ndarray, *, adversary_steps: int = 300, seed: int = 0) -> dict[str, float]:
    """Cross-subspace correlation and post-hoc adversary R2 (both directions)."""
    bio_from_tech, tech_from_bio = posthoc_adversary_r2(bio, tech, steps=adversary_steps, seed=seed)
    return {"cross_subspace_correlation": cross_subspace_correlation(bio, tech),
            "adversary_r2_bio_from_tech": bio_from_tech, "adversary_r2_tech_from_bio": tech_from_bio}
