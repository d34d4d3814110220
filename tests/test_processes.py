"""Signals end a real ``mfd score-variants`` run cleanly: no output, no temporary file, no process left.

SIGTERM (a scheduler's time limit) and SIGHUP unwind like Ctrl-C; the VCF-reading worker ends
with its parent even when the parent is SIGKILLed (checked in /proc, independently of the code).
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from variant_helpers import random_genome, write_fasta, write_vcf

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads processes from /proc")


def _state(pid: int) -> str | None:
    """The process's state letter from /proc (``None``: gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("State:"):
                return line.split()[1]
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def _alive(pid: int) -> bool:
    return _state(pid) not in (None, "Z", "X")   # a zombie has ended (only its exit status is left)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in status and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


@pytest.fixture
def running_scorer(tmp_path):
    """A real ``mfd score-variants`` (default model, one VCF-reading worker) busy on 6,000 SNVs.

    Yields ``(process, worker pids, folder)`` once the worker runs and the hidden partial outputs exist.
    """
    genome = random_genome()
    rng = random.Random(0)
    lines = []
    for i in range(6000):
        chrom = rng.choice(sorted(genome))
        pos = rng.randrange(250, len(genome[chrom]) - 250)
        ref = genome[chrom][pos - 1].upper()
        if ref in "ACGT":
            lines.append(f"{chrom}\t{pos}\tv{i}\t{ref}\t{'ACGT'[('ACGT'.index(ref) + 1) % 4]}\t.\t.\t.")
    work = tmp_path / "run"
    work.mkdir()
    write_fasta(work / "ref.fa", genome)
    write_vcf(work / "in.vcf", lines)
    inputs = {"ref.fa", "ref.fa.fai", "in.vcf"}
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "mfd_model", "score-variants", "in.vcf", "ref.fa", "out.tsv",
                                "-q", "--workers", "1", "--chunk-size", "512", "--threads", "1"],
                               cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, preexec_fn=_default_termination_signals)
    workers: list[int] = []
    try:
        deadline = time.time() + 120
        while time.time() < deadline and process.poll() is None:
            workers = _children(process.pid)
            if workers and any(".partial" in p.name for p in work.iterdir()) and (work / "ref.fa.fai").exists():
                break
            time.sleep(0.05)
        assert process.poll() is None and workers, f"the run did not get going: {process.communicate()}"
        yield process, workers, work, inputs
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _default_termination_signals() -> None:
    """In the child: SIGTERM / SIGHUP at their default disposition. Under ``nohup`` (or any parent that
    ignores SIGHUP) they arrive ignored, and mfd rightly keeps an ignored signal ignored."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_termination_signal_leaves_no_file_and_no_process(running_scorer, signum):
    process, workers, work, inputs = running_scorer
    process.send_signal(signum)        # to the parent only, as a scheduler's time limit does
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum
    assert stderr.strip().splitlines() == [f"mfd score-variants: interrupted ({signal.Signals(signum).name}); "
                                           "temporary outputs removed"]
    assert {p.name for p in work.iterdir()} == inputs              # no output, no hidden .partial file
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.05)
    assert not [pid for pid in workers if _alive(pid)]


def test_worker_dies_with_a_killed_parent(running_scorer):
    process, workers, work, inputs = running_scorer
    process.send_signal(signal.SIGKILL)   # nothing of the parent runs: the kernel ends the worker
    process.wait(timeout=30)
    deadline = time.time() + 5
    while time.time() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.05)
    assert not [pid for pid in workers if _alive(pid)]
    assert not (work / "out.tsv").exists() and not (work / "out.rejects.tsv").exists()   # never a final name


def test_training_data_worker_dies_at_once_with_a_killed_parent(tiny_store, tmp_path):
    """``mfd train``'s DataLoader worker ends with the SIGKILLed trainer at once (the kernel's
    PR_SET_PDEATHSIG), not after PyTorch's own 5 s parent poll."""
    from conftest import tiny_train_config
    config = tiny_train_config(tiny_store, tmp_path / "run", max_epochs=1000, num_workers=1)
    process = subprocess.Popen([sys.executable, "-m", "mfd_model", "train", "--config", str(config), "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    workers: list[int] = []
    try:
        deadline = time.time() + 180
        while time.time() < deadline and process.poll() is None and not workers:
            workers = _children(process.pid)
            time.sleep(0.05)
        assert process.poll() is None and workers, "training did not start a data worker"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        deadline = time.time() + 2
        while time.time() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.02)
        assert not [pid for pid in workers if _alive(pid)]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("status, signum", [(143, signal.SIGTERM), (129, signal.SIGHUP), (130, signal.SIGINT)])
def test_an_interrupted_demo_step_interrupts_the_demo(monkeypatch, status, signum):
    """``mfd demo`` ends with its interrupted step's status (128 + signal), not as a failed step (2)."""
    from mfd_model import cli, demo
    from mfd_model.processes import Terminated, exit_status
    monkeypatch.setattr(cli, "main", lambda argv: status)
    with pytest.raises(Terminated) as raised:
        demo.run_step("a step", ["train"])
    assert exit_status(raised.value) == (status, signal.Signals(signum).name)


@pytest.mark.parametrize("thread", [False, True])
def test_exit_now_keeps_what_a_normal_exit_does(tmp_path, thread):
    """``exit_now``: the status, buffered output, atexit handlers; a running non-daemon thread is
    waited for (the normal exit), so its output is not lost."""
    marker = tmp_path / "atexit.txt"
    code = ("import atexit, sys, threading, time\nfrom mfd_model.processes import exit_now\n"
            f"atexit.register(lambda: open({str(marker)!r}, 'w').write('ran'))\n"
            "sys.stdout.write('buffered, no newline')\n"
            + ("threading.Thread(target=lambda: (time.sleep(0.5), print(' thread done', flush=True))).start()\n"
               if thread else "")
            + "exit_now(3)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert done.stdout == "buffered, no newline" + (" thread done\n" if thread else "")
    assert marker.read_text() == "ran"


def test_the_command_exits_with_its_status(tmp_path):
    """``python -m mfd_model``: the status of ``main`` (2 with its one error line), stderr complete."""
    done = subprocess.run([sys.executable, "-m", "mfd_model", "score-variants", str(tmp_path / "missing.vcf"),
                           str(tmp_path / "ref.fa"), str(tmp_path / "out.tsv")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("mfd score-variants: error: ")
