"""``mfd prepare``: FASTA + metadata table + peak files -> a label store (docs/method.md section 6).

What it does, in order (every default below is a :class:`PrepareParams` field):

1. **Tile** each FASTA contig into contiguous bins of ``bin_size`` bp (128) from position 0;
   the last, partial bin of a contig is dropped.
2. **N filter**: a bin with more than ``max_n_fraction`` (0.1) of its bases not A/C/G/T is
   dropped. The FASTA is read once, into base codes (the genome code cache the store keeps,
   :mod:`mfd_model.genome_codes`), and N is counted per bin from them, vectorised.
3. **Blacklist** (optional BED): a bin overlapping a blacklisted interval by >= 1 bp is dropped.
4. **Labels**, one peak file at a time: peaks on contigs absent from the FASTA, peaks starting
   at or past a contig end and empty peaks (start == end) are counted and ignored; peaks running
   past a contig end are clipped (and counted). Overlapping or touching peaks of one experiment
   are merged; label(bin, experiment) = 1 if the bin overlaps one merged peak by at least
   ``min_overlap`` bp (64, i.e. half a default bin). Overlaps are computed exactly for every
   bin a merged peak touches, vectorised with numpy.
5. **Minimum positives** (optional): bins with fewer than ``min_positive_experiments`` (0: keep
   all) positive experiments are dropped. The paper's data set used 2.
6. **Splits**: test = bins on ``test_chromosomes`` (chr9, chr10; ``9`` / ``chr9`` aliases
   resolved) or overlapping a ``test_regions`` interval (``chr:start-end``, 0-based half-open
   like BED; ``10.9e6`` and ``10,900,000`` accepted). Validation = ``valid_fraction`` (0.05) of
   the remaining bins, as blocks of ``valid_block_bins`` (100) consecutive kept bins drawn at
   random with ``seed`` (0); exactly ``round(valid_fraction * n)`` bins (the last block drawn is
   cut short). The rest is train.

Memory grows with the number of positive labels (4 bytes each while reading, 8 while building
the CSR, plus a few per-bin arrays), never with bins x experiments: each experiment keeps its
positive bins (int32); a counting sort over bins then places experiments in increasing order,
so each CSR row comes out sorted without a comparison sort. The store is written to a
temporary folder beside ``store`` and renamed when complete; it includes the genome code cache
(``genome.codes.npy`` + ``.json``) that ``mfd train`` gathers its windows from.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Collection

import numpy as np
import pandas as pd

from mfd_model.bed import read_bed
from mfd_model.errors import ConfigError, MetadataError, MFDError
from mfd_model.encoding import N_CODE
from mfd_model.genome import Genome
from mfd_model.genome_codes import GenomeCodes, sidecar_path
from mfd_model.metadata import MetadataTable
from mfd_model.outputs import atomic_folder
from mfd_model.yamlio import LocatedYaml, check_keys

from .labels import FORMAT, GENOME_CODES, SPLIT_CODES, LabelStore

log = logging.getLogger(__name__)

_REGION = re.compile(r"^\s*([^:\s]+):([0-9][0-9.eE+,_]*)-([0-9][0-9.eE+,_]*)\s*$")
COUNT_CHUNK_BP = 1 << 24


# ============================================================================ parameters
@dataclass(frozen=True)
class PrepareParams:
    """Every setting of ``mfd prepare``; the ``data:`` section of a config maps onto it.

    Attributes:
        fasta: reference FASTA (plain or BGZF).
        metadata: metadata table (TSV, header line, one row per experiment).
        store: output label store directory.
        peaks_column: metadata column naming each experiment's peak file (BED / narrowPeak /
            broadPeak, plain or gzip), relative to the metadata table's folder or absolute.
        id_column: metadata column of unique experiment names (the model's outputs).
        bin_size: bin width in bp.
        min_overlap: bp a bin must share with a (merged) peak to be positive, 1..bin_size.
        blacklist: optional BED of excluded regions.
        max_n_fraction: drop bins with more than this fraction of non-ACGT bases, 0..1.
        min_positive_experiments: drop bins with fewer positive experiments (0 keeps all).
        test_chromosomes: contigs of the test split.
        test_regions: extra test intervals ``chr:start-end`` (0-based half-open).
        valid_fraction: share of the non-test bins used for validation, 0 <= f < 1.
        valid_block_bins: validation block length in bins.
        seed: seed of the validation block draw.
        overwrite: replace an existing label store at ``store``.
    """

    fasta: str
    metadata: str
    store: str
    peaks_column: str = "peak_file"
    id_column: str = "experiment"
    bin_size: int = 128
    min_overlap: int = 64
    blacklist: str | None = None
    max_n_fraction: float = 0.1
    min_positive_experiments: int = 0
    test_chromosomes: tuple[str, ...] = ("chr9", "chr10")
    test_regions: tuple[str, ...] = ()
    valid_fraction: float = 0.05
    valid_block_bins: int = 100
    seed: int = 0
    overwrite: bool = False

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            try:
                value = _convert(f.name, getattr(self, f.name))
            except _Invalid as bad:
                raise ConfigError(f"{f.name}: {bad.message}", fix=bad.fix) from None
            object.__setattr__(self, f.name, value)
        problem = _cross_check({f.name: getattr(self, f.name) for f in dataclasses.fields(self)})
        if problem:
            name, bad = problem
            raise ConfigError(f"{name}: {bad.message}", fix=bad.fix)

    @classmethod
    def from_mapping(cls, mapping: Any, doc: LocatedYaml | None = None, key_prefix: tuple = ("data",),
                     extra_keys: Collection[str] = ()) -> "PrepareParams":
        """Validate a mapping (a config's ``data:`` section) and build the parameters.

        Args:
            mapping: key -> value, as read from YAML.
            doc: the YAML file it came from (for ``file:line`` in errors), or ``None``.
            key_prefix: where ``mapping`` sits in ``doc``.
            extra_keys: further keys the caller handles itself (accepted and ignored here).

        Raises:
            ConfigError: one line naming the file, the line and the key for an unknown key,
            a missing required key, or a wrong-typed / out-of-range value.
        """
        where = ".".join(str(k) for k in key_prefix)

        def fail(key_path: tuple, message: str, fix: str | None) -> ConfigError:
            text = f"{where + '.' if where and key_path else where}{'.'.join(map(str, key_path))}: {message}"
            if doc is not None:
                return doc.error(tuple(key_prefix) + key_path, text, fix)
            return ConfigError(text, fix=fix)

        names = [f.name for f in dataclasses.fields(cls)]
        check_keys(mapping, [*names, *extra_keys], doc=doc, key_path=tuple(key_prefix), unknown="{dotted}: unknown key",
                   fix=f"allowed keys: {', '.join(sorted([*names, *extra_keys]))}",
                   not_a_mapping=f"{where}: expected a mapping of data settings, got {type(mapping).__name__}",
                   not_a_mapping_fix="write e.g. 'data: {fasta: genome.fa, metadata: meta.tsv, store: labels}'")
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name not in mapping:
                if f.default is dataclasses.MISSING:
                    raise fail((), f"missing required key {f.name!r}", f"add '{f.name}: ...'")
                continue
            try:
                values[f.name] = _convert(f.name, mapping[f.name])
            except _Invalid as bad:
                raise fail((f.name,), bad.message, bad.fix) from None
        problem = _cross_check(values)
        if problem:
            name, bad = problem
            raise fail((name,), bad.message, bad.fix)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible parameters, paths made absolute (as recorded in ``store.json``)."""
        out = dataclasses.asdict(self)
        for key in ("fasta", "metadata", "store", "blacklist"):
            if out[key] is not None:
                out[key] = str(Path(out[key]).absolute())
        out["test_chromosomes"] = list(self.test_chromosomes)
        out["test_regions"] = list(self.test_regions)
        return out


class _Invalid(Exception):
    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message, self.fix = message, fix


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _as_int(value: Any, lo: int) -> int:
    if not _is_int(value):
        raise _Invalid(f"expected an integer, got {value!r} ({type(value).__name__})")
    if value < lo:
        raise _Invalid(f"must be >= {lo}, got {value}")
    return int(value)


def _as_float(value: Any, lo: float, hi: float, hi_open: bool = False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise _Invalid(f"expected a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not (lo <= value and (value < hi if hi_open else value <= hi)):
        raise _Invalid(f"must be in [{lo:g}, {hi:g}{')' if hi_open else ']'}, got {value:g}")
    return value


def _as_str(value: Any, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if isinstance(value, Path):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"expected a non-empty string, got {value!r} ({type(value).__name__})")
    return value.strip()


def _as_str_list(value: Any) -> tuple[str, ...]:
    """A list of strings, or one comma-separated string (``chr9,chr10``); ``[]`` / ``""`` -> ()."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise _Invalid(f"expected a list of names or a comma-separated string, got {value!r}")
    return tuple(v.strip() for v in value if v.strip())


def parse_region(text: str) -> tuple[str, int, int]:
    """``chr20:10.9e6-11.1e6`` or ``chr20:10,900,000-11,100,000`` -> ``("chr20", 10900000, 11100000)``
    (0-based half-open, like BED). Raises ``ValueError`` with the reason."""
    match = _REGION.match(text)
    if not match:
        raise ValueError(f"test region {text!r} is not 'chrom:start-end'")
    bounds = []
    for raw in match.group(2, 3):
        try:
            number = float(raw.replace(",", "").replace("_", ""))
        except ValueError:
            raise ValueError(f"test region {text!r}: {raw!r} is not a number") from None
        if not number.is_integer():
            raise ValueError(f"test region {text!r}: {raw!r} is not a whole number of bp")
        bounds.append(int(number))
    if bounds[0] >= bounds[1]:
        raise ValueError(f"test region {text!r}: start must be < end")
    return match.group(1), bounds[0], bounds[1]


def _convert(name: str, value: Any) -> Any:
    """Check and normalise one parameter; raise :class:`_Invalid` with the reason."""
    if name in ("fasta", "metadata", "store", "peaks_column", "id_column"):
        return _as_str(value)
    if name == "blacklist":
        return _as_str(value, optional=True)
    if name in ("bin_size", "valid_block_bins"):
        return _as_int(value, 1)
    if name == "min_overlap":
        return _as_int(value, 1)
    if name in ("min_positive_experiments", "seed"):
        return _as_int(value, 0)
    if name == "max_n_fraction":
        return _as_float(value, 0.0, 1.0)
    if name == "valid_fraction":
        return _as_float(value, 0.0, 1.0, hi_open=True)
    if name == "test_chromosomes":
        return _as_str_list(value)
    if name == "test_regions":
        regions = _as_str_list(value)
        for region in regions:
            try:
                parse_region(region)
            except ValueError as err:
                raise _Invalid(str(err), "write regions as 'chr20:10900000-11100000'") from None
        return regions
    if name == "overwrite":
        if not isinstance(value, (bool, np.bool_)):
            raise _Invalid(f"expected true or false, got {value!r}")
        return bool(value)
    raise _Invalid("unknown parameter")  # pragma: no cover - every field is listed above


def _cross_check(values: dict[str, Any]) -> tuple[str, _Invalid] | None:
    """The first problem between checked values (missing ones take their defaults): (key, problem)."""
    min_overlap = values.get("min_overlap", _DEFAULT["min_overlap"])
    bin_size = values.get("bin_size", _DEFAULT["bin_size"])
    if min_overlap > bin_size:
        key = "min_overlap" if "min_overlap" in values else "bin_size"
        return key, _Invalid(f"min_overlap {min_overlap} exceeds bin_size {bin_size}: no bin could be positive",
                             "set min_overlap (--min-overlap) between 1 and bin_size")
    return None


_DEFAULT = {f.name: f.default for f in dataclasses.fields(PrepareParams)}


# ============================================================================ inputs
@dataclass
class Experiments:
    """The experiments of the metadata table, in output order.

    Attributes:
        table: the metadata table (all rows, file order).
        names: experiment names, length O.
        peak_files: absolute peak file paths, length O.
    """

    table: MetadataTable
    names: list[str]
    peak_files: list[Path]


def read_experiments(params: PrepareParams) -> Experiments:
    """Read the metadata table; check the id and peak-file columns and that every peak file exists
    (one :class:`MFDError` naming the metadata file and line otherwise)."""
    table = MetadataTable.read(params.metadata)
    path = Path(params.metadata)
    columns = list(table.frame.columns)
    for option, column in (("id_column", params.id_column), ("peaks_column", params.peaks_column)):
        if column not in columns:
            raise MetadataError(f"no column {column!r} ({option}) in the metadata table", path=path, line=1,
                                fix=f"set {option} (--{option.replace('_', '-')}) to one of: {', '.join(columns)}")
    if len(table) == 0:
        raise MetadataError("the metadata table has no rows", path=path, fix="add one row per experiment")
    names: list[str] = []
    seen: dict[str, int] = {}
    peak_files: list[Path] = []
    folder = path.absolute().parent
    for row, (name, peak) in enumerate(zip(table.frame[params.id_column], table.frame[params.peaks_column])):
        line = table.line_of(row)
        name, peak = str(name).strip(), str(peak).strip()
        if not name:
            raise MetadataError(f"empty experiment name in column {params.id_column!r}", path=path, line=line,
                                fix="give every experiment a unique name")
        if name in seen:
            raise MetadataError(f"experiment name {name!r} appears twice (also line {seen[name]})", path=path,
                                line=line, fix="make experiment names unique")
        if not peak:
            raise MetadataError(f"experiment {name!r} has no peak file in column {params.peaks_column!r}",
                                path=path, line=line, fix="name its BED / narrowPeak / broadPeak file")
        peak_path = Path(peak) if Path(peak).is_absolute() else folder / peak
        if not peak_path.is_file():
            raise MetadataError(f"peak file of experiment {name!r} not found: {peak_path}", path=path, line=line,
                                fix=f"check column {params.peaks_column!r}; relative paths are relative to "
                                    f"the metadata table's folder {folder}")
        seen[name] = line
        names.append(name)
        peak_files.append(peak_path)
    return Experiments(table, names, peak_files)


# ============================================================================ tiling
@dataclass(frozen=True)
class Tiling:
    """The genome's contigs cut into bins; bins of all contigs are numbered consecutively
    ("tiles"), so tile ``t`` covers ``[t * bin_size, (t + 1) * bin_size)`` of the concatenated
    tiled contigs.

    Attributes:
        names: contig names in FASTA order, length C.
        lengths: contig lengths, int64, shape=(C,).
        bin_size: bin width.
        n_tiles: bins per contig, int64, shape=(C,).
        offset: first tile of each contig, int64, shape=(C + 1,); ``offset[-1]`` is the total.
    """

    names: list[str]
    lengths: np.ndarray
    bin_size: int
    n_tiles: np.ndarray
    offset: np.ndarray

    @classmethod
    def of(cls, contigs: dict[str, int], bin_size: int) -> "Tiling":
        lengths = np.array(list(contigs.values()), dtype=np.int64)
        n_tiles = lengths // bin_size
        return cls(list(contigs), lengths, bin_size, n_tiles, np.concatenate([[0], np.cumsum(n_tiles)]))

    @property
    def total(self) -> int:
        return int(self.offset[-1])

    def contig_of(self, tiles: np.ndarray) -> np.ndarray:
        """Contig index of tiles: int32, shape=tiles.shape."""
        return (np.searchsorted(self.offset, tiles, side="right") - 1).astype(np.int32)

    def start_of(self, tiles: np.ndarray, contig: np.ndarray) -> np.ndarray:
        """0-based start of tiles on their contig: int64, shape=tiles.shape."""
        return (np.asarray(tiles, dtype=np.int64) - self.offset[contig]) * self.bin_size


class ContigMapper:
    """Maps contig names of input files to FASTA contig indices (aliases resolved, cached).

    Attributes:
        aliases: input name -> FASTA name, for each alias used.
    """

    def __init__(self, genome: Genome) -> None:
        self.genome = genome
        self.index = {name: i for i, name in enumerate(genome.contigs)}
        self._cache: dict[str, int] = {}
        self.aliases: dict[str, str] = {}

    def code(self, name: str) -> int:
        """FASTA contig index of ``name``, or -1 when the FASTA lacks it (under any alias)."""
        if name not in self._cache:
            resolved = self.genome.resolve(name)
            if resolved is not None and resolved != name:
                self.aliases[name] = resolved
            self._cache[name] = -1 if resolved is None else self.index[resolved]
        return self._cache[name]

    def codes(self, chroms: Any) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Contig indices of a column of names.

        Returns:
            codes: FASTA contig index of each name, int64, shape=(n,), -1 when unknown;
            name_codes: index of each name into ``names``, int64, shape=(n,);
            names: the distinct names, in order of appearance.
        """
        name_codes, uniques = pd.factorize(chroms)
        names = [str(u) for u in uniques]
        lookup = np.array([self.code(n) for n in names] + [-1], dtype=np.int64)
        return lookup[name_codes], name_codes, names

    def unknown_counts(self, codes: np.ndarray, name_codes: np.ndarray, names: list[str]) -> dict[str, int]:
        """Name -> number of records on contigs the FASTA lacks."""
        found, n = np.unique(name_codes[codes < 0], return_counts=True)
        return {names[i]: int(k) for i, k in zip(found, n)}


# ============================================================================ bin filters
def count_n(codes: GenomeCodes, tiling: Tiling) -> np.ndarray:
    """Number of non-ACGT bases in every tile, from the genome's base codes: int32, shape=(n_tiles,).
    Counted contig by contig in chunks of ~16 Mb (bounded memory)."""
    b = tiling.bin_size
    chunk = b * max(1, COUNT_CHUNK_BP // b)
    n_count = np.zeros(tiling.total, dtype=np.int32)
    for c, name in enumerate(tiling.names):
        offset = int(codes.offsets[codes.contig_index(name)])
        tiled_bp = int(tiling.n_tiles[c]) * b
        for lo in range(0, tiled_bp, chunk):
            hi = min(lo + chunk, tiled_bp)
            first = int(tiling.offset[c]) + lo // b
            is_n = np.asarray(codes.codes[offset + lo:offset + hi]) == N_CODE
            n_count[first:first + (hi - lo) // b] = is_n.reshape(-1, b).sum(axis=1)
    return n_count


def blacklisted_tiles(path: str | Path, mapper: ContigMapper, tiling: Tiling, counts: dict[str, Any]) -> np.ndarray:
    """Tiles overlapping a blacklist interval by >= 1 bp: bool, shape=(n_tiles,)."""
    frame = read_bed(path, what="blacklist BED")
    codes, name_codes, names = mapper.codes(frame["chrom"])
    unknown = sorted(mapper.unknown_counts(codes, name_codes, names))
    if unknown:
        log.warning("blacklist %s: %d interval(s) on contigs not in the FASTA ignored (%s)", path,
                    int((codes < 0).sum()), ", ".join(unknown[:8]))
    counts["blacklist_intervals"] = int(len(frame))
    counts["blacklist_unknown_contigs"] = unknown
    ok = codes >= 0
    lo, hi = _clip_to_tiles(codes[ok], frame["start"].to_numpy()[ok], frame["end"].to_numpy()[ok], tiling)
    keep = hi > lo
    b = tiling.bin_size
    first, last = lo[keep] // b, (hi[keep] - 1) // b
    delta = np.zeros(tiling.total + 1, dtype=np.int32)
    np.add.at(delta, first, 1)
    np.add.at(delta, last + 1, -1)
    return np.cumsum(delta[:-1]) > 0


def _clip_to_tiles(codes: np.ndarray, start: np.ndarray, end: np.ndarray, tiling: Tiling) -> tuple[np.ndarray, np.ndarray]:
    """Intervals on known contigs -> global tiled coordinates, clipped to each contig's tiled part:
    (lo, hi) int64, shape=(n,); empty where hi <= lo."""
    b = tiling.bin_size
    base = tiling.offset[codes] * b
    tiled = tiling.n_tiles[codes] * b
    return base + np.minimum(start, tiled), base + np.minimum(end, tiled)


# ============================================================================ labels
@dataclass
class PeakCounts:
    """What happened to the peaks of all experiments (summed)."""

    read: int = 0
    used: int = 0
    empty: int = 0
    outside: int = 0
    clipped: int = 0
    unknown: dict[str, int] = field(default_factory=dict)


def positive_tiles(lo: np.ndarray, hi: np.ndarray, bin_size: int, min_overlap: int) -> np.ndarray:
    """Tiles overlapping the union of intervals by >= ``min_overlap`` bp within one merged interval.

    Args:
        lo, hi: interval bounds in global tiled coordinates, int64, shape=(n,), hi > lo, any order.
        bin_size, min_overlap: as in :class:`PrepareParams`.

    Returns:
        Sorted unique tile indices, int64, shape=(k,).
    """
    if len(lo) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(lo, kind="stable")
    lo, hi = lo[order], hi[order]
    reach = np.maximum.accumulate(hi)                          # furthest end so far
    new = np.concatenate([[True], lo[1:] > reach[:-1]])        # overlapping or touching -> same group
    first = np.flatnonzero(new)
    last = np.concatenate([first[1:], [len(lo)]]) - 1
    m_lo, m_hi = lo[first], reach[last]                        # merged, disjoint, sorted
    t0, t1 = m_lo // bin_size, (m_hi - 1) // bin_size
    n = t1 - t0 + 1
    which = np.repeat(np.arange(len(n)), n)
    tiles = t0[which] + (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n))
    overlap = np.minimum(m_hi[which], (tiles + 1) * bin_size) - np.maximum(m_lo[which], tiles * bin_size)
    tiles = tiles[overlap >= min_overlap]
    if len(tiles) > 1:                                         # a tile shared by two merged peaks
        tiles = tiles[np.concatenate([[True], tiles[1:] != tiles[:-1]])]
    return tiles


def experiment_tiles(path: Path, mapper: ContigMapper, tiling: Tiling, min_overlap: int,
                     counts: PeakCounts) -> np.ndarray:
    """Positive tiles of one peak file (sorted, unique, int64), updating ``counts``."""
    frame = read_bed(path, what="peak")
    codes, name_codes, names = mapper.codes(frame["chrom"])
    start, end = frame["start"].to_numpy(), frame["end"].to_numpy()
    counts.read += len(frame)
    known = codes >= 0
    if not known.all():
        for name, n in mapper.unknown_counts(codes, name_codes, names).items():
            counts.unknown[name] = counts.unknown.get(name, 0) + n
    codes, start, end = codes[known], start[known], end[known]
    length = tiling.lengths[codes]
    outside = start >= length
    empty = (end == start) & ~outside
    counts.outside += int(outside.sum())
    counts.empty += int(empty.sum())
    counts.clipped += int(((end > length) & ~outside).sum())
    ok = ~outside & ~empty
    counts.used += int(ok.sum())
    lo, hi = _clip_to_tiles(codes[ok], start[ok], end[ok], tiling)
    inside = hi > lo                                           # else only in a contig's partial last bin
    return positive_tiles(lo[inside], hi[inside], tiling.bin_size, min_overlap)


@dataclass
class PositiveTiles:
    """Positive tiles of every experiment, as read (kept tiles only).

    Attributes:
        parts: per experiment, its positive tiles, sorted unique, int32 (int64 past 2**31 tiles).
        per_tile: number of positive experiments of each tile, int32, shape=(n_tiles,).
        dropped: positives that fell on dropped (N / blacklist) tiles, per experiment, int64, shape=(O,).
    """

    parts: list[np.ndarray]
    per_tile: np.ndarray
    dropped: np.ndarray


def collect_positive_tiles(experiments: Experiments, mapper: ContigMapper, tiling: Tiling, keep: np.ndarray,
                           min_overlap: int, counts: PeakCounts, progress: bool = True) -> PositiveTiles:
    """Read every peak file (one at a time, with a progress bar) and keep its positive tiles.

    Memory: 4 bytes per positive label, plus ``per_tile``.
    """
    from tqdm.auto import tqdm

    n_exp = len(experiments.names)
    dtype = np.int32 if tiling.total < 2 ** 31 else np.int64
    parts: list[np.ndarray] = []
    per_tile = np.zeros(tiling.total, dtype=np.int32)
    dropped = np.zeros(n_exp, dtype=np.int64)
    bar = tqdm(experiments.peak_files, desc="reading peak files", unit="file", disable=not progress)
    for e, path in enumerate(bar):
        tiles = experiment_tiles(path, mapper, tiling, min_overlap, counts)
        kept = tiles[keep[tiles]].astype(dtype)
        dropped[e] = len(tiles) - len(kept)
        per_tile[kept] += 1                                    # tiles are unique within an experiment
        parts.append(kept)
    return PositiveTiles(parts, per_tile, dropped)


def build_csr(positives: PositiveTiles, keep: np.ndarray,
              min_positive: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CSR labels over the kept tiles with at least ``min_positive`` positive experiments.

    A counting sort: row lengths come from ``per_tile``; experiments are then placed in
    increasing order, so each row's experiment indices come out sorted (stable by construction,
    O(nnz), no comparison sort). Each experiment's part is freed once placed.

    Args:
        positives: from :func:`collect_positive_tiles` (its ``parts`` are consumed).
        keep: tiles that passed the N / blacklist filters, bool, shape=(n_tiles,).

    Returns:
        rows: kept tiles in genome order, int64, shape=(N,); indptr: int64, shape=(N + 1,);
        indices: experiment of each positive label, int32, shape=(nnz,);
        per_experiment: positive labels of each experiment, int64, shape=(O,).
    """
    selected = keep & (positives.per_tile >= min_positive)
    rows = np.flatnonzero(selected)
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(positives.per_tile[rows], out=indptr[1:])
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    cursor = np.zeros(len(selected), dtype=np.int64)           # next free slot of each tile's row
    cursor[rows] = indptr[:-1]
    parts = positives.parts
    per_experiment = np.zeros(len(parts), dtype=np.int64)
    for e in range(len(parts)):
        tiles = parts[e]
        if min_positive > 0:
            tiles = tiles[selected[tiles]]
        indices[cursor[tiles]] = e
        cursor[tiles] += 1
        per_experiment[e] = len(tiles)
        parts[e] = None  # type: ignore[call-overload]
    return rows, indptr, indices, per_experiment


# ============================================================================ splits
def assign_splits(rows: np.ndarray, bin_contig: np.ndarray, bin_start: np.ndarray, tiling: Tiling,
                  mapper: ContigMapper, params: PrepareParams, counts: dict[str, Any]) -> np.ndarray:
    """Split code of each kept bin (0 train, 1 valid, 2 test): int8, shape=(N,)."""
    split = np.zeros(len(rows), dtype=np.int8)
    test = np.zeros(len(rows), dtype=bool)
    unknown_chroms = []
    for chrom in params.test_chromosomes:
        code = mapper.code(chrom)
        if code < 0:
            unknown_chroms.append(chrom)
            continue
        test |= bin_contig == code
    unknown_regions = []
    for region in params.test_regions:
        chrom, start, end = parse_region(region)
        code = mapper.code(chrom)
        if code < 0:
            unknown_regions.append(region)
            continue
        test |= (bin_contig == code) & (bin_start < end) & (bin_start + tiling.bin_size > start)
    for kind, items in (("test chromosome", unknown_chroms), ("test region", unknown_regions)):
        if items:
            log.warning("%s(s) not in the FASTA, ignored: %s", kind, ", ".join(items))
    counts["test_chromosomes_unknown"] = unknown_chroms
    counts["test_regions_unknown"] = unknown_regions
    split[test] = SPLIT_CODES["test"]
    eligible = np.flatnonzero(~test)
    split[validation_rows(eligible, params.valid_fraction, params.valid_block_bins, params.seed)] = SPLIT_CODES["valid"]
    return split


def validation_rows(eligible: np.ndarray, fraction: float, block: int, seed: int) -> np.ndarray:
    """``round(fraction * n)`` of the eligible rows, as blocks of ``block`` consecutive eligible
    rows drawn at random (``seed``); the last block drawn is cut short to hit the count exactly.

    Args:
        eligible: non-test rows in genome order, int64, shape=(n,).

    Returns:
        Selected rows, int64, sorted.
    """
    target = int(round(fraction * len(eligible)))
    if target == 0:
        return np.zeros(0, dtype=np.int64)
    n_blocks = math.ceil(len(eligible) / block)
    order = np.random.default_rng(seed).permutation(n_blocks)
    sizes = np.minimum(block, len(eligible) - order * block)
    taken = int(np.searchsorted(np.cumsum(sizes), target)) + 1  # blocks needed to reach the target
    chosen = []
    remaining = target
    for b, size in zip(order[:taken], sizes[:taken]):
        size = min(int(size), remaining)
        chosen.append(eligible[b * block:b * block + size])
        remaining -= size
    return np.sort(np.concatenate(chosen))


# ============================================================================ the command
def prepare_labels(params: PrepareParams, progress: bool = True) -> LabelStore:
    """Build the label store described by ``params`` (see the module docstring) and open it.

    Raises:
        MFDError: bad input (missing files, malformed peak lines, an existing non-store output, ...),
        one line naming the file and line. Nothing is left at ``params.store`` on failure.
    """
    store = Path(params.store).absolute()
    _check_target(store, params.overwrite)
    genome = Genome(params.fasta)
    experiments = read_experiments(params)
    store.parent.mkdir(parents=True, exist_ok=True)
    scratch = store.parent / f".{store.name}.codes-{os.getpid()}"
    scratch.mkdir(exist_ok=True)
    try:
        fasta_sha256 = genome.checksum()
        codes = GenomeCodes.from_fasta(genome, scratch / GENOME_CODES, fasta_sha256=fasta_sha256, progress=progress)
        _prepare(params, store, genome, fasta_sha256, codes, experiments, progress)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return LabelStore.open(store)


def _prepare(params: PrepareParams, store: Path, genome: Genome, fasta_sha256: str, codes: GenomeCodes,
             experiments: Experiments, progress: bool) -> None:
    """Steps 1-6 of the module docstring, then write the store (with the code cache ``codes``)."""
    mapper = ContigMapper(genome)
    tiling = Tiling.of(genome.contigs, params.bin_size)
    log.info("%d contigs, %s bp -> %s bins of %d bp; %d experiments", len(tiling.names),
             f"{int(tiling.lengths.sum()):,}", f"{tiling.total:,}", params.bin_size, len(experiments.names))
    counts: dict[str, Any] = {"bins_tiled": tiling.total}

    n_rich = count_n(codes, tiling) > int(math.floor(params.max_n_fraction * params.bin_size + 1e-9))
    black = (blacklisted_tiles(params.blacklist, mapper, tiling, counts) if params.blacklist
             else np.zeros(tiling.total, dtype=bool))
    keep = ~n_rich & ~black
    counts["bins_dropped_n"] = int(n_rich.sum())
    counts["bins_dropped_blacklist"] = int((black & ~n_rich).sum())

    peaks = PeakCounts()
    positives = collect_positive_tiles(experiments, mapper, tiling, keep, params.min_overlap, peaks, progress)
    rows, indptr, indices, per_experiment = build_csr(positives, keep, params.min_positive_experiments)
    counts["bins_dropped_min_positives"] = int(keep.sum()) - len(rows)
    counts["bins_kept"] = len(rows)
    counts.update(_peak_counts(peaks, positives.dropped, per_experiment))
    del positives
    if peaks.unknown:
        log.warning("peaks on contigs not in the FASTA ignored: %s",
                    ", ".join(f"{k} {v:,}" for k, v in sorted(peaks.unknown.items(), key=lambda kv: -kv[1])[:8]))

    bin_contig = tiling.contig_of(rows)
    bin_start = tiling.start_of(rows, bin_contig)
    split = assign_splits(rows, bin_contig, bin_start, tiling, mapper, params, counts)
    counts["contig_aliases"] = dict(mapper.aliases)

    info = {
        "format": FORMAT,
        "bin_size": params.bin_size,
        "n_bins": len(rows),
        "n_experiments": len(experiments.names),
        "n_positive_labels": int(len(indices)),
        "experiments": experiments.names,
        "id_column": params.id_column,
        "peaks_column": params.peaks_column,
        "peak_files": [str(p) for p in experiments.peak_files],
        "fasta": {"path": str(genome.path.absolute()), "sha256": fasta_sha256, "contigs": dict(genome.contigs)},
        "params": params.to_dict(),
        "counts": counts,
        "splits": {name: int((split == code).sum()) for name, code in SPLIT_CODES.items()},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "mfd_version": _version(),
    }
    arrays = {"bin_contig": bin_contig, "bin_start": bin_start, "split": split,
              "label_indptr": indptr, "label_indices": indices}
    cache = [Path(codes.path), sidecar_path(codes.path)]
    _write_store(store, info, experiments.table, arrays, params.overwrite, cache)


def _peak_counts(peaks: PeakCounts, dropped: np.ndarray, per_experiment: np.ndarray) -> dict[str, Any]:
    return {
        "peaks_read": peaks.read,
        "peaks_used": peaks.used,
        "peaks_unknown_contig": dict(sorted(peaks.unknown.items())),
        "peaks_unknown_contig_total": int(sum(peaks.unknown.values())),
        "peaks_outside_contig": peaks.outside,
        "peaks_clipped": peaks.clipped,
        "peaks_empty": peaks.empty,
        "labels_on_dropped_bins": int(dropped.sum()),
        "positives_per_experiment": per_experiment.tolist(),
    }


def _version() -> str:
    from mfd_model import __version__
    return __version__


def _is_store(path: Path) -> bool:
    return (path / "store.json").is_file()


def _check_target(store: Path, overwrite: bool) -> None:
    if not store.exists():
        return                                                  # missing parent folders are created later
    empty_dir = store.is_dir() and not any(store.iterdir())
    if empty_dir:
        return
    if not overwrite:
        raise MFDError("label store already exists", path=store,
                       fix="choose another path, or pass --overwrite (overwrite: true) to replace it")
    if not _is_store(store):
        raise MFDError("refusing to overwrite: this path exists and is not a label store", path=store,
                       fix="choose another path")


def _write_store(store: Path, info: dict[str, Any], table: MetadataTable, arrays: dict[str, np.ndarray],
                 overwrite: bool, files: Collection[Path] = ()) -> None:
    """Write the store into a hidden folder beside ``store`` (``files`` moved in) that replaces
    ``store`` whole when complete (:func:`mfd_model.outputs.atomic_folder`)."""
    with atomic_folder(store) as tmp:
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", array, allow_pickle=False)
        table.frame.to_csv(tmp / "metadata.tsv", sep="\t", index=False)
        (tmp / "store.json").write_text(json.dumps(info, indent=1) + "\n")
        for path in files:
            os.replace(path, tmp / path.name)


def params_from_args(args: Any, config: LocatedYaml | None = None, section: str = "data") -> PrepareParams:
    """Build :class:`PrepareParams` from parsed ``mfd prepare`` arguments: the config's ``data:``
    section (if ``--config``), then every option given on the command line on top."""
    given = {key: getattr(args, key) for key in OPTION_KEYS if getattr(args, key, None) is not None}
    for key in ("fasta", "metadata", "store"):
        if getattr(args, key, None):
            given[key] = getattr(args, key)
    if getattr(args, "overwrite", False):
        given["overwrite"] = True
    if config is None:
        missing = [k for k in ("fasta", "metadata", "store") if k not in given]
        if missing:
            raise ConfigError(f"missing {', '.join(m.upper() for m in missing)}",
                              fix="run 'mfd prepare FASTA METADATA STORE [options]' or 'mfd prepare --config FILE.yaml'")
        return PrepareParams(**given)
    if not isinstance(config.data, dict) or section not in config.data:
        raise config.error((), f"no '{section}:' section in the config",
                           fix=f"add '{section}:' with fasta, metadata, store and the prepare settings")
    mapping = dict(config.data[section] or {}) if isinstance(config.data[section], dict) else config.data[section]
    if isinstance(mapping, dict):
        for key in ("fasta", "metadata", "store"):
            mapping.setdefault(key, given.get(key))          # missing key -> error at the section line
            if mapping[key] is None:
                del mapping[key]
    params = PrepareParams.from_mapping(mapping, config, (section,), extra_keys=DATASET_KEYS)
    return dataclasses.replace(params, **given) if given else params


# Keys of a config's ``data:`` section that the training dataset reads (not prepare settings);
# ``mfd prepare --config`` accepts and ignores them. Keep in step with the training config.
DATASET_KEYS: tuple[str, ...] = ()
OPTION_KEYS: tuple[str, ...] = ("peaks_column", "id_column", "bin_size", "min_overlap", "blacklist", "max_n_fraction",
                                "min_positive_experiments", "test_chromosomes", "test_regions", "valid_fraction",
                                "valid_block_bins", "seed")
