"""``mfd train``: from a label store + FASTA + metadata schema to trained MFD weights.

    store + FASTA -> WindowDataset (streaming)  ┐
    metadata + schema -> MetadataEncoder        ├-> MFDLightningModule -> Lightning Trainer (CPU, GPU, DDP)
    config.model -> ModelConfig                 ┘
    -> OUTPUT/checkpoints/{best,last}.ckpt, OUTPUT/model.pt, OUTPUT/logs (CSV), OUTPUT/tensorboard,
       OUTPUT/training_curves.png, OUTPUT/val_per_experiment.tsv, OUTPUT/val_auroc_per_experiment.png,
       OUTPUT/training_summary.json

Training stops at convergence: early stopping on ``val/loss`` (``early_stopping_patience``), a
plateau learning-rate schedule, ``max_epochs`` as the ceiling; ``model.pt`` is the best
checkpoint (minimum ``val/loss``), and ``model.info`` / ``training_summary.json`` record the best
epoch, the epoch it stopped at and why.

The windows are gathered from the FASTA as base codes, memory-mapped from the label store's
cache (``genome.codes.npy``; built on first use if ``mfd prepare`` did not write it).

``--resume`` continues from ``OUTPUT/checkpoints/last.ckpt``. Data order, augmentation and every
step's randomness are functions of (seed, epoch, step), and the data loader skips the batches a
mid-epoch checkpoint had already used, so a resumed run reproduces the uninterrupted one.
"""
from __future__ import annotations

import logging
import shlex
import sys
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader

from mfd_model import __version__
from mfd_model.errors import ConfigError, MFDError
from mfd_model.genome_codes import GenomeCodes
from mfd_model.metadata import MetadataEncoder
from mfd_model.model_io import save_model
from mfd_model.model_spec import ModelSpec
from mfd_model.processes import worker_init_fn
from mfd_model.simulation_layout import SimulationLayout

from .callbacks import (AtomicCheckpointIO, BestCheckpoint, ConvergenceStopping, LastCheckpoint, TrainingPlots,
                        convergence_summary, write_summary)
from .config import TrainConfig, TrainingParams
from .dataset import EpochBatchSampler, WindowDataset
from .labels import LabelStore
from .module import MFDLightningModule

log = logging.getLogger(__name__)


class WindowDataModule(pl.LightningDataModule):
    """Training and validation loaders over the label store (sharded per DDP rank).

    Its state (how many batches of the current epoch were trained) is saved in checkpoints;
    after a mid-epoch resume the training sampler skips those batches.
    """

    def __init__(self, store: LabelStore, genome: GenomeCodes, config: TrainConfig) -> None:
        super().__init__()
        self.store, self.genome, self.config = store, genome, config
        self._skip = 0
        self.train_sampler: EpochBatchSampler | None = None

    def _loader(self, split: str, train: bool) -> DataLoader:
        t = self.config.training
        rank = self.trainer.global_rank if self.trainer else 0
        world = self.trainer.world_size if self.trainer else 1
        sampler = EpochBatchSampler(self.store.indices(split), t.batch_size, shuffle=train, seed=t.seed,
                                    rank=rank, world_size=world, drop_last=train)
        dataset = WindowDataset(self.store, self.genome, self.config.model.seq_len, augment=train,
                                max_shift=t.max_shift, reverse_complement=t.reverse_complement, seed=t.seed)
        if train:
            # Lightning draws the first batch before it calls set_epoch, and after a resume it keeps
            # that iterator: it must already be the resumed epoch's (its number: epochs processed)
            sampler.set_epoch(self.trainer.fit_loop.epoch_progress.current.processed if self.trainer else 0)
            sampler.skip_next(self._skip)
            self._skip = 0
            self.train_sampler = sampler
        return DataLoader(dataset, sampler=sampler, batch_size=None, num_workers=t.num_workers,
                          persistent_workers=False, pin_memory=torch.cuda.is_available(),
                          worker_init_fn=worker_init_fn())  # workers end with the training process

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("valid", train=False)

    def state_dict(self) -> dict[str, Any]:
        progress = self.trainer.fit_loop.epoch_loop.batch_progress.current
        return {"batches_done": int(progress.processed)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        done = int(state_dict.get("batches_done", 0))
        world = self.trainer.world_size if self.trainer else 1
        per_rank = -(-len(self.store.indices("train")) // world)
        total = per_rank // self.config.training.batch_size
        self._skip = done if 0 < done < total else 0


def _initial_biases(store: LabelStore) -> torch.Tensor:
    """Logit of each experiment's positive rate on the training bins, shape=(O,)."""
    rate = store.positives_per_experiment("train") / max(len(store.indices("train")), 1)
    rate = np.clip(rate, 1e-4, 1 - 1e-4)
    return torch.as_tensor(np.log(rate / (1 - rate)), dtype=torch.float32)


def _trained_on(store: LabelStore) -> str:
    """Honest provenance: simulated (``mfd simulate`` leaves its parameters, ``truth/params.json``, beside
    its metadata table: :class:`~mfd_model.simulation_layout.SimulationLayout`) or real data, with what it was."""
    import json
    size = f"{store.n_experiments} experiments, {store.n_bins} bins of {store.bin_size} bp"
    params_file = SimulationLayout(Path(str(store.params.get("metadata", ""))).parent).params_json
    if params_file.exists():
        p = json.loads(params_file.read_text())
        return (f"simulated data from 'mfd simulate' (seed {p.get('seed')}, {p.get('genome_size'):,} bp genome in "
                f"{p.get('n_chromosomes')} chromosomes, planted TF motifs and assay / lab biases): {size}")
    return f"real data: {size} from {Path(store.fasta_path).name} and {Path(str(store.params.get('metadata', ''))).name}"


def _shown(path: str | Path) -> str:
    """A path as recorded in provenance: relative to the working directory when inside it."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def build_spec(config: TrainConfig, store: LabelStore, command: str | None = None) -> dict[str, Any]:
    """The model description (:class:`~mfd_model.model_spec.ModelSpec`'s dictionary form) stored in checkpoints
    and model files, with honest provenance."""
    if config.model.bin_size != store.bin_size:
        raise ConfigError(f"the label store has {store.bin_size} bp bins but the model predicts a central bin of "
                          f"{config.model.bin_size} bp (2 ** (n_tower_layers + 1))", path=config.source,
                          fix="prepare the store with --bin-size equal to the model's bin, or change n_tower_layers")
    encoder = None
    if config.model.head == "mfd":
        encoder = MetadataEncoder.fit(store.metadata, config.schema)
    info = {
        "trained_on": _trained_on(store),
        "label_store": _shown(store.path),
        "fasta": _shown(store.fasta_path), "fasta_sha256": store.fasta_sha256,
        "command": command or " ".join(shlex.quote(a) for a in ["mfd", *sys.argv[1:]]),
        "config": _shown(config.source), "mfd_version": __version__,
        "lambda_indep": config.training.lambda_indep, "seed": config.training.seed,
    }
    return ModelSpec(config.model, list(store.experiment_names), encoder, store.metadata, info).to_dict()


class _DropTips(logging.Filter):
    """Lightning advertises a cloud logger on every run; that line is not about this run."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Tip:" not in record.getMessage()


def _quiet_lightning() -> None:
    logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_DropTips())
    warnings.filterwarnings("ignore", message=".*treespec.*")      # Lightning-internal deprecation
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")


def training_threads(t: TrainingParams) -> int:
    """Intra-op threads per process: the CPU cores of this process's share, minus its data workers."""
    if t.threads:
        return t.threads
    from mfd_model.threads import available_cores

    cores = available_cores()
    processes = int(t.devices) if t.accelerator == "cpu" and str(t.devices).isdigit() else 1
    return max(1, cores // max(processes, 1) - t.num_workers)


def _tensorboard_without_tensorflow() -> None:
    """TensorBoard's event writer imports TensorFlow when it is installed (slow and noisy); its
    own ``tensorboard.compat.notf`` switch makes it use the built-in stub instead."""
    import types
    sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))


def _trainer(config: TrainConfig, store: LabelStore, progress: bool) -> pl.Trainer:
    t = config.training
    out = config.output
    checkpoints = out / "checkpoints"
    # order matters: the history is appended before LastCheckpoint writes the epoch-end last.ckpt
    callbacks = [BestCheckpoint(checkpoints, warmup_epochs=t.lambda_warmup_epochs),
                 TrainingPlots(out, list(store.experiment_names)),
                 LastCheckpoint(checkpoints, t.checkpoint_every_n_steps)]
    if t.early_stopping_patience > 0:
        callbacks.insert(0, ConvergenceStopping(t.early_stopping_patience, t.early_stopping_min_delta,
                                                warmup_epochs=t.lambda_warmup_epochs))
    _tensorboard_without_tensorflow()
    loggers = [pl.loggers.CSVLogger(out, name="logs", version=""),
               pl.loggers.TensorBoardLogger(out, name="tensorboard", version="", default_hp_metric=False)]
    strategy = t.strategy
    several = t.num_nodes > 1 or t.devices not in (1, "1")
    if several and strategy in ("auto", "ddp") and config.model.head == "mfd":
        # two backward passes per step (model, then adversaries): DDP must expect parameters
        # that one of them does not reach
        strategy = "ddp_find_unused_parameters_true"
    elif several and strategy == "auto" and t.accelerator == "cpu":
        strategy = "ddp"
    return pl.Trainer(
        max_epochs=t.max_epochs, accelerator=t.accelerator, devices=t.devices, strategy=strategy,
        num_nodes=t.num_nodes, precision=t.precision, callbacks=callbacks, logger=loggers,
        plugins=[AtomicCheckpointIO()], use_distributed_sampler=False, log_every_n_steps=t.log_every_n_steps,
        limit_train_batches=t.limit_train_batches, limit_val_batches=t.limit_val_batches,
        enable_progress_bar=progress, enable_model_summary=progress, num_sanity_val_steps=0,
        default_root_dir=out, deterministic=False)


def train(config: TrainConfig, *, resume: bool = False, progress: bool = True, command: str | None = None) -> Path:
    """Train MFD as configured; returns the path of the written model file (``OUTPUT/model.pt``).

    ``command`` is the command line recorded as provenance (default: this process's arguments)."""
    store = LabelStore.open(config.data.store)
    genome = store.genome_codes(config.data.fasta, progress=progress)
    last = config.output / "checkpoints" / "last.ckpt"
    if resume and not last.exists():
        raise MFDError(f"nothing to resume: {last} does not exist", path=config.source,
                       fix="start the run without --resume")
    if not resume and last.exists():
        raise MFDError(f"the output folder {config.output} already holds a run", path=config.source,
                       fix="continue it with --resume, or choose another output folder")
    if len(store.indices("train")) < config.training.batch_size:
        raise MFDError(f"only {len(store.indices('train'))} training bins for batch_size "
                       f"{config.training.batch_size}", path=config.source, fix="lower training.batch_size")
    config.output.mkdir(parents=True, exist_ok=True)

    _quiet_lightning()
    torch.set_num_threads(training_threads(config.training))
    pl.seed_everything(config.training.seed, workers=True, verbose=False)
    spec = build_spec(config, store, command)
    module = MFDLightningModule(spec, asdict(config.training))
    if config.training.init_bias_from_data and not resume:
        with torch.no_grad():
            module.model.head.bias.copy_(_initial_biases(store))
    datamodule = WindowDataModule(store, genome, config)
    trainer = _trainer(config, store, progress)
    trainer.fit(module, datamodule=datamodule, ckpt_path=str(last) if resume else None)

    model_path = config.output / "model.pt"
    if trainer.is_global_zero:
        best = config.output / "checkpoints" / "best.ckpt"
        chosen = best if best.exists() else last
        from mfd_model.model_io import load_model
        model = load_model(chosen)
        summary = convergence_summary(trainer)
        if summary["stop_reason"] is None:     # fit returned for another reason (e.g. no training batches)
            epochs = summary["epochs_run"]
            summary.update(stopped_epoch=epochs, stop_reason=f"stopped after {epochs} epochs")
        model.info["checkpoint"] = chosen.name
        model.info.update({key: summary[key]
                           for key in ("best_epoch", "best_val_loss", "stopped_epoch", "stop_reason")})
        save_model(model, model_path)
        write_summary(config.output / "training_summary.json", {**summary, "checkpoint": chosen.name})
        log.info("training stopped after epoch %s: %s; model.pt = best epoch %s (val/loss %s)",
                 summary["epochs_run"], summary["stop_reason"], summary["best_epoch"], summary["best_val_loss"])
    return model_path
