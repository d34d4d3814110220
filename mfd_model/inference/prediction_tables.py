"""Prediction tables: intervals + one probability column per experiment, as TSV, Parquet or HDF5.

(:mod:`mfd_model.outputs` is the project's atomic-output helper; this module is the table format.)

The format follows the file name: ``.tsv`` / ``.txt`` / ``.tsv.gz`` (tab-separated, header
``chrom start end name <experiment>...``), ``.parquet`` / ``.pq``, ``.h5`` / ``.hdf5``
(datasets ``chrom``, ``start``, ``end``, ``name``, ``probabilities`` (N, O) and
``experiment_names``). Rows are streamed in chunks, so the probabilities never need to fit in
memory twice; the file is written under a temporary name and renamed when complete. Floats
are written in their shortest round-trip form (float32), so the TSV loses nothing.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mfd_model.errors import MFDError
from mfd_model.outputs import atomic_path

FORMATS = {".tsv": "tsv", ".txt": "tsv", ".tsv.gz": "tsv", ".txt.gz": "tsv", ".parquet": "parquet",
           ".pq": "parquet", ".h5": "hdf5", ".hdf5": "hdf5"}
CHUNK_ROWS = 65536


def output_format(path: str | Path) -> str:
    """``tsv``, ``parquet`` or ``hdf5`` from the file name; anything else is an :class:`MFDError`."""
    name = Path(path).name.lower()
    for suffix in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return FORMATS[suffix]
    raise MFDError("unknown output format", path=path,
                   fix=f"end the file name with one of {', '.join(FORMATS)}")


def _columns(experiments: list[str]) -> list[str]:
    clash = sorted({"chrom", "start", "end", "name"} & set(experiments))
    if clash:
        raise MFDError(f"experiment name(s) {', '.join(clash)} clash with the interval columns",
                       fix="rename those experiments in the metadata table")
    return ["chrom", "start", "end", "name", *experiments]


def write_predictions(path: str | Path, intervals: pd.DataFrame, probabilities: np.ndarray,
                      experiments: list[str], attributes: dict[str, Any] | None = None) -> Path:
    """Write the table atomically.

    Args:
        intervals: ``chrom``, ``start``, ``end``, ``name`` of the N scored intervals.
        probabilities: shape=(N, O); may be a memory map (read in chunks).
        experiments: the O column names.
        attributes: stored as HDF5 attributes / Parquet schema metadata (e.g. the model's provenance).
    """
    path = Path(path)
    kind = output_format(path)
    _columns(experiments)
    if len(intervals) != probabilities.shape[0]:
        raise ValueError("one row of probabilities per interval expected")
    with atomic_path(path) as tmp:
        {"tsv": _write_tsv, "parquet": _write_parquet, "hdf5": _write_hdf5}[kind](
            tmp, path.name, intervals, probabilities, experiments, attributes or {})
    return path


def _chunks(n: int):
    for start in range(0, n, CHUNK_ROWS):
        yield slice(start, min(n, start + CHUNK_ROWS))


def _frame(intervals: pd.DataFrame, probabilities: np.ndarray, experiments: list[str], rows: slice) -> pd.DataFrame:
    frame = intervals.iloc[rows][["chrom", "start", "end", "name"]].reset_index(drop=True)
    values = pd.DataFrame(np.asarray(probabilities[rows], dtype=np.float32), columns=experiments)
    return pd.concat([frame, values], axis=1)


def _write_tsv(tmp: Path, name: str, intervals, probabilities, experiments, attributes) -> None:
    """Arrow's C++ CSV writer when pyarrow is installed (10x faster than pandas), else pandas."""
    gz = name.lower().endswith(".gz")
    text_fields = [*experiments, *intervals["chrom"].astype(str), *intervals["name"].astype(str)]
    try:
        import pyarrow as pa
        import pyarrow.csv as pa_csv
    except ImportError:
        pa = None
    if pa is not None and not any(ch in field for field in text_fields for ch in '\t\n\r"'):
        options = pa_csv.WriteOptions(delimiter="\t", quoting_style="none", include_header=False)
        sink = pa.CompressedOutputStream(str(tmp), "gzip") if gz else pa.OSFile(str(tmp), "wb")
        with sink:
            sink.write(("\t".join(_columns(experiments)) + "\n").encode("utf-8"))
            for rows in _chunks(len(intervals)):
                table = pa.Table.from_pandas(_frame(intervals, probabilities, experiments, rows), preserve_index=False)
                pa_csv.write_csv(table, sink, options)
        return
    import gzip

    opener = gzip.open if gz else open
    with opener(tmp, "wt", encoding="utf-8", newline="") as handle:
        handle.write("\t".join(_columns(experiments)) + "\n")
        for rows in _chunks(len(intervals)):
            _frame(intervals, probabilities, experiments, rows).to_csv(
                handle, sep="\t", header=False, index=False, lineterminator="\n")


def _write_parquet(tmp: Path, name: str, intervals, probabilities, experiments, attributes) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MFDError("writing Parquet needs pyarrow", fix="pip install 'mfd-kipoi[io]', or write .tsv / .h5") from None
    import json

    writer = None
    try:
        for rows in _chunks(len(intervals)) if len(intervals) else [slice(0, 0)]:
            table = pa.Table.from_pandas(_frame(intervals, probabilities, experiments, rows), preserve_index=False)
            if writer is None:
                meta = dict(table.schema.metadata or {})
                meta[b"mfd"] = json.dumps(attributes, default=str).encode()
                writer = pq.ParquetWriter(tmp, table.schema.with_metadata(meta))
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def _write_hdf5(tmp: Path, name: str, intervals, probabilities, experiments, attributes) -> None:
    import h5py

    n, o = len(intervals), len(experiments)
    strings = h5py.string_dtype("utf-8")
    with h5py.File(tmp, "w") as handle:
        handle.create_dataset("chrom", data=intervals["chrom"].astype(str).to_numpy(dtype=object), dtype=strings)
        handle.create_dataset("start", data=intervals["start"].to_numpy(np.int64))
        handle.create_dataset("end", data=intervals["end"].to_numpy(np.int64))
        handle.create_dataset("name", data=intervals["name"].astype(str).to_numpy(dtype=object), dtype=strings)
        handle.create_dataset("experiment_names", data=np.array(experiments, dtype=object), dtype=strings)
        data = handle.create_dataset("probabilities", shape=(n, o), dtype=np.float32,
                                     chunks=(min(max(n, 1), 4096), o) if n else None, compression="gzip" if n else None)
        for rows in _chunks(n):
            data[rows] = np.asarray(probabilities[rows], dtype=np.float32)
        for key, value in attributes.items():
            handle.attrs[key] = str(value)
