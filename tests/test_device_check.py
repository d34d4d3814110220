"""benchmarks/device_check.py: the FLOP count, the peaks and the inputs it writes.

References: FLOPs of every Conv1d / Linear call recorded by forward hooks from the shapes they see
(2 x multiply-adds), plus the output layer's matmul by hand; the vendor peak table; the FASTA read
back base by base for the VCF. The whole script is run by ``benchmarks/device_check.sh --quick``
(about 30 s on 2 cores; not part of the suite).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from interpret_helpers import write_fasta
from toy_models import small_config, write_toy_metadata

from mfd_model.genome import Genome

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "device_check.py"


@pytest.fixture(scope="module")
def device_check():
    spec = importlib.util.spec_from_file_location("device_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def lightning_module(tmp_path_factory):
    from mfd_model import MFDModel, load_metadata
    from mfd_model.model_io import model_spec
    from mfd_model.train.module import MFDLightningModule

    table, encoder, _ = load_metadata(*write_toy_metadata(tmp_path_factory.mktemp("dc")))
    torch.manual_seed(0)
    model = MFDModel(small_config(head="mfd"), table.experiment_names(encoder.schema), encoder=encoder, table=table)
    from dataclasses import asdict

    from mfd_model.train.config import TrainingParams
    return MFDLightningModule(model_spec(model), asdict(TrainingParams(lambda_indep=0.01, adversary_steps=2)))


def _hook_flops(model, batch: int, seq_len: int) -> float:
    """2 x multiply-adds of every Conv1d / Linear call (from the shapes seen) + the output layer's matmul."""
    total = [0.0]

    def hook(module, inputs, output):
        if isinstance(module, torch.nn.Conv1d):
            total[0] += 2 * output.numel() * module.in_channels // module.groups * module.kernel_size[0]
        else:
            total[0] += 2 * output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (torch.nn.Conv1d, torch.nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.randint(0, 4, (batch, seq_len)))
    for h in handles:
        h.remove()
    return total[0] + 2 * batch * model.config.latent_dim * model.n_experiments   # features @ W.T


def test_forward_flops_equal_the_layers_by_hand(device_check, lightning_module):
    model = lightning_module.model
    L = model.config.seq_len
    flops = device_check.count_flops(lightning_module, L)
    per_window, per_batch = flops["forward"]
    by_hand_window = (_hook_flops(model, 4, L) - _hook_flops(model, 2, L)) / 2
    assert per_window == pytest.approx(by_hand_window, rel=1e-6)
    assert per_batch == pytest.approx(_hook_flops(model, 2, L) - 2 * by_hand_window, rel=1e-6)
    assert per_batch > 0                                   # the hypernetwork, once per batch
    # a training step: forward + backward (about 2x the forward; the first layer needs no input
    # gradient) + the adversaries
    assert 2.0 * per_window < flops["train"][0] < 3.5 * per_window
    assert device_check.per_item(flops["forward"], 64, windows=4) == pytest.approx(4 * (per_window + per_batch / 64))


def test_peaks(device_check, monkeypatch):
    assert device_check.device_peaks(torch.device("cpu"), 10.0, None)[:2] == (10.0, None)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H200")
    assert device_check.device_peaks(torch.device("cuda"), None, None)[:2] == (67.0, 989.4)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Some Future GPU")
    assert device_check.device_peaks(torch.device("cuda"), None, None)[:2] == (None, None)
    monkeypatch.setattr(device_check, "_cpu_flags", lambda: {"avx512f", "fma"})
    monkeypatch.setattr(device_check, "_cpu_ghz", lambda: 2.0)
    monkeypatch.setattr("mfd_model.threads.available_cores", lambda: 4)
    fp32, bf16, _ = device_check.device_peaks(torch.device("cpu"), None, None)
    assert fp32 == pytest.approx(4 * 2.0 * 64 / 1e3) and bf16 is None
    line = device_check.row("x", "fp32", 1000.0, "windows/s", 1e9, (2.0, 4.0, ""), "n")
    assert "| 1.00 | 1.00 | 50.0 % | 25.0 % |" in line      # 1000 windows/s x 1 GFLOP = 1 TFLOP/s


def test_written_variants_and_intervals_match_the_genome(device_check, tmp_path):
    rng = np.random.default_rng(0)
    genome = Genome(write_fasta(tmp_path / "g.fa", {"a": "".join(rng.choice(list("ACGT"), 5000)),
                                                   "b": "".join(rng.choice(list("ACGTN"), 3000))}))
    vcf = device_check.write_vcf(genome, 300, 500, tmp_path / "v.vcf", np.random.default_rng(1))
    rows = [line.split("\t") for line in vcf.read_text().splitlines() if not line.startswith("#")]
    assert len(rows) > 150                   # positions drawn twice and windows holding an N are left out
    kinds = {"snv": 0, "ins": 0, "del": 0}
    for chrom, pos, _, ref, alt, *_ in rows:
        pos = int(pos)
        assert 500 <= pos <= genome.contigs[chrom] - 500
        assert genome.fetch(chrom, pos - 1, pos - 1 + len(ref)) == ref and "N" not in ref
        kinds["snv" if len(ref) == len(alt) == 1 else "ins" if len(alt) > len(ref) else "del"] += 1
        assert ref != alt and ref[0] == alt[0] or len(ref) == len(alt) == 1
    assert kinds["snv"] > 0.8 * len(rows) and kinds["ins"] and kinds["del"]
    keys = [(chrom, int(pos)) for chrom, pos, *_ in rows]
    assert keys == sorted(keys, key=lambda k: (list(genome.contigs).index(k[0]), k[1]))
    bed = device_check.write_bed(genome, 50, 500, tmp_path / "i.bed", np.random.default_rng(2))
    for line in bed.read_text().splitlines():
        chrom, start, end, _ = line.split("\t")
        assert 500 <= int(start) and int(end) <= genome.contigs[chrom] - 500
    genome.close()
