"""Several mfd commands at once (mfd_model/concurrent_commands.py) and the demo's trainings side by
side (mfd_model/demo.py: train): every command runs, a failure stops the others without leaving a
half-written output, and the children die with their parent, however it ends."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mfd_model import demo as flow
from mfd_model.concurrent_commands import Command, CommandFailed, run_commands
from mfd_model.errors import MFDError

LONG_SIMULATION = ["--genome-size", "4e8", "--n-chromosomes", "20", "--quiet"]   # minutes of work


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _children_with(marker: str) -> list[int]:
    """PIDs of the running processes whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return [pid for pid in found if pid != os.getpid() and _alive(pid)]


def test_commands_run_side_by_side_and_log_their_output(tmp_path, capsys):
    commands = [Command(f"sim{k}", ["simulate", str(tmp_path / f"sim{k}"), "--genome-size", "1e5", "--n-chromosomes", "2",
                                    "--n-experiments", "8", "--quiet"], tmp_path / "logs" / f"sim{k}.log",
                        status=lambda: "working") for k in range(3)]
    run_commands(commands, jobs=2, every=0.0, poll=0.05)
    printed = capsys.readouterr().out
    for k in range(3):
        assert (tmp_path / f"sim{k}" / "genome.fa").exists()
        assert f"sim{k}: done" in printed and (tmp_path / "logs" / f"sim{k}.log").exists()
        assert re.search(rf"sim{k}: done \(\d+ s, \d+ s of CPU; log ", printed)
    # the same seed: the same genome, whichever process wrote it
    assert (tmp_path / "sim0" / "genome.fa").read_bytes() == (tmp_path / "sim2" / "genome.fa").read_bytes()
    assert "working" in printed


def test_a_failure_stops_the_others_and_leaves_no_partial_output(tmp_path, capsys):
    marker = str(tmp_path / "long")
    long = Command("long", ["simulate", marker, *LONG_SIMULATION], tmp_path / "long.log")
    broken = Command("broken", ["predict", str(tmp_path / "missing.bed"), str(tmp_path / "missing.fa"),
                                str(tmp_path / "out.tsv")], tmp_path / "broken.log")
    started = time.monotonic()
    with pytest.raises(CommandFailed) as failed:
        run_commands([long, broken], jobs=2, poll=0.05)
    assert failed.value.command is broken and failed.value.code == 2
    assert time.monotonic() - started < 60
    printed = capsys.readouterr().out
    assert "broken: failed (exit 2)" in printed and "mfd predict: error:" in printed   # the log's tail
    assert not _children_with(marker)              # the long one was stopped ...
    assert not Path(marker).exists()               # ... and removed its temporary output
    assert "interrupted (SIGTERM)" in (tmp_path / "long.log").read_text()


def test_children_die_with_their_parent(tmp_path):
    """The parent is SIGKILLed (no cleanup runs): the kernel ends its children."""
    marker = str(tmp_path / "orphan")
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        from pathlib import Path
        from mfd_model.concurrent_commands import Command, run_commands
        run_commands([Command("long", ["simulate", {marker!r}, *{LONG_SIMULATION!r}], Path({marker!r} + ".log"))], 1)
        """)])
    try:
        deadline = time.monotonic() + 60
        while not _children_with(marker + " ") and time.monotonic() < deadline:
            time.sleep(0.1)
        children = _children_with(marker + " ")
        assert children, "the child did not start"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in children)
    finally:
        parent.kill()
        for pid in _children_with(marker + " "):
            os.kill(pid, signal.SIGKILL)


def _trainings(tmp_path: Path, done: set[str] = frozenset()) -> list:
    trainings = []
    for name in ("run", "run_lambda0", "run_baseline"):
        folder = tmp_path / name
        if name in done:
            folder.mkdir(parents=True)
            (folder / "model.pt").write_text("")
        trainings.append(flow.Training(f"3. train {name}", ["train", "--set", f"output={folder}"], folder))
    return trainings


def test_the_demo_trains_side_by_side_with_a_share_of_the_cores(tmp_path, monkeypatch, capsys):
    ran, steps = [], []
    monkeypatch.setattr("mfd_model.concurrent_commands.run_commands", lambda commands, jobs: ran.append((commands, jobs)))
    monkeypatch.setattr("mfd_model.threads.available_cores", lambda: 4)
    monkeypatch.setattr(flow, "run_step", lambda title, argv, done=False: steps.append((title, done)))
    models = flow.train(_trainings(tmp_path, done={"run"}), jobs=3)
    assert models == [tmp_path / n / "model.pt" for n in ("run", "run_lambda0", "run_baseline")]
    (commands, jobs), = ran
    assert jobs == 2 and [c.name for c in commands] == ["run_lambda0", "run_baseline"]   # the done one is skipped
    assert all(c.argv[-2:] == ["--set", "training.threads=2"] for c in commands)      # 4 cores / 2 at a time
    assert commands[0].log == tmp_path / "run_lambda0" / "train.log"
    assert commands[0].status() == "starting"
    printed = capsys.readouterr().out
    assert "=== 3. train run\n" in printed and "(outputs exist: skipped)" in printed and "2 trainings, 2 at a time" in printed
    # one training left, or jobs 1: the steps run in this process, one after the other
    ran.clear()
    flow.train(_trainings(tmp_path / "b", done={"run", "run_lambda0"}), jobs=3)
    flow.train(_trainings(tmp_path / "c"), jobs=1)
    assert not ran and len(steps) == 6 and [d for _, d in steps[:3]] == [True, True, False]


def test_a_failed_training_is_one_error_and_an_interrupted_one_an_interrupt(tmp_path, monkeypatch):
    from mfd_model.processes import Terminated

    def failing(code):
        def run(commands, jobs):
            raise CommandFailed(commands[1], code)
        return run

    monkeypatch.setattr("mfd_model.concurrent_commands.run_commands", failing(2))
    with pytest.raises(MFDError, match=r"'mfd train' \(run_lambda0\) failed \(exit 2\)"):
        flow.train(_trainings(tmp_path), jobs=3)
    monkeypatch.setattr("mfd_model.concurrent_commands.run_commands", failing(143))
    with pytest.raises(Terminated) as interrupted:
        flow.train(_trainings(tmp_path), jobs=3)
    assert interrupted.value.signum == signal.SIGTERM


def test_training_status_reads_the_epochs_written_so_far(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "metrics.csv").write_text(
        "epoch,step,train/bce_step,val/auroc_mean\n0,10,0.5,\n0,20,,0.71\n1,30,0.4,\n1,40,,0.7519\n")
    assert flow.training_status(tmp_path) == "epoch 2, validation AUROC 0.752"
    assert flow.training_status(tmp_path / "none") == "starting"


def test_jobs_below_one_is_refused(tmp_path, capsys):
    from mfd_model.cli import main
    assert main(["demo", "--outdir", str(tmp_path / "out"), "--jobs", "0"]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err and not (tmp_path / "out").exists()
