"""Several independent ``mfd`` commands at once, each a child process bound to this one.

The demo trains three models on the same data (MFD, lambda = 0, the baseline) that do not depend
on each other; on a machine with cores to spare they run side by side, like ``xargs -P``: at most
``jobs`` children at a time, each started as ``python -m mfd_model.concurrent_commands PARENT
ARGV...``, which binds its life to this process (:func:`~mfd_model.processes.die_with_parent`: the
kernel ends it if this process dies, however) and then runs ``mfd ARGV`` with its own error
boundary (:func:`mfd_model.cli.main`). Each child writes its output to its own log file.

While they run, a status line is printed every ``every`` seconds (each command's ``status()``,
e.g. its epoch). When one fails, the others are stopped (SIGTERM: they end cleanly; an interrupted
training resumes from its last checkpoint) and its log's last lines are printed; Ctrl-C,
SIGTERM and SIGHUP stop them the same way before the interrupt goes on.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

TAIL_LINES = 15    # lines of a failed command's log that are printed
STOP_GRACE_S = 60  # seconds a stopped child gets to end cleanly before SIGKILL


@dataclass
class Command:
    """One ``mfd`` command to run in a child process.

    Attributes:
        name: a short name for status lines.
        argv: the ``mfd`` arguments (without ``mfd``).
        log: the file that gets its stdout and stderr (replaced).
        status: what to say about its progress (e.g. ``"epoch 12 of 30"``), or ``None``.
    """

    name: str
    argv: list[str]
    log: Path
    status: Callable[[], str] | None = None
    started: float = field(default=0.0, repr=False)


class CommandFailed(Exception):
    """A child command ended with a non-zero status (the others were stopped)."""

    def __init__(self, command: Command, code: int) -> None:
        self.command, self.code = command, code
        super().__init__(f"{command.name}: exit {code}")


def run_commands(commands: Sequence[Command], jobs: int, *, every: float = 60.0, poll: float = 0.5) -> None:
    """Run ``commands``, at most ``jobs`` at a time, until all have ended.

    Raises:
        CommandFailed: the first command that ended with a non-zero status (its log's tail printed);
            the others were stopped.
        KeyboardInterrupt: the children were stopped first (a child's own interrupt, exit status
            128 + signal, counts as a failure).
    """
    waiting = list(commands)
    running: dict[subprocess.Popen, Command] = {}
    last_status = time.monotonic()
    try:
        while waiting or running:
            while waiting and len(running) < max(1, jobs):
                command = waiting.pop(0)
                running[_start(command)] = command
            time.sleep(poll)
            for child in list(running):
                cpu = _reap(child)
                if cpu is None:
                    continue
                command = running.pop(child)
                if child.returncode != 0:
                    print(f"{command.name}: failed (exit {child.returncode}); the end of {command.log}:", flush=True)
                    print(_tail(command.log), flush=True)
                    raise CommandFailed(command, child.returncode)
                print(f"{command.name}: done ({time.monotonic() - command.started:.0f} s, {cpu:.0f} s of CPU; "
                      f"log {command.log})", flush=True)
            if running and time.monotonic() - last_status >= every:
                last_status = time.monotonic()
                print(" | ".join(_status(c) for c in running.values()), flush=True)
    finally:
        _stop(running)


def _start(command: Command) -> subprocess.Popen:
    command.log.parent.mkdir(parents=True, exist_ok=True)
    print(f"{command.name}: started; output in {command.log}", flush=True)
    command.started = time.monotonic()
    with open(command.log, "wb") as log:
        return subprocess.Popen([sys.executable, "-m", "mfd_model.concurrent_commands", str(os.getpid()),
                                 *command.argv], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _reap(child: subprocess.Popen) -> float | None:
    """If ``child`` has ended: set its ``returncode`` and return the CPU seconds it and its own children
    used (user + system, ``os.wait4``); ``None`` while it runs."""
    if child.returncode is not None:
        return 0.0
    pid, status, usage = os.wait4(child.pid, os.WNOHANG)
    if pid == 0:
        return None
    child.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def _status(command: Command) -> str:
    minutes = (time.monotonic() - command.started) / 60
    detail = command.status() if command.status is not None else ""
    return f"{command.name}: {detail + ', ' if detail else ''}{minutes:.0f} min"


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as err:
        return f"(cannot read the log: {err})"
    return "\n".join("    " + line for line in lines[-TAIL_LINES:])


def _stop(running: dict[subprocess.Popen, Command]) -> None:
    """SIGTERM every child still running, then SIGKILL those not ended after :data:`STOP_GRACE_S`."""
    for child in running:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for child in running:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _child(parent: int, argv: list[str]) -> int:
    """A child's life: bound to ``parent`` (still stopped cleanly by SIGTERM), then ``mfd argv``."""
    from .processes import die_with_parent
    die_with_parent(parent, ignore_termination=False)
    from .cli import main
    return main(argv)


if __name__ == "__main__":
    sys.exit(_child(int(sys.argv[1]), sys.argv[2:]))
