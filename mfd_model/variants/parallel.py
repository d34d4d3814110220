"""Scoring on several devices with Lightning (``Trainer.predict``), for very large VCFs.

Each device's process reads the VCF and takes its own shard of chunks (:class:`.ChunkStream`
shards by rank and DataLoader worker), scores them with the same
:class:`~.effects.VariantEffectPredictor` as the single-device path, and spools every scored
chunk (its records, rejects and scores; not its windows) to a temporary folder under its chunk
number. When all devices are done, the main process reads the spool back in chunk order and
hands the chunks to the writers, so the outputs are identical to a single-device run.
``devices=1`` runs this same code in-process (no extra process), which is how it is tested.

The ``Trainer`` (``ddp_spawn`` for several devices: the processes are spawned by the call itself,
so ``mfd score-variants`` is not re-executed per device), its errors and each process's set-up are
the one Lightning predict path, :mod:`mfd_model.inference.lightning`, that ``mfd predict`` uses too.
"""
from __future__ import annotations

import dataclasses
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch.utils.data
from lightning.pytorch.callbacks import BasePredictionWriter

from ..errors import MFDError
from ..inference.lightning import DeviceModule, trainer_predict
from ..processes import worker_init_fn
from .dataloader import ChunkFailure, SafeChunkStream, VariantWindowDl, identity
from .effects import VariantEffectPredictor
from .windows import VariantChunk


def _spool_name(index: int) -> str:
    return f"chunk-{index:09d}.pkl"


class ScoringModule(DeviceModule):
    """``predict_step``: one chunk -> ``(chunk without its windows, scores)``."""

    def __init__(self, predictor: VariantEffectPredictor) -> None:
        super().__init__()
        self.predictor = predictor
        self.model = predictor.model  # registered, so Lightning moves it to the device

    def transfer_batch_to_device(self, batch: Any, device: Any, dataloader_idx: int) -> Any:
        return batch  # the predictor moves windows to the device batch by batch

    def on_predict_start(self) -> None:
        super().on_predict_start()
        self.predictor.device = self.device

    def predict_step(self, batch: Any, batch_idx: int) -> Any:
        if isinstance(batch, ChunkFailure):
            return batch
        values = self.predictor.score_chunk(batch).values
        light = dataclasses.replace(batch, ref_windows=batch.ref_windows[:0], alt_windows=batch.alt_windows[:0])
        return light, values


class SpoolWriter(BasePredictionWriter):
    """Writes each scored chunk to ``folder/chunk-<index>.pkl`` (atomically)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(write_interval="batch")
        self.folder = folder

    def write_on_batch_end(self, trainer, pl_module, prediction, batch_indices, batch, batch_idx,
                           dataloader_idx=0) -> None:
        name = "failure.pkl" if isinstance(prediction, ChunkFailure) else _spool_name(prediction[0].index)
        tmp = self.folder / f".{name}.{trainer.global_rank}"
        with open(tmp, "wb") as handle:
            pickle.dump(prediction, handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(self.folder / name)


def lightning_scored_chunks(dl: VariantWindowDl, predictor: VariantEffectPredictor, devices: int | str = 1,
                            accelerator: str = "auto", workers: int = 1) -> Iterator[tuple[VariantChunk, np.ndarray]]:
    """``(chunk, scores)`` in file order, computed by ``Trainer.predict`` on ``devices`` devices."""
    spool = Path(tempfile.mkdtemp(prefix="mfd-score-variants-"))
    try:
        loader = torch.utils.data.DataLoader(SafeChunkStream(dl), batch_size=None, num_workers=workers,
                                             collate_fn=identity, worker_init_fn=worker_init_fn())
        trainer_predict(ScoringModule(predictor), loader, SpoolWriter(spool), devices=devices,
                        accelerator=accelerator, action="score",
                        fix="check --devices / --accelerator (cpu works everywhere)")
        failure = spool / "failure.pkl"
        if failure.exists():
            with open(failure, "rb") as handle:
                f = pickle.load(handle)
            raise MFDError(f.message, path=f.path, line=f.line, fix=f.fix)
        index = 0
        while (spool / _spool_name(index)).exists():
            path = spool / _spool_name(index)
            with open(path, "rb") as handle:
                chunk, values = pickle.load(handle)
            path.unlink()
            yield chunk, values
            index += 1
        left = sorted(p.name for p in spool.glob("chunk-*.pkl"))
        if left:
            raise MFDError(f"multi-device scoring lost chunk {index} (found {left[0]} ...)",
                           fix="re-run; if it persists, run without --devices")
    finally:
        shutil.rmtree(spool, ignore_errors=True)
