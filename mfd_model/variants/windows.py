"""Variant-centred windows: the sequence edits of variant scoring (no model in this module).

Geometry (``L`` = the model's input length, ``c = (L - 1) // 2``, ``d`` = a shift in bp,
``POS0`` = VCF POS - 1, the first REF base)::

    reference window    genome[POS0 - c - d, POS0 - c - d + L)
    alternative window  left + right, the window split after the first REF base (index t = c + d + 1):
      SNV, MNV, deletion, complex:   genome[POS0 - c - d, POS0) + ALT + genome[POS0 + len(REF), ...)  cut to L
      insertion (REF one base):      last t bases of (genome[.., POS0) + ALT)  +  genome[POS0 + 1, ...)

The first REF base sits at index ``c + d`` of the reference window, the middle base for odd
``L`` and the last base of the left half for even ``L`` (1152: index 575); shift ``d`` moves the
variant ``d`` bp to the right. Both windows have exactly ``L`` bases, and the split point after
the first REF base stays where it is:

* an SNV changes one position; an MNV its bases;
* a deletion (VCF ``REF=AGT ALT=A``) keeps the upstream bases, removes the deleted ones and
  pulls as many downstream bases in at the right end;
* an insertion (``REF=A ALT=ATTG``) keeps the downstream bases and puts the inserted bases just
  before the split point, pushing as many upstream bases out at the left end.

This is kipoiseq's ``VariantSeqExtractor`` with the anchor after the first REF base, i.e. what
kipoi-veff2 does (``Interval(POS0, POS0 + 1).resize(L)``, ``anchor=interval.center()``): at
shift 0 on the forward strand our windows are kipoi-veff2's (the tests compare them).

All ALTs of a record, and all records at the same position, share the reference windows
(one reference window per distinct genomic start in a chunk).

An allele is *rejected* (never scored, always reported) when its record is malformed, it is
not a sequence (symbolic ``<DEL>``, ``*``, breakends), it is longer than
``max_allele_length``, its contig is not in the FASTA, REF differs from the FASTA
(case-insensitive), or any of its windows would leave the contig.

Sequences are handled as int8 base indices ``(.., L)`` (A, C, G, T -> 0..3, anything else
-> -1; :func:`mfd_model.encoding.base_indices`); :func:`mfd_model.encoding.one_hot` turns them
into the model's ``(N, 4, L)`` float32 layout.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from ..encoding import base_indices
from ..errors import ConfigError
from ..genome import Genome
from .vcf import VcfRecord

# Reasons a record or an allele is not scored (the REASON column of the rejects TSV).
MALFORMED = "malformed_record"
NO_ALT = "no_alt_allele"
SYMBOLIC = "symbolic_allele"
INVALID_ALLELE = "invalid_allele"
TOO_LONG = "allele_too_long"
UNKNOWN_CONTIG = "unknown_contig"
REF_MISMATCH = "ref_mismatch"
OUTSIDE = "window_outside_contig"
REASONS = {
    MALFORMED: "the VCF record cannot be parsed",
    NO_ALT: "the record has no ALT allele (ALT is '.')",
    SYMBOLIC: "a symbolic ALT (<DEL>, <CN0>, ...), a spanning deletion '*' or a breakend: not a sequence",
    INVALID_ALLELE: "the ALT allele has characters other than A, C, G, T, N",
    TOO_LONG: "REF or ALT is longer than the maximum allele length",
    UNKNOWN_CONTIG: "the contig is not in the FASTA (also under its chr-prefixed / unprefixed alias)",
    REF_MISMATCH: "REF differs from the FASTA at that position",
    OUTSIDE: "a scoring window would run past the contig end",
}
_ALT_RE = re.compile(r"[ACGTNacgtn]+")


@dataclass(frozen=True)
class WindowSpec:
    """What windows to cut around each variant.

    Attributes:
        seq_len: ``L``, the model's input length.
        shifts: offsets ``d`` of the variant from the window centre, averaged over by the scorer.
        max_allele_length: longer REF or ALT alleles are rejected (``allele_too_long``).
    """

    seq_len: int
    shifts: tuple[int, ...] = (0,)
    max_allele_length: int = 50

    def __post_init__(self) -> None:
        object.__setattr__(self, "shifts", tuple(int(d) for d in self.shifts))
        if self.seq_len < 2:
            raise ConfigError(f"window length must be >= 2, got {self.seq_len}")
        if not self.shifts:
            raise ConfigError("at least one shift is needed", fix="use --shifts 0")
        if len(set(self.shifts)) != len(self.shifts):
            raise ConfigError(f"shifts must be distinct, got {list(self.shifts)}")
        outside = [d for d in self.shifts if not 0 <= self.centre + d < self.seq_len]
        if outside:
            shown = ", ".join(map(str, outside[:5])) + (", ..." if len(outside) > 5 else "")
            raise ConfigError(f"shift(s) {shown} put the variant outside the {self.seq_len} bp window",
                              fix=f"use shifts between {-self.centre} and {self.seq_len - self.centre - 1}")
        if not 1 <= self.max_allele_length <= self.seq_len:
            raise ConfigError(f"max allele length must be between 1 and {self.seq_len}, got {self.max_allele_length}")

    @property
    def centre(self) -> int:
        """``c = (L - 1) // 2``: the index of the first REF base at shift 0.

        The middle base for odd ``L``, the last base of the left half for even ``L`` -- where
        kipoi-veff2 puts an SNV (kipoiseq's ``Interval(pos - 1, pos).resize(L)``), so SNV scores
        at shift 0 on the forward strand are the ones kipoi-veff2 computes.
        """
        return (self.seq_len - 1) // 2

    @property
    def n_shifts(self) -> int:
        return len(self.shifts)

    def variant_index(self) -> np.ndarray:
        """Index of the first REF base in the window, per shift. Shape=(K,)."""
        return self.centre + np.asarray(self.shifts, dtype=np.int64)

    def starts(self, pos0: int) -> np.ndarray:
        """Window starts (0-based genome coordinates) per shift. Shape=(K,)."""
        return pos0 - self.variant_index()

    def span(self, pos0: int, ref_len: int, alt_len: int) -> tuple[int, int]:
        """Genome range ``[lo, hi)`` that all windows of one allele read."""
        starts = self.starts(pos0)
        alt_fill = np.maximum(0, self.seq_len - self.variant_index() - alt_len)
        hi = max(int(starts.max()) + self.seq_len, int((pos0 + ref_len + alt_fill).max()), pos0 + ref_len)
        return int(starts.min()), hi


@dataclass(frozen=True)
class Reject:
    """An allele (or a whole record) that is not scored, and why.

    Attributes:
        record: position of the record in its chunk's ``records``.
        allele: 0-based ALT number, or -1 for the whole record (malformed, no ALT).
        reason: one of :data:`REASONS`.
        detail: a human sentence with the specifics.
    """

    record: int
    allele: int
    reason: str
    detail: str


@dataclass
class VariantChunk:
    """A run of consecutive VCF records with everything needed to score them.

    ``A`` scored alleles, ``R`` distinct reference windows, ``K`` shifts, ``L`` window length.

    Attributes:
        index: chunk number in the file (0, 1, ...), the order outputs are written in.
        records: the input records, in file order.
        allele_record: record (position in ``records``) of each scored allele, shape=(A,).
        allele_number: 0-based ALT number of each scored allele, shape=(A,).
        ref_windows: distinct reference windows as base indices, shape=(R, L), int8.
        ref_row: reference window (row of ``ref_windows``) per allele and shift, shape=(A, K).
        alt_windows: alternative windows as base indices, shape=(A, K, L), int8.
        window_start: 0-based genome start of each allele's window per shift, shape=(A, K).
        contig: the FASTA's name of each allele's contig (after aliasing), length A.
        rejects: the alleles and records not scored, in file order.
    """

    index: int
    records: list[VcfRecord]
    allele_record: np.ndarray
    allele_number: np.ndarray
    ref_windows: np.ndarray
    ref_row: np.ndarray
    alt_windows: np.ndarray
    window_start: np.ndarray
    contig: list[str]
    rejects: list[Reject] = field(default_factory=list)

    @property
    def n_alleles(self) -> int:
        """Scored alleles in this chunk."""
        return int(self.allele_record.shape[0])

    @property
    def n_input_alleles(self) -> int:
        """Alleles this chunk accounts for (scored + rejected)."""
        return sum(r.n_alleles for r in self.records)

    def allele_fields(self, a: int) -> tuple[str, int, str, str, str]:
        """``(CHROM, POS, ID, REF, ALT)`` of scored allele ``a`` as written in the VCF."""
        record = self.records[self.allele_record[a]]
        return record.chrom, record.pos, record.id, record.ref, record.alts[self.allele_number[a]]

    def reject_counts(self) -> Counter:
        return Counter(r.reason for r in self.rejects)


def classify_alt(ref: str, alt: str, max_len: int) -> tuple[str, str] | None:
    """Why an ALT allele cannot be scored (``(reason, detail)``), or ``None`` if it can."""
    if alt.startswith("<") or alt == "*" or "[" in alt or "]" in alt or alt.startswith(".") or alt.endswith("."):
        return SYMBOLIC, f"ALT {alt!r} is symbolic, not a sequence"
    if not _ALT_RE.fullmatch(alt):
        return INVALID_ALLELE, f"ALT {alt!r} has characters other than A, C, G, T, N"
    if len(alt) > max_len or len(ref) > max_len:
        longest = max(len(alt), len(ref))
        return TOO_LONG, f"allele of {longest} bp is longer than the maximum {max_len} bp (--max-allele-length)"
    return None


@dataclass
class _Pending:
    """An allele that passed the record-level checks, waiting for its sequence."""

    record: int
    allele: int
    contig: str
    pos0: int
    ref: str
    alt: str
    lo: int
    hi: int


def _fetch_clusters(genome: Genome, contig: str, spans: Sequence[tuple[int, int]], seq_len: int,
                    max_cluster: int = 1 << 22) -> list[tuple[int, int, str, np.ndarray]]:
    """Fetch nearby spans of one contig together: ``[(lo, hi, sequence, indices), ...]``."""
    clusters: list[list[int]] = []
    for lo, hi in sorted(spans):
        if clusters and lo <= clusters[-1][1] + seq_len and hi - clusters[-1][0] <= max_cluster:
            clusters[-1][1] = max(clusters[-1][1], hi)
        else:
            clusters.append([lo, hi])
    out = []
    for lo, hi in clusters:
        sequence = genome.fetch(contig, lo, hi)
        out.append((lo, hi, sequence, base_indices(sequence)))
    return out


def _alternative(buf: np.ndarray, offset: int, start: int, pos0: int, ref_len: int, alt: np.ndarray,
                 at: int, L: int) -> np.ndarray:
    """One alternative window (base indices, shape=(L,)) for a window starting at ``start``.

    ``buf`` holds the genome from ``offset``; ``at`` is the index of the first REF base.
    """
    split = at + 1
    if ref_len == 1 and len(alt) > 1:          # insertion: the inserted bases go left of the split
        n = len(alt)
        left = alt[-split:] if n >= split else np.concatenate([buf[pos0 - (split - n) - offset:pos0 - offset], alt])
        right = buf[pos0 + 1 - offset:pos0 + 1 - offset + L - split]
        return np.concatenate([left, right])
    fill = max(0, L - at - len(alt))
    right_start = pos0 + ref_len - offset
    return np.concatenate([buf[start - offset:pos0 - offset], alt, buf[right_start:right_start + fill]])[:L]


def build_chunk(index: int, records: list[VcfRecord], genome: Genome, spec: WindowSpec) -> VariantChunk:
    """Check the records of one chunk against the genome and cut their windows.

    Args:
        index: chunk number.
        records: consecutive VCF records.
        genome: the reference FASTA.
        spec: window length, shifts and allele length limit.
    Returns:
        the chunk, with rejected alleles listed in ``rejects``.
    """
    rejects: list[Reject] = []
    pending: list[_Pending] = []
    for r, record in enumerate(records):
        if record.error is not None:
            rejects.append(Reject(r, -1, MALFORMED, f"malformed VCF record ({record.where}): {record.error}"))
            continue
        if not record.alts:
            rejects.append(Reject(r, -1, NO_ALT, "ALT is '.': no alternative allele to score"))
            continue
        contig = genome.resolve(record.chrom)
        for k, alt in enumerate(record.alts):
            problem = classify_alt(record.ref, alt, spec.max_allele_length)
            if problem is None and contig is None:
                problem = (UNKNOWN_CONTIG, f"contig {record.chrom!r} is not in the FASTA {genome.path.name}")
            if problem is None:
                pos0 = record.pos - 1
                lo, hi = spec.span(pos0, len(record.ref), len(alt))
                length = genome.contigs[contig]
                if lo < 0:
                    problem = (OUTSIDE, f"its windows would start {-lo} bp before the start of {contig}")
                elif hi > length:
                    problem = (OUTSIDE, f"its windows would end {hi - length} bp after the end of {contig} "
                                        f"({length:,} bp)")
                if problem is None:
                    pending.append(_Pending(r, k, contig, pos0, record.ref, alt, lo, hi))
            if problem is not None:
                rejects.append(Reject(r, k, *problem))

    # Fetch the sequence once per cluster of nearby alleles, then check REF.
    by_contig: dict[str, list[_Pending]] = {}
    for p in pending:
        by_contig.setdefault(p.contig, []).append(p)
    buffers: dict[int, tuple[int, str, np.ndarray]] = {}
    for contig, items in by_contig.items():
        clusters = _fetch_clusters(genome, contig, [(p.lo, p.hi) for p in items], spec.seq_len)
        starts = [c[0] for c in clusters]
        for p in items:
            c = int(np.searchsorted(starts, p.lo, side="right")) - 1
            buffers[id(p)] = (clusters[c][0], clusters[c][2], clusters[c][3])
    scored: list[_Pending] = []
    for p in pending:
        offset, sequence, _ = buffers[id(p)]
        genome_ref = sequence[p.pos0 - offset:p.pos0 - offset + len(p.ref)]
        if genome_ref != p.ref.upper():
            rejects.append(Reject(p.record, p.allele, REF_MISMATCH,
                                  f"REF {p.ref!r} but the FASTA has {genome_ref!r} at {p.contig}:{p.pos0 + 1}"))
        else:
            scored.append(p)
    rejects.sort(key=lambda x: (x.record, x.allele))

    # Cut the windows.
    K, L = spec.n_shifts, spec.seq_len
    A = len(scored)
    vidx = spec.variant_index()
    ref_keys: dict[tuple[str, int], int] = {}
    ref_list: list[np.ndarray] = []
    ref_row = np.zeros((A, K), dtype=np.int32)
    window_start = np.zeros((A, K), dtype=np.int64)
    alt_windows = np.empty((A, K, L), dtype=np.int8)
    snv = np.zeros(A, dtype=bool)
    snv_base = np.zeros(A, dtype=np.int8)
    for a, p in enumerate(scored):
        offset, _, buf = buffers[id(p)]
        starts = p.pos0 - vidx
        window_start[a] = starts
        for k, s in enumerate(starts):
            key = (p.contig, int(s))
            row = ref_keys.get(key)
            if row is None:
                row = ref_keys[key] = len(ref_list)
                ref_list.append(buf[s - offset:s - offset + L])
            ref_row[a, k] = row
        if len(p.ref) == 1 and len(p.alt) == 1:
            snv[a] = True
            snv_base[a] = base_indices(p.alt)[0]
            continue
        alt_bases = base_indices(p.alt)
        for k, s in enumerate(starts):
            alt_windows[a, k] = _alternative(buf, offset, int(s), p.pos0, len(p.ref), alt_bases, int(vidx[k]), L)
    ref_windows = np.stack(ref_list) if ref_list else np.zeros((0, L), dtype=np.int8)
    if snv.any():
        rows = np.nonzero(snv)[0]
        alt_windows[rows] = ref_windows[ref_row[rows]]
        alt_windows[rows[:, None], np.arange(K)[None, :], vidx[None, :]] = snv_base[rows, None]
    return VariantChunk(
        index=index, records=records,
        allele_record=np.array([p.record for p in scored], dtype=np.int64),
        allele_number=np.array([p.allele for p in scored], dtype=np.int64),
        ref_windows=ref_windows, ref_row=ref_row, alt_windows=alt_windows, window_start=window_start,
        contig=[p.contig for p in scored], rejects=rejects)


def chunk_records(records: Iterable[VcfRecord], chunk_size: int) -> Iterable[list[VcfRecord]]:
    """Group records into runs of about ``chunk_size`` alleles (never splitting a record)."""
    batch: list[VcfRecord] = []
    n = 0
    for record in records:
        batch.append(record)
        n += record.n_alleles
        if n >= chunk_size:
            yield batch
            batch, n = [], 0
    if batch:
        yield batch
