"""Vectorised formatting of numeric columns as tab-separated text, and deterministic gzip.

Writing tens of millions of BED / narrowPeak lines one f-string at a time costs minutes;
here each column becomes a ``(rows, width)`` byte matrix plus a mask of the bytes that are
kept (integers are right-aligned digits with their leading zeros masked out), the columns
are joined with tab columns, and ``chars[mask]`` is the text, row by row. Rows are
formatted in blocks, so memory stays bounded whatever the number of rows.

Columns:

* :class:`Ints`   -- non-negative integers, printed like ``str(int)``;
* :class:`Fixed`  -- non-negative floats with a fixed number of decimals, printed like
  ``f"{x:.{d}f}"`` (values are rounded half-to-even on ``x * 10**d``; pass values already
  rounded to ``d`` decimals to get exactly Python's text);
* :class:`Labels` -- one of a few strings per row (e.g. chromosome names), by index;
* :class:`Const`  -- the same text on every row (``.`` for an unused BED field).

:func:`open_gzip` writes gzip without a file name or time stamp in the header, so the
same text always gives the same bytes.
"""
from __future__ import annotations

import gzip
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, Sequence, Union

import numpy as np

TAB, NEWLINE, ZERO = 9, 10, 48
BLOCK_ROWS = 1 << 16


@dataclass(frozen=True)
class Ints:
    """Non-negative integers, shape=(n,)."""

    values: np.ndarray


@dataclass(frozen=True)
class Fixed:
    """Non-negative floats printed with ``decimals`` digits after the point, shape=(n,)."""

    values: np.ndarray
    decimals: int = 2


@dataclass(frozen=True)
class Labels:
    """``labels[codes[i]]`` on row ``i``; codes shape=(n,)."""

    codes: np.ndarray
    labels: Sequence[str]


@dataclass(frozen=True)
class Const:
    """The same text on every row."""

    text: str


Column = Union[Ints, Fixed, Labels, Const]


# the four ASCII digits of 0000..9999 packed in one uint32 each (gathering 4 bytes at once is fast)
_DIGITS4 = np.array([list(f"{i:04d}".encode()) for i in range(10_000)], dtype=np.uint8).view(np.uint32).ravel()
_POWERS = 10 ** np.arange(1, 19, dtype=np.int64)                                           # 10 .. 1e18


def _padded_digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers < 10**width.

    Returns:
        np.ndarray, shape=(n, width), uint8 ASCII digits.
    """
    groups = -(-width // 4)
    parts, rest = [], values
    for _ in range(groups):                       # four digits per table look-up, least significant first
        parts.append(_DIGITS4[rest % 10_000])
        rest = rest // 10_000
    return np.stack(parts[::-1], axis=1).view(np.uint8)[:, 4 * groups - width:]


def _int_chars(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Digits of non-negative integers, right-aligned.

    Returns:
        chars: np.ndarray, shape=(n, width), uint8 ASCII digits (leading zeros included).
        keep: np.ndarray, shape=(n, width), bool; False on leading zeros.
    """
    values = np.asarray(values, dtype=np.int64)
    if values.size and values.min() < 0:
        raise ValueError("Ints / Fixed columns must be non-negative")
    width = len(str(int(values.max()))) if values.size else 1
    n_digits = np.searchsorted(_POWERS, values, side="right") + 1
    keep = np.arange(width)[None, :] >= (width - n_digits)[:, None]
    return _padded_digits(values, width), keep


def _column_chars(column: Column, rows: slice, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The byte matrix and keep-mask of one column over ``rows`` (``n`` rows)."""
    if isinstance(column, Ints):
        return _int_chars(np.asarray(column.values)[rows])
    if isinstance(column, Fixed):
        scale = 10 ** column.decimals
        scaled = np.rint(np.asarray(column.values, dtype=np.float64)[rows] * scale).astype(np.int64)
        if column.decimals == 0:
            return _int_chars(scaled)
        whole, keep_whole = _int_chars(scaled // scale)
        fraction = _padded_digits(scaled % scale, column.decimals)
        chars = np.concatenate([whole, np.full((n, 1), ord("."), np.uint8), fraction], axis=1)
        keep = np.concatenate([keep_whole, np.ones((n, 1 + column.decimals), bool)], axis=1)
        return chars, keep
    if isinstance(column, Labels):
        encoded = [label.encode() for label in column.labels]
        width = max((len(e) for e in encoded), default=1) or 1
        table = np.zeros((len(encoded), width), np.uint8)
        for i, e in enumerate(encoded):
            table[i, :len(e)] = np.frombuffer(e, np.uint8)
        lengths = np.array([len(e) for e in encoded], dtype=np.int64)
        codes = np.asarray(column.codes)[rows]
        return table[codes], np.arange(width)[None, :] < lengths[codes][:, None]
    if isinstance(column, Const):
        text = np.frombuffer(column.text.encode(), np.uint8)
        return np.broadcast_to(text, (n, text.size)), np.ones((n, text.size), bool)
    raise TypeError(f"not a column: {column!r}")


def format_rows(columns: Sequence[Column]) -> bytes:
    """Tab-separated text of the columns, one line per row, each line ending in a newline.

    Args:
        columns: columns of equal length (``Const`` adapts to the others).

    Returns:
        The text as ASCII bytes.
    """
    return b"".join(iter_rows(columns))


def iter_rows(columns: Sequence[Column]) -> Iterator[bytes]:
    """Like :func:`format_rows`, in blocks of at most ``BLOCK_ROWS`` lines (bounded memory)."""
    lengths = {len(c.values) if isinstance(c, (Ints, Fixed)) else len(c.codes)
               for c in columns if not isinstance(c, Const)}
    if len(lengths) != 1:
        raise ValueError(f"columns must have one common length, got {sorted(lengths)}")
    n_rows = lengths.pop()
    for begin in range(0, n_rows, BLOCK_ROWS):
        rows = slice(begin, min(begin + BLOCK_ROWS, n_rows))
        n = rows.stop - rows.start
        chars, keep = [], []
        for i, column in enumerate(columns):
            c, k = _column_chars(column, rows, n)
            chars.append(c)
            keep.append(k)
            end = NEWLINE if i == len(columns) - 1 else TAB
            chars.append(np.full((n, 1), end, np.uint8))
            keep.append(np.ones((n, 1), bool))
        yield np.concatenate(chars, axis=1)[np.concatenate(keep, axis=1)].tobytes()


@contextmanager
def open_gzip(path: str | Path, level: int = 1) -> Iterator[BinaryIO]:
    """Write a gzip file whose bytes depend only on what is written (no name, no time stamp).

    Level 1 compresses several times faster than the default 6, for ~15 % larger files.
    """
    with open(path, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=level, mtime=0) as handle:
        yield handle  # type: ignore[misc]
