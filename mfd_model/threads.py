"""How many CPU threads a command's model computes with: the cores it may use, minus the busy ones.

PyTorch starts one intra-op thread per physical core. On a machine that other processes keep busy,
those threads wait for each other (OpenMP spins at every barrier while a core is taken away), and a
small model's batches get several times slower: ``mfd predict`` on 500 intervals took 7.0 s with
two threads and 3.3 s with one, on 2 cores with a load of 5.7 (docs/inference.md). The default here:

    threads = max(1, min(PyTorch's default, cores this process may use, round(cores - load average)))

* *cores this process may use*: its CPU affinity (``os.sched_getaffinity``: taskset, cgroup
  cpusets, Slurm / Kubernetes pinning), further limited by a cgroup v2 CPU quota (``cpu.max``);
* *load average*: the 1-minute load (``os.getloadavg``), the processes already running or waiting.

``--threads N`` (``mfd predict``, ``mfd score-variants``, the analysis commands) and the
``OMP_NUM_THREADS`` environment variable take precedence, in that order. Standard library only at
module level; torch is imported when the threads are set.
"""
from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path
from typing import Iterator

from .errors import MFDError

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def available_cores() -> int:
    """CPU cores this process may run on: its affinity, limited by a cgroup v2 CPU quota (at least 1)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    if quota is not None:
        cores = min(cores, max(1, math.ceil(quota)))
    return max(1, cores)


def cgroup_cpu_quota(path: Path = CGROUP_CPU_MAX) -> float | None:
    """The cgroup v2 CPU quota in cores (``cpu.max``: ``"200000 100000"`` -> 2.0), ``None`` when unlimited
    or unknown."""
    try:
        quota, period = path.read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def default_threads(cores: int | None = None, load: float | None = None, torch_default: int | None = None) -> int:
    """The thread count when none is asked for (module docstring).

    Args:
        cores: cores this process may use (default :func:`available_cores`).
        load: the 1-minute load average (default ``os.getloadavg()[0]``; 0 where unknown).
        torch_default: PyTorch's own default (default: ``torch.get_num_threads()`` before any change).
    """
    cores = available_cores() if cores is None else cores
    if load is None:
        try:
            load = os.getloadavg()[0]
        except OSError:
            load = 0.0
    if torch_default is None:
        import torch
        torch_default = torch.get_num_threads()
    idle = int(math.floor(cores - load + 0.5))
    return max(1, min(torch_default, cores, idle))


def environment_threads() -> int | None:
    """``OMP_NUM_THREADS`` when set to a positive integer, else ``None``."""
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def choose_threads(requested: int | None = None) -> int:
    """``requested`` (``--threads``), else ``OMP_NUM_THREADS``, else :func:`default_threads`."""
    if requested is not None:
        if requested < 1:
            raise MFDError(f"--threads must be >= 1, got {requested}", fix="pass --threads 1 or more, or leave it out")
        return requested
    return environment_threads() or default_threads()


def use_threads(requested: int | None = None) -> int:
    """Set PyTorch's intra-op threads to :func:`choose_threads` and return the number."""
    import torch

    threads = choose_threads(requested)
    torch.set_num_threads(threads)
    return threads


@contextlib.contextmanager
def command_threads(requested: int | None = None) -> Iterator[int]:
    """For a command's run: :func:`use_threads`, PyTorch's previous setting restored afterwards
    (``mfd_model.cli.main`` called in-process, e.g. by tests, leaves no trace)."""
    import torch

    previous = torch.get_num_threads()
    try:
        yield use_threads(requested)
    finally:
        torch.set_num_threads(previous)
