"""Multi-device prediction with Lightning's ``Trainer.predict`` (``mfd predict --devices N``).

One process per device (``ddp_spawn``; GPUs when available, else CPU processes), each taking a
share of the window batches. Every process writes its rows straight into a shared
memory-mapped ``.npy`` result by interval index, so nothing is gathered through the
processes and padding duplicates of the distributed sampler just rewrite identical rows.
``devices=1`` runs the very same path in the current process.
"""
from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import BasePredictionWriter

from mfd_model.errors import MFDError
from mfd_model.model import MFDModel
from mfd_model.processes import die_with_parent, worker_init_fn
from mfd_model.strands import probabilities_step

from .fetch import WindowBatches

# Batches carry their own row indices, so Lightning's batch-index bookkeeping is not needed. Set at
# import so that it also holds in the processes ddp_spawn starts (they import this module).
warnings.filterwarnings("ignore", message=".*infer the batch indices.*")
warnings.filterwarnings("ignore", message=".*does not have many workers.*")
warnings.filterwarnings("ignore", message=".*treespec, LeafSpec.*")  # Lightning 2.6 on torch 2.13


class PredictionModule(LightningModule):
    """Wraps the model for ``Trainer.predict``: a batch ``{"index", "x"}`` -> probabilities (b, O)."""

    def __init__(self, model: MFDModel, reverse_complement: bool) -> None:
        super().__init__()
        self.model = model
        self.reverse_complement = reverse_complement

    def on_predict_start(self) -> None:
        from .fast_model import inference_model

        world = self.trainer.world_size
        if world > 1:  # a process ddp_spawn started: it ends with the command
            die_with_parent()
        if self.device.type == "cpu" and world > 1:  # share the cores instead of oversubscribing them
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
        self.net = inference_model(self.model, self.device).to(self.device)

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return probabilities_step(self.net, batch["x"], self.reverse_complement)


class MemmapWriter(BasePredictionWriter):
    """Writes each batch's probabilities into rows ``batch["index"]`` of the shared ``.npy`` file."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(write_interval="batch")
        self.path = str(path)
        self._out: np.ndarray | None = None

    def write_on_batch_end(self, trainer, pl_module, prediction, batch_indices, batch, batch_idx,
                           dataloader_idx) -> None:
        if self._out is None:
            self._out = np.load(self.path, mmap_mode="r+")
        self._out[batch["index"].cpu().numpy()] = prediction.float().cpu().numpy()

    def on_predict_end(self, trainer, pl_module) -> None:
        if self._out is not None:
            self._out.flush()
            self._out = None


def lightning_predict(model: MFDModel, dataset: WindowBatches, result_path: str | Path, *,
                      reverse_complement: bool = False, devices: int = 1, num_workers: int = 0,
                      progress: bool = True) -> None:
    """Fill ``result_path`` (an (N, O) float32 ``.npy`` created by the caller) with probabilities."""
    loader = torch.utils.data.DataLoader(dataset, batch_size=None, shuffle=False, num_workers=num_workers,
                                         worker_init_fn=worker_init_fn())
    quiet = [logging.getLogger(name) for name in ("lightning.pytorch", "lightning.fabric")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:  # no "GPU available", tips and the like around our own progress report
        logger.setLevel(logging.WARNING)
    devices = max(1, min(devices, len(dataset)))  # a device without a batch would fail Lightning's sampler
    try:
        try:
            trainer = Trainer(accelerator="auto", devices=devices, strategy="ddp_spawn" if devices > 1 else "auto",
                              logger=False, enable_checkpointing=False, enable_model_summary=False,
                              enable_progress_bar=progress, callbacks=[MemmapWriter(result_path)], inference_mode=True)
        except (MisconfigurationException, ValueError, RuntimeError) as err:  # e.g. more GPUs than there are
            raise MFDError(f"cannot predict on {devices} device(s): {' '.join(str(err).split())}",
                           fix="check --devices") from None
        trainer.predict(PredictionModule(model.eval(), reverse_complement), dataloaders=loader,
                        return_predictions=False)
    finally:
        for logger, level in zip(quiet, levels):
            logger.setLevel(level)
