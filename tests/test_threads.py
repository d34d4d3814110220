"""mfd_model.threads: the thread choice of the commands, and their lazy start-up.

References: the rule of the module docstring written out by hand for each case; the cgroup v2
``cpu.max`` format of the kernel's documentation; the commands' help run in a fresh interpreter.
"""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from mfd_model.errors import MFDError
from mfd_model.threads import (available_cores, cgroup_cpu_quota, choose_threads, command_threads,
                               default_threads, environment_threads)


@pytest.mark.parametrize("cores, load, torch_default, expected", [
    (2, 5.7, 2, 1),     # the busy 2-core machine: one thread, not two spinning on one core
    (2, 1.0, 2, 1),     # one other process: one core left
    (2, 0.6, 2, 1),     # 1.4 idle cores rounds to 1
    (2, 0.4, 2, 2),     # 1.6 rounds to 2
    (16, 0.1, 8, 8),    # an idle machine: PyTorch's own default (physical cores) caps it
    (16, 3.2, 16, 13),
    (4, 0.0, 16, 4),    # an affinity of 4 cores (taskset, Slurm) caps it
])
def test_default_threads_by_hand(cores, load, torch_default, expected):
    assert default_threads(cores=cores, load=load, torch_default=torch_default) == expected


def test_cgroup_quota(tmp_path):
    path = tmp_path / "cpu.max"
    path.write_text("max 100000\n")
    assert cgroup_cpu_quota(path) is None
    path.write_text("150000 100000\n")
    assert cgroup_cpu_quota(path) == 1.5
    assert cgroup_cpu_quota(tmp_path / "missing") is None
    import os
    assert 1 <= available_cores() <= (os.cpu_count() or 1)


def test_precedence(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert environment_threads() == 3
    assert choose_threads(5) == 5          # --threads first
    assert choose_threads(None) == 3       # then OMP_NUM_THREADS
    monkeypatch.setenv("OMP_NUM_THREADS", "lots")
    assert environment_threads() is None
    assert choose_threads(None) == default_threads()
    with pytest.raises(MFDError, match="--threads must be >= 1, got 0"):
        choose_threads(0)


def test_command_threads_are_set_then_restored():
    before = torch.get_num_threads()
    other = 1 if before != 1 else 2
    with command_threads(other) as threads:
        assert threads == other == torch.get_num_threads()
    assert torch.get_num_threads() == before


def test_cli_sets_threads_for_the_run_only(monkeypatch, tmp_path, capsys):
    """``mfd predict --threads N`` computes with N threads and leaves the process as it was."""
    from mfd_model.cli import main
    from mfd_model.commands import predict

    seen = []
    monkeypatch.setattr(predict, "run", lambda args: seen.append(torch.get_num_threads()) or 0)
    before = torch.get_num_threads()
    want = 1 if before != 1 else 2
    assert main(["predict", "a.bed", "b.fa", str(tmp_path / "o.tsv"), "--threads", str(want)]) == 0
    assert seen == [want] and torch.get_num_threads() == before
    assert main(["predict", "a.bed", "b.fa", str(tmp_path / "o.tsv"), "--threads", "0"]) == 2
    assert "mfd predict: error: --threads must be >= 1, got 0" in capsys.readouterr().err


def _run_fresh(code: str) -> subprocess.CompletedProcess:
    """``code`` in a new interpreter (nothing imported yet); it must succeed."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.parametrize("command", ["predict", "score-variants", "embed"])
def test_help_imports_no_heavy_library(command):
    code = ("import sys\nfrom mfd_model.cli import main\n"
            f"try:\n    main([{command!r}, '--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'numpy', 'pandas', 'lightning') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    assert "--threads" in _run_fresh(code).stdout


def test_score_variants_runs_without_pandas(tmp_path):
    """Start-up: ``mfd score-variants`` on the default model (loading it, its metadata table, scoring,
    writing the TSV) never imports pandas (0.3-0.5 s of a 2 s start on a busy machine)."""
    from variant_helpers import random_genome, variant_lines, write_fasta, write_vcf
    genome = random_genome()
    fasta = write_fasta(tmp_path / "genome.fa", genome)
    vcf = write_vcf(tmp_path / "variants.vcf", variant_lines(genome))
    code = ("import sys\nfrom mfd_model.cli import main\n"
            f"assert main(['score-variants', {str(vcf)!r}, {str(fasta)!r}, {str(tmp_path / 'out.tsv')!r}, "
            "'--threads', '1', '-q', '--max-allele-length', '5']) == 0\n"
            "assert 'pandas' not in sys.modules\n")
    _run_fresh(code)
    assert (tmp_path / "out.tsv").stat().st_size > 0
