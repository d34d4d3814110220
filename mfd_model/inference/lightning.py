"""The one Lightning predict path: ``Trainer.predict`` on one or several devices.

Both multi-device commands run through here: ``mfd predict --devices N`` (:func:`lightning_predict`,
below) and ``mfd score-variants --devices N`` (:mod:`mfd_model.variants.parallel`). Each brings a
:class:`DeviceModule` (what a batch becomes) and a writer callback (where the results go);
:func:`trainer_predict` owns the rest: the ``Trainer`` (``ddp_spawn`` for several devices, so the
command is not re-executed per device; in-process for one), a device or accelerator the machine
lacks as one :class:`~mfd_model.errors.MFDError` line, Lightning's advice and info logs kept off
the command's output. :class:`DeviceModule` makes each spawned process die with its parent and,
on the CPU, share the command's threads (:mod:`mfd_model.threads`) instead of oversubscribing the cores.

``mfd predict``'s module and writer: each process runs the inference engine's own step
(:meth:`mfd_model.inference.engine.Engine.step`, on the engine's :class:`~.engine.WindowBatches`)
and writes its rows straight into a shared memory-mapped ``.npy`` result by interval index, so
nothing is gathered through the processes and padding duplicates of the distributed sampler just
rewrite identical rows.
"""
from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import torch
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import BasePredictionWriter

from mfd_model.errors import MFDError
from mfd_model.processes import die_with_parent, worker_init_fn

from .engine import Engine
from .sources import WindowSource

# Advice that does not apply here: batches carry their own row indices (no batch-index
# bookkeeping), iterable datasets and few workers are deliberate; a torch / Lightning version note.
_ADVICE = (".*(infer the batch indices|does not have many workers|num_workers|predict_dataloader|IterableDataset|"
           "treespec).*")


def quiet_lightning() -> None:
    """Silence Lightning's advice that does not apply to our predict paths (see ``_ADVICE``)."""
    warnings.filterwarnings("ignore", message=_ADVICE)


# Set at import so that it also holds in the processes ddp_spawn starts (they import this module).
quiet_lightning()


class DeviceModule(LightningModule):
    """Base of the predict modules: what every process does before its first batch.

    A process ``ddp_spawn`` started ends with the command (:func:`~mfd_model.processes.die_with_parent`);
    on the CPU, ``world`` processes share the cores; the caller's warning filters are re-applied
    (a spawned process does not inherit them). Subclasses extend :meth:`on_predict_start` and
    define ``predict_step``.
    """

    def on_predict_start(self) -> None:
        quiet_lightning()
        world = self.trainer.world_size
        if world > 1:
            die_with_parent()
        if self.device.type == "cpu" and world > 1:  # the command's threads (mfd_model.threads), shared
            torch.set_num_threads(max(1, getattr(self, "command_threads", 1) // world))


def trainer_predict(module: DeviceModule, loader: torch.utils.data.DataLoader, writer: BasePredictionWriter, *,
                    devices: int | str = 1, accelerator: str = "auto", progress: bool = False,
                    action: str = "predict", fix: str = "check --devices") -> None:
    """``Trainer.predict(module, loader)`` on ``devices`` devices, results through ``writer`` only.

    Args:
        devices: how many devices (``1``: in this process; more: one ``ddp_spawn`` process each).
        accelerator: Lightning's accelerator (``auto``, ``cpu``, ``gpu``).
        progress: Lightning's progress bar.
        action, fix: for the error when the machine lacks the devices, e.g.
            ``cannot score on 2 device(s) of accelerator 'gpu': ...``.
    """
    quiet = [logging.getLogger(name) for name in ("lightning.pytorch", "lightning.fabric")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:  # no "GPU available", tips and the like around our own progress report
        logger.setLevel(logging.WARNING)
    several = devices not in (1, "1")
    module.command_threads = torch.get_num_threads()  # a spawned process starts with PyTorch's default
    try:
        try:
            trainer = Trainer(accelerator=accelerator, devices=devices, strategy="ddp_spawn" if several else "auto",
                              logger=False, enable_checkpointing=False, enable_model_summary=False,
                              enable_progress_bar=progress, callbacks=[writer], inference_mode=True)
        except (MisconfigurationException, ValueError, RuntimeError) as err:  # e.g. more GPUs than there are
            raise MFDError(f"cannot {action} on {devices} device(s) of accelerator {accelerator!r}: "
                           f"{' '.join(str(err).split())}", fix=fix) from None
        with warnings.catch_warnings():
            quiet_lightning()
            trainer.predict(module, dataloaders=loader, return_predictions=False)
    finally:
        for logger, level in zip(quiet, levels):
            logger.setLevel(level)


class PredictionModule(DeviceModule):
    """Wraps the inference engine for ``Trainer.predict``: a batch ``{"index", "x"}`` -> outputs (b, ...)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.model = engine.model  # registered, so Lightning moves it to the device

    def on_predict_start(self) -> None:
        super().on_predict_start()
        self.runner = self.engine.on(self.device)

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self.runner.step(batch["x"])


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


def lightning_predict(engine: Engine, source: WindowSource, result_path: str | Path, *, devices: int = 1,
                      num_workers: int = 0, progress: bool = True) -> None:
    """Fill ``result_path`` (an (N, ...) float32 ``.npy`` created by the caller) with ``engine``'s outputs
    of the windows of ``source``."""
    dataset = engine.batches(source)
    loader = torch.utils.data.DataLoader(dataset, batch_size=None, shuffle=False, num_workers=num_workers,
                                         worker_init_fn=worker_init_fn())
    devices = max(1, min(devices, len(dataset)))  # a device without a batch would fail Lightning's sampler
    trainer_predict(PredictionModule(engine), loader, MemmapWriter(result_path), devices=devices, progress=progress)
