"""Reading variants: VCF (plain, gzip or BGZF) and BCF, one record at a time, in file order.

Only the fixed columns that variant scoring needs are parsed (CHROM, POS, ID, REF, ALT); the
rest of each line is kept verbatim when the caller asks for it (the annotated VCF copies it).

* **Text VCF** (``.vcf``, ``.vcf.gz``, ``.vcf.bgz``; compression is detected from the bytes,
  not the name) is read by a small streaming parser of the tab-separated columns. It gives
  every problem a line number, never parses genotype columns, and survives lines that make
  htslib misbehave (cyvcf2 0.35 crashes the interpreter on a blank line inside the body).
* **BCF** is read with cyvcf2 (htslib); a record htslib cannot decode is reported by its
  record number.

A malformed record is not an exception: it comes out of :func:`read_vcf` as a
:class:`VcfRecord` whose ``error`` says what is wrong, so the caller can count and report it
in order with everything else. A file that is not a VCF at all, or has no header, is an
:class:`~mfd_model.errors.MFDError` (one line) before the first record is read.
"""
from __future__ import annotations

import gzip
import io
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import MFDError

REQUIRED_COLUMNS = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")
MAX_POS = (2**31 - 1) << 32 | (2**31 - 1)  # htslib's HTS_POS_MAX: larger positions are rejected records
_REF_RE = re.compile(r"[A-Za-z]+")
_HEADER_FIX = ("a VCF starts with meta lines ('##fileformat=VCFv4.2', ...) and the column line "
               "'#CHROM POS ID REF ALT QUAL FILTER INFO' (tab-separated); add them, e.g. with 'bcftools reheader'")


@dataclass
class VcfHeader:
    """The header of a VCF.

    Attributes:
        meta: the ``##`` lines, without line ends, in file order.
        columns: the fields of the ``#CHROM`` line.
        n_lines: number of header lines (the first record is on line ``n_lines + 1``).
    """

    meta: list[str]
    columns: list[str]
    n_lines: int

    @property
    def samples(self) -> list[str]:
        return self.columns[9:]

    def text_lines(self) -> list[str]:
        return [*self.meta, "\t".join(self.columns)]


@dataclass
class VcfRecord:
    """One input record (one data line of a VCF, one record of a BCF).

    Attributes:
        index: 0-based number of the record in the file (blank lines are not records).
        line: 1-based line number in a text VCF; ``None`` for BCF.
        chrom, pos, id, ref: as written (``pos`` 1-based; ``id`` is ``"."`` when missing).
        alts: the ALT alleles; empty when ALT is ``.``.
        text: the raw line without its line end, when requested (for the annotated VCF).
        error: why the record is malformed, or ``None``.
    """

    index: int
    line: int | None
    chrom: str = "."
    pos: int = 0
    id: str = "."
    ref: str = "."
    alts: tuple[str, ...] = ()
    text: str | None = None
    error: str | None = None

    @property
    def n_alleles(self) -> int:
        """Number of (record, ALT) pairs this record accounts for: one per ALT, at least one."""
        return max(1, len(self.alts))

    @property
    def where(self) -> str:
        return f"line {self.line}" if self.line is not None else f"record {self.index + 1}"


def _open_bytes(path: Path) -> io.BufferedIOBase:
    handle = open(path, "rb")
    magic = handle.peek(2)[:2] if hasattr(handle, "peek") else b""
    if magic == b"\x1f\x8b":
        handle.close()
        return io.BufferedReader(gzip.open(path, "rb"), buffer_size=1 << 20)
    return handle


def vcf_kind(path: str | Path) -> str:
    """``"bcf"`` or ``"vcf"`` from the file's first bytes (after decompression)."""
    path = Path(path)
    if not path.exists():
        raise MFDError("VCF file not found", path=path, fix="check the path")
    if path.is_dir():
        raise MFDError("expected a VCF file, got a folder", path=path, fix="pass the .vcf / .vcf.gz / .bcf file")
    try:
        with _open_bytes(path) as handle:
            head = handle.read(5)
    except (OSError, EOFError, zlib.error) as err:
        raise MFDError(f"cannot read the VCF ({err})", path=path,
                       fix="check that the file is a complete VCF, gzip/BGZF-compressed VCF or BCF") from None
    if head.startswith(b"BCF\x02"):
        return "bcf"
    return "vcf"


def _read_text_header(path: Path, handle: Iterator[bytes]) -> tuple[VcfHeader, bytes | None]:
    """Consume the header; return it and the first data line (or ``None`` at end of file)."""
    meta: list[str] = []
    number = 0
    for raw in handle:
        number += 1
        line = raw.decode("utf-8", "surrogateescape").rstrip("\r\n")
        if line.startswith("##"):
            meta.append(line)
            continue
        if line.startswith("#"):
            columns = line.split("\t")
            if [c.upper() for c in columns[:8]] != list(REQUIRED_COLUMNS):
                shown = "\t".join(columns[:8])[:80]
                raise MFDError(f"malformed VCF column line {shown!r}: expected the tab-separated columns "
                               f"{' '.join(REQUIRED_COLUMNS)}", path=path, line=number, fix=_HEADER_FIX)
            return VcfHeader(meta, columns, number), None
        if not line.strip():
            continue
        what = "the file starts with a data line" if not meta else "the '#CHROM ...' column line is missing"
        raise MFDError(f"not a VCF with a header: {what} (line {number}: {line[:60]!r})", path=path,
                       line=number, fix=_HEADER_FIX)
    if number == 0:
        raise MFDError("the VCF is empty", path=path, fix=_HEADER_FIX)
    raise MFDError("the VCF header has no '#CHROM ...' column line", path=path, fix=_HEADER_FIX)


def _position(text: str) -> int | None:
    """POS as an int if it is ASCII digits within htslib's range (``HTS_POS_MAX``), else ``None``."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_POS else None


def _printable(text: str) -> str:
    """A field as text: bytes that are not UTF-8 (read as surrogates) shown as ``\\xff`` escapes."""
    if text.isascii():
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def parse_vcf_line(line: str, index: int, number: int | None, keep_text: bool) -> VcfRecord:
    """Parse the fixed columns of one VCF data line (without its line end).

    CHROM, ID, REF and ALT bytes that are not UTF-8 are kept as ``\\xNN`` escapes (the annotated
    VCF copies the original bytes from ``text``).
    """
    record = VcfRecord(index=index, line=number, text=line if keep_text else None)
    fields = line.split("\t", 8)
    if len(fields) < 8:
        hint = " (space-separated?)" if len(fields) < 5 and " " in line else ""
        record.error = (f"{len(fields)} tab-separated column(s){hint}; a VCF record needs 8 "
                        f"(CHROM POS ID REF ALT QUAL FILTER INFO)")
        if len(fields) >= 2:
            record.chrom = _printable(fields[0])
            record.pos = _position(fields[1]) or 0
        return record
    chrom, pos, vid, ref, alt = (_printable(f) for f in fields[:5])
    record.chrom, record.id, record.ref = chrom, vid or ".", ref
    position = _position(pos)
    if not chrom or any(c.isspace() for c in chrom):
        record.error = f"invalid CHROM {chrom!r}"
    elif position is None and pos.isascii() and pos.isdigit():
        record.error = f"POS {pos[:30]} is larger than any contig (htslib's limit is {MAX_POS})"
    elif position is None or position < 1:
        record.error = f"POS {pos[:30]!r} is not a positive integer"
    elif not _REF_RE.fullmatch(ref):
        record.error = f"REF {ref!r} is not a DNA sequence"
    elif not alt:
        record.error = "ALT is empty (write '.' for no ALT allele)"
    record.pos = position or 0
    if record.error is None:
        record.alts = () if alt == "." else tuple(alt.split(","))
    return record


def _text_records(path: Path, keep_text: bool) -> tuple[VcfHeader, Iterator[VcfRecord]]:
    try:
        with _open_bytes(path) as handle:
            header, _ = _read_text_header(path, handle)
    except (OSError, EOFError, zlib.error) as err:
        raise MFDError(f"cannot read the VCF header ({' '.join(str(err).split())})", path=path,
                       fix="the file is truncated or corrupt; re-create or re-download it") from None

    def records() -> Iterator[VcfRecord]:
        number = header.n_lines
        index = 0
        handle = _open_bytes(path)
        try:
            for _ in range(header.n_lines):
                next(handle)
            for raw in handle:
                number += 1
                line = raw.decode("utf-8", "surrogateescape").rstrip("\r\n")
                if not line.strip():
                    continue
                if line.startswith("#"):
                    yield VcfRecord(index=index, line=number, error="header line after the first record",
                                    text=line if keep_text else None)
                else:
                    yield parse_vcf_line(line, index, number, keep_text)
                index += 1
        except (OSError, EOFError, zlib.error) as err:
            raise MFDError(f"cannot read the VCF after line {number}: {err}", path=path,
                           fix="the file is truncated or corrupt; re-create or re-download it") from None
        finally:
            handle.close()

    return header, records()


def _bcf_records(path: Path, keep_text: bool) -> tuple[VcfHeader, Iterator[VcfRecord]]:
    import cyvcf2
    def open_reader():
        try:
            return cyvcf2.VCF(str(path), lazy=True)
        except Exception as err:  # cyvcf2 raises bare Exception / OSError on unreadable headers
            raise MFDError(f"cannot read the BCF header ({' '.join(str(err).split())})", path=path,
                           fix="check the file with 'bcftools view -h'") from None

    reader = open_reader()
    lines = reader.raw_header.rstrip("\n").split("\n")
    reader.close()
    header = VcfHeader([l for l in lines if l.startswith("##")], lines[-1].split("\t"), len(lines))

    def records() -> Iterator[VcfRecord]:
        index = 0
        reader = open_reader()
        iterator = iter(reader)
        try:
            while True:
                try:
                    variant = next(iterator)
                except StopIteration:
                    return
                except Exception as err:  # htslib could not decode this record; it moves on
                    yield VcfRecord(index=index, line=None,
                                    error=f"htslib cannot decode the record ({' '.join(str(err).split())})")
                    index += 1
                    continue
                yield VcfRecord(index=index, line=None, chrom=variant.CHROM, pos=variant.POS,
                                id=variant.ID or ".", ref=variant.REF, alts=tuple(variant.ALT),
                                text=str(variant).rstrip("\n") if keep_text else None)
                index += 1
        finally:
            reader.close()

    return header, records()


def read_vcf_header(path: str | Path) -> VcfHeader:
    """Only the header of a VCF / BCF (the file is closed again); errors as :func:`read_vcf`."""
    header, records = read_vcf(path)
    records.close()
    return header


def read_vcf(path: str | Path, keep_text: bool = False) -> tuple[VcfHeader, Iterator[VcfRecord]]:
    """Open a VCF / VCF.gz / BCF: its header now (errors raised here), its records lazily.

    Args:
        path: the variant file.
        keep_text: keep each record's raw line in ``VcfRecord.text`` (for an annotated VCF).
    Returns:
        ``(header, records)``; ``records`` yields every record in file order, malformed ones
        with ``error`` set. The file is opened when iteration starts and closed when it ends.
    """
    path = Path(path)
    kind = vcf_kind(path)
    return _bcf_records(path, keep_text) if kind == "bcf" else _text_records(path, keep_text)

