"""Reading BED-like files: BED3..BED12, ENCODE narrowPeak / broadPeak, plain or gzip.

The fast path is pandas' C parser; if it fails, or a value is invalid, a line-by-line scan
finds the first bad line so the error names it (``file:line: ... (fix: ...)``). Leading
``track`` / ``browser`` lines and ``#`` comments are skipped.
"""
from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import MFDError

HEADER_PREFIXES = ("#", "track", "browser")


def _open_text(path: Path) -> io.TextIOBase:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _first_data_line(path: Path) -> tuple[int, int]:
    """Number of leading header / blank lines, and the field count of the first record."""
    n = 0
    with _open_text(path) as handle:
        for line in handle:
            if line.startswith(HEADER_PREFIXES) or not line.strip():
                n += 1
            else:
                return n, len(line.rstrip("\n\r").split("\t"))
    return n, 0


def _unreadable(path: Path, what: str, err: BaseException) -> MFDError:
    return MFDError(f"cannot read the {what} file ({' '.join(str(err).split()) or type(err).__name__})", path=path,
                    fix="the file is truncated or corrupt (or not gzip); re-create or re-download it")


def _scan_for_error(path: Path, what: str) -> MFDError:
    """Read line by line and describe the first invalid record."""
    try:
        return _first_invalid_line(path, what)
    except (OSError, EOFError, zlib.error) as err:
        return _unreadable(path, what, err)


def _first_invalid_line(path: Path, what: str) -> MFDError:
    fix = f"{what} lines need tab-separated chrom, start, end (0-based, start <= end)"
    with _open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if line.startswith(HEADER_PREFIXES) or not line.strip():
                continue
            fields = line.rstrip("\n\r").split("\t")
            if len(fields) < 3:
                return MFDError(f"malformed {what} line: {len(fields)} field(s), expected at least 3 tab-separated",
                                path=path, line=number, fix=fix)
            try:
                start, end = int(fields[1]), int(fields[2])
            except ValueError:
                return MFDError(f"malformed {what} line: start/end {fields[1]!r}, {fields[2]!r} are not integers",
                                path=path, line=number, fix=fix)
            if start < 0:
                return MFDError(f"negative start {start}", path=path, line=number, fix=fix)
            if start > end:
                return MFDError(f"start {start} > end {end}", path=path, line=number, fix=fix)
            if not fields[0]:
                return MFDError("empty chromosome name", path=path, line=number, fix=fix)
    return MFDError(f"cannot parse {what} file", path=path, fix=fix)


def read_bed(path: str | Path, *, with_name: bool = False, with_strand: bool = False,
             what: str = "BED") -> pd.DataFrame:
    """Read intervals from a BED-like file.

    Args:
        path: BED / narrowPeak / broadPeak, plain or gzip.
        with_name: also return column 4 (``name``; ``.`` or missing -> ``chrom:start-end``).
        with_strand: also return column 6 (``strand``; missing -> ``.``).
        what: the file's kind, for error messages ("peak", "BED").

    Returns:
        DataFrame with ``chrom`` (str), ``start``, ``end`` (int64) [, ``name``] [, ``strand``],
        in file order.
    """
    path = Path(path)
    if not path.exists():
        raise MFDError(f"{what} file not found", path=path, fix="check the path")
    try:
        skip, n_fields = _first_data_line(path)
    except (OSError, EOFError, zlib.error) as err:
        raise _unreadable(path, what, err) from None
    if n_fields == 0:
        frame = pd.DataFrame({0: pd.Series(dtype=str), 1: pd.Series(dtype=np.int64), 2: pd.Series(dtype=np.int64)})
    elif n_fields < 3:
        raise _scan_for_error(path, what)
    else:
        wanted = [c for c in (0, 1, 2, 3, 5) if c < n_fields and (c < 3 or (c == 3 and with_name) or (c == 5 and with_strand))]
        try:
            frame = pd.read_csv(path, sep="\t", header=None, skiprows=skip, comment="#", dtype={0: str},
                                usecols=wanted, engine="c", compression="infer", skip_blank_lines=True)
        except (pd.errors.ParserError, ValueError, UnicodeDecodeError, EOFError, OSError):
            raise _scan_for_error(path, what) from None
    if frame.shape[1] < 3 or not all(pd.api.types.is_integer_dtype(frame[c]) for c in (1, 2)):
        raise _scan_for_error(path, what)
    start, end = frame[1].to_numpy(np.int64), frame[2].to_numpy(np.int64)
    if (start < 0).any() or (start > end).any() or frame[0].isna().any():
        raise _scan_for_error(path, what)
    out = pd.DataFrame({"chrom": frame[0].astype(str).to_numpy(), "start": start, "end": end})
    if with_name:
        if 3 in frame.columns:
            names = frame[3].astype(str).to_numpy(dtype=object)
            blank = (names == ".") | (names == "nan") | (names == "")
        else:
            names = np.empty(len(out), dtype=object)
            blank = np.ones(len(out), dtype=bool)
        if blank.any():
            default = out["chrom"] + ":" + out["start"].astype(str) + "-" + out["end"].astype(str)
            names[blank] = default.to_numpy()[blank]
        out["name"] = names
    if with_strand:
        out["strand"] = frame[5].astype(str).to_numpy() if 5 in frame.columns else "."
    return out
