"""The label store: genome bins x experiments labels, sparse, on disk (docs/method.md section 6).

``mfd prepare`` (:mod:`mfd_model.train.prepare`) writes it; the training dataset reads it.
A store is a directory::

    store.json          format "mfd-labels/1", bin size, experiments (output order), FASTA path,
                        sha256 and contigs, every prepare parameter, counts, split sizes, ...
    metadata.tsv        the metadata table, one row per experiment, in output order
    bin_contig.npy      int32 (n_bins,)       index into ``contigs`` (the FASTA's contig order)
    bin_start.npy       int64 (n_bins,)       0-based start of the bin; it ends at start + bin_size
    split.npy           int8  (n_bins,)       0 train, 1 valid, 2 test
    label_indptr.npy    int64 (n_bins + 1,)   CSR row pointer over the kept bins
    label_indices.npy   int32 (nnz,)          experiment index of each positive label, sorted per row
    genome.codes.npy    uint8 (G,)            the FASTA as base codes: the genome code cache
    genome.codes.json                         its header (:mod:`mfd_model.genome_codes`)

Rows are the bins kept by ``prepare`` in genome order (FASTA contig order, then position).
Labels are never held as a dense bins x experiments matrix: :meth:`LabelStore.labels`
densifies one batch of rows at a time. Arrays are memory-mapped read-only, so DataLoader
worker processes share the same page cache instead of copying the store.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from mfd_model.errors import MFDError
from mfd_model.genome_codes import GenomeCodes
from mfd_model.metadata import MetadataTable

FORMAT = "mfd-labels/1"
SPLITS = ("train", "valid", "test")
SPLIT_CODES = {name: code for code, name in enumerate(SPLITS)}

# file name -> (dtype, "n_bins" | "n_bins + 1" | "nnz")
ARRAYS: dict[str, tuple[str, str]] = {
    "bin_contig": ("int32", "n_bins"),
    "bin_start": ("int64", "n_bins"),
    "split": ("int8", "n_bins"),
    "label_indptr": ("int64", "n_bins + 1"),
    "label_indices": ("int32", "nnz"),
}
GENOME_CODES = "genome.codes.npy"          # the genome code cache inside the store
REQUIRED_KEYS = ("format", "bin_size", "n_bins", "n_experiments", "n_positive_labels", "experiments",
                 "id_column", "peaks_column", "fasta", "params", "counts", "splits")


class LabelStore:
    """A label store opened for reading (see the module docstring for the layout).

    Attributes:
        path: the store directory.
        bin_size: bin width in bp.
        experiment_names: output names, in label-column order, length O.
        metadata: the metadata table, rows in the same order.
        fasta_path, fasta_sha256: the FASTA the store was made from and its checksum.
        contigs, contig_lengths: the FASTA's contig names (in order) and lengths.
        params: every ``prepare`` parameter; counts: what ``prepare`` read, dropped and kept.
        n_bins, n_experiments: N (kept bins) and O.
        bin_contig: int32, shape=(N,); bin_start: int64, shape=(N,); split: int8, shape=(N,).
        label_indptr: int64, shape=(N + 1,); label_indices: int32, shape=(nnz,) (the CSR labels).
        info: the whole ``store.json``.
    """

    def __init__(self, path: Path, info: dict[str, Any], metadata: MetadataTable,
                 arrays: dict[str, np.ndarray]) -> None:
        self.path = path
        self.info = info
        self.bin_size = int(info["bin_size"])
        self.experiment_names: list[str] = list(info["experiments"])
        self.metadata = metadata
        self.fasta_path = str(info["fasta"]["path"])
        self.fasta_sha256 = str(info["fasta"]["sha256"])
        self.contigs: list[str] = list(info["fasta"]["contigs"])
        self.contig_lengths: list[int] = [int(v) for v in info["fasta"]["contigs"].values()]
        self.params: dict[str, Any] = info["params"]
        self.counts: dict[str, Any] = info["counts"]
        self.n_bins = int(info["n_bins"])
        self.n_experiments = int(info["n_experiments"])
        self.bin_contig = arrays["bin_contig"]
        self.bin_start = arrays["bin_start"]
        self.split = arrays["split"]
        self.label_indptr = arrays["label_indptr"]
        self.label_indices = arrays["label_indices"]
        self._positives: dict[str | None, np.ndarray] = {}

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, path: str | Path) -> "LabelStore":
        """Open a store written by ``mfd prepare``; any missing, corrupt or foreign part is one
        clear :class:`MFDError`."""
        path = Path(path)
        fix = "run 'mfd prepare' to (re)create the label store"
        if not path.is_dir():
            raise MFDError("label store not found (expected a directory made by 'mfd prepare')", path=path, fix=fix)
        info = _read_info(path / "store.json", fix)
        arrays = {name: _load_array(path / f"{name}.npy", dtype, fix) for name, (dtype, _) in ARRAYS.items()}
        _check_shapes(path, info, arrays, fix)
        metadata = _read_metadata(path / "metadata.tsv", info, fix)
        return cls(path, info, metadata, arrays)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the path only: a worker process (spawn, DDP) reopens and re-maps the store
        instead of receiving copies of its arrays."""
        return {"path": str(self.path)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(LabelStore.open(state["path"]).__dict__)

    # ------------------------------------------------------------------ rows and labels
    def indices(self, split: str) -> np.ndarray:
        """Rows of one split (``train``, ``valid`` or ``test``), in genome order: int64, shape=(n_split,)."""
        if split not in SPLIT_CODES:
            raise ValueError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
        return np.flatnonzero(np.asarray(self.split) == SPLIT_CODES[split])

    def labels(self, rows: np.ndarray) -> np.ndarray:
        """Dense labels of a batch of rows.

        Args:
            rows: bin rows, integer, shape=(B,) (any order, repeats allowed).

        Returns:
            float32, shape=(B, O): 1.0 where the bin overlaps a peak of the experiment.
        """
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        out = np.zeros((len(rows), self.n_experiments), dtype=np.float32)
        if len(rows) == 0:
            return out
        if rows.min() < 0 or rows.max() >= self.n_bins:
            raise IndexError(f"row out of range [0, {self.n_bins})")
        starts = self.label_indptr[rows]
        lengths = self.label_indptr[rows + 1] - starts
        total = int(lengths.sum())
        if total:
            batch_row = np.repeat(np.arange(len(rows)), lengths)
            first = np.cumsum(lengths) - lengths                       # offset of each row in the flat list
            flat = np.repeat(starts - first, lengths) + np.arange(total)
            out[batch_row, self.label_indices[flat]] = 1.0
        return out

    def positives_per_experiment(self, split: str | None = None) -> np.ndarray:
        """Number of positive bins per experiment (all kept bins, or one split): int64, shape=(O,)."""
        if split not in self._positives:
            if split is None:
                counts = np.bincount(self.label_indices, minlength=self.n_experiments)
            else:
                counts = np.zeros(self.n_experiments, dtype=np.int64)
                if split not in SPLIT_CODES:
                    raise ValueError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
                code = SPLIT_CODES[split]
                chunk = 1 << 20                                         # rows per pass: bounded memory
                for lo in range(0, self.n_bins, chunk):
                    hi = min(lo + chunk, self.n_bins)
                    in_split = np.asarray(self.split[lo:hi]) == code
                    per_row = np.diff(self.label_indptr[lo:hi + 1])
                    mask = np.repeat(in_split, per_row)
                    picked = self.label_indices[self.label_indptr[lo]:self.label_indptr[hi]][mask]
                    counts += np.bincount(picked, minlength=self.n_experiments)
            self._positives[split] = counts.astype(np.int64)
        return self._positives[split]

    def bin_interval(self, row: int) -> tuple[str, int, int]:
        """``(chrom, start, end)`` of a row, 0-based half-open, in the FASTA's contig names."""
        start = int(self.bin_start[row])
        return self.contigs[int(self.bin_contig[row])], start, start + self.bin_size

    # ------------------------------------------------------------------ checks and summary
    def check_fasta(self, genome: Any, checksum: bool = True) -> None:
        """Raise :class:`MFDError` unless ``genome`` (a :class:`mfd_model.genome.Genome`) is the
        FASTA this store was made from: same contigs and lengths, and (``checksum``) same sha256."""
        fix = f"use the FASTA the store was prepared from ({self.fasta_path}), or re-run 'mfd prepare'"
        expected = dict(zip(self.contigs, self.contig_lengths))
        if dict(genome.contigs) != expected:
            differ = sorted(set(expected.items()) ^ set(dict(genome.contigs).items()))[:3]
            raise MFDError(f"FASTA contigs differ from those of label store {self.path} "
                           f"(first differences: {differ})", path=genome.path, fix=fix)
        if checksum and genome.checksum() != self.fasta_sha256:
            raise MFDError(f"FASTA checksum differs from the one recorded in label store {self.path}",
                           path=genome.path, fix=fix)

    def genome_codes(self, fasta: str | Path | None = None, progress: bool = False) -> GenomeCodes:
        """The genome as base codes, memory-mapped from the store's cache (``genome.codes.npy``).

        Checks ``fasta`` (default: the FASTA the store was made from) with :meth:`check_fasta`,
        then opens the cache, or builds it when it is missing, stale or corrupt (an
        :class:`MFDError` if the store folder is not writable).
        """
        from mfd_model.genome import Genome
        genome = Genome(fasta or self.fasta_path)
        self.check_fasta(genome)
        return GenomeCodes.open_or_build(self.path / GENOME_CODES, genome, fasta_sha256=self.fasta_sha256,
                                         progress=progress)

    def summary(self) -> str:
        """A few lines: bins kept and dropped with reasons, positives, splits, ignored peaks."""
        c = self.counts
        nnz = int(self.info["n_positive_labels"])
        density = nnz / max(1, self.n_bins * self.n_experiments)
        lines = [
            f"label store {self.path}: {self.n_bins:,} bins of {self.bin_size} bp x {self.n_experiments:,} experiments, "
            f"{nnz:,} positive labels ({density:.3%} dense)",
            f"bins: {c['bins_tiled']:,} tiled; dropped {c['bins_dropped_n']:,} with > "
            f"{self.params['max_n_fraction']:g} N, {c['bins_dropped_blacklist']:,} blacklisted"
            + (f", {c['bins_dropped_min_positives']:,} positive in < {self.params['min_positive_experiments']} "
               f"experiments" if self.params.get("min_positive_experiments") else "")
            + f"; {self.n_bins:,} kept",
            "splits: " + ", ".join(f"{k} {v:,}" for k, v in self.info["splits"].items()),
            f"peaks: {c['peaks_read']:,} read, {c['peaks_used']:,} used, "
            f"{c['peaks_unknown_contig_total']:,} on contigs not in the FASTA, "
            f"{c['peaks_outside_contig']:,} beyond a contig end, {c['peaks_clipped']:,} clipped at a contig end, "
            f"{c['peaks_empty']:,} empty",
        ]
        unknown = c.get("peaks_unknown_contig") or {}
        if unknown:
            shown = sorted(unknown.items(), key=lambda kv: -kv[1])
            text = ", ".join(f"{k} {v:,}" for k, v in shown[:8]) + (f", ... ({len(shown)} contigs)" if len(shown) > 8 else "")
            lines.append(f"ignored peaks per unknown contig: {text}")
        for alias, name in (c.get("contig_aliases") or {}).items():
            lines.append(f"contig {alias!r} in the input files read as the FASTA's {name!r}")
        for kind in ("test_chromosomes_unknown", "test_regions_unknown", "blacklist_unknown_contigs"):
            if c.get(kind):
                lines.append(f"{kind.replace('_', ' ')}: {', '.join(c[kind])}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"LabelStore({str(self.path)!r}, n_bins={self.n_bins}, n_experiments={self.n_experiments}, "
                f"bin_size={self.bin_size})")


# ============================================================================== reading helpers
def _read_info(path: Path, fix: str) -> dict[str, Any]:
    if not path.exists():
        raise MFDError("not a label store: store.json is missing", path=path.parent, fix=fix)
    try:
        info = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise MFDError(f"corrupt label store: cannot read store.json ({' '.join(str(err).split())})",
                       path=path, fix=fix) from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        found = info.get("format") if isinstance(info, dict) else type(info).__name__
        raise MFDError(f"not a label store of format {FORMAT!r} (found {found!r})", path=path, fix=fix)
    missing = [k for k in REQUIRED_KEYS if k not in info]
    if missing:
        raise MFDError(f"corrupt label store: store.json lacks {', '.join(missing)}", path=path, fix=fix)
    return info


def _load_array(path: Path, dtype: str, fix: str) -> np.ndarray:
    if not path.exists():
        raise MFDError(f"corrupt label store: {path.name} is missing", path=path.parent, fix=fix)
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise MFDError(f"corrupt label store: cannot read {path.name} ({' '.join(str(err).split())})",
                       path=path, fix=fix) from None
    if array.dtype != np.dtype(dtype) or array.ndim != 1:
        raise MFDError(f"corrupt label store: {path.name} is {array.dtype} with {array.ndim} dimension(s), "
                       f"expected 1-D {dtype}", path=path, fix=fix)
    return array


def _check_shapes(path: Path, info: dict[str, Any], arrays: dict[str, np.ndarray], fix: str) -> None:
    sizes = {"n_bins": int(info["n_bins"]), "n_bins + 1": int(info["n_bins"]) + 1,
             "nnz": int(info["n_positive_labels"])}
    for name, (_, size) in ARRAYS.items():
        if len(arrays[name]) != sizes[size]:
            raise MFDError(f"corrupt label store: {name}.npy has {len(arrays[name])} entries, expected "
                           f"{sizes[size]} ({size})", path=path, fix=fix)
    indptr = arrays["label_indptr"]
    if indptr[0] != 0 or indptr[-1] != sizes["nnz"]:
        raise MFDError("corrupt label store: label_indptr does not span label_indices", path=path, fix=fix)
    if len(info["experiments"]) != int(info["n_experiments"]):
        raise MFDError("corrupt label store: store.json experiments and n_experiments disagree", path=path, fix=fix)


def _read_metadata(path: Path, info: dict[str, Any], fix: str) -> MetadataTable:
    if not path.exists():
        raise MFDError("corrupt label store: metadata.tsv is missing", path=path.parent, fix=fix)
    table = MetadataTable.read(path)
    id_column = info["id_column"]
    names = [str(v).strip() for v in table.frame[id_column]] if id_column in table.frame.columns else None
    if names != list(info["experiments"]):
        raise MFDError(f"corrupt label store: metadata.tsv column {id_column!r} does not list the store's "
                       f"experiments in order", path=path, fix=fix)
    return table
