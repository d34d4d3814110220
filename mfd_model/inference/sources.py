"""Where the inference engine's windows come from: a window source gives window ``rows`` at a shift.

The engine (:mod:`.engine`) reads windows only through :class:`WindowSource`: ``len(source)``
windows, ``source.windows(rows, shift)`` the batch of ``rows`` moved by ``shift`` bp, as integer
base codes ``(b, L)`` (:mod:`mfd_model.encoding`: 0..3 = ACGT, 4 or -1 = N) or one-hot DNA
``(b, 4, L)``, and optionally ``source.order``, the order to visit the windows in (genomic
order, so that a batch of a FASTA is read with few accesses). Two sources:

* :class:`ArrayWindows` -- windows already in memory (a numpy array or a tensor): ISM mutants, GIA
  backgrounds, the variant scorer's allele windows. They cannot be shifted (no sequence around them).
* :class:`GenomeWindows` -- windows of a FASTA (``mfd predict``, ``mfd embed``, ``mfd evaluate``):
  batched reads (:func:`.fetch.fetch_codes`), ``N`` past contig ends, shifts added to the starts,
  visited in genomic order. Picklable: DataLoader workers reopen the FASTA themselves.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from mfd_model.errors import MFDError
from mfd_model.genome import Genome

from .fetch import factorize, fetch_codes


@runtime_checkable
class WindowSource(Protocol):
    """Random access to ``len(source)`` windows of one length ``L``.

    ``windows(rows, shift)``: the windows at ``rows`` (shape=(b,), int64) moved by ``shift`` bp,
    as integer base codes shape=(b, L) or one-hot DNA shape=(b, 4, L) (numpy or torch, CPU).
    """

    def __len__(self) -> int: ...

    def windows(self, rows: np.ndarray, shift: int) -> np.ndarray | torch.Tensor: ...


class ArrayWindows:
    """Windows held in memory: ``X`` shape=(N, L) integer codes or (N, 4, L) one-hot (numpy or torch).

    Only shift 0 exists: a shifted window needs the sequence around it (use :class:`GenomeWindows`).
    """

    def __init__(self, X: np.ndarray | torch.Tensor) -> None:
        if not isinstance(X, torch.Tensor):
            X = torch.from_numpy(np.ascontiguousarray(X))
        if X.ndim < 2:
            raise MFDError(f"windows must have shape (N, L) (base codes) or (N, 4, L) (one-hot), got {tuple(X.shape)}",
                           fix="stack the windows into one array")
        self.X = X

    def __len__(self) -> int:
        return self.X.shape[0]

    def windows(self, rows: np.ndarray, shift: int) -> torch.Tensor:
        if shift != 0:
            raise MFDError(f"windows given as an array cannot be shifted (shift {shift})",
                           fix="pass shifts=(0,), or the windows' genome (mfd_model.inference.sources.GenomeWindows)")
        return self.X[torch.as_tensor(rows, dtype=torch.long)]


class GenomeWindows:
    """Windows ``[start + shift, start + shift + length)`` of a FASTA, as uint8 base codes (N past contig ends).

    Args:
        genome: a :class:`~mfd_model.genome.Genome` or the FASTA's path (plain or BGZF).
        contigs: each window's contig, as the FASTA spells it, shape=(N,).
        starts: 0-based window starts at shift 0, shape=(N,).
        length: window length ``L`` (the model's ``seq_len``).

    ``order`` visits the windows by contig and start, so that each batch is cut from few FASTA reads.
    """

    def __init__(self, genome: Genome | str | Path, contigs: np.ndarray, starts: np.ndarray, length: int) -> None:
        self.genome = genome if isinstance(genome, Genome) else Genome(genome)
        self.contigs = np.asarray(contigs, dtype=object)
        self.starts = np.asarray(starts, dtype=np.int64)
        self.length = int(length)
        if self.contigs.shape != self.starts.shape:
            raise ValueError(f"{len(self.contigs)} contigs but {len(self.starts)} starts")
        self.order = (np.lexsort((self.starts, factorize(self.contigs)[0])) if len(self.starts)
                      else np.zeros(0, dtype=np.int64))

    @classmethod
    def of(cls, windows) -> "GenomeWindows":
        """The source of :class:`mfd_model.interpret.windows.Windows` (their genome, contigs and starts)."""
        return cls(windows.genome, windows.chrom, windows.start, windows.seq_len)

    def __len__(self) -> int:
        return len(self.starts)

    def windows(self, rows: np.ndarray, shift: int) -> np.ndarray:
        """Base codes, shape=(len(rows), L), uint8."""
        return fetch_codes(self.genome, self.contigs[rows], self.starts[rows] + int(shift), self.length)
