"""Tab-separated tables with a header line (metadata, truth bins, variant labels and scores).

:func:`read_tsv` reads with pandas' C parser and then holds every row to the header's width.
pandas alone does not: a short row is padded with empty cells (a metadata row of 5 of 9
columns would read as 4 "unknown" values), and a long first row becomes an index. The first
row of another width is an :class:`~mfd_model.errors.MFDError` naming its line. The check
re-reads the file with the ``csv`` module (same quoting rules) only when the table has an
empty or missing cell, the only way a short row shows, or when pandas failed.
"""
from __future__ import annotations

import csv
import gzip
import io
import warnings
import zlib
from pathlib import Path

import pandas as pd

from .errors import MFDError


def _open_text(path: Path) -> io.TextIOBase:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    raw = gzip.open(path) if magic == b"\x1f\x8b" else open(path, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")


def ragged_row(path: str | Path, skiprows: int = 0) -> tuple[int, int, int] | None:
    """The first row whose field count differs from the header's: ``(line, fields, header fields)``.

    The header is the first non-blank line after ``skiprows`` lines; blank lines are skipped
    as pandas skips them. ``None`` when every row fits.
    """
    with _open_text(Path(path)) as handle:
        reader = csv.reader(handle, delimiter="\t")
        width = None
        try:
            for row in reader:
                if reader.line_num <= skiprows or not row:
                    continue
                if width is None:
                    width = len(row)
                elif len(row) != width:
                    return reader.line_num, len(row), width
        except csv.Error:  # an unterminated quote, a huge field: that line does not parse
            return reader.line_num, 0, width or 0
    return None


def read_tsv(path: str | Path, *, what: str, fix: str, skiprows: int = 0, error: type[MFDError] = MFDError,
             **options) -> pd.DataFrame:
    """Read a tab-separated table whose first line (after ``skiprows``) is the header.

    Args:
        path: the table (plain or gzip).
        what: what it is, for messages ("metadata table").
        fix: how to write it, for messages.
        error: the :class:`MFDError` subclass to raise (e.g. ``MetadataError``).
        options: more ``pandas.read_csv`` options (``dtype``, ``keep_default_na`` ...).
    Returns:
        the table; every row has the header's fields (else :class:`MFDError` with the line).
    """
    path = Path(path)
    if not path.exists():
        raise error(f"{what} not found", path=path, fix="check the path")
    if path.is_dir():
        raise error(f"expected a {what}, got a folder", path=path, fix="pass the table's file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # a long first row would become an index
            frame = pd.read_csv(path, sep="\t", skiprows=skiprows, index_col=False, compression="infer", **options)
    except pd.errors.EmptyDataError:
        raise error(f"the {what} is empty", path=path, fix=fix) from None
    except (pd.errors.ParserError, pd.errors.ParserWarning, UnicodeDecodeError, ValueError, EOFError, OSError,
            zlib.error) as err:
        _refuse_ragged(path, what, skiprows, error)
        raise error(f"cannot read the {what} ({' '.join(str(err).split())[:160]})", path=path, fix=fix) from None
    if _has_empty_cells(frame):
        _refuse_ragged(path, what, skiprows, error)
    return frame


def _has_empty_cells(frame: pd.DataFrame) -> bool:
    if frame.isna().to_numpy().any():
        return True
    text = frame.select_dtypes(include=[object, "string"])
    return bool(text.size) and bool((text.to_numpy() == "").any())


def _refuse_ragged(path: Path, what: str, skiprows: int, error: type[MFDError]) -> None:
    try:
        found = ragged_row(path, skiprows)
    except (OSError, EOFError, zlib.error):  # unreadable (truncated gzip ...): the caller says so
        return
    if found is None:
        return
    line, fields, width = found
    if fields == 0:
        raise error(f"{what} line cannot be parsed (an unclosed quote?)", path=path, line=line,
                       fix="close the quote, or remove the '\"' characters")
    raise error(f"{what} row has {fields} field(s), the header has {width}", path=path, line=line,
                   fix=f"give every row the header's {width} tab-separated fields (an empty cell is still a field)")

