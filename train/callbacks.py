"""Lightning plumbing for a robust run: atomic checkpoints, a resumable ``last.ckpt``, plots.

* :class:`AtomicCheckpointIO` writes every checkpoint to a temporary name and renames it, so a
  run killed while saving never leaves a corrupt ``last.ckpt`` behind.
* :class:`LastCheckpoint` writes ``last.ckpt`` at the end of every epoch and, optionally, every
  N training steps (mid-epoch resume).
* :class:`TrainingPlots` keeps the metric history (saved in checkpoints, so it survives a
  resume) and redraws ``training_curves.png`` and the per-experiment validation AUROC / AUPRC
  table and histogram after every validation.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from mfd_model.outputs import atomic_path


class AtomicCheckpointIO(TorchCheckpointIO):
    """``torch.save`` to a temporary file in the same folder, then ``os.replace``."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options: Any = None) -> None:
        with atomic_path(path) as tmp:
            torch.save(checkpoint, tmp)


class LastCheckpoint(pl.Callback):
    """Keep ``dirpath/last.ckpt`` current: after every epoch and every ``every_n_steps`` steps."""

    def __init__(self, dirpath: Path, every_n_steps: int = 0) -> None:
        self.path = Path(dirpath) / "last.ckpt"
        self.every_n_steps = every_n_steps

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if self.every_n_steps and trainer.global_step % self.every_n_steps == 0:
            trainer.save_checkpoint(self.path, weights_only=False)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        trainer.save_checkpoint(self.path, weights_only=False)


CURVES = [
    ("BCE loss", ["train/bce_epoch", "val/loss"]),
    ("independence penalty (adversarial R2)", ["train/penalty_epoch", "val/penalty", "train/adversary_r2_epoch"]),
    ("validation AUROC / AUPRC (mean over experiments)", ["val/auroc_mean", "val/auprc_mean"]),
    ("cross-subspace correlation (validation)", ["val/cross_correlation"]),
]


class TrainingPlots(pl.Callback):
    """Metric history -> ``training_curves.png``; per-experiment validation table + histogram."""

    def __init__(self, outdir: Path, experiment_names: list[str]) -> None:
        self.outdir = Path(outdir)
        self.experiment_names = experiment_names
        self.history: list[dict[str, float]] = []

    def state_dict(self) -> dict[str, Any]:
        return {"history": self.history}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.history = list(state_dict.get("history", []))

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if torch.as_tensor(v).numel() == 1}
        self.history.append({"epoch": trainer.current_epoch, **metrics})
        if trainer.is_global_zero:
            self.draw_curves()
            self.write_per_experiment(getattr(pl_module, "per_experiment", {}))

    def draw_curves(self) -> None:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(CURVES), figsize=(4.2 * len(CURVES), 3.4))
        epochs = [h["epoch"] + 1 for h in self.history]
        for ax, (title, keys) in zip(axes, CURVES):
            for key in keys:
                values = [h.get(key, math.nan) for h in self.history]
                if not all(math.isnan(v) for v in values):
                    ax.plot(epochs, values, marker="o", label=key)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("epoch")
            if ax.lines:
                ax.legend(fontsize=7)
        fig.tight_layout()
        _save_figure(fig, self.outdir / "training_curves.png")
        plt.close(fig)

    def write_per_experiment(self, per_experiment: dict[str, np.ndarray]) -> None:
        if not per_experiment:
            return
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = ["experiment\tauroc\tauprc\tval_positives"]
        for name, auroc, auprc, pos in zip(self.experiment_names, per_experiment["auroc"],
                                           per_experiment["auprc"], per_experiment["positives"]):
            rows.append(f"{name}\t{auroc:.4f}\t{auprc:.4f}\t{int(pos)}")
        _write_text(self.outdir / "val_per_experiment.tsv", "\n".join(rows) + "\n")
        auroc = per_experiment["auroc"][~np.isnan(per_experiment["auroc"])]
        fig, ax = plt.subplots(figsize=(4.5, 3.2))
        ax.hist(auroc, bins=20, range=(0, 1))
        ax.set_xlabel("validation AUROC per experiment")
        ax.set_ylabel("experiments")
        ax.set_title(f"mean {auroc.mean():.3f} over {len(auroc)} experiments" if len(auroc) else "no positives")
        fig.tight_layout()
        _save_figure(fig, self.outdir / "val_auroc_per_experiment.png")
        plt.close(fig)


def _save_figure(fig: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format=path.suffix.lstrip("."))


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
