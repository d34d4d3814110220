"""Lightning plumbing for a robust run: atomic checkpoints, a resumable ``last.ckpt``, plots.

* :class:`AtomicCheckpointIO` writes every checkpoint to a temporary name and renames it, so a
  run killed while saving never leaves a corrupt ``last.ckpt`` behind.
* :class:`LastCheckpoint` writes ``last.ckpt`` at the end of every epoch and, optionally, every
  N training steps (mid-epoch resume).
* :class:`TrainingPlots` keeps the metric history (saved in checkpoints, so it survives a
  resume) and redraws ``training_curves.png`` and the per-experiment validation AUROC / AUPRC
  table and histogram after every validation.
* :class:`ConvergenceStopping` (Lightning's EarlyStopping on ``val/loss``) and
  :class:`BestCheckpoint` (``best.ckpt``, minimum ``val/loss``) both ignore the lambda warm-up
  epochs; :func:`convergence_summary` says which epoch was best and why the run stopped.

Everything that depends on an epoch's validation (early stopping, the best checkpoint, the
learning-rate schedule in the module) happens in ``on_validation_end``, and the history is
appended before ``LastCheckpoint`` writes the epoch-end ``last.ckpt``, so that checkpoint holds
the whole epoch and a resumed run continues exactly.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.callbacks.early_stopping import EarlyStoppingReason
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

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        # never after an epoch's last batch: Lightning resumes from there past the epoch's validation
        # (and the schedule and early stopping with it); the epoch-end save follows the validation
        last = batch_idx + 1 >= trainer.num_training_batches or trainer.fit_loop.epoch_loop.batch_progress.is_last_batch
        if self.every_n_steps and trainer.global_step % self.every_n_steps == 0 and not last:
            trainer.save_checkpoint(self.path, weights_only=False)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        trainer.save_checkpoint(self.path, weights_only=False)


class ConvergenceStopping(EarlyStopping):
    """Lightning's EarlyStopping on ``val/loss`` (min, absolute ``min_delta``), checked after each
    validation and never in the first ``warmup_epochs`` (the lambda warm-up: the penalty switching
    on raises the loss). Its state (best score, epochs without improvement) is in checkpoints; a
    run resumed after it stopped stops again at once."""

    def __init__(self, patience: int, min_delta: float = 0.0, warmup_epochs: int = 0) -> None:
        super().__init__(monitor="val/loss", mode="min", patience=patience, min_delta=min_delta,
                         check_on_train_epoch_end=False)
        self.warmup_epochs = warmup_epochs

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch >= self.warmup_epochs:
            super().on_validation_end(trainer, pl_module)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.stopping_reason != EarlyStoppingReason.NOT_STOPPED:
            trainer.should_stop = True


class BestCheckpoint(ModelCheckpoint):
    """``dirpath/best.ckpt``: the epoch with the lowest ``val/loss`` (the first of equals), not counting
    the first ``warmup_epochs``; ``best_epoch`` (0-based, saved in checkpoints) says which it was."""

    def __init__(self, dirpath: Path, warmup_epochs: int = 0) -> None:
        super().__init__(dirpath=dirpath, filename="best", monitor="val/loss", mode="min", save_top_k=1,
                         enable_version_counter=False, save_on_train_epoch_end=False)
        self.warmup_epochs = warmup_epochs
        self.best_epoch: int | None = None

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch >= self.warmup_epochs:
            super().on_validation_end(trainer, pl_module)

    def _update_best_and_save(self, current: torch.Tensor, trainer: pl.Trainer, monitor_candidates: dict) -> None:
        # Lightning calls this exactly when the epoch is the new best (and saves it)
        self.best_epoch = trainer.current_epoch
        super()._update_best_and_save(current, trainer, monitor_candidates)

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "best_epoch": self.best_epoch}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.best_epoch = state_dict.get("best_epoch")


def convergence_summary(trainer: pl.Trainer) -> dict[str, Any]:
    """Epochs run, the best epoch by ``val/loss`` and why the run stopped (``stop_reason`` and
    ``stopped_epoch`` are None while it goes on). Epochs count from 1, as on the plot (the CSV
    log's ``epoch`` column counts from 0)."""
    stopper = next((c for c in trainer.callbacks if isinstance(c, ConvergenceStopping)), None)
    best = next((c for c in trainer.callbacks if isinstance(c, BestCheckpoint)), None)
    epochs = int(trainer.fit_loop.epoch_progress.current.processed)
    stopped_by, stopped, reason = None, None, None
    if stopper is not None and stopper.stopping_reason == EarlyStoppingReason.PATIENCE_EXHAUSTED:
        stopped_by, stopped = "early_stopping", stopper.stopped_epoch + 1
        reason = (f"early stopping: val/loss did not improve for {_epochs(stopper.patience)} after epoch "
                  f"{stopped - stopper.patience}")
    elif stopper is not None and stopper.stopping_reason != EarlyStoppingReason.NOT_STOPPED:
        stopped_by, stopped = "early_stopping", stopper.stopped_epoch + 1
        reason = f"early stopping: {stopper.stopping_reason_message}"
    elif trainer.max_epochs is not None and epochs >= trainer.max_epochs:
        stopped_by, stopped, reason = "max_epochs", epochs, f"max_epochs ({trainer.max_epochs}) reached"
    score = None if best is None or best.best_model_score is None else float(best.best_model_score)
    return {"epochs_run": epochs,
            "best_epoch": None if best is None or best.best_epoch is None else best.best_epoch + 1,
            "best_val_loss": score if score is not None and math.isfinite(score) else None,
            "stopped_epoch": stopped, "stopped_by": stopped_by, "stop_reason": reason,
            "early_stopping_patience": stopper.patience if stopper is not None else 0,
            "max_epochs": trainer.max_epochs}


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    """``training_summary.json``, written atomically."""
    _write_text(Path(path), json.dumps(summary, indent=2) + "\n")


# (panel title, metrics, y scale)
CURVES = [
    ("BCE loss", ["train/bce_epoch", "val/loss"], "linear"),
    ("independence penalty (adversarial R2)", ["train/penalty_epoch", "val/penalty", "train/adversary_r2_epoch"],
     "linear"),
    ("validation AUROC / AUPRC (mean over experiments)", ["val/auroc_mean", "val/auprc_mean"], "linear"),
    ("cross-subspace correlation (validation)", ["val/cross_correlation"], "linear"),
    ("learning rate (model)", ["train/lr"], "log"),
]


class TrainingPlots(pl.Callback):
    """Metric history -> ``training_curves.png``; per-experiment validation table + histogram."""

    def __init__(self, outdir: Path, experiment_names: list[str]) -> None:
        self.outdir = Path(outdir)
        self.experiment_names = experiment_names
        self.history: list[dict[str, float]] = []
        self.summary: dict[str, Any] = {}

    def state_dict(self) -> dict[str, Any]:
        return {"history": self.history}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.history = list(state_dict.get("history", []))

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if torch.as_tensor(v).numel() == 1}
        self.history.append({"epoch": trainer.current_epoch, **metrics})
        self.summary = convergence_summary(trainer)
        if trainer.is_global_zero:
            self.draw_curves(self.summary)
            self.write_per_experiment(getattr(pl_module, "per_experiment", {}))

    def draw_curves(self, summary: dict[str, Any] | None = None) -> None:
        """One panel per entry of ``CURVES``; with a :func:`convergence_summary`, a line at the best
        epoch and one at the stop, labelled with why it stopped."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        summary = summary or {}
        best, stopped = summary.get("best_epoch"), summary.get("stopped_epoch")
        if summary.get("stopped_by") == "early_stopping" and "did not improve" in (summary.get("stop_reason") or ""):
            why = f"early stop: no val/loss improvement for {_epochs(summary['early_stopping_patience'])}"
        elif summary.get("stopped_by") == "max_epochs":
            why = "max_epochs reached"
        else:
            why = summary.get("stop_reason")
        fig, axes = plt.subplots(1, len(CURVES), figsize=(4.2 * len(CURVES), 3.6))
        epochs = [h["epoch"] + 1 for h in self.history]
        for i, (ax, (title, keys, scale)) in enumerate(zip(axes, CURVES)):
            shown = []
            for key in keys:
                values = [h.get(key, math.nan) for h in self.history]
                if not all(math.isnan(v) for v in values):
                    ax.plot(epochs, values, marker="o", label=key)
                    shown += [v for v in values if not math.isnan(v)]
            if scale == "log" and shown and min(shown) > 0:
                ax.set_yscale("log")
            if best is not None:
                ax.axvline(best, color="tab:green", linestyle="--", linewidth=1,
                           label=f"best val/loss (epoch {best})" if i == 0 else None)
            if stopped is not None:
                ax.axvline(stopped, color="tab:red", linestyle=":", linewidth=1.2,
                           label=f"stopped (epoch {stopped})" if i == 0 else None)
                if i == 0:
                    ax.text(stopped, 0.98, why, transform=ax.get_xaxis_transform(), ha="right", va="top",
                            fontsize=7, color="tab:red", bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if any(not line.get_label().startswith("_") for line in ax.lines):  # a panel may hold only markers
                ax.legend(fontsize=7)
        if stopped is not None:
            fig.suptitle(f"stopped after epoch {stopped}: {summary.get('stop_reason')}"
                         + (f"; model = best epoch {best}" if best is not None else ""), fontsize=9)
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
