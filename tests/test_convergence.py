"""Training stops at convergence: early stopping on val/loss, the plateau learning-rate schedule,
the best checkpoint as the model, the stop recorded in model.info / training_summary.json.

``early_stopping_min_delta: 10`` (BCE is below 1) makes every epoch after the first one counted a
non-improvement, so when the run stops and how the learning rate falls follow by hand.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch

from mfd_model.errors import ConfigError
from mfd_model.model_io import load_model
from mfd_model.train.config import load_train_config
from mfd_model.train.run import train

from conftest import tiny_train_config

LR = 1e-3
NO_IMPROVEMENT = {"early_stopping_min_delta": 10.0}


def _train(tiny_store, output: Path, resume: bool = False, **training) -> Path:
    config = tiny_train_config(tiny_store, output, lr=LR, limit_train_batches=2, **training)
    train(load_train_config(config), resume=resume, progress=False)
    return output


def _per_epoch(output: Path, column: str) -> pd.Series:
    """One value per epoch (0-based index) of a CSV-logged epoch metric."""
    metrics = pd.read_csv(output / "logs" / "metrics.csv")
    return metrics.dropna(subset=[column]).groupby("epoch")[column].last()


# patience 3, learning rate halved after 2 non-improving epochs: stops after 1 + 3 epochs
STOPPED = dict(max_epochs=10, early_stopping_patience=3, lr_patience=2, lr_factor=0.5, **NO_IMPROVEMENT)


@pytest.fixture(scope="module")
def stopped_run(tiny_store, tmp_path_factory) -> Path:
    return _train(tiny_store, tmp_path_factory.mktemp("convergence") / "run", **STOPPED)


def test_early_stopping_stops_after_patience_epochs(stopped_run):
    summary = json.loads((stopped_run / "training_summary.json").read_text())
    assert summary["epochs_run"] == summary["stopped_epoch"] == 1 + 3
    assert list(_per_epoch(stopped_run, "val/loss").index) == [0, 1, 2, 3]
    assert summary["stopped_by"] == "early_stopping"
    assert summary["stop_reason"] == "early stopping: val/loss did not improve for 3 epochs after epoch 1"
    info = load_model(stopped_run / "model.pt").info
    for key in ("best_epoch", "stopped_epoch", "stop_reason", "best_val_loss"):
        assert info[key] == summary[key], key


def test_plateau_schedule_reduces_the_model_lr_only(stopped_run):
    # epoch 0 sets the best; epochs 1 and 2 do not improve -> the lr is halved after epoch 2 (lr_patience 2);
    # epoch 3 does not improve either (1 of 2) -> unchanged, and early stopping ends the run
    lrs = _per_epoch(stopped_run, "train/lr")
    assert lrs.tolist() == pytest.approx([LR, LR, LR, LR * 0.5], rel=1e-6)
    checkpoint = torch.load(stopped_run / "checkpoints" / "last.ckpt", weights_only=False)
    model_group, adversary_group = (state["param_groups"][0] for state in checkpoint["optimizer_states"])
    assert model_group["lr"] == pytest.approx(LR * 0.5) and adversary_group["lr"] == pytest.approx(1e-3)
    assert checkpoint["lr_schedulers"][0]["num_bad_epochs"] == 1


def test_model_is_the_best_checkpoint_by_val_loss(stopped_run):
    val_loss = _per_epoch(stopped_run, "val/loss")
    summary = json.loads((stopped_run / "training_summary.json").read_text())
    assert summary["best_epoch"] == int(val_loss.idxmin()) + 1
    assert summary["best_val_loss"] == pytest.approx(val_loss.min())
    best = torch.load(stopped_run / "checkpoints" / "best.ckpt", weights_only=False)
    assert best["epoch"] == int(val_loss.idxmin())
    model = load_model(stopped_run / "model.pt")
    assert model.info["checkpoint"] == "best.ckpt"
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, best["state_dict"][f"model.{name}"], rtol=0, atol=0, msg=name)
    # ... and not the last epoch's weights unless the last epoch was the best
    last = torch.load(stopped_run / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    same_as_last = all(torch.equal(value, last[f"model.{name}"]) for name, value in model.state_dict().items())
    assert same_as_last == (summary["best_epoch"] == summary["epochs_run"])
    assert (stopped_run / "training_curves.png").stat().st_size > 0


def test_warm_up_epochs_neither_stop_nor_schedule_nor_count_as_best(tiny_store, tmp_path):
    # warm-up 2, patience 1: epochs 0-1 are ignored, epoch 2 is the first best, epoch 3 stops the run
    settings = dict(max_epochs=6, lambda_warmup_epochs=2, early_stopping_patience=1, lr_patience=1, **NO_IMPROVEMENT)
    output = _train(tiny_store, tmp_path / "run", **settings)
    summary = json.loads((output / "training_summary.json").read_text())
    assert (summary["epochs_run"], summary["stopped_by"]) == (2 + 1 + 1, "early_stopping")
    assert summary["stop_reason"] == "early stopping: val/loss did not improve for 1 epoch after epoch 3"
    # the schedule starts after the warm-up too: epoch 2 sets its best, epoch 3 halves the lr (after training)
    assert _per_epoch(output, "train/lr").tolist() == pytest.approx([LR] * 4, rel=1e-6)
    checkpoint = torch.load(output / "checkpoints" / "last.ckpt", weights_only=False)
    assert checkpoint["optimizer_states"][0]["param_groups"][0]["lr"] == pytest.approx(LR * 0.5)
    val_loss = _per_epoch(output, "val/loss")
    assert summary["best_epoch"] == int(val_loss[val_loss.index >= 2].idxmin()) + 1
    # resuming a run that has stopped trains nothing more (and rewrites the same summary)
    _train(tiny_store, output, resume=True, **settings)
    resumed = torch.load(output / "checkpoints" / "last.ckpt", weights_only=False)
    assert resumed["global_step"] == checkpoint["global_step"]
    assert json.loads((output / "training_summary.json").read_text()) == summary


def test_max_epochs_is_the_ceiling(tiny_store, tmp_path):
    output = _train(tiny_store, tmp_path / "run", max_epochs=1)
    summary = json.loads((output / "training_summary.json").read_text())
    assert (summary["epochs_run"], summary["best_epoch"], summary["stopped_by"]) == (1, 1, "max_epochs")
    assert load_model(output / "model.pt").info["stop_reason"] == "max_epochs (1) reached"


@pytest.mark.parametrize("key, value, message", [
    ("lr_schedule", "cosine", "lr_schedule must be one of plateau, none"),
    ("early_stopping_patience", -1, "early_stopping_patience must be >= 0"),
    ("lr_factor", 1.5, "lr_factor must be between 0 and 1"),
])
def test_bad_convergence_settings_are_one_line(tiny_store, tmp_path, key, value, message):
    with pytest.raises(ConfigError) as err:
        load_train_config(tiny_train_config(tiny_store, tmp_path / "run", **{key: value}))
    assert message in err.value.one_line() and "\n" not in err.value.one_line()
