"""The training step of MFD (docs/method.md section 5, paper Eq. 3-4), as a Lightning module.

Manual optimisation, two optimisers, one batch:

1. **model step** — ``loss = BCE(logits, y) + lambda * [R2(q_bio(s_tech), s_bio) + R2(q_tech(s_bio), s_tech)]``;
   the sequence model and the metadata hypernetwork are updated, the adversaries are not.
2. **adversary step** — on detached features, ``loss_adv = -[R2(...) + R2(...)]``; only the two
   adversaries are updated (``adversary_steps`` times; 1 in docs/method.md section 5).

Both optimisers are Adam(amsgrad=True). With ``lr_schedule: plateau`` the MODEL optimiser's
learning rate follows ``ReduceLROnPlateau`` on ``val/loss``; manual optimisation means Lightning
does not step it, so :meth:`on_validation_end` does (never in the ``lambda_warmup_epochs``). The
scheduler is returned by :meth:`configure_optimizers`, so its state is in every checkpoint and
survives a resume. The learning rate of each epoch is logged as ``train/lr``.

The baseline model (``head: baseline``) has no adversaries and trains on the BCE alone. With
``lambda = 0`` an MFD model still trains its adversaries, so the dependence between the
subspaces is measured (logged) but not penalised.

Validation logs loss, penalty, the cross-subspace correlation and the mean and per-experiment
AUROC / AUPRC (streaming, binned, constant memory: ``auroc_thresholds`` bins).
"""
from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
import torch.nn.functional as F
from lightning.pytorch.trainer.states import TrainerFn
from torchmetrics.classification import MultilabelAUROC, MultilabelAveragePrecision

from mfd_model.diagnostics import cross_subspace_correlation
from mfd_model.independence import IndependencePenalty
from mfd_model.model_io import build_model


class MFDLightningModule(pl.LightningModule):
    """MFD (or its baseline) under training.

    Args:
        spec: the model description (:class:`mfd_model.model_spec.ModelSpec`'s dictionary form), stored in
            checkpoints.
        training: the ``training`` section of the config, as a dict.
    """

    def __init__(self, spec: dict[str, Any], training: dict[str, Any]) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.model = build_model(spec)
        self.lambda_indep = float(training["lambda_indep"])
        self.adversary_steps = int(training.get("adversary_steps", 1))
        self.lambda_warmup_epochs = int(training.get("lambda_warmup_epochs", 0))
        self.seed = int(training["seed"])
        config = self.model.config
        self.independence = (IndependencePenalty(config.half_dim, config.adversary_hidden, config.adversary_layers)
                             if self.model.is_mfd else None)
        n = self.model.n_experiments
        thresholds = int(training["auroc_thresholds"])
        self.val_auroc = MultilabelAUROC(num_labels=n, average=None, thresholds=thresholds)
        self.val_auprc = MultilabelAveragePrecision(num_labels=n, average=None, thresholds=thresholds)
        self.register_buffer("val_positives", torch.zeros(n), persistent=False)
        self.register_buffer("val_count", torch.zeros(()), persistent=False)
        self._val_features: list[torch.Tensor] = []
        self.per_experiment: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ optimisers
    def configure_optimizers(self):
        training = self.hparams["training"]
        model_opt = torch.optim.Adam(self._parameter_groups(float(training["lr"]),
                                                            float(training.get("head_lr_multiplier", 1.0))),
                                     lr=training["lr"], amsgrad=True)
        schedulers = []
        if training.get("lr_schedule", "none") == "plateau":
            # improvement and patience counted like EarlyStopping's: by more than min_delta (absolute),
            # reduced once lr_patience epochs in a row did not improve (PyTorch's patience is one less)
            schedulers.append(torch.optim.lr_scheduler.ReduceLROnPlateau(
                model_opt, mode="min", factor=training["lr_factor"], patience=training["lr_patience"] - 1,
                threshold=training["early_stopping_min_delta"], threshold_mode="abs", min_lr=training["min_lr"]))
        if self.independence is None:
            return {"optimizer": model_opt, "lr_scheduler": schedulers[0]} if schedulers else model_opt
        adversary_opt = torch.optim.Adam(self.independence.parameters(), lr=training["adversary_lr"], amsgrad=True)
        return ([model_opt, adversary_opt], schedulers) if schedulers else [model_opt, adversary_opt]

    def _parameter_groups(self, lr: float, head_multiplier: float) -> list[dict[str, Any]]:
        """The sequence model at ``lr``, the output head (MFD: hypernetwork + biases) at
        ``lr * head_multiplier``. An MFD head's weights come out of a three-layer MLP shared by all
        experiments, so with one learning rate they move more slowly than a baseline's free
        weights (docs/convergence.md)."""
        head = list(self.model.head.parameters())
        in_head = {id(p) for p in head}
        trunk = [p for p in self.model.parameters() if id(p) not in in_head]
        return [{"params": trunk, "lr": lr, "name": "sequence model"},
                {"params": head, "lr": lr * head_multiplier, "name": "output head"}]

    def on_validation_end(self) -> None:
        """Step the plateau schedule with this epoch's ``val/loss`` (manual optimisation: Lightning does
        not). Runs before the epoch-end ``last.ckpt``, so a resumed run has the stepped state."""
        if self.trainer.sanity_checking or self.trainer.state.fn != TrainerFn.FITTING:
            return
        scheduler = self.lr_schedulers()
        loss = self.trainer.callback_metrics.get("val/loss")
        if scheduler is None or loss is None or self.current_epoch < self.lambda_warmup_epochs:
            return
        scheduler.step(float(loss))

    # ------------------------------------------------------------------ training
    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        # every step's randomness (dropout) depends only on (seed, step): a resumed run replays it exactly
        torch.manual_seed(self.seed * 1_000_003 + self.global_step)

    def _penalty(self, features: torch.Tensor) -> torch.Tensor:
        bio, tech = self.model.split_features(features)
        return self.independence(bio, tech)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        optimisers = self.optimizers()
        model_opt, adversary_opt = optimisers if isinstance(optimisers, list) else (optimisers, None)

        # 1. model step: BCE + lambda * adversarial R2 (adversaries fixed; gradients flow through them)
        self.toggle_optimizer(model_opt)
        features = self.model.features(x)
        bce = F.binary_cross_entropy_with_logits(self.model.logits_from_features(features), y)
        loss = bce
        if self.independence is not None:
            penalty = self._penalty(features)
            lambda_now = self.lambda_indep if self.current_epoch >= self.lambda_warmup_epochs else 0.0
            loss = bce + lambda_now * penalty
            self.log("train/penalty", penalty.detach(), on_step=True, on_epoch=True, sync_dist=True)
        model_opt.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        model_opt.step()
        self.untoggle_optimizer(model_opt)
        # constant within an epoch (the schedule steps after validation); max keeps it exact
        self.log("train/lr", float(model_opt.param_groups[0]["lr"]), on_step=False, on_epoch=True, reduce_fx="max")

        # 2. adversary step(s) on detached features: maximise R2
        if adversary_opt is not None:
            self.toggle_optimizer(adversary_opt)
            detached = features.detach()
            for _ in range(self.adversary_steps):
                adversary_loss = -self._penalty(detached)
                adversary_opt.zero_grad(set_to_none=True)
                self.manual_backward(adversary_loss)
                adversary_opt.step()
            self.untoggle_optimizer(adversary_opt)
            self.log("train/adversary_r2", -adversary_loss.detach(), on_step=True, on_epoch=True, sync_dist=True)

        self.log("train/bce", bce.detach(), on_step=True, on_epoch=True, prog_bar=True, sync_dist=True)
        self.log("train/loss", loss.detach(), on_step=True, on_epoch=True, sync_dist=True)
        return loss.detach()

    # ------------------------------------------------------------------ validation
    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        features = self.model.features(x)
        logits = self.model.logits_from_features(features)
        self.log("val/loss", F.binary_cross_entropy_with_logits(logits, y), on_epoch=True, sync_dist=True,
                 batch_size=len(y))
        if self.independence is not None and len(y) > 1:
            self.log("val/penalty", self._penalty(features), on_epoch=True, sync_dist=True, batch_size=len(y))
            self._val_features.append(features.detach().cpu())
        probabilities = torch.sigmoid(logits)
        self.val_auroc.update(probabilities, y.int())
        self.val_auprc.update(probabilities, y.int())
        self.val_positives += y.sum(0)
        self.val_count += len(y)

    def on_validation_epoch_end(self) -> None:
        positives = self.trainer.strategy.reduce(self.val_positives.clone(), reduce_op="sum")
        count = self.trainer.strategy.reduce(self.val_count.clone(), reduce_op="sum")
        auroc = self.val_auroc.compute()
        auprc = self.val_auprc.compute()
        self.val_auroc.reset(); self.val_auprc.reset()
        self.val_positives.zero_(); self.val_count.zero_()
        # AUROC / AUPRC are undefined for an experiment without positives (or negatives) in validation
        defined = (positives > 0) & (positives < count)
        auroc = torch.where(defined, auroc, torch.nan)
        auprc = torch.where(defined, auprc, torch.nan)
        if defined.any():
            self.log("val/auroc_mean", auroc[defined].mean(), sync_dist=False, prog_bar=True)
            self.log("val/auprc_mean", auprc[defined].mean(), sync_dist=False)
        else:
            self.log("val/auroc_mean", torch.tensor(0.5), sync_dist=False, prog_bar=True)
            self.log("val/auprc_mean", torch.tensor(0.0), sync_dist=False)
        if self._val_features:
            features = torch.cat(self._val_features)
            self._val_features.clear()
            if len(features) > 2:
                bio, tech = self.model.split_features(features)
                self.log("val/cross_correlation", cross_subspace_correlation(bio, tech), sync_dist=True)
        self.per_experiment = {"auroc": auroc.cpu().numpy(), "auprc": auprc.cpu().numpy(),
                               "positives": positives.cpu().numpy()}
