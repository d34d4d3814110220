"""The genome as one uint8 code array: a cache file built once from the FASTA, memory-mapped.

Training cuts hundreds of thousands of windows per epoch. Read one by one from the FASTA
(pyfaidx) a window costs a file access and a string; gathered from the genome held as base
codes (:mod:`mfd_model.encoding`: ``ACGT -> 0..3``, anything else ``-> 4``) a batch of windows
is one vectorised copy (BENCHMARKS.md has the ratio). The windows are the same bytes.

The cache is two files side by side (``mfd prepare`` writes them into the label store)::

    genome.codes.npy    uint8, shape=(G,): every contig's codes, concatenated in FASTA order
                        (a standard .npy file: np.load(mmap_mode="r") maps it)
    genome.codes.json   format "mfd-genome-codes/1", the contigs (name -> length, in order),
                        the FASTA it was read from (path, size, mtime_ns, sha256) and the
                        sha256 of the code array

A cache is used only if it matches its FASTA: same contigs and lengths, and the same FASTA
content (size and mtime as recorded, else the same sha256), and (``verify``) its own bytes
hash to the recorded sha256. :meth:`GenomeCodes.open_or_build` rebuilds a stale, corrupt or
missing cache (written under a temporary name, renamed when complete) or, when its folder
is not writable, refuses with one :class:`~mfd_model.errors.MFDError` line.

The array is memory-mapped read-only, so DataLoader workers share the page cache; a pickled
:class:`GenomeCodes` (spawned workers, DDP) carries the path and maps the file again.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from .encoding import COMPLEMENT_CODE, N_CODE, base_codes
from .errors import MFDError

log = logging.getLogger(__name__)

FORMAT = "mfd-genome-codes/1"
READ_CHUNK = 1 << 22                  # bases per FASTA read while building


def sidecar_path(path: str | Path) -> Path:
    """The header file of the cache ``path`` (``genome.codes.npy`` -> ``genome.codes.json``)."""
    path = Path(path)
    return path.with_name(path.name[:-4] + ".json" if path.name.endswith(".npy") else path.name + ".json")


class CacheMismatch(MFDError):
    """A genome code cache that is missing, corrupt or made from another FASTA."""


class GenomeCodes:
    """The genome as base codes, with vectorised window gathers.

    Args:
        codes: every contig's codes concatenated in ``contigs`` order, shape=(G,), uint8
            (in memory or memory-mapped).
        contigs: contig name -> length, in order; the lengths sum to G.
        path: the cache file ``codes`` is mapped from (``None``: held in memory).

    Attributes:
        names: contig names, in order; lengths: int64, shape=(C,); offsets: start of each
            contig in ``codes``, int64, shape=(C + 1,).
    """

    def __init__(self, codes: np.ndarray, contigs: dict[str, int], path: Path | None = None) -> None:
        self.codes = codes
        self.contigs = dict(contigs)
        self.names = list(self.contigs)
        self.lengths = np.array(list(self.contigs.values()), dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)]).astype(np.int64)
        self.path = path
        self._index = {name: i for i, name in enumerate(self.names)}
        if len(codes) != self.offsets[-1]:
            raise ValueError(f"{len(codes)} codes for contigs of {int(self.offsets[-1])} bp")

    # ------------------------------------------------------------------ building and opening
    @classmethod
    def from_fasta(cls, genome: Any, path: str | Path | None = None, *, fasta_sha256: str | None = None,
                   progress: bool = False) -> "GenomeCodes":
        """Read every contig of ``genome`` (a :class:`mfd_model.genome.Genome`) into codes.

        With ``path``, the codes are written there as a cache (with its ``.json`` header; under a
        temporary name first) and returned memory-mapped; without, they are held in memory.
        ``fasta_sha256`` (the FASTA's checksum, if already known) saves hashing the FASTA again.
        """
        total = int(sum(genome.contigs.values()))
        if path is None:
            codes = np.empty(total, dtype=np.uint8)
            _read_fasta(genome, codes, progress)
            return cls(codes, genome.contigs)
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp_header = path.with_name(f".{sidecar_path(path).name}.tmp-{os.getpid()}")
        try:
            codes = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(total,))
            digest = _read_fasta(genome, codes, progress)
            codes.flush()
            del codes
            stat = os.stat(genome.path)
            header = {"format": FORMAT, "contigs": dict(genome.contigs), "length": total,
                      "fasta": {"path": str(Path(genome.path).absolute()), "size": stat.st_size,
                                "mtime_ns": stat.st_mtime_ns, "sha256": fasta_sha256 or genome.checksum()},
                      "codes_sha256": digest}
            tmp_header.write_text(json.dumps(header, indent=1) + "\n")
            sidecar_path(path).unlink(missing_ok=True)          # never an old header beside new codes
            os.replace(tmp, path)
            os.replace(tmp_header, sidecar_path(path))
        finally:
            tmp.unlink(missing_ok=True)
            tmp_header.unlink(missing_ok=True)
        return cls.open(path, verify=False)

    @classmethod
    def open(cls, path: str | Path, genome: Any = None, *, fasta_sha256: str | None = None,
             verify: bool = True) -> "GenomeCodes":
        """Map an existing cache read-only.

        Args:
            path: the ``.npy`` file.
            genome: the FASTA (a :class:`~mfd_model.genome.Genome`) the cache must match.
            fasta_sha256: that FASTA's sha256, when already known (e.g. checked against a label store).
            verify: hash the code array and compare it with the header.
        Raises:
            CacheMismatch: the cache is missing, corrupt, or made from another FASTA (one line, the reason).
        """
        path = Path(path)
        fix = "delete it and run 'mfd prepare' again (or let 'mfd train' rebuild it)"
        header = _read_header(path, fix)
        contigs = {str(k): int(v) for k, v in header["contigs"].items()}
        try:
            codes = np.load(path, mmap_mode="r", allow_pickle=False) if header["length"] else np.zeros(0, np.uint8)
        except (OSError, ValueError, EOFError) as err:
            raise CacheMismatch(f"corrupt genome code cache: {' '.join(str(err).split())}", path=path, fix=fix) from None
        if (codes.dtype != np.uint8 or codes.ndim != 1 or len(codes) != header["length"]
                or sum(contigs.values()) != header["length"]):
            raise CacheMismatch(f"corrupt genome code cache: {codes.dtype} array of shape {codes.shape}, the header "
                                f"says {header['length']} codes", path=path, fix=fix)
        if genome is not None:
            reason = _fasta_differs(header["fasta"], contigs, genome, fasta_sha256)
            if reason:
                raise CacheMismatch(f"stale genome code cache: {reason}", path=path, fix=fix)
        if verify and _sha256(codes) != header["codes_sha256"]:
            raise CacheMismatch("corrupt genome code cache: its codes do not hash to the recorded sha256",
                                path=path, fix=fix)
        return cls(codes, contigs, path)

    @classmethod
    def open_or_build(cls, path: str | Path, genome: Any, *, fasta_sha256: str | None = None,
                      progress: bool = False) -> "GenomeCodes":
        """The cache at ``path`` for ``genome``: opened if it matches, else (re)built there.

        Raises:
            MFDError: the cache is missing, stale or corrupt and cannot be written (one line).
        """
        path = Path(path)
        try:
            return cls.open(path, genome, fasta_sha256=fasta_sha256)
        except CacheMismatch as problem:
            reason = problem.message
        if path.exists() or sidecar_path(path).exists():
            log.warning("%s: %s; rebuilding it from %s", path, reason, Path(genome.path).name)
        else:
            log.info("building the genome code cache %s from %s", path, Path(genome.path).name)
        try:
            return cls.from_fasta(genome, path, fasta_sha256=fasta_sha256, progress=progress)
        except OSError as err:
            raise MFDError(f"{reason}, and it cannot be rebuilt there ({err.strerror or err})", path=path,
                           fix="run 'mfd prepare' again with a writable store folder") from None

    def __getstate__(self) -> dict[str, Any]:
        """A mapped cache pickles as its path (a worker maps the file again); in-memory codes as themselves."""
        state = dict(self.__dict__)
        if self.path is not None:
            state["codes"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self.codes is None:
            self.codes = np.load(self.path, mmap_mode="r", allow_pickle=False) if self.offsets[-1] else np.zeros(0, np.uint8)

    # ------------------------------------------------------------------ windows
    def contig_index(self, name: str) -> int:
        """Index of contig ``name`` (the FASTA's spelling) in :attr:`names`."""
        if name not in self._index:
            raise KeyError(f"contig {name!r} is not in the genome")
        return self._index[name]

    def windows(self, contigs: np.ndarray, starts: np.ndarray, length: int,
                reverse: np.ndarray | None = None) -> np.ndarray:
        """Base codes of windows ``[start, start + length)``, ``N`` where a window leaves its contig.

        Args:
            contigs: contig index of each window (into :attr:`names`), integer, shape=(B,).
            starts: 0-based window starts (shifts included; may lie before or past the contig), shape=(B,).
            length: window length L in bp.
            reverse: reverse-complement these windows, bool, shape=(B,) (default: none).
        Returns:
            np.ndarray, shape=(B, L), uint8 codes (0..3 = ACGT, 4 = N).
        """
        contigs = np.asarray(contigs, dtype=np.int64).reshape(-1)
        starts = np.asarray(starts, dtype=np.int64).reshape(-1)
        out = np.empty((len(starts), length), dtype=np.uint8)
        if len(starts) == 0 or length == 0:
            return out
        contig_length = self.lengths[contigs]
        inside = (starts >= 0) & (starts + length <= contig_length)
        first = self.offsets[contigs] + starts
        # every window of the genome as a (G - L + 1, L) view (no copy); indexing it copies B rows
        rows = np.lib.stride_tricks.sliding_window_view(self.codes, length) if len(self.codes) >= length else None
        if inside.all():
            out = rows[first]
        else:
            if inside.any():
                out[inside] = rows[first[inside]]
            edge = ~inside
            position = starts[edge, None] + np.arange(length)                   # (E, L) on the contig
            on_contig = (position >= 0) & (position < contig_length[edge, None])
            if len(self.codes):
                index = np.clip(first[edge, None] + np.arange(length), 0, len(self.codes) - 1)
                out[edge] = np.where(on_contig, self.codes[index], N_CODE)
            else:
                out[edge] = N_CODE
        if reverse is not None:
            reverse = np.asarray(reverse, dtype=bool).reshape(-1)
            if reverse.any():
                out[reverse] = COMPLEMENT_CODE[out[reverse, ::-1]]
        return out

    def fetch(self, chrom: str, start: int, end: int) -> np.ndarray:
        """Codes of ``[start, end)`` on contig ``chrom``, N-padded past its ends, shape=(end - start,), uint8."""
        return self.windows(np.array([self.contig_index(chrom)]), np.array([start]), max(end - start, 0))[0]

    def __repr__(self) -> str:
        where = str(self.path) if self.path is not None else "in memory"
        return f"GenomeCodes({where}, {len(self.names)} contigs, {int(self.offsets[-1]):,} bp)"


# ============================================================================== helpers
def _read_fasta(genome: Any, out: np.ndarray, progress: bool) -> str:
    """Fill ``out`` (shape=(G,)) with the codes of every contig, in order; returns their sha256."""
    from tqdm.auto import tqdm

    digest = hashlib.sha256()
    offset = 0
    with tqdm(total=len(out), unit="bp", unit_scale=True, desc="reading FASTA into base codes",
              disable=not progress, leave=False) as bar:
        for name, length in genome.contigs.items():
            for lo in range(0, length, READ_CHUNK):
                hi = min(lo + READ_CHUNK, length)
                codes = base_codes(genome.fetch(name, lo, hi))
                if len(codes) != hi - lo:
                    raise MFDError(f"FASTA returned {len(codes)} bases for {name}:{lo}-{hi}", path=genome.path,
                                   fix="re-create the index (.fai) of the FASTA")
                out[offset + lo:offset + hi] = codes
                digest.update(codes)
                bar.update(hi - lo)
            offset += length
    return digest.hexdigest()


def _sha256(codes: np.ndarray, chunk: int = 1 << 24) -> str:
    digest = hashlib.sha256()
    for lo in range(0, len(codes), chunk):
        digest.update(np.ascontiguousarray(codes[lo:lo + chunk]))
    return digest.hexdigest()


def _read_header(path: Path, fix: str) -> dict[str, Any]:
    header_path = sidecar_path(path)
    if not path.exists() or not header_path.exists():
        missing = path if not path.exists() else header_path
        raise CacheMismatch(f"no genome code cache ({missing.name} is missing)", path=path, fix=fix)
    try:
        header = json.loads(header_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CacheMismatch(f"corrupt genome code cache header ({' '.join(str(err).split())})", path=header_path,
                            fix=fix) from None
    keys = ("contigs", "length", "fasta", "codes_sha256")
    if not isinstance(header, dict) or header.get("format") != FORMAT or any(k not in header for k in keys):
        raise CacheMismatch(f"not a genome code cache header of format {FORMAT!r}", path=header_path, fix=fix)
    return header


def _fasta_differs(recorded: dict[str, Any], contigs: dict[str, int], genome: Any,
                   fasta_sha256: str | None) -> str | None:
    """Why the cache does not hold ``genome`` (``None`` if it does)."""
    if dict(genome.contigs) != contigs or list(genome.contigs) != list(contigs):
        return f"its contigs differ from those of {Path(genome.path).name}"
    if fasta_sha256 is not None:
        return None if fasta_sha256 == recorded["sha256"] else f"made from another FASTA than {Path(genome.path).name}"
    stat = os.stat(genome.path)
    if stat.st_size == recorded["size"] and stat.st_mtime_ns == recorded["mtime_ns"]:
        return None
    if stat.st_size == recorded["size"] and genome.checksum() == recorded["sha256"]:
        return None                                   # the same bytes, copied or touched
    return f"{Path(genome.path).name} changed since the cache was built (size, time and sha256 differ)"
