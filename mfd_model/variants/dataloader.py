"""The variant-centred dataloader: VCF + FASTA -> reference and alternative one-hot windows.

:class:`VariantWindowDl` is both

* the Kipoi dataloader of the repository root (``dataloader.yaml`` declares it as a
  ``SampleIterator``; the root ``dataloader.py`` only adds Kipoi's base class): iterating it
  gives one sample per scored allele and shift,
  ``{"inputs": {"ref": (4, L), "alt": (4, L)}, "metadata": {...}}``, float32 one-hot in the
  model's ``(4, L)`` layout; and
* the data path of ``mfd score-variants``: :meth:`VariantWindowDl.chunks` gives the same
  windows grouped per chunk of records (reference windows shared between the ALTs of a site),
  as int8 base indices, ready to batch. :class:`ChunkStream` serves the chunks to a
  ``torch.utils.data.DataLoader`` (worker processes, several devices) in shards.

Rejected alleles are not samples; they are counted in :attr:`VariantWindowDl.reject_counts`
(and logged when the iteration ends), and the chunks carry them with their reasons.

This module imports neither Kipoi nor the model.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch
import torch.utils.data

from ..encoding import one_hot
from ..errors import MFDError, as_mfd_error
from ..genome import Genome
from .vcf import VcfHeader, read_vcf, read_vcf_header
from .windows import VariantChunk, WindowSpec, build_chunk, chunk_records

log = logging.getLogger(__name__)


def parse_shifts(shifts: int | str | Sequence[int] | None) -> tuple[int, ...]:
    """Shifts from an int, a sequence, ``"-3,0,3"`` or a range ``"-3:3"`` (inclusive)."""
    if shifts is None:
        return (0,)
    if isinstance(shifts, (int, np.integer)):
        return (int(shifts),)
    if isinstance(shifts, str):
        text = shifts.strip()
        try:
            if ":" in text:
                lo, hi = (int(v) for v in text.split(":"))
                if hi < lo:
                    raise ValueError
                return tuple(range(lo, hi + 1))
            return tuple(int(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise MFDError(f"cannot read shifts {shifts!r}",
                           fix="write a comma-separated list ('-2,0,2') or an inclusive range ('-3:3')") from None
    return tuple(int(v) for v in shifts)


class VariantWindowDl:
    """Variant-centred reference / alternative windows from a VCF and a FASTA.

    Args:
        vcf_file: VCF, VCF.gz (gzip or BGZF) or BCF.
        fasta_file: reference FASTA, plain or BGZF (indexed on first use if needed).
        seq_len: window length ``L`` (the model's input length).
        shifts: offsets of the variant from the window centre (``0``, ``"-3:3"``, ``[-1, 0, 1]``);
            one sample per allele and shift.
        max_allele_length: REF / ALT alleles longer than this are rejected.
        chunk_size: alleles per chunk (the unit of :meth:`chunks`).
        keep_text: keep each record's raw line on the chunks (for the annotated VCF).

    Samples (iteration): ``inputs.ref`` and ``inputs.alt`` shape=(4, L) float32 (ACGT rows;
    ``N`` all zeros); ``metadata`` with the variant (``chrom``, ``pos``, ``id``, ``ref``,
    ``alt``, ``allele``, ``line``), the ``shift`` and ``ranges`` (the 0-based reference window).
    """

    def __init__(self, vcf_file: str, fasta_file: str, seq_len: int = 1152, shifts: Any = 0,
                 max_allele_length: int = 50, chunk_size: int = 512, keep_text: bool = False) -> None:
        self.vcf_file = str(vcf_file)
        self.fasta_file = str(fasta_file)
        self.spec = WindowSpec(int(seq_len), parse_shifts(shifts), int(max_allele_length))
        if int(chunk_size) < 1:
            raise MFDError(f"chunk size must be >= 1, got {chunk_size}")
        self.chunk_size = int(chunk_size)
        self.keep_text = bool(keep_text)
        self.genome = Genome(self.fasta_file)
        self.header: VcfHeader = read_vcf_header(self.vcf_file)  # fails now on a missing or broken header
        self.reject_counts: Counter = Counter()
        self.n_samples = 0
        self._samples: Iterator[dict] | None = None

    # ------------------------------------------------------------------ chunks (the scorer's path)
    def chunks(self, shard: int = 0, n_shards: int = 1) -> Iterator[VariantChunk]:
        """Chunks ``shard, shard + n_shards, ...`` of the file, in order.

        Every shard reads (cheaply parses) the whole VCF but fetches sequence and cuts windows
        only for its own chunks, so shards can run in separate processes.
        """
        _, records = read_vcf(self.vcf_file, keep_text=self.keep_text)
        for index, batch in enumerate(chunk_records(records, self.chunk_size)):
            if index % n_shards == shard:
                yield build_chunk(index, batch, self.genome, self.spec)

    # ------------------------------------------------------------------ samples (Kipoi's path)
    def samples_of(self, chunk: VariantChunk) -> Iterator[dict]:
        """Kipoi samples of one chunk: one per scored allele and shift, in file order."""
        L = self.spec.seq_len
        for a in range(chunk.n_alleles):
            chrom, pos, vid, ref, alt = chunk.allele_fields(a)
            record = chunk.records[chunk.allele_record[a]]
            variant = {"chrom": chrom, "pos": pos, "id": vid, "ref": ref, "alt": alt,
                       "allele": int(chunk.allele_number[a]),
                       "line": record.line if record.line is not None else -1}
            for k, shift in enumerate(self.spec.shifts):
                start = int(chunk.window_start[a, k])
                yield {
                    "inputs": {"ref": one_hot(chunk.ref_windows[chunk.ref_row[a, k]]),
                               "alt": one_hot(chunk.alt_windows[a, k])},
                    "metadata": {
                        "variant": variant, "shift": int(shift),
                        "ranges": {"chr": chunk.contig[a], "start": start, "end": start + L,
                                   "id": f"{chrom}:{pos}:{ref}:{alt}", "strand": "+"},
                    },
                }

    def _iter_samples(self) -> Iterator[dict]:
        self.reject_counts = Counter()
        self.n_samples = 0
        for chunk in self.chunks():
            self.reject_counts.update(chunk.reject_counts())
            for sample in self.samples_of(chunk):
                self.n_samples += 1
                yield sample
        if self.reject_counts:
            shown = ", ".join(f"{n} {reason}" for reason, n in self.reject_counts.most_common())
            log.warning("%s: %d allele(s) not loaded (%s); mfd score-variants lists them with reasons",
                        Path(self.vcf_file).name, sum(self.reject_counts.values()), shown)

    def __iter__(self) -> "VariantWindowDl":
        self._samples = self._iter_samples()
        return self

    def __next__(self) -> dict:
        if self._samples is None:
            self._samples = self._iter_samples()
        return next(self._samples)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_samples"] = None  # generators do not pickle; workers start their own
        return state


class ChunkStream(torch.utils.data.IterableDataset):
    """The chunks of a :class:`VariantWindowDl` as a torch ``IterableDataset``.

    Inside a ``DataLoader`` with workers, and inside each process of a multi-device run, every
    consumer takes its own shard (chunk ``i`` goes to consumer ``i mod n``), so each chunk is
    built exactly once; a ``DataLoader`` returns its workers' chunks round-robin, i.e. in file
    order (a multi-device run re-orders them by ``VariantChunk.index``).
    """

    def __init__(self, dataloader: VariantWindowDl) -> None:
        self.dl = dataloader

    def __iter__(self) -> Iterator[VariantChunk]:
        info = torch.utils.data.get_worker_info()
        n_workers, worker = (info.num_workers, info.id) if info is not None else (1, 0)
        rank, world = 0, 1
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
        return self.dl.chunks(shard=rank * n_workers + worker, n_shards=world * n_workers)


def identity(x: Any) -> Any:
    """The DataLoader's ``collate_fn``: a chunk is already a batch."""
    return x


@dataclass
class ChunkFailure:
    """An error raised while building a chunk in a worker, carried to the main process."""

    message: str
    path: str | None
    line: int | None
    fix: str | None


class SafeChunkStream(ChunkStream):
    """:class:`ChunkStream` that turns an :class:`MFDError` in a worker, or a failure of the system
    (:func:`~mfd_model.errors.as_mfd_error`), into a :class:`ChunkFailure`."""

    def __iter__(self) -> Iterator[VariantChunk | ChunkFailure]:
        try:
            yield from super().__iter__()
        except Exception as err:
            failure = as_mfd_error(err)
            if failure is None:
                raise
            yield ChunkFailure(failure.message, failure.path, failure.line, failure.fix)
