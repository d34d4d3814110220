"""Helpers shared by the export tests: Kipoi sandboxes and the CLI (toy models: tests/toy_models.py)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch


REPO = Path(__file__).resolve().parents[1]


def write_kipoi_config(home: Path, sources: dict[str, Path]) -> None:
    """``HOME/.kipoi/config.yaml`` with local model sources only (never the user's real config)."""
    import yaml

    (home / ".kipoi").mkdir(parents=True, exist_ok=True)
    config = {"model_sources": {name: {"type": "local", "local_path": str(path)} for name, path in sources.items()}}
    (home / ".kipoi" / "config.yaml").write_text(yaml.safe_dump(config))


def run_cli(args: list[str], home: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run a console script of this environment (``kipoi``, ``mfd``) with HOME pointing at ``home``.

    Its stdout and stderr (kipoi logs to both) are merged in ``.stdout``.
    """
    env = {**os.environ, "HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore",
           "OMP_NUM_THREADS": "1"}  # see one_thread()
    exe = str(Path(sys.executable).parent / args[0])
    return subprocess.run([exe, *args[1:]], cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)


def one_thread():
    """Generator for a module fixture: torch on one thread while the module runs.

    On a small shared machine two OpenMP threads that wait for each other make tiny model calls
    100x slower; the numbers are the same either way.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
