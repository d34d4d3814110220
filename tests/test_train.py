"""Training: config validation, data pipeline, the docs/method.md section 5 step, resume, DDP."""
from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import yaml

from mfd_model.cli import main
from mfd_model.encoding import one_hot_encode, reverse_complement_one_hot
from mfd_model.errors import ConfigError
from mfd_model.genome import Genome
from mfd_model.model_io import load_model
from mfd_model.train.config import TrainingParams, load_train_config
from mfd_model.train.dataset import BatchKey, EpochBatchSampler, WindowDataset
from mfd_model.train.labels import LabelStore

from conftest import tiny_train_config


# ----------------------------------------------------------------------------- config
@pytest.mark.parametrize("edit, message, line", [
    (lambda c: c["training"].update(lr_rate=0.1), "unknown key 'training.lr_rate'", None),
    (lambda c: c["training"].update(batch_size="big"), "'training.batch_size' must be int", None),
    (lambda c: c.update(optimiser={}), "unknown section 'optimiser'", None),
    (lambda c: c["model"].update(channels=9), "channels must be even", None),
    (lambda c: c["model"].update(chanels=8), "unknown key 'model.chanels'", None),
    (lambda c: c.pop("output"), "'output' (the run folder) is required", None),
])
def test_bad_config_gives_one_line_with_file_and_line(tiny_store, tmp_path, edit, message, line, capsys):
    path = tiny_train_config(tiny_store, tmp_path / "run")
    config = yaml.safe_load(path.read_text())
    edit(config)
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError) as err:
        load_train_config(path)
    text = err.value.one_line()
    assert message in text and text.startswith(f"{path}:") and "\n" not in text
    assert main(["train", "--config", str(path)]) == 2
    stderr = capsys.readouterr().err.strip().splitlines()
    assert len(stderr) == 1 and message in stderr[0]


def test_config_defaults_match_method():
    t = TrainingParams()
    assert (t.lr, t.adversary_lr, t.batch_size, t.lambda_indep, t.max_shift) == (1e-3, 1e-3, 256, 0.001, 3)


# ----------------------------------------------------------------------------- sampler
def test_sampler_epochs_shards_and_skip():
    rows = np.arange(1000, 1103)
    one = EpochBatchSampler(rows, 10, shuffle=True, seed=3)
    one.set_epoch(0)
    epoch0 = [k.rows for k in one]
    assert len(epoch0) == len(one) == 11 and sorted(np.concatenate(epoch0)) == list(rows)
    again = [k.rows for k in one]
    assert all(np.array_equal(a, b) for a, b in zip(epoch0, again))          # same epoch -> same order
    one.set_epoch(1)
    assert not np.array_equal(np.concatenate([k.rows for k in one]), np.concatenate(epoch0))
    # DDP: equal number of batches per rank, the union covers every row
    shards = [EpochBatchSampler(rows, 10, shuffle=True, seed=3, rank=r, world_size=3) for r in range(3)]
    for s in shards:
        s.set_epoch(5)
    lengths = {len(list(s)) for s in shards}
    assert len(lengths) == 1 and lengths == {len(shards[0])}
    covered = np.concatenate([k.rows for s in shards for k in s])
    assert set(covered) == set(rows) and len(covered) - len(rows) < 3      # padded by wrap-around only
    # mid-epoch resume: skipping k batches yields exactly the tail of the full epoch
    one.set_epoch(1)
    full = list(one)
    one.skip_next(4)
    tail = list(one)
    assert [k.number for k in tail] == list(range(4, 11))
    assert all(np.array_equal(a.rows, b.rows) for a, b in zip(tail, full[4:]))
    assert len(list(one)) == 11                                             # skipping applies once


# ----------------------------------------------------------------------------- windows
def test_windows_are_centred_and_augmented_correctly(tiny_store):
    store = LabelStore.open(tiny_store["store"])
    genome = Genome(tiny_store["fasta"])
    rows = store.indices("train")[:40]
    key = BatchKey(epoch=0, number=0, rows=rows)
    plain = WindowDataset(store, store.genome_codes(), 1152, augment=False)
    x, y = plain[key]
    assert x.shape == (40, 4, 1152) and x.dtype == torch.float32 and y.shape == (40, 3)
    np.testing.assert_array_equal(y.numpy(), store.labels(rows))
    for i, row in enumerate(rows):
        chrom, start, end = store.bin_interval(row)
        centre = (start + end) // 2
        np.testing.assert_array_equal(x[i].numpy(), one_hot_encode(genome.fetch(chrom, centre - 576, centre + 576)))
    augmented = WindowDataset(store, store.genome_codes(), 1152, augment=True, max_shift=3, seed=1)
    xa, _ = augmented[key]
    flips = 0
    for i, row in enumerate(rows):
        chrom, start, end = store.bin_interval(row)
        centre = (start + end) // 2
        candidates = {}
        for shift in range(-3, 4):
            fwd = one_hot_encode(genome.fetch(chrom, centre - 576 + shift, centre + 576 + shift))
            candidates[(shift, False)] = fwd
            candidates[(shift, True)] = reverse_complement_one_hot(fwd)
        matches = [k for k, v in candidates.items() if np.array_equal(v, xa[i].numpy())]
        assert matches, "augmented window is not a shifted / reverse-complemented window of its bin"
        flips += matches[0][1]
    assert 8 <= flips <= 32
    again, _ = augmented[key]
    assert torch.equal(again, xa)                                            # a pure function of (seed, epoch, batch)


def _reference_batch(fasta, store: LabelStore, key: BatchKey, seq_len: int, *, augment: bool, max_shift: int,
                     reverse_complement: bool, seed: int) -> np.ndarray:
    """Training batch as it was made before the code cache: one pyfaidx read per window, N-padded
    by hand, reverse-complemented as a string, one-hot set letter by letter. The augmentation draws
    are the documented protocol: rng(seed, epoch, batch) -> shifts, then reverse-complement flags."""
    n = len(key.rows)
    shifts, flips = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    if augment:
        rng = np.random.default_rng([seed, key.epoch, key.number])
        shifts = rng.integers(-max_shift, max_shift + 1, size=n)
        flips = (rng.random(n) < 0.5) & reverse_complement
    x = np.zeros((n, 4, seq_len), dtype=np.float32)
    for i, row in enumerate(key.rows):
        chrom = store.contigs[store.bin_contig[row]]
        start = int(store.bin_start[row]) + store.bin_size // 2 - seq_len // 2 + int(shifts[i])
        length = len(fasta[chrom])
        lo, hi = min(max(start, 0), length), max(min(start + seq_len, length), 0)
        seq = "N" * min(max(-start, 0), seq_len) + (str(fasta[chrom][lo:hi]).upper() if hi > lo else "")
        seq += "N" * (seq_len - len(seq))
        if flips[i]:
            seq = "".join({"A": "T", "C": "G", "G": "C", "T": "A"}.get(b, "N") for b in reversed(seq))
        for j, base in enumerate(seq):
            if base in "ACGT":
                x[i, "ACGT".index(base), j] = 1.0
    return x


def test_batches_are_bit_identical_to_per_window_fasta_reads(tmp_path):
    """The gathered batches are today's batches: same windows, shifts, strands, dtype and bytes, at
    contig ends and N runs, with and without augmentation, also after a mid-epoch resume."""
    import pyfaidx
    from mfd_model.train.prepare import PrepareParams, prepare_labels
    from variant_helpers import write_fasta
    rng = np.random.default_rng(0)
    seqs = {}
    for name, length in (("chr1", 9_000), ("chr2", 1_300), ("chr3", 700)):
        seq = rng.choice(list("ACGTacgtNRY"), size=length, p=[0.2, 0.2, 0.2, 0.2, 0.04, 0.04, 0.04, 0.04, 0.02, 0.01, 0.01])
        seq[:200], seq[-150:], seq[1_000:1_100] = "N", "n", "N"                 # N ends and an N gap
        seqs[name] = "".join(seq)
    fasta_path = write_fasta(tmp_path / "genome.fa", seqs, width=50)
    (tmp_path / "peaks.bed").write_text("chr1\t300\t900\tp1\nchr2\t0\t500\tp2\n")
    (tmp_path / "metadata.tsv").write_text("experiment\tpeak_file\ne1\tpeaks.bed\n")
    store = prepare_labels(PrepareParams(fasta=str(fasta_path), metadata=str(tmp_path / "metadata.tsv"),
                                         store=str(tmp_path / "store"), max_n_fraction=1.0, test_chromosomes=("chr3",),
                                         valid_fraction=0.2, valid_block_bins=2), progress=False)
    assert store.n_bins == 9_000 // 128 + 1_300 // 128 + 700 // 128                     # every bin, N or not
    fasta, genome = pyfaidx.Fasta(str(fasta_path)), store.genome_codes()
    rows = np.concatenate([store.indices("train"), store.indices("test")])
    batches = 0
    for seq_len, max_shift in ((384, 3), (1_152, 3), (131, 200)):
        for augment in (True, False):
            settings = dict(augment=augment, max_shift=max_shift, reverse_complement=True, seed=7)
            dataset = WindowDataset(store, genome, seq_len, **settings)
            sampler = EpochBatchSampler(rows, 8, shuffle=augment, seed=7, drop_last=augment)
            for epoch in (0, 1):
                sampler.set_epoch(epoch)
                keys = list(sampler)
                for key, (x, y) in zip(keys, torch.utils.data.DataLoader(dataset, sampler=sampler, batch_size=None)):
                    expected = _reference_batch(fasta, store, key, seq_len, **settings)
                    assert x.dtype == torch.float32 and x.is_contiguous() and x.shape == expected.shape
                    assert x.numpy().tobytes() == expected.tobytes()
                    np.testing.assert_array_equal(y.numpy(), store.labels(key.rows))
                    batches += 1
                sampler.skip_next(2)                                       # mid-epoch resume
                assert all(torch.equal(dataset[key][0], dataset[full][0]) for key, full in zip(sampler, keys[2:]))
    assert batches >= 100


# ----------------------------------------------------------------------------- the training step
def _tiny_module(tiny_store, lambda_indep=0.5, head="mfd"):
    from mfd_model.train.module import MFDLightningModule
    from mfd_model.train.run import build_spec
    path = tiny_train_config(tiny_store, tiny_store["root"] / f"unused_{head}", lambda_indep=lambda_indep)
    config = load_train_config(path, {"model.head": head})
    store = LabelStore.open(tiny_store["store"])
    torch.manual_seed(0)
    return MFDLightningModule(build_spec(config, store), asdict(config.training)), store, config


def test_one_step_equals_a_hand_written_method_section_5(tiny_store):
    """Model step (BCE + lambda * R2, adversaries fixed), then adversary step on detached features."""
    import lightning.pytorch as pl
    from mfd_model.independence import r2_penalty
    module, store, config = _tiny_module(tiny_store, lambda_indep=0.5)
    dataset = WindowDataset(store, store.genome_codes(), 1152, augment=False)
    x, y = dataset[BatchKey(0, 0, store.indices("train")[:32])]
    model, adversaries = copy.deepcopy(module.model).train(), copy.deepcopy(module.independence).train()

    model_opt = torch.optim.Adam(model.parameters(), lr=1e-3, amsgrad=True)
    adversary_opt = torch.optim.Adam(adversaries.parameters(), lr=1e-3, amsgrad=True)
    features = model.features(x)
    bio, tech = model.split_features(features)
    penalty = r2_penalty(adversaries.bio_from_tech(tech), bio) + r2_penalty(adversaries.tech_from_bio(bio), tech)
    loss = F.binary_cross_entropy_with_logits(model.logits_from_features(features), y) + 0.5 * penalty
    model_opt.zero_grad(); loss.backward(); model_opt.step()
    bio, tech = bio.detach(), tech.detach()
    adversary_loss = -(r2_penalty(adversaries.bio_from_tech(tech), bio) + r2_penalty(adversaries.tech_from_bio(bio), tech))
    adversary_opt.zero_grad(); adversary_loss.backward(); adversary_opt.step()

    before = copy.deepcopy(module.state_dict())
    trainer = pl.Trainer(max_steps=1, limit_val_batches=0, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
    trainer.fit(module, train_dataloaders=torch.utils.data.DataLoader([(x, y)], batch_size=None))
    for name, value in model.state_dict().items():
        torch.testing.assert_close(module.model.state_dict()[name], value, rtol=1e-5, atol=1e-6, msg=name)
    for name, value in adversaries.state_dict().items():
        torch.testing.assert_close(module.independence.state_dict()[name], value, rtol=1e-5, atol=1e-6, msg=name)
    assert not torch.equal(before["model.trunk.stem.0.weight"], module.state_dict()["model.trunk.stem.0.weight"])


def test_baseline_has_no_adversaries(tiny_store):
    module, _, _ = _tiny_module(tiny_store, head="baseline")
    assert module.independence is None and not isinstance(module.configure_optimizers(), list)


# ----------------------------------------------------------------------------- whole runs
def _run(config: Path, *extra: str, wait: bool = True, env_extra: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env_extra or {})}
    process = subprocess.Popen([sys.executable, "-m", "mfd_model", "train", "--config", str(config), "--quiet", *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if wait:
        out, _ = process.communicate(timeout=600)
        assert process.returncode == 0, out[-3000:]
        process.output = out
    return process


def test_train_end_to_end_writes_everything(tiny_store, tmp_path):
    output = tmp_path / "run"
    _run(tiny_train_config(tiny_store, output))
    for name in ("model.pt", "checkpoints/best.ckpt", "checkpoints/last.ckpt", "logs/metrics.csv",
                 "training_curves.png", "val_per_experiment.tsv", "val_auroc_per_experiment.png"):
        assert (output / name).exists(), name
    assert any((output / "tensorboard").iterdir())
    metrics = (output / "logs" / "metrics.csv").read_text().splitlines()[0].split(",")
    for column in ("train/bce_epoch", "train/penalty_epoch", "val/loss", "val/penalty", "val/auroc_mean",
                   "val/auprc_mean", "val/cross_correlation"):
        assert column in metrics, column
    table = (output / "val_per_experiment.tsv").read_text().splitlines()
    assert len(table) == 4 and all(float(line.split("\t")[3]) > 0 for line in table[1:])
    model = load_model(output / "model.pt")
    assert model.experiment_names == ["motif_a", "motif_b", "gc_artefact"] and "simulated" not in model.info["trained_on"]
    assert "mfd train" in model.info["command"]
    # a second run into the same folder is refused (use --resume)
    again = subprocess.run([sys.executable, "-m", "mfd_model", "train", "--config", str(tiny_train_config(tiny_store, output))],
                           capture_output=True, text=True)
    assert again.returncode == 2 and "already holds a run" in again.stderr and "--resume" in again.stderr


def _final_weights(output: Path) -> dict[str, torch.Tensor]:
    return torch.load(output / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]


@pytest.mark.parametrize("convergence, kill_at_step", [
    ({}, 2),
    # nothing counts as an improvement: the lr is halved after epochs 1 and 2, early stopping ends the run
    # after epoch 3; killed in epoch 2, the resumed run must carry the schedule's and early stopping's state
    ({"early_stopping_min_delta": 10.0, "max_epochs": 6, "lr_patience": 1, "early_stopping_patience": 3}, 20),
], ids=["defaults", "after-lr-reduction"])
def test_resume_after_a_kill_reproduces_the_uninterrupted_run(tiny_store, tmp_path, convergence, kill_at_step):
    settings = {**dict(max_epochs=4, checkpoint_every_n_steps=1, num_workers=1), **convergence}
    whole = tmp_path / "whole"
    _run(tiny_train_config(tiny_store, whole, **settings))

    killed = tmp_path / "killed"
    config = tiny_train_config(tiny_store, killed, **settings)
    process = _run(config, wait=False)
    last, step = killed / "checkpoints" / "last.ckpt", 0
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        if last.exists():
            step = torch.load(last, weights_only=False)["global_step"]
            if step >= kill_at_step:
                break
        time.sleep(0.02)
    assert process.poll() is None, f"the run ended before it could be killed: {process.stdout.read()[-3000:]}"
    process.send_signal(signal.SIGKILL)
    process.wait()
    resumed_from = torch.load(last, weights_only=False)["global_step"]
    total = torch.load(whole / "checkpoints" / "last.ckpt", weights_only=False)["global_step"]
    assert 0 < resumed_from < total
    _run(config, "--resume")
    expected, got = _final_weights(whole), _final_weights(killed)
    assert expected.keys() == got.keys()
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], rtol=0, atol=0, msg=name)
    expected, got = (torch.load(run / "checkpoints" / "last.ckpt", weights_only=False) for run in (whole, killed))
    assert got["lr_schedulers"] == expected["lr_schedulers"] and got["global_step"] == expected["global_step"]
    stopping = [key for key in expected["callbacks"] if key.startswith("ConvergenceStopping")]
    assert stopping and all(got["callbacks"][key] == expected["callbacks"][key] for key in stopping)
    assert (whole / "training_summary.json").read_text() == (killed / "training_summary.json").read_text()


def test_two_cpu_processes_with_ddp(tiny_store, tmp_path):
    output = tmp_path / "ddp"
    process = _run(tiny_train_config(tiny_store, output, devices=2, strategy="ddp", max_epochs=1))
    assert "MEMBER: 2/2" in process.output
    model = load_model(output / "model.pt")
    assert model.n_experiments == 3


@pytest.mark.parametrize("name", ["demo", "real_hg19", "encode"])
def test_shipped_configs_are_valid(name, tmp_path, monkeypatch):
    if name == "demo":   # its schema is written by `mfd simulate build/demo/sim` (relative to the working dir)
        from mfd_model.train.simulate import SimulationParams, simulate
        monkeypatch.chdir(tmp_path)
        simulate(Path("build/demo/sim"), SimulationParams())
    config = load_train_config(Path(__file__).resolve().parents[1] / "train" / "configs" / f"{name}.yaml")
    assert config.model.bin_size == 128 and config.data.store
    if name == "encode":   # the paper's settings
        assert (config.model.channels, config.model.latent_dim, config.training.lambda_indep,
                config.training.batch_size) == (120, 120, 0.001, 256)


def test_provenance_says_simulated_or_real(tiny_store, tmp_path):
    from mfd_model.train.prepare import PrepareParams, prepare_labels
    from mfd_model.train.run import _trained_on
    from mfd_model.train.simulate import SimulationParams, simulate
    simulate(tmp_path / "sim", SimulationParams(genome_size=200_000, n_chromosomes=2, n_experiments=8,
                                                n_motif_variants=5, n_bias_variants=5, n_control_variants=5))
    store = prepare_labels(PrepareParams(fasta=str(tmp_path / "sim" / "genome.fa"),
                                         metadata=str(tmp_path / "sim" / "metadata.tsv"), store=str(tmp_path / "labels"),
                                         test_chromosomes=("chr2",)), progress=False)
    assert _trained_on(store).startswith("simulated data from 'mfd simulate' (seed 0, 200,000 bp genome")
    assert _trained_on(LabelStore.open(tiny_store["store"])).startswith("real data: 3 experiments")


@pytest.mark.parametrize("head", ["mfd", "baseline"])
def test_head_learning_rate_multiplier(tiny_store, head):
    """The output head (hypernetwork + biases, or the baseline's linear layer) gets lr * multiplier;
    every other model parameter lr; each parameter is in exactly one group; one Adam step on the
    head moves it by about lr * multiplier (Adam's first step is lr * sign(gradient))."""
    from mfd_model.train.module import MFDLightningModule
    built, _, config = _tiny_module(tiny_store, head=head)
    module = MFDLightningModule(built.hparams["spec"], {**asdict(config.training), "lr": 1e-3, "head_lr_multiplier": 5.0})
    optimisers = module.configure_optimizers()          # MFD: ([model, adversary], [scheduler]); baseline: dict
    optimisers = optimisers[0] if isinstance(optimisers, tuple) else optimisers
    model_opt = optimisers[0] if isinstance(optimisers, list) else optimisers["optimizer"]
    trunk, head_group = model_opt.param_groups
    assert (trunk["lr"], head_group["lr"]) == (1e-3, 5e-3)
    head_ids = {id(p) for p in module.model.head.parameters()}
    assert {id(p) for p in head_group["params"]} == head_ids
    assert len(trunk["params"]) + len(head_group["params"]) == len(list(module.model.parameters()))
    bias = module.model.head.bias
    before = bias.detach().clone()
    model_opt.zero_grad()
    bias.sum().backward()
    model_opt.step()
    torch.testing.assert_close(before - bias.detach(), torch.full_like(before, 5e-3), rtol=1e-4, atol=1e-7)
