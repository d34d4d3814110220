"""Writing variant scores: TSV (kipoi-veff2 columns), annotated VCF, Parquet, and the rejects TSV.

Every output is written to a hidden temporary file next to its destination and renamed into
place only when the whole run has succeeded (:class:`Outputs.commit`); on any error the
temporary files are removed, so a half-written output never appears under the final name.
An output that is a stream (``/dev/stdout``, a named pipe) is written in place as the chunks
come; the rejects TSV then needs its own name (``--rejects``).
Chunks are written as they are scored (streaming): memory does not grow with the VCF.

* **TSV**: ``#CHROM POS ID REF ALT`` then one column per score and experiment (or group)
  named ``MFD/<experiment>/<score>``, score-major as kipoi-veff2 writes them; one row per
  scored ALT allele, in input order; values ``%.7g``.
* **Annotated VCF**: every input record that parses, in input order, with its original
  columns, and INFO fields ``MFD_<experiment>_<score>`` (``Number=A``: one value per ALT,
  ``.`` where that ALT was not scored) plus ``MFD_REJECT`` (``Number=A``: the reason code of
  each unscored ALT). One ``##INFO`` header line per field says what it holds. ``.vcf.gz``
  is BGZF-compressed and tabix-indexed through pysam (the index is skipped, with a warning,
  if the records are not sorted). Records without ALT keep their line unchanged; malformed
  lines are left out (they are in the rejects TSV).
* **Parquet** (pyarrow): the TSV's columns, float32, one row group per chunk.
* **Rejects TSV**: ``#CHROM POS ID REF ALT REASON DETAIL WHERE`` for every allele (or
  malformed record) that was not scored.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
from pathlib import Path
from typing import IO, Iterator, Sequence

import numpy as np

from ..errors import MFDError
from ..outputs import is_stream
from .vcf import VcfHeader
from .windows import REASONS, VariantChunk

log = logging.getLogger(__name__)

FLOAT_FORMAT = "%.7g"
MODEL_PREFIX = "MFD"
_INFO_BAD = re.compile(r"[^0-9A-Za-z_.]")


def format_row(values: np.ndarray) -> list[str]:
    """``%.7g`` strings of a 1-D float array (the one formatting both the TSV and the VCF use)."""
    return [FLOAT_FORMAT % v for v in values.tolist()]


class _Partial:
    """A file written under a temporary name and renamed into place by :meth:`commit`.

    A stream (``/dev/stdout``, a named pipe) cannot be renamed into: it is written in place.
    """

    def __init__(self, path: str | Path, binary: bool = False) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise MFDError("output path is a folder", path=self.path, fix="give a file name")
        self.stream = is_stream(self.path)
        self.extra: list[tuple[Path, Path]] = []  # (temporary, final) companions such as a .tbi
        if self.stream:
            self.tmp = self.path
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        suffix = ".gz" if self.path.name.endswith((".gz", ".bgz")) else ""
        self.tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.partial{suffix}")

    def commit(self) -> None:
        if self.stream:
            return
        os.replace(self.tmp, self.path)
        for tmp, final in self.extra:
            os.replace(tmp, final)

    def abort(self) -> None:
        if self.stream:
            return
        for tmp in [self.tmp, *(t for t, _ in self.extra)]:
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass


class TsvWriter(_Partial):
    """The scores TSV."""

    def __init__(self, path: str | Path, columns: Sequence[str]) -> None:
        super().__init__(path)
        self.handle: IO[str] = open(self.tmp, "w", encoding="utf-8", newline="")
        self.handle.write("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", *columns]) + "\n")
        self._fmt = "\t".join(["%s"] * 5 + [FLOAT_FORMAT] * len(columns)) + "\n"

    def write(self, chunk: VariantChunk, values: np.ndarray) -> None:
        fmt = self._fmt
        lines = [fmt % (*chunk.allele_fields(a), *row) for a, row in enumerate(values.tolist())]
        self.handle.write("".join(lines))

    def close(self) -> None:
        self.handle.close()


class RejectsWriter(_Partial):
    """The rejects TSV: one row per unscored allele or malformed record."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self.handle: IO[str] = open(self.tmp, "w", encoding="utf-8", newline="")
        self.handle.write("#CHROM\tPOS\tID\tREF\tALT\tREASON\tDETAIL\tWHERE\n")

    def write(self, chunk: VariantChunk) -> None:
        for reject in chunk.rejects:
            record = chunk.records[reject.record]
            alt = record.alts[reject.allele] if reject.allele >= 0 else (",".join(record.alts) or ".")
            fields = [record.chrom, str(record.pos) if record.pos else ".", record.id, record.ref, alt,
                      reject.reason, reject.detail, record.where]
            self.handle.write("\t".join(_clean(f) for f in fields) + "\n")

    def close(self) -> None:
        self.handle.close()


def _clean(field: str) -> str:
    return " ".join(str(field).split()) or "."


def info_keys(columns: Sequence[tuple[str, str]]) -> list[str]:
    """A valid, unique VCF INFO key ``MFD_<label>_<score>`` per ``(label, score)`` column."""
    keys: list[str] = []
    seen: set[str] = set()
    for label, score in columns:
        key = _INFO_BAD.sub("_", f"{MODEL_PREFIX}_{label}_{score}")
        base, n = key, 2
        while key in seen:
            key, n = f"{base}_{n}", n + 1
        seen.add(key)
        keys.append(key)
    return keys


class VcfWriter(_Partial):
    """The annotated VCF (plain, or BGZF + tabix for ``.vcf.gz`` / ``.vcf.bgz``)."""

    def __init__(self, path: str | Path, header: VcfHeader, columns: Sequence[tuple[str, str]],
                 descriptions: dict[str, str], extra_meta: Sequence[str] = ()) -> None:
        super().__init__(path)
        name = self.path.name
        if not name.endswith((".vcf", ".vcf.gz", ".vcf.bgz")):
            raise MFDError("the annotated VCF must be named .vcf, .vcf.gz or .vcf.bgz", path=self.path,
                           fix="e.g. --vcf-out scores.vcf.gz")
        self.compressed = name.endswith((".gz", ".bgz"))
        if self.compressed:
            import pysam
            self.handle = pysam.BGZFile(str(self.tmp), "wb")
        else:
            self.handle = open(self.tmp, "wb")
        self.keys = info_keys(columns)
        meta = [m for m in header.meta if not m.startswith(f"##INFO=<ID={MODEL_PREFIX}_")]
        if not meta or not meta[0].startswith("##fileformat="):
            meta.insert(0, "##fileformat=VCFv4.2")
        for key, (label, score) in zip(self.keys, columns):
            text = f"{descriptions[score]}, for {label}".replace('"', "'")
            meta.append(f'##INFO=<ID={key},Number=A,Type=Float,Description="MFD score {score}: {text}">')
        codes = "; ".join(f"{code}: {what}" for code, what in REASONS.items()).replace('"', "'")
        meta.append(f'##INFO=<ID={MODEL_PREFIX}_REJECT,Number=A,Type=String,'
                    f'Description="Why MFD did not score this ALT allele (. = scored). {codes}">')
        meta.extend(extra_meta)
        self._write([*meta, "\t".join(header.columns)])
        self._strip = re.compile(rf"(^|;){MODEL_PREFIX}_[^;]*")
        self._single = ";".join(f"{key}={FLOAT_FORMAT}" for key in self.keys)  # keys hold no "%"

    def _write(self, lines: list[str]) -> None:
        self.handle.write(("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"))

    def write(self, chunk: VariantChunk, values: np.ndarray) -> None:
        rows: dict[int, dict[int, int]] = {}
        for a in range(chunk.n_alleles):
            rows.setdefault(int(chunk.allele_record[a]), {})[int(chunk.allele_number[a])] = a
        reasons: dict[int, dict[int, str]] = {}
        for reject in chunk.rejects:
            reasons.setdefault(reject.record, {})[reject.allele] = reject.reason
        table = values.tolist()
        lines = []
        for r, record in enumerate(chunk.records):
            if record.error is not None or record.text is None:
                continue
            if not record.alts:
                lines.append(record.text)
                continue
            fields = record.text.split("\t")
            info = self._strip.sub("", fields[7]).lstrip(";") if fields[7] != "." else ""
            added = []
            scored = rows.get(r, {})
            n = len(record.alts)
            if n == 1 and scored:        # the common case: one formatting call for all fields
                added.append(self._single % tuple(table[scored[0]]))
            elif scored:
                per_alt = [format_row(values[scored[k]]) if k in scored else None for k in range(n)]
                added.extend(f"{key}=" + ",".join(v[c] if v is not None else "." for v in per_alt)
                             for c, key in enumerate(self.keys))
            if r in reasons:
                added.append(f"{MODEL_PREFIX}_REJECT=" + ",".join(reasons[r].get(k, ".") for k in range(n)))
            fields[7] = ";".join([p for p in (info, *added) if p]) or "."
            lines.append("\t".join(fields))
        if lines:
            self._write(lines)

    def close(self) -> None:
        self.handle.close()
        if self.compressed and not self.stream:
            import pysam
            tbi = self.tmp.with_name(self.tmp.name + ".tbi")
            try:
                pysam.tabix_index(str(self.tmp), preset="vcf", force=True, index=str(tbi))
                self.extra.append((tbi, Path(str(self.path) + ".tbi")))
            except (OSError, ValueError) as err:
                log.warning("%s: not indexed (tabix needs records sorted by position): %s", self.path.name, err)
                if tbi.exists():
                    tbi.unlink()


class ParquetWriter(_Partial):
    """The scores as Parquet (float32), one row group per chunk."""

    def __init__(self, path: str | Path, columns: Sequence[str]) -> None:
        super().__init__(path)
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise MFDError("Parquet output needs pyarrow", fix="pip install 'mfd-kipoi[io]'") from None
        self.pa = pa
        self.columns = list(columns)
        self.schema = pa.schema([("CHROM", pa.string()), ("POS", pa.int64()), ("ID", pa.string()),
                                 ("REF", pa.string()), ("ALT", pa.string())]
                                + [(c, pa.float32()) for c in self.columns])
        self.writer = pq.ParquetWriter(str(self.tmp), self.schema)

    def write(self, chunk: VariantChunk, values: np.ndarray) -> None:
        if chunk.n_alleles == 0:
            return
        fields = list(zip(*(chunk.allele_fields(a) for a in range(chunk.n_alleles))))
        arrays = [self.pa.array(list(f)) for f in fields]
        arrays += [self.pa.array(values[:, c].astype(np.float32)) for c in range(values.shape[1])]
        self.writer.write_table(self.pa.Table.from_arrays(arrays, schema=self.schema))

    def close(self) -> None:
        self.writer.close()


class Outputs:
    """All outputs of a run, written chunk by chunk and committed together.

    Args:
        tsv: the scores TSV (or ``None``).
        rejects: the rejects TSV (always written when given).
        vcf: the annotated VCF (or ``None``).
        parquet: the Parquet file (or ``None``).
        header: the input VCF's header (for the annotated VCF).
        columns: ``(label, score)`` per output column.
        descriptions: score name -> description.
        extra_meta: extra ``##`` lines for the VCF header (the command, the model).
    """

    def __init__(self, *, tsv: str | Path | None, rejects: str | Path | None, vcf: str | Path | None,
                 parquet: str | Path | None, header: VcfHeader, columns: Sequence[tuple[str, str]],
                 descriptions: dict[str, str], extra_meta: Sequence[str] = ()) -> None:
        names = [f"{MODEL_PREFIX}/{label}/{score}" for label, score in columns]
        paths = [Path(p).resolve() for p in (tsv, rejects, vcf, parquet) if p is not None]
        if len(set(paths)) != len(paths):
            raise MFDError("two outputs have the same path", fix="give the TSV, rejects, VCF and Parquet outputs different names")
        self.writers: list[_Partial] = []
        try:
            self.tsv = self._add(TsvWriter(tsv, names)) if tsv is not None else None
            self.rejects = self._add(RejectsWriter(rejects)) if rejects is not None else None
            self.vcf = self._add(VcfWriter(vcf, header, columns, descriptions, extra_meta)) if vcf is not None else None
            self.parquet = self._add(ParquetWriter(parquet, names)) if parquet is not None else None
        except BaseException:
            self.abort()
            raise

    def _add(self, writer: _Partial):
        self.writers.append(writer)
        return writer

    def write(self, chunk: VariantChunk, values: np.ndarray) -> None:
        """Write one chunk's scored alleles (``values`` shape=(A, n_columns)) and its rejects."""
        for writer in (self.tsv, self.vcf, self.parquet):
            if writer is not None:
                with _naming(writer):
                    writer.write(chunk, values)
        if self.rejects is not None:
            with _naming(self.rejects):
                self.rejects.write(chunk)

    def commit(self) -> None:
        """Close everything and move the files into place."""
        try:
            for writer in self.writers:
                with _naming(writer):
                    writer.close()
        except BaseException:
            self.abort()
            raise
        for writer in self.writers:
            writer.commit()

    def abort(self) -> None:
        """Close and delete every temporary file."""
        for writer in self.writers:
            try:
                writer.close()
            except Exception:  # already closed or broken: the file is deleted anyway
                pass
            writer.abort()


@contextlib.contextmanager
def _naming(writer: _Partial) -> Iterator[None]:
    """An ``OSError`` of a writer (a full disk, a closed pipe) names the output it was writing."""
    try:
        yield
    except OSError as err:
        if err.filename is None:
            err.filename = str(writer.path)
        raise


def reject_summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {reason}" for reason, n in sorted(counts.items(), key=lambda kv: -kv[1]))

