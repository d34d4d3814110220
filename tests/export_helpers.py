"""Helpers shared by the export tests: small models with non-trivial weights, Kipoi sandboxes."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from conftest import TOY_SCHEMA, TOY_TABLE

REPO = Path(__file__).resolve().parents[1]
SMALL = dict(seq_len=1152, channels=8, latent_dim=16, interact_hidden=8, adversary_hidden=16)


def toy_model(folder: Path, head: str = "mfd", seed: int = 0, **config):
    """A small MFD (or baseline) model on the toy metadata, with spread-out weights (see :func:`spread_out_`)."""
    from mfd_model import MFDModel, ModelConfig, load_metadata

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metadata.tsv").write_text(TOY_TABLE)
    (folder / "schema.yaml").write_text(TOY_SCHEMA)
    table, encoder, _ = load_metadata(folder / "metadata.tsv", folder / "schema.yaml")
    torch.manual_seed(seed)
    cfg = ModelConfig(**{**SMALL, "head": head, **config})
    names = table.experiment_names(encoder.schema)
    if head == "mfd":
        model = MFDModel(cfg, names, encoder=encoder, table=table, info={"trained_on": "toy weights for tests"})
    else:
        model = MFDModel(cfg, names, table=table, info={"trained_on": "toy weights for tests"})
    return spread_out_(model, seed).eval()


def spread_out_(model, seed: int = 0):
    """Perturb every parameter and BatchNorm statistic so that outputs vary widely between inputs.

    A freshly initialised model has identity BatchNorms and probabilities near 0.5; a translation
    error in those parts would go unnoticed. After this, logits spread over several units (std
    about 2, like a trained model's), not hundreds (where float32 rounding alone exceeds 1e-4).
    """
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, buf in model.named_buffers():
            if name.endswith("running_mean"):
                buf.copy_(torch.randn(buf.shape, generator=g) * 0.3)
            elif name.endswith("running_var"):
                buf.copy_(torch.rand(buf.shape, generator=g) * 1.5 + 0.5)
        for name, p in model.named_parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.1)
        last = model.feature_norm if model.is_mfd else model.head.linear
        for p in last.parameters():
            p.mul_(4.0)
    return model


def random_onehot(n: int, length: int, seed: int = 0, n_value: float = 0.25) -> np.ndarray:
    """Random one-hot DNA (N, 4, L) float32 with ~2 % N written as ``n_value``."""
    from mfd_model.export.windows import encode_sequences

    rng = np.random.default_rng(seed)
    letters = np.array(list("ACGTN"))
    seqs = ["".join(rng.choice(letters, size=length, p=[0.245] * 4 + [0.02])) for _ in range(n)]
    return encode_sequences(seqs, n_value=n_value)


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
