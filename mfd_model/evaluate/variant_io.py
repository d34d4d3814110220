"""Reading variant scores (``mfd score-variants`` TSV) and variant labels (VCF INFO or TSV).

Scores: a tab-separated table ``#CHROM POS ID REF ALT`` followed by columns named
``<model>/<experiment>/<score>`` (e.g. ``MFD/ctcf_k562/diff``, ``MFD/ctcf_k562/bio``). The
score names are taken from the file, not assumed: every distinct ``<score>`` becomes a VEP
matrix (variants x experiments), and a mapping ``feature set -> score name`` picks which
matrices the evaluation compares (default: each score name is its own feature set). A
different column layout is read with another ``pattern`` (a regular expression with the
named groups ``experiment`` and ``score``).

Labels: true vs control per variant, from a VCF INFO field (``SIM=motif|bias|control`` in
simulated data; values listed as true or control, others excluded and counted) or from a
TSV (``id`` or ``chrom pos ref alt`` columns plus ``label``). Variants are matched on
``(chrom without 'chr', pos, ref, alt)``; unmatched ones are counted and reported.
"""
from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import numpy as np

from ..errors import MFDError
from ..tables import read_tsv

DEFAULT_PATTERN = r"^(?P<model>[^/]+)/(?P<experiment>.+)/(?P<score>[^/]+)$"
TRUE_WORDS = {"1", "true", "yes", "causal", "positive", "pos", "t", "y"}
CONTROL_WORDS = {"0", "false", "no", "control", "negative", "neg", "f", "n"}


def variant_key(chrom: str, pos: int | str, ref: str, alt: str) -> str:
    """``1:12345:A>G`` (``chr`` prefix dropped, alleles upper-case)."""
    chrom = str(chrom)
    chrom = chrom[3:] if chrom.lower().startswith("chr") else chrom
    return f"{chrom}:{int(pos)}:{str(ref).upper()}>{str(alt).upper()}"


@dataclass
class VariantScores:
    """VEP matrices read from a scores TSV.

    Attributes:
        keys: variant keys, shape=(V,) (see :func:`variant_key`).
        ids: the ID column, shape=(V,).
        experiments: score name -> experiment names (column order), length O each.
        matrices: score name -> float64 array, shape=(V, O).
        path: the file.
    """

    keys: np.ndarray
    ids: np.ndarray
    experiments: dict[str, list[str]]
    matrices: dict[str, np.ndarray]
    path: str

    @property
    def score_names(self) -> list[str]:
        return list(self.matrices)

    def select(self, mapping: Mapping[str, str] | None = None) -> dict[str, np.ndarray]:
        """Feature set -> VEP matrix, by ``mapping`` (feature set -> score name; default identity)."""
        mapping = dict(mapping) if mapping else {name: name for name in self.matrices}
        missing = [s for s in mapping.values() if s not in self.matrices]
        if missing:
            raise MFDError(f"score(s) {', '.join(map(repr, missing))} not in the scores table "
                           f"(it has: {', '.join(self.matrices)})", path=self.path,
                           fix="map feature sets to existing score names, e.g. bio=" + next(iter(self.matrices), "diff"))
        return {name: self.matrices[score] for name, score in mapping.items()}


def _open_text(path: Path):
    with open(path, "rb") as probe:
        magic = probe.read(2)
    return gzip.open(path, "rt") if magic == b"\x1f\x8b" else open(path)


def read_variant_scores(path: str | Path, *, pattern: str = DEFAULT_PATTERN) -> VariantScores:
    """Read a variant-scores TSV (see the module docstring)."""
    path = Path(path)
    if not path.exists():
        raise MFDError("variant scores file not found", path=path, fix="check the path (written by mfd score-variants)")
    header_line = 0
    with _open_text(path) as handle:
        for number, line in enumerate(handle):
            if line.startswith("#CHROM") or line.lower().startswith("chrom\t"):
                header_line = number
                break
            if not line.startswith("#"):
                header_line = number
                break
    frame = read_tsv(path, what="variant scores table", fix="use the TSV written by mfd score-variants",
                     skiprows=header_line, dtype={0: str})
    frame.columns = [str(c).lstrip("#") for c in frame.columns]
    lower = {c.lower(): c for c in frame.columns}
    needed = ["chrom", "pos", "ref", "alt"]
    if any(n not in lower for n in needed):
        raise MFDError(f"variant scores table lacks column(s) {', '.join(n.upper() for n in needed if n not in lower)}",
                       path=path, line=header_line + 1, fix="the header must start with #CHROM POS ID REF ALT")
    regex = re.compile(pattern)
    groups: dict[str, list[tuple[str, str]]] = {}
    for column in frame.columns:
        match = regex.match(column)
        if match:
            groups.setdefault(match.group("score"), []).append((match.group("experiment"), column))
    if not groups:
        raise MFDError(f"no score column matches {pattern!r}", path=path, line=header_line + 1,
                       fix="score columns are named <model>/<experiment>/<score>, or pass another pattern")
    try:
        pos = frame[lower["pos"]].astype(np.int64)
    except (ValueError, TypeError):
        raise MFDError("POS column holds non-integer values", path=path, fix="check the scores table") from None
    keys = np.array([variant_key(c, p, r, a) for c, p, r, a in
                     zip(frame[lower["chrom"]], pos, frame[lower["ref"]], frame[lower["alt"]])], dtype=object)
    ids = frame[lower["id"]].astype(str).to_numpy(dtype=object) if "id" in lower else keys.copy()
    matrices, experiments = {}, {}
    for score, columns in groups.items():
        try:
            matrices[score] = frame[[c for _, c in columns]].to_numpy(dtype=np.float64)
        except ValueError:
            raise MFDError(f"score columns of {score!r} hold non-numeric values", path=path,
                           fix="check the scores table") from None
        experiments[score] = [e for e, _ in columns]
    return VariantScores(keys, ids, experiments, matrices, str(path))


@dataclass
class VariantLabels:
    """True / control labels by variant key.

    Attributes:
        labels: key -> True (true variant) / False (control).
        excluded: number of records that were neither (other label values).
        path: where they came from.
    """

    labels: dict[str, bool]
    excluded: int = 0
    path: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def iter_vcf_info(path: str | Path) -> Iterator[tuple[list[str], dict[str, str | None]]]:
    """The variant keys (one per ALT) and the INFO fields (flag -> ``None``) of each VCF record.

    Raises:
        MFDError: missing file, a line with fewer than 8 fields, a non-integer POS, or no VCF at all.
    """
    path = Path(path)
    if not path.exists():
        raise MFDError("variant label VCF not found", path=path, fix="check the path")
    seen_header = seen_record = False
    with _open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if line.startswith("##"):
                continue
            if line.startswith("#"):
                seen_header = True
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 8:
                raise MFDError(f"VCF line has {len(fields)} fields, expected at least 8", path=path, line=number,
                               fix="use a tab-separated VCF with CHROM POS ID REF ALT QUAL FILTER INFO")
            try:
                pos = int(fields[1])
            except ValueError:
                raise MFDError(f"POS {fields[1]!r} is not an integer", path=path, line=number, fix="check the VCF") from None
            info: dict[str, str | None] = {}
            for item in fields[7].split(";"):
                key, _, value = item.partition("=")
                info[key] = value if _ else None
            seen_record = True
            yield [variant_key(fields[0], pos, fields[3], alt) for alt in fields[4].split(",")], info
    if not seen_header and not seen_record:
        raise MFDError("not a VCF (no #CHROM header and no records)", path=path, fix="check the file")


def read_vcf_labels(path: str | Path, *, field_name: str = "SIM", true_values: Sequence[str] = ("motif",),
                    control_values: Sequence[str] = ("control",)) -> VariantLabels:
    """Labels from a VCF INFO field (``SIM=motif`` -> true, ``SIM=control`` -> control).

    A flag field (no value) counts as true when present and control when absent, if
    ``true_values`` contains ``"present"``.
    """
    true_set = {v.lower() for v in true_values}
    control_set = {v.lower() for v in control_values}
    labels: dict[str, bool] = {}
    excluded = 0
    counts: dict[str, int] = {}
    for keys, info in iter_vcf_info(path):
        if field_name in info:
            value = "present" if info[field_name] is None else str(info[field_name]).lower()
        else:
            value = "absent"
        counts[value] = counts.get(value, 0) + 1
        label = _label_of(value, true_set, control_set)
        if label is None:
            excluded += 1
            continue
        for key in keys:
            labels[key] = label
    return VariantLabels(labels, excluded, str(path), counts)


def read_vcf_fields(path: str | Path, field_names: Sequence[str]) -> dict[str, dict[str, str]]:
    """Field name -> (variant key -> the value of that INFO field), for the records that have it with
    a value; one pass over the file."""
    values: dict[str, dict[str, str]] = {name: {} for name in field_names}
    for keys, info in iter_vcf_info(path):
        for name, found in values.items():
            if info.get(name) is not None:
                found.update(dict.fromkeys(keys, str(info[name])))
    return values


def _label_of(value: str, true_set: set[str], control_set: set[str]) -> bool | None:
    """True (causal), False (control) or None (neither: the record is excluded and counted)."""
    if value in true_set:
        return True
    if value in control_set:
        return False
    return None


def read_tsv_labels(path: str | Path, *, true_values: Sequence[str] = (), control_values: Sequence[str] = ()
                    ) -> tuple[VariantLabels, bool]:
    """Labels from a TSV with ``label`` plus ``id`` or ``chrom pos ref alt`` columns.

    Returns:
        ``(labels, by_id)``: keyed by variant key, or by ID when the table has only ``id``.
    """
    path = Path(path)
    if not path.exists():
        raise MFDError("variant label table not found", path=path, fix="check the path")
    frame = read_tsv(path, what="variant label table", fix="use a tab-separated table with a header",
                     dtype=str, keep_default_na=False)
    frame.columns = [str(c).lstrip("#").strip().lower() for c in frame.columns]
    if "label" not in frame.columns:
        raise MFDError("label table has no 'label' column", path=path, line=1,
                       fix="add a header with 'label' and 'id' (or chrom pos ref alt)")
    true_set = {v.lower() for v in true_values} or TRUE_WORDS
    control_set = {v.lower() for v in control_values} or CONTROL_WORDS
    by_id = not all(c in frame.columns for c in ("chrom", "pos", "ref", "alt"))
    if by_id and "id" not in frame.columns:
        raise MFDError("label table needs an 'id' column or 'chrom pos ref alt' columns", path=path, line=1,
                       fix="add the variant columns to the header")
    labels: dict[str, bool] = {}
    excluded = 0
    for row, record in enumerate(frame.itertuples(index=False), start=2):
        label = _label_of(str(record.label).strip().lower(), true_set, control_set)
        if label is None:
            excluded += 1
            continue
        if by_id:
            labels[str(record.id)] = label
        else:
            try:
                labels[variant_key(record.chrom, int(record.pos), record.ref, record.alt)] = label
            except ValueError:
                raise MFDError(f"pos {record.pos!r} is not an integer", path=path, line=row, fix="check the table") from None
    return VariantLabels(labels, excluded, str(path)), by_id


def align_labels(scores: VariantScores, labels: VariantLabels, *, by_id: bool = False
                 ) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Rows of ``scores`` that have a label, and those labels.

    Returns:
        ``(rows, is_true, counts)``: int64 shape=(V',), bool shape=(V',), and a summary
        (``scored``, ``labelled``, ``matched``, ``true``, ``control``, ``unlabelled``).
    """
    keys = scores.ids if by_id else scores.keys
    rows, is_true = [], []
    for row, key in enumerate(keys):
        label = labels.labels.get(str(key))
        if label is not None:
            rows.append(row)
            is_true.append(label)
    is_true_arr = np.array(is_true, dtype=bool)
    counts = {"scored": len(keys), "labelled": len(labels.labels), "matched": len(rows),
              "true": int(is_true_arr.sum()), "control": int((~is_true_arr).sum()),
              "unlabelled": len(keys) - len(rows)}
    return np.array(rows, dtype=np.int64), is_true_arr, counts
