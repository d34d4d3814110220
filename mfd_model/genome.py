"""Reference genome access: a FASTA (plain or BGZF) through pyfaidx, with contig aliasing.

Contig names differ between resources (``chr1`` in UCSC/ENCODE files, ``1`` in Ensembl/1000
Genomes, ``chrM`` vs ``MT``). :meth:`Genome.resolve` maps a name to the FASTA's spelling and
says so once; unknown contigs are reported by the caller, counted, never silently dropped.

Windows that run past a contig end are padded with ``N`` (all-zero one-hot), so a window of
fixed length can always be cut; callers that must not score such windows check
:meth:`Genome.inside` first.
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import MFDError

log = logging.getLogger(__name__)

_MITO = ("chrM", "chrMT", "M", "MT")


def contig_aliases(name: str) -> list[str]:
    """Other common spellings of a contig name (``chr1`` <-> ``1``, ``chrM`` <-> ``MT``)."""
    if name in _MITO:
        return [m for m in _MITO if m != name]
    if name.startswith("chr"):
        return [name[3:]]
    return ["chr" + name]


def _cached_index(path: Path) -> dict[str, str]:
    """Index file names for a FASTA whose folder is read-only: in the user's cache
    (``$XDG_CACHE_HOME/mfd/fasta-index``, else the temporary folder), keyed by the file's path,
    size and modification time."""
    info = path.stat()
    key = hashlib.sha256(f"{path.resolve()}:{info.st_size}:{info.st_mtime_ns}".encode()).hexdigest()[:16]
    for root in (os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", tempfile.gettempdir()):
        folder = Path(root) / "mfd" / "fasta-index"
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            break
    base = folder / f"{key}.{path.name}"
    return {"indexname": f"{base}.fai", "gzi_indexname": f"{base}.gzi"}


class Genome:
    """A reference FASTA.

    Args:
        path: FASTA file, plain or BGZF-compressed (``.fai`` / ``.gzi`` are built if missing:
            next to it, or in the user's cache when its folder is read-only).

    Attributes:
        path: the file.
        contigs: contig name -> length, in file order.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fasta = None
        self._pid = os.getpid()
        self._aliases: dict[str, str | None] = {}
        self._reported_aliases: set[tuple[str, str]] = set()
        self.contigs = {name: record.rlen for name, record in self._open().index.items()}
        if not self.contigs:
            raise MFDError("FASTA has no sequences", path=self.path, fix="check that this is a FASTA file")

    # ------------------------------------------------------------------ opening
    def _open(self):
        if self._pid != os.getpid():
            # a forked DataLoader worker: never share the parent's file handle (offsets would race)
            self._fasta, self._pid = None, os.getpid()
        if self._fasta is None:
            import pyfaidx
            if not self.path.exists():
                raise MFDError("FASTA file not found", path=self.path, fix="check the path")
            options = {"as_raw": True, "sequence_always_upper": True, "read_ahead": 65536}
            try:
                try:
                    self._fasta = pyfaidx.Faidx(str(self.path), **options)
                except (pyfaidx.UnsupportedCompressionFormat, pyfaidx.FastaNotFoundError):
                    raise
                except OSError:  # no index, and none can be written next to the FASTA (a read-only folder)
                    self._fasta = pyfaidx.Faidx(str(self.path), **options, **_cached_index(self.path))
            except pyfaidx.UnsupportedCompressionFormat:
                raise MFDError("FASTA is gzip-compressed but not BGZF", path=self.path,
                               fix="decompress it, or recompress with 'bgzip' (pysam.tabix_compress)") from None
            except (pyfaidx.FastaIndexingError, ValueError, UnicodeDecodeError) as err:
                raise MFDError(f"cannot index FASTA: {' '.join(str(err).split())}", path=self.path,
                               fix="check that this is a valid FASTA (header lines '>name', equal line lengths)") from None
            except OSError as err:
                raise MFDError(f"cannot read or index the FASTA ({' '.join(str(err).split())})", path=self.path,
                               fix="check that the file is readable; or create its index with 'samtools faidx'") from None
        return self._fasta

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_fasta"] = None  # reopened lazily in each DataLoader worker
        return state

    def close(self) -> None:
        if self._fasta is not None:
            self._fasta.close()
            self._fasta = None

    # ------------------------------------------------------------------ names
    def resolve(self, name: str) -> str | None:
        """The FASTA's spelling of contig ``name`` (itself, or an alias), or ``None`` if absent."""
        if name in self.contigs:
            return name
        if name not in self._aliases:
            self._aliases[name] = next((a for a in contig_aliases(name) if a in self.contigs), None)
        resolved = self._aliases[name]
        if resolved is not None and (name, resolved) not in self._reported_aliases:
            self._reported_aliases.add((name, resolved))
            log.info("contig %r is called %r in %s; using it", name, resolved, self.path.name)
        return resolved

    def require(self, name: str, path: str | Path | None = None, line: int | None = None) -> str:
        """Like :meth:`resolve`, but an unknown contig is an :class:`MFDError`."""
        resolved = self.resolve(name)
        if resolved is None:
            shown = ", ".join(list(self.contigs)[:8]) + (", ..." if len(self.contigs) > 8 else "")
            raise MFDError(f"contig {name!r} is not in the FASTA {self.path.name} (it has: {shown})",
                           path=path, line=line, fix="use the same genome build and contig names as the FASTA")
        return resolved

    def inside(self, chrom: str, start: int, end: int) -> bool:
        """Whether ``[start, end)`` lies within contig ``chrom`` (already resolved)."""
        return 0 <= start and end <= self.contigs[chrom]

    # ------------------------------------------------------------------ sequence
    def fetch(self, chrom: str, start: int, end: int) -> str:
        """Upper-case sequence of ``[start, end)`` (0-based, half-open) on contig ``chrom``
        (resolved), ``N``-padded where the range leaves the contig."""
        length = self.contigs[chrom]
        lo, hi = max(start, 0), min(end, length)
        seq = self._open().fetch(chrom, lo + 1, hi) if hi > lo else ""
        if lo > start or hi < end:
            seq = "N" * (lo - start) + seq + "N" * (end - hi)
        return seq

    def fetch_indices(self, chrom: str, start: int, end: int) -> np.ndarray:
        """Base indices (A,C,G,T -> 0..3, other -> -1) of ``[start, end)``, shape=(end - start,)."""
        from .encoding import base_indices
        return base_indices(self.fetch(chrom, start, end))

    def checksum(self, chunk_size: int = 1 << 22) -> str:
        """SHA-256 of the FASTA file's bytes (identifies the genome a label store was made from)."""
        digest = hashlib.sha256()
        with open(self.path, "rb") as handle:
            for chunk in iter(lambda: handle.read(chunk_size), b""):
                digest.update(chunk)
        return digest.hexdigest()
