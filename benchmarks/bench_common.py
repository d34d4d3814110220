"""What several benchmarks share: running the ``mfd`` command as a timed new process."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_mfd(argv: list[str], who: str) -> tuple[float, str]:
    """``mfd ARGV`` as a new process of this interpreter (start-up included), with this checkout
    first on the path: ``(wall seconds, stdout + stderr)``; a failure ends the benchmark ``who``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in [str(REPO), os.environ.get("PYTHONPATH", "")] if p)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "mfd_model", *argv], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{who}: mfd {argv[0] if argv else ''} failed:\n{done.stderr.strip()}")
    return seconds, done.stdout + done.stderr
