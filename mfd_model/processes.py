"""Ending cleanly: termination signals unwind like Ctrl-C, worker processes die with their parent.

A cluster scheduler ends a job with SIGTERM (then SIGKILL), a closed terminal sends SIGHUP.
:func:`handle_termination` makes both raise :class:`Terminated`, a ``KeyboardInterrupt``, so
every ``with`` / ``finally`` that removes a temporary output on Ctrl-C (:mod:`mfd_model.outputs`,
the variant writers) runs for them too, and the command exits ``128 + signal``.

Background processes (DataLoader workers, Lightning's spawned devices) call
:func:`die_with_parent`: on Linux the kernel sends them SIGKILL when the process that started
them ends, however it ends (SIGKILL included; ``prctl(PR_SET_PDEATHSIG)``); elsewhere a
watchdog thread polls the parent. A worker never outlives the command holding memory and
open temporary files.

:func:`exit_now` ends a finished command without the interpreter's module teardown (0.3-0.5 s
after importing torch), exit handlers and stream flushes included.
"""
from __future__ import annotations

import atexit
import ctypes
import functools
import os
import signal
import sys
import threading
import time
from typing import NoReturn

TERMINATING = (signal.SIGTERM, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1


class Terminated(KeyboardInterrupt):
    """A termination signal (SIGTERM, SIGHUP) turned into an exception, handled like Ctrl-C."""

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        super().__init__(signal.Signals(signum).name)


def _raise_terminated(signum: int, frame) -> None:
    raise Terminated(signum)


def handle_termination() -> None:
    """SIGTERM and SIGHUP raise :class:`Terminated` in the main thread (no-op elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in TERMINATING:
        if signal.getsignal(signum) in (signal.SIG_DFL, _raise_terminated):
            signal.signal(signum, _raise_terminated)


def exit_status(interrupt: KeyboardInterrupt) -> tuple[int, str]:
    """``(128 + signal number, signal name)`` of an interrupt (Ctrl-C: 130, SIGINT)."""
    signum = getattr(interrupt, "signum", int(signal.SIGINT))
    return 128 + signum, signal.Signals(signum).name


def die_with_parent(parent: int | None = None, *, ignore_termination: bool = True) -> None:
    """End this process (SIGKILL) as soon as ``parent`` (default: the current parent) ends.

    Call it first thing in a child process. Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, then a
    check that the parent did not end before that. Other systems: a daemon thread polls
    ``os.getppid()`` every second. With ``ignore_termination`` (workers) SIGTERM and SIGHUP are
    ignored, since the parent ends its workers itself; a child that runs a whole command
    (:mod:`mfd_model.concurrent_commands`) keeps them, to be stopped cleanly.
    """
    parent = os.getppid() if parent is None else parent
    for signum in TERMINATING if ignore_termination else ():
        # the parent ends its workers while it unwinds (or the kernel does when it dies); a worker
        # that died first of the signal sent to the whole process group would turn the parent's
        # clean exit into a "DataLoader worker killed" error
        signal.signal(signum, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0:
                if os.getppid() != parent:  # it ended before prctl took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass
    threading.Thread(target=_watch_parent, args=(parent,), name="mfd-parent-watchdog", daemon=True).start()


def pool_worker_init(parent: int) -> None:
    """Initializer of a ``multiprocessing.Pool`` worker (``initargs=(os.getpid(),)``): the pool's
    ``terminate()`` (SIGTERM) ends it silently instead of raising :class:`Terminated` in it with a
    traceback, Ctrl-C is left to the parent (which ends the pool), and it dies with ``parent``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in TERMINATING:
        signal.signal(signum, signal.SIG_DFL)
    die_with_parent(parent, ignore_termination=False)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _worker_init(parent: int, chained, worker_id: int) -> None:
    die_with_parent(parent)
    if chained is not None:
        chained(worker_id)


def worker_init_fn(chained=None):
    """A DataLoader ``worker_init_fn`` that binds each worker's life to this process
    (:func:`die_with_parent`), then calls ``chained(worker_id)`` if given. Picklable."""
    return functools.partial(_worker_init, os.getpid(), chained)


def exit_now(status: int) -> NoReturn:
    """End the command's process with ``status``, skipping the interpreter's teardown of every module.

    After ``import torch`` that teardown takes 0.3-0.5 s on 2 busy cores, a fifth of a short
    command. Everything a normal exit does for the program still happens first: the ``atexit``
    handlers run (logging's flush, multiprocessing's children, ``weakref.finalize`` clean-ups) and
    the standard streams are flushed. When another non-daemon thread is still running, or a stream
    cannot be flushed (a closed pipe), it exits the normal way (``sys.exit``), which waits for the
    thread or reports the stream as before.
    """
    if any(t.is_alive() and not t.daemon and t is not threading.main_thread() for t in threading.enumerate()):
        sys.exit(status)
    atexit._run_exitfuncs()   # runs and clears the handlers; an error in one is printed, as at exit
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        sys.exit(status)
    os._exit(status)
