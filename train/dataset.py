"""Streaming training data: sequence windows gathered from the genome's code array, labels from the store.

Nothing is materialised up front: a batch is a list of label-store rows; the dataset gathers the
``seq_len`` windows centred on the batch's bins in one vectorised step from the genome held as
base codes (:class:`mfd_model.genome_codes.GenomeCodes`, the label store's memory-mapped cache;
``N`` past contig ends), one-hot encodes them (:func:`mfd_model.encoding.one_hot`) and gathers
the batch's labels from the sparse store. The batches are bit for bit those of reading each
window from the FASTA and one-hot encoding it (tests/test_train.py checks against such a reader).

Augmentation (training only, paper, docs/method.md section 3): random reverse complement
(p = 0.5) and a random shift of the window by up to ``max_shift`` bp. The randomness is a pure
function of (seed, epoch, batch number), so data order and augmentation are reproducible,
independent of the number of workers, and identical after resuming a killed run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from mfd_model.encoding import one_hot
from mfd_model.genome_codes import GenomeCodes

from .labels import LabelStore


@dataclass(frozen=True)
class BatchKey:
    """What the sampler hands the dataset: the rows of one batch and where they come from."""

    epoch: int
    number: int
    rows: np.ndarray


class EpochBatchSampler(Sampler[BatchKey]):
    """Batches of label-store rows: shuffled per epoch with ``rng(seed, epoch)``, sharded by rank.

    Every rank gets the same number of batches (the permutation is padded by wrapping around), as
    DDP requires. After a mid-epoch resume, :meth:`skip_next` drops the batches already trained on.

    Args:
        rows: label-store rows of this split, shape=(n,).
        batch_size: rows per batch.
        shuffle: shuffle per epoch (training) or keep the order (validation).
        seed: base seed.
        rank / world_size: this process's shard.
        drop_last: drop a final incomplete batch.
    """

    def __init__(self, rows: np.ndarray, batch_size: int, *, shuffle: bool, seed: int = 0,
                 rank: int = 0, world_size: int = 1, drop_last: bool = False) -> None:
        self.rows = np.asarray(rows, dtype=np.int64)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.drop_last = drop_last
        self.epoch = 0
        self._skip = 0

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning at the start of every epoch."""
        self.epoch = epoch

    def skip_next(self, batches: int) -> None:
        """Leave out the first ``batches`` batches of the next iteration (mid-epoch resume)."""
        self._skip = batches

    def _shard(self) -> np.ndarray:
        order = self.rows
        if self.shuffle:
            order = order[np.random.default_rng([self.seed, self.epoch]).permutation(len(order))]
        per_rank = -(-len(order) // self.world_size)
        if per_rank * self.world_size > len(order) and len(order):
            order = np.resize(order, per_rank * self.world_size)
        return order[self.rank::self.world_size]

    def __len__(self) -> int:
        per_rank = -(-len(self.rows) // self.world_size)
        return per_rank // self.batch_size if self.drop_last else -(-per_rank // self.batch_size)

    def __iter__(self) -> Iterator[BatchKey]:
        shard = self._shard()
        skip, self._skip = self._skip, 0
        for number in range(skip, len(self)):
            rows = shard[number * self.batch_size:(number + 1) * self.batch_size]
            yield BatchKey(self.epoch, number, rows)


class WindowDataset(Dataset):
    """Batches of (one-hot windows, labels) for label-store rows.

    Args:
        store: the label store.
        genome: the genome the store was made from, as base codes (:meth:`LabelStore.genome_codes
            <mfd_model.train.labels.LabelStore.genome_codes>` opens the store's cache).
        seq_len: window length in bp, centred on the bin.
        augment: apply reverse complement / shift augmentation.
        max_shift: largest shift in bp.
        reverse_complement: with ``augment``, reverse-complement half of the windows.
        seed: base seed of the augmentation.

    ``dataset[key]`` with a :class:`BatchKey` returns ``(x, y)``: x shape=(B, 4, seq_len) float32,
    y shape=(B, O) float32.
    """

    def __init__(self, store: LabelStore, genome: GenomeCodes, seq_len: int, *, augment: bool,
                 max_shift: int = 3, reverse_complement: bool = True, seed: int = 0) -> None:
        self.store = store
        self.genome = genome
        self.seq_len = seq_len
        self.augment = augment
        self.max_shift = max_shift
        self.reverse_complement = reverse_complement
        self.seed = seed
        # label-store contig index -> index into the code array's contigs
        self.contig_ids = np.array([genome.contig_index(name) for name in store.contigs], dtype=np.int64)

    def __len__(self) -> int:
        return self.store.n_bins

    def window_starts(self, rows: np.ndarray) -> np.ndarray:
        """Start of the window centred on each bin, shape=(B,)."""
        centre = self.store.bin_start[rows] + self.store.bin_size // 2
        return centre - self.seq_len // 2

    def augmentation(self, key: BatchKey) -> tuple[np.ndarray, np.ndarray]:
        """The batch's shifts (int64, shape=(B,)) and reverse-complement flags (bool, shape=(B,)):
        a pure function of (seed, epoch, batch number); zeros / ``False`` without ``augment``."""
        n = len(key.rows)
        if not self.augment:
            return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
        rng = np.random.default_rng([self.seed, key.epoch, key.number])
        shifts = rng.integers(-self.max_shift, self.max_shift + 1, size=n)
        flip = (rng.random(n) < 0.5) & self.reverse_complement
        return shifts, flip

    def codes(self, key: BatchKey) -> np.ndarray:
        """The batch's windows as base codes (shifted, reverse-complemented), shape=(B, seq_len), uint8."""
        rows = np.asarray(key.rows)
        shifts, flip = self.augmentation(key)
        contigs = self.contig_ids[self.store.bin_contig[rows]]
        return self.genome.windows(contigs, self.window_starts(rows) + shifts, self.seq_len, reverse=flip)

    def __getitem__(self, key: BatchKey) -> tuple[torch.Tensor, torch.Tensor]:
        x = one_hot(self.codes(key))
        y = self.store.labels(np.asarray(key.rows))
        return torch.from_numpy(x), torch.from_numpy(np.asarray(y, dtype=np.float32))
