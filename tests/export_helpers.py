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
    """Give a fresh model weights and BatchNorm statistics like a trained model's.

    A freshly initialised model has identity BatchNorms and probabilities near 0.5, so a
    translation error in those parts would go unnoticed. Here every parameter is perturbed,
    the BatchNorm running statistics are estimated on random sequence (as training does), and
    the last layer is scaled so that logits vary between sequences by about 2 (std), like a
    trained model's (not by hundreds, where float32 rounding alone exceeds 1e-4).
    """
    g = torch.Generator().manual_seed(seed + 1)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.1)
        model.train()
        for norm in norms:
            norm.reset_running_stats()
            norm.momentum = None  # cumulative average over the calibration batches
        for k in range(3):
            model(torch.from_numpy(random_onehot(64, model.config.seq_len, seed=seed + 100 + k)))
        for norm in norms:
            norm.momentum = 0.1
        model.eval()
        x = torch.from_numpy(random_onehot(64, model.config.seq_len, seed=seed))
        spread = model.logits(x).std(dim=0).mean()
        last = model.feature_norm.weight if model.is_mfd else model.head.linear.weight
        last.mul_(2.0 / spread)
    return model


def random_onehot(n: int, length: int, seed: int = 0, n_value: float = 0.25) -> np.ndarray:
    """Random one-hot DNA (N, 4, L) float32 with ~2 % N written as ``n_value``."""
    from mfd_model.encoding import one_hot_encode_batch

    rng = np.random.default_rng(seed)
    letters = np.array(list("ACGTN"))
    seqs = ["".join(rng.choice(letters, size=length, p=[0.245] * 4 + [0.02])) for _ in range(n)]
    return one_hot_encode_batch(seqs, n_value=n_value)


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
