"""Experiment metadata: the schema, the table and their numeric encoding (docs/method.md section 4).

The metadata matrix ``M`` has one row per experiment (output track). A YAML *schema*
assigns its columns to the **biological** or the **technical** group, each either as

* ``direct``   — passed through (``identity``, ``rescale`` or ``rescale_indep``); each of
  its encoded dimensions *is* one latent unit of that subspace, named after the value
  (``target:CTCF``, ``assay:DNase-seq``): the paper's interpretable per-factor features;
* ``interact`` — transformed by a per-column intermediate (``embed``, ``linear``,
  ``rescale``, ``rescale_indep``, ``identity``) and mixed by the group's MLP.

A column may be both ``direct`` and ``interact`` in one group (as in the original code, whose
sample configuration lists the assay under both): its direct units name its values and the MLP
can still combine it with the group's other columns (a target x tissue effect is otherwise
unrepresentable). A column in both groups is an error.

Column types: ``categorical`` (multi-hot; several values separated by ``,``), ``numeric``
(z-scored scalar) and ``year`` (multi-hot over years; ``2011`` or ``2011-05-03``).
Missing values: numeric -> the column median; categorical and year -> the level
``unknown`` (learned like any other level when the training table has missing values).
A value never seen when the encoder was fitted is an error, not a silent zero.

Example schema::

    id_column: experiment
    biological:
      direct:   [{column: target}]
      interact: [{column: target}, {column: biosample, intermediate: embed, dim: 8},
                 {column: age, type: numeric}]
    technical:
      direct:   [{column: assay}]
      interact: [{column: assay}, {column: lab}, {column: release_year, type: year}]
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .errors import MetadataError
from .yamlio import LocatedYaml, check_keys, load_yaml

if TYPE_CHECKING:
    import pandas as pd

GROUPS = ("biological", "technical")
ROLES = ("direct", "interact")
COLUMN_TYPES = ("categorical", "numeric", "year")
INTERMEDIATES = ("embed", "linear", "rescale", "rescale_indep", "identity")
DIRECT_INTERMEDIATES = ("identity", "rescale", "rescale_indep")
UNKNOWN = "unknown"
MISSING_TOKENS = frozenset({"", "na", "nan", "none", "null", "n/a"})
_YEAR = re.compile(r"^\s*(\d{4})(?:[-/.]\d{1,2}(?:[-/.]\d{1,2})?)?\s*$")


def is_missing(value: Any) -> bool:
    """True for empty cells and the usual spellings of 'not available'."""
    return value is None or (isinstance(value, float) and np.isnan(value)) or \
        str(value).strip().lower() in MISSING_TOKENS


# =============================================================================== schema
@dataclass(frozen=True)
class ColumnSpec:
    """How one metadata column is encoded and transformed.

    Attributes:
        column: the column name in the metadata table.
        type: ``categorical``, ``numeric`` or ``year``.
        intermediate: ``embed``, ``linear``, ``rescale``, ``rescale_indep`` or ``identity``.
        dim: output size of ``embed`` / ``linear`` intermediates.
        floor: ``rescale_indep`` only: each scale is ``floor + softplus(raw)`` (starting at 1), so it can
            never fall below ``floor`` (in [0, 1)); ``None``: a free scale (docs/convergence.md section 11).
        line: line of this entry in the schema file (for error messages).
    """

    column: str
    type: str = "categorical"
    intermediate: str = "identity"
    dim: int | None = None
    floor: float | None = None
    line: int | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"column": self.column, "type": self.type, "intermediate": self.intermediate}
        if self.dim is not None:
            out["dim"] = self.dim
        if self.floor is not None:
            out["floor"] = self.floor
        return out


@dataclass(frozen=True)
class GroupSpec:
    """The ``direct`` and ``interact`` columns of one group (biological or technical)."""

    direct: tuple[ColumnSpec, ...] = ()
    interact: tuple[ColumnSpec, ...] = ()

    @property
    def columns(self) -> tuple[ColumnSpec, ...]:
        return self.direct + self.interact


@dataclass(frozen=True)
class MetadataSchema:
    """Assignment of metadata columns to the biological and technical groups.

    Attributes:
        id_column: the column holding unique experiment names (the model's output labels).
        biological / technical: the two groups.
        separator: separator of several values in one categorical cell.
        source: the file the schema came from, for error messages.
    """

    id_column: str
    biological: GroupSpec
    technical: GroupSpec
    separator: str = ","
    source: str | None = field(default=None, compare=False)

    def group(self, name: str) -> GroupSpec:
        return {"biological": self.biological, "technical": self.technical}[name]

    @property
    def columns(self) -> tuple[ColumnSpec, ...]:
        return self.biological.columns + self.technical.columns

    # ------------------------------------------------------------ parsing
    @classmethod
    def from_yaml(cls, path: str | Path) -> "MetadataSchema":
        """Read and validate a schema file; every problem is one :class:`MetadataError` line."""
        return cls.from_located(load_yaml(path, cls=MetadataError))

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<schema>") -> "MetadataSchema":
        return cls.from_located(LocatedYaml(data, {}, source))

    @classmethod
    def from_located(cls, doc: LocatedYaml) -> "MetadataSchema":
        data = doc.data

        def fail(key_path: tuple, message: str, fix: str | None = None) -> MetadataError:
            return doc.error(key_path, f"metadata schema: {message}", fix, cls=MetadataError)

        allowed = {"id_column", "separator", *GROUPS}
        check_keys(data, allowed, doc=doc, cls=MetadataError, unknown="metadata schema: unknown key {key!r}",
                   fix=f"allowed keys: {', '.join(sorted(allowed))}",
                   not_a_mapping="metadata schema: expected a mapping with id_column, biological and technical",
                   not_a_mapping_fix="see the example in mfd_model/metadata.py")
        if not isinstance(data.get("id_column"), str) or not data["id_column"]:
            raise fail(("id_column",), "id_column (the column of unique experiment names) is required",
                       "add e.g. 'id_column: experiment'")
        separator = data.get("separator", ",")
        if not isinstance(separator, str) or not separator:
            raise fail(("separator",), f"separator must be a non-empty string, got {separator!r}")

        groups: dict[str, GroupSpec] = {}
        seen: dict[str, list[tuple[str, str, ColumnSpec]]] = {}
        for group in GROUPS:
            raw = data.get(group)
            if raw is None:
                raise fail((group,), f"the {group} group is missing", f"add a '{group}:' section with direct/interact columns")
            check_keys(raw, ROLES, doc=doc, key_path=(group,), cls=MetadataError,
                       unknown=f"metadata schema: unknown key {{key!r}} in {group}", fix="use 'direct' and 'interact'",
                       not_a_mapping=f"metadata schema: {group} must be a mapping with 'direct' and/or 'interact' lists")
            roles: dict[str, tuple[ColumnSpec, ...]] = {}
            for role in ROLES:
                items = raw.get(role) or []
                if not isinstance(items, list):
                    raise fail((group, role), f"{group}.{role} must be a list of columns")
                specs = []
                for i, item in enumerate(items):
                    spec = _parse_column(item, (group, role, i), role, fail, doc)
                    if spec.column == data["id_column"]:
                        raise fail((group, role, i), f"column {spec.column!r} is the id_column and cannot be metadata")
                    for earlier in seen.get(spec.column, []):
                        _check_placement(spec, (group, role, i), earlier, fail)
                    seen.setdefault(spec.column, []).append((group, role, spec))
                    specs.append(spec)
                roles[role] = tuple(specs)
            if not roles["direct"] and not roles["interact"]:
                raise fail((group,), f"the {group} group has no columns", "list at least one direct or interact column")
            groups[group] = GroupSpec(roles["direct"], roles["interact"])
        return cls(data["id_column"], groups["biological"], groups["technical"], separator, source=doc.path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id_column": self.id_column,
            "separator": self.separator,
            **{g: {r: [c.to_dict() for c in getattr(self.group(g), r)] for r in ROLES} for g in GROUPS},
        }


def _check_placement(spec: ColumnSpec, key_path: tuple, earlier: tuple[str, str, ColumnSpec], fail) -> None:
    """A column may be ``direct`` *and* ``interact`` within one group, as in the original code
    (its sample configuration lists the assay under both in the technical group): the direct
    units name the value, and the interaction MLP can still combine it with the other columns
    (target x tissue). It may not appear in both groups (one group's information would leak into
    the other's subspace), nor twice in one role, nor with two different types."""
    if earlier is None:
        return
    group, role = key_path[0], key_path[1]
    other_group, other_role, other = earlier
    if other_group != group:
        raise fail(key_path, f"column {spec.column!r} is in both the {other_group} and the {group} group: "
                             f"it would carry one group's information into the other's subspace",
                   "list each column in one group only")
    if other_role == role:
        raise fail(key_path, f"column {spec.column!r} is listed twice in {group}.{role}",
                   f"list it once in {group}.{role}")
    if other.type != spec.type:
        raise fail(key_path + ("type",), f"column {spec.column!r} is {other.type} in {group}.{other_role} "
                                         f"but {spec.type} in {group}.{role}",
                   "give both entries the same type (one column has one encoding)")


def _parse_column(item: Any, key_path: tuple, role: str, fail, doc: LocatedYaml) -> ColumnSpec:
    if isinstance(item, str):
        item = {"column": item}
    allowed = {"column", "type", "intermediate", "dim", "floor"}
    check_keys(item, allowed, doc=doc, key_path=key_path, cls=MetadataError,
               unknown="metadata schema: unknown key {key!r} in column entry",
               fix=f"allowed keys: {', '.join(sorted(allowed))}",
               not_a_mapping=f"metadata schema: expected a column entry like {{column: NAME}}, got {item!r}")
    column = item.get("column")
    if not isinstance(column, str) or not column:
        raise fail(key_path, "column entry without a 'column' name")
    ctype = item.get("type", "categorical")
    if ctype not in COLUMN_TYPES:
        raise fail(key_path + ("type",), f"column {column!r}: unknown type {ctype!r}",
                   f"use one of {', '.join(COLUMN_TYPES)}")
    intermediate = item.get("intermediate", "identity")
    if intermediate not in INTERMEDIATES:
        raise fail(key_path + ("intermediate",), f"column {column!r}: unknown intermediate {intermediate!r}",
                   f"use one of {', '.join(INTERMEDIATES)}")
    if role == "direct" and intermediate not in DIRECT_INTERMEDIATES:
        raise fail(key_path + ("intermediate",),
                   f"direct column {column!r} cannot use intermediate {intermediate!r}: direct columns name "
                   f"latent units one to one", f"use one of {', '.join(DIRECT_INTERMEDIATES)}, or move it to interact")
    dim = item.get("dim")
    if intermediate in ("embed", "linear"):
        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
            raise fail(key_path + ("dim",), f"column {column!r}: intermediate {intermediate} needs 'dim' (a positive integer)",
                       "add e.g. 'dim: 8'")
    elif dim is not None:
        raise fail(key_path + ("dim",), f"column {column!r}: 'dim' is only used by embed and linear intermediates",
                   "remove 'dim'")
    floor = item.get("floor")
    if floor is not None:
        if intermediate != "rescale_indep":
            raise fail(key_path + ("floor",), f"column {column!r}: 'floor' is only used by the rescale_indep "
                       "intermediate", "remove 'floor', or use intermediate: rescale_indep")
        if isinstance(floor, bool) or not isinstance(floor, (int, float)) or not 0 <= floor < 1:
            raise fail(key_path + ("floor",), f"column {column!r}: floor must be a number in [0, 1), got {floor!r}",
                       "use e.g. 'floor: 0.5'")
        floor = float(floor)
    return ColumnSpec(column, ctype, intermediate, dim, floor, line=doc.line(key_path))


# =============================================================================== table
class MetadataTable:
    """The experiment metadata table: one row per experiment, all cells kept as strings.

    Held as columns of strings, so that loading a model (whose table is stored as records) and
    scoring need no pandas; :attr:`frame` builds the pandas view on first use.

    Args:
        cells: column name -> the column's cells (strings; missing cells are empty strings), every
            column as long as the table, in column order.
        path: where it was read from (for error messages).
        rows: the number of rows (needed only for a table without columns).
    """

    def __init__(self, cells: dict[str, list[str]], path: str = "<metadata>", rows: int | None = None) -> None:
        self.cells = cells
        self.path = path
        self.rows = len(next(iter(cells.values()))) if cells else int(rows or 0)
        self._frame: Any = None

    @classmethod
    def read(cls, path: str | Path) -> "MetadataTable":
        """Read a tab-separated table with a header line."""
        from .tables import read_tsv
        path = Path(path)
        frame = read_tsv(path, what="metadata table", error=MetadataError, dtype=str, keep_default_na=False,
                         fix="use a tab-separated file with one header line and one row per experiment, "
                             "every row with the header's number of fields")
        frame.columns = [str(c).strip() for c in frame.columns]
        table = cls({c: frame[c].tolist() for c in frame.columns}, str(path), rows=len(frame))
        table._frame = frame
        return table

    @classmethod
    def from_records(cls, records: Sequence[dict[str, Any]], path: str = "<metadata>") -> "MetadataTable":
        """From ``[{column: value}]``, as pandas' ``from_records`` -> ``fillna("")`` -> ``astype(str)``: columns
        in order of first appearance, missing cells empty. Records of strings (a model file's) are read
        without pandas; other values go through pandas, whose column types decide their text (``2012.0``
        in a column with a missing number)."""
        records = list(records)
        columns = list(dict.fromkeys(key for record in records for key in record))
        if all(isinstance(v, str) for record in records for v in record.values()):
            return cls({c: [record.get(c, "") for record in records] for c in columns}, path, rows=len(records))
        import pandas as pd
        frame = pd.DataFrame.from_records(records).fillna("").astype(str)
        table = cls({c: frame[c].tolist() for c in frame.columns}, path, rows=len(frame))
        table._frame = frame
        return table

    @property
    def frame(self) -> "pd.DataFrame":
        """The table as a pandas DataFrame of strings (built on first use)."""
        if self._frame is None:
            import pandas as pd
            self._frame = pd.DataFrame(self.cells, index=pd.RangeIndex(self.rows)).astype(str)
        return self._frame

    @property
    def columns(self) -> list[str]:
        return list(self.cells)

    def column(self, name: str) -> list[str]:
        """The cells of column ``name`` (a ``KeyError`` if there is none; check with :attr:`columns`)."""
        return self.cells[name]

    def to_records(self) -> list[dict[str, str]]:
        return [{c: values[row] for c, values in self.cells.items()} for row in range(self.rows)]

    def __len__(self) -> int:
        return self.rows

    @staticmethod
    def line_of(row: int) -> int:
        """File line of 0-based data row ``row`` (the header is line 1)."""
        return row + 2

    def require_columns(self, schema: MetadataSchema) -> None:
        """Every column the schema names must exist in the table."""
        available = self.columns
        if schema.id_column not in self.cells:
            raise MetadataError(f"metadata schema names id_column {schema.id_column!r}, which is not a column of "
                                f"{self.path}", path=schema.source,
                                fix=f"use one of the table's columns: {', '.join(available)}")
        for spec in schema.columns:
            if spec.column not in self.cells:
                raise MetadataError(f"metadata schema names column {spec.column!r}, which is not a column of "
                                    f"{self.path}", path=schema.source, line=spec.line,
                                    fix=f"use one of the table's columns: {', '.join(available)}")

    def experiment_names(self, schema: MetadataSchema) -> list[str]:
        """Unique, non-empty experiment names from the id column."""
        names = [str(v).strip() for v in self.cells[schema.id_column]]
        seen: dict[str, int] = {}
        for row, name in enumerate(names):
            if not name:
                raise MetadataError(f"empty experiment name in column {schema.id_column!r}", path=self.path,
                                    line=self.line_of(row), fix="give every experiment a unique name")
            if name in seen:
                raise MetadataError(f"experiment name {name!r} appears twice (also line {self.line_of(seen[name])})",
                                    path=self.path, line=self.line_of(row), fix="make experiment names unique")
            seen[name] = row
        return names

    def select(self, column: str, value: str, separator: str = ",") -> list[int]:
        """Rows whose ``column`` contains ``value`` (case-insensitive; multi-valued cells split)."""
        if column not in self.cells:
            raise MetadataError(f"no metadata column {column!r}", path=self.path,
                                fix=f"use one of: {', '.join(self.columns)}")
        wanted = value.strip().lower()
        return [i for i, cell in enumerate(self.cells[column])
                if wanted in {v.strip().lower() for v in str(cell).split(separator)}]


# =============================================================================== encoding
@dataclass
class ColumnEncoding:
    """The fitted encoding of one column: its levels, or its centre and scale.

    Attributes:
        spec: the schema entry.
        levels: categorical / year levels in unit order (``unknown`` last if present).
        center, scale: z-scoring of numeric columns (after imputing ``fill``).
        fill: the training median, imputed for missing numeric values.
    """

    spec: ColumnSpec
    levels: tuple[str, ...] = ()
    center: float = 0.0
    scale: float = 1.0
    fill: float = 0.0

    @property
    def width(self) -> int:
        return 1 if self.spec.type == "numeric" else len(self.levels)

    @property
    def unit_names(self) -> list[str]:
        """One name per encoded dimension: ``column:level``, or the column name for numerics."""
        if self.spec.type == "numeric":
            return [self.spec.column]
        return [f"{self.spec.column}:{level}" for level in self.levels]

    # ------------------------------------------------------------ fit / transform
    @classmethod
    def fit(cls, spec: ColumnSpec, values: Sequence[str], separator: str, path: str) -> "ColumnEncoding":
        if spec.type == "numeric":
            numbers = _parse_numbers(values, spec, path)
            present = numbers[~np.isnan(numbers)]
            if present.size == 0:
                raise MetadataError(f"numeric column {spec.column!r} has no values", path=path,
                                    fix="fill in values or declare the column categorical")
            fill = float(np.median(present))
            filled = np.where(np.isnan(numbers), fill, numbers)
            std = float(filled.std())
            return cls(spec, center=float(filled.mean()), scale=std if std > 0 else 1.0, fill=fill)
        tokens = [_split(v, spec, separator, path, row) for row, v in enumerate(values)]
        levels = sorted({t for cell in tokens for t in cell if t != UNKNOWN},
                        key=(lambda y: int(y)) if spec.type == "year" else str)
        if any(UNKNOWN in cell for cell in tokens):
            levels.append(UNKNOWN)
        return cls(spec, levels=tuple(levels))

    def transform(self, values: Sequence[str], separator: str, path: str) -> np.ndarray:
        """Encode one column.

        Returns:
            np.ndarray, shape=(O, width), float32.
        """
        if self.spec.type == "numeric":
            numbers = _parse_numbers(values, self.spec, path)
            numbers = np.where(np.isnan(numbers), self.fill, numbers)
            return ((numbers - self.center) / self.scale).astype(np.float32)[:, None]
        index = {level: k for k, level in enumerate(self.levels)}
        out = np.zeros((len(values), len(self.levels)), dtype=np.float32)
        for row, value in enumerate(values):
            for token in _split(value, self.spec, separator, path, row):
                if token == UNKNOWN and UNKNOWN not in index:
                    continue  # missing, and the training table had no missing values: contributes nothing
                if token not in index:
                    shown = ", ".join(self.levels[:12]) + (", ..." if len(self.levels) > 12 else "")
                    raise MetadataError(
                        f"unknown value {token!r} in metadata column {self.spec.column!r}: the model was "
                        f"trained without it", path=path, line=MetadataTable.line_of(row),
                        fix=f"use one of: {shown} (or leave the cell empty for 'unknown')")
                out[row, index[token]] = 1.0
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"spec": self.spec.to_dict(), "levels": list(self.levels), "center": self.center,
                "scale": self.scale, "fill": self.fill}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ColumnEncoding":
        return cls(ColumnSpec(**d["spec"]), tuple(d["levels"]), d["center"], d["scale"], d["fill"])


def _split(value: str, spec: ColumnSpec, separator: str, path: str, row: int) -> list[str]:
    """Tokens of one categorical / year cell; missing -> ['unknown']."""
    if is_missing(value):
        return [UNKNOWN]
    tokens = [t.strip() for t in str(value).split(separator) if t.strip()] or [UNKNOWN]
    if spec.type == "year":
        years = []
        for t in tokens:
            m = _YEAR.match(t)
            if t.lower() == UNKNOWN:
                years.append(UNKNOWN)
            elif m is None:
                raise MetadataError(f"column {spec.column!r} (type year): cannot read a year from {t!r}",
                                    path=path, line=MetadataTable.line_of(row),
                                    fix="write a 4-digit year such as 2011 or a date such as 2011-05-03")
            else:
                years.append(m.group(1))
        return years
    return tokens


def _parse_numbers(values: Sequence[str], spec: ColumnSpec, path: str) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for row, value in enumerate(values):
        if is_missing(value):
            continue
        try:
            out[row] = float(str(value).strip())
        except ValueError:
            raise MetadataError(f"column {spec.column!r} (type numeric): {value!r} is not a number",
                                path=path, line=MetadataTable.line_of(row),
                                fix="write a number, leave the cell empty, or declare the column categorical") from None
    return out


@dataclass
class EncodedGroup:
    """Encoded metadata of one group.

    Attributes:
        direct: one array per direct column, shape=(O, width).
        interact: one array per interact column, shape=(O, width).
        direct_names: names of the direct units, in order (``column:level``).
    """

    direct: list[np.ndarray]
    interact: list[np.ndarray]
    direct_names: list[str]

    @property
    def direct_width(self) -> int:
        return sum(a.shape[1] for a in self.direct)


@dataclass
class EncodedMetadata:
    """Numeric metadata of all experiments, ready for the hypernetwork.

    Attributes:
        experiment_names: output labels, length O.
        biological / technical: the two encoded groups.
    """

    experiment_names: list[str]
    biological: EncodedGroup
    technical: EncodedGroup

    def group(self, name: str) -> EncodedGroup:
        return {"biological": self.biological, "technical": self.technical}[name]

    @property
    def n_experiments(self) -> int:
        return len(self.experiment_names)


class MetadataEncoder:
    """Fitted encoding of every schema column (vocabularies, medians, z-scores)."""

    def __init__(self, schema: MetadataSchema, columns: dict[str, ColumnEncoding]) -> None:
        self.schema = schema
        self.columns = columns

    @classmethod
    def fit(cls, table: MetadataTable, schema: MetadataSchema) -> "MetadataEncoder":
        table.require_columns(schema)
        table.experiment_names(schema)
        columns: dict[str, ColumnEncoding] = {}
        for spec in schema.columns:  # a column that is direct and interact is encoded once
            if spec.column not in columns:
                columns[spec.column] = ColumnEncoding.fit(spec, list(table.column(spec.column)), schema.separator,
                                                          table.path)
        return cls(schema, columns)

    def transform(self, table: MetadataTable) -> EncodedMetadata:
        """Encode a table (the training table, or new experiments with known values)."""
        table.require_columns(self.schema)
        names = table.experiment_names(self.schema)

        def encode_group(group: GroupSpec) -> EncodedGroup:
            def enc(spec: ColumnSpec) -> np.ndarray:
                return self.columns[spec.column].transform(list(table.column(spec.column)),
                                                           self.schema.separator, table.path)
            return EncodedGroup(
                direct=[enc(s) for s in group.direct],
                interact=[enc(s) for s in group.interact],
                direct_names=[n for s in group.direct for n in self.columns[s.column].unit_names],
            )

        return EncodedMetadata(names, encode_group(self.schema.biological), encode_group(self.schema.technical))

    def to_dict(self) -> dict[str, Any]:
        return {"schema": self.schema.to_dict(), "columns": {k: v.to_dict() for k, v in self.columns.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "MetadataEncoder":
        schema = MetadataSchema.from_dict(d["schema"], source="<checkpoint schema>")
        return cls(schema, {k: ColumnEncoding.from_dict(v) for k, v in d["columns"].items()})


def load_metadata(table_path: str | Path, schema_path: str | Path) -> tuple[MetadataTable, MetadataEncoder, EncodedMetadata]:
    """Read a metadata table and schema, fit the encoder and encode the table."""
    schema = MetadataSchema.from_yaml(schema_path)
    table = MetadataTable.read(table_path)
    encoder = MetadataEncoder.fit(table, schema)
    return table, encoder, encoder.transform(table)

