"""Training throughput and the share of step time spent waiting for data.

    .venv/bin/python benchmarks/bench_training.py [--steps 60] [--workers 0 2] [--channels 32 120] [--threads 0]

Builds a simulated data set (``mfd simulate``, demo size) and its label store under
build/bench_training/, then trains MFD with the real ``mfd train`` pieces (WindowDataModule,
MFDLightningModule, Lightning Trainer) for a fixed number of steps per setting. A callback
records, per step, the time from the end of one training step to the start of the next (the
data loader's turn: gathering windows from the genome code array, encoding, labels) and the step itself.
Reported: sequences per second and the data-wait share. Goal: < 10 % wait with 2 workers.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import lightning.pytorch as pl
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mfd_model.metadata import MetadataSchema  # noqa: E402
from mfd_model.train.config import DataParams, TrainConfig, TrainingParams  # noqa: E402
from mfd_model.config import ModelConfig  # noqa: E402
from mfd_model.train.labels import LabelStore  # noqa: E402
from mfd_model.train.module import MFDLightningModule  # noqa: E402
from mfd_model.train.prepare import PrepareParams, prepare_labels  # noqa: E402
from mfd_model.train.run import WindowDataModule, build_spec, training_threads  # noqa: E402
from mfd_model.simulation_layout import SimulationLayout  # noqa: E402
from mfd_model.train.simulate import SimulationParams, simulate  # noqa: E402


class StepTimer(pl.Callback):
    """Per step: wait = end of previous step -> start of this one; compute = the step itself."""

    def __init__(self, skip: int = 5) -> None:
        self.skip, self.wait, self.compute, self._end, self._start = skip, [], [], None, None

    def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
        self._start = time.perf_counter()
        if self._end is not None and batch_idx >= self.skip:
            self.wait.append(self._start - self._end)

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        if module.device.type == "cuda":  # the step's kernels are done: the gap after it is data wait only
            torch.cuda.synchronize(module.device)
        self._end = time.perf_counter()
        if batch_idx >= self.skip:
            self.compute.append(self._end - self._start)


def dataset(root: Path) -> tuple[Path, Path]:
    sim, store = root / "sim", root / "labels"
    layout = SimulationLayout(sim)
    if not layout.metadata_tsv.exists():
        simulate(sim, SimulationParams())
    if not store.exists():
        prepare_labels(PrepareParams(fasta=str(layout.genome_fa), metadata=str(layout.metadata_tsv),
                                     store=str(store), test_chromosomes=("chr4",)), progress=False)
    return sim, store


def measure(sim: Path, store_path: Path, channels: int, workers: int, steps: int, batch: int,
            accelerator: str, threads: int = 0, *, model: ModelConfig | None = None, warmup: int = 5,
            precision: str = "32-true", training: TrainingParams | None = None) -> dict:
    """Train ``steps`` steps after ``warmup`` with the real loader; ``model`` (default: ``channels`` wide)
    and ``training`` (default: TrainingParams with lambda 0.01) as ``mfd train`` would get them."""
    store = LabelStore.open(store_path)
    training = replace(training or replace(TrainingParams(), lambda_indep=0.01), batch_size=batch,
                       num_workers=workers, max_epochs=1, accelerator=accelerator, threads=threads,
                       limit_train_batches=steps + warmup, limit_val_batches=0, precision=precision)
    config = TrainConfig(DataParams(store=str(store_path)), MetadataSchema.from_yaml(SimulationLayout(sim).schema_yaml),
                         model or ModelConfig(channels=channels), training, Path("/tmp/unused"))
    torch.set_num_threads(training_threads(training))   # as mfd train does
    module = MFDLightningModule(build_spec(config, store), training.__dict__)
    timer = StepTimer(skip=warmup)
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=steps + warmup, limit_val_batches=0, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         callbacks=[timer], accelerator=accelerator, devices=1, use_distributed_sampler=False,
                         precision=precision)
    trainer.fit(module, datamodule=WindowDataModule(store, store.genome_codes(), config))
    wait, compute = sum(timer.wait), sum(timer.compute)
    return {"channels": channels, "workers": workers, "batch": batch, "accelerator": accelerator,
            "threads": torch.get_num_threads(), "steps": len(timer.compute), "seq_per_s": batch * len(timer.compute) / (wait + compute),
            "data_wait_share": wait / (wait + compute)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--channels", type=int, nargs="+", default=[32, 120])
    parser.add_argument("--threads", type=int, nargs="+", default=[0],
                        help="torch threads per process; 0 = as mfd train sizes them (cores minus workers)")
    parser.add_argument("--root", type=Path, default=ROOT / "build" / "bench_training")
    args = parser.parse_args()
    sim, store = dataset(args.root)
    accelerators = ["cpu"] + (["gpu"] if torch.cuda.is_available() else [])
    results = [measure(sim, store, c, w, args.steps, args.batch, a, t)
               for a in accelerators for c in args.channels for w in args.workers for t in args.threads]
    print(f"# {date.today()} {platform.node()} {platform.processor() or platform.machine()}, "
          f"{len(os.sched_getaffinity(0))} cores, {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'}")
    print("| accelerator | channels | workers | torch threads | batch | steps | sequences/s | data-wait share |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['accelerator']} | {r['channels']} | {r['workers']} | {r['threads']} | {r['batch']} | {r['steps']} | "
              f"{r['seq_per_s']:.0f} | {100 * r['data_wait_share']:.1f} % |")
    (args.root / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
