"""Benchmark: in-silico mutagenesis throughput.

    .venv/bin/python benchmarks/bench_ism.py [--quick]

Model: the default MFD architecture (Basenji2-style trunk, 1152 bp input, C = 120 channels,
240 latent units, 6 tower + 2 dilated layers, 16-channel dinucleotide stem) with a linear
head over 2106 outputs (the paper's number of experiments; the head is < 1 % of the cost),
random weights (speed does not depend on training), float32, eval mode.

Measured in one run, each timing the best of ``--repeats`` interleaved repetitions (the
machine may be shared):

1. naive: one substitution per model call (batch of 1);
2. batched: every substitution of the window through ``predict`` in batches (``method="full"``);
3. fast: local recomputation of only the changed positions per layer (``method="fast"``);
4. windowed ISM cost vs window size (fast engine).

Throughput is substitutions per second; the ratios are the point (absolute times depend on
the machine and its load).
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))  # toy_models

from mfd_model.config import ModelConfig  # noqa: E402
from mfd_model.interpret.ersatz import random_sequences, substitutions  # noqa: E402
from mfd_model.interpret.ism import saturation_mutagenesis  # noqa: E402
from mfd_model.interpret.targets import Target  # noqa: E402
from mfd_model.model import MFDModel  # noqa: E402
from toy_models import he_weights_  # noqa: E402


def best_of(repeats: int, func) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller windows (a smoke run)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = MFDModel(ModelConfig(head="baseline"), [f"exp{k}" for k in range(2106)]).eval()
    he_weights_(model)
    config = model.config
    x = random_sequences(1, config.seq_len, seed=0)
    targets = [Target("output", 0, "exp0")]
    centre = config.seq_len // 2
    window = 16 if args.quick else 64
    lo, hi = centre - window // 2, centre + window // 2
    n_subs = 3 * window
    X_mut, _, _ = substitutions(x[0], lo, hi)
    n_naive = min(n_subs, 24)

    def naive() -> None:
        with torch.inference_mode():
            model(torch.as_tensor(x))
            for m in range(n_naive):
                model(torch.as_tensor(X_mut[m:m + 1]))

    def batched() -> None:
        saturation_mutagenesis(model, x, targets, start=lo, end=hi, method="full", batch_size=args.batch_size,
                               progress=False)

    def fast() -> None:
        saturation_mutagenesis(model, x, targets, start=lo, end=hi, method="fast", batch_size=args.batch_size,
                               progress=False)

    # the engines agree (a benchmark of a wrong answer is worthless)
    a = saturation_mutagenesis(model, x, targets, start=lo, end=hi, method="full", progress=False)
    b = saturation_mutagenesis(model, x, targets, start=lo, end=hi, method="fast", progress=False)
    agreement = float(np.abs(a - b).max() / max(np.abs(a).max(), 1e-12))

    naive(), batched(), fast()                          # warm-up: oneDNN builds kernels per new shape
    results = {"naive": [], "batched": [], "fast": []}
    for _ in range(args.repeats):                      # interleaved, so load changes hit all three alike
        results["naive"].append(best_of(1, naive) / (n_naive + 1))
        results["batched"].append(best_of(1, batched) / n_subs)
        results["fast"].append(best_of(1, fast) / n_subs)
    per_sub = {k: min(v) for k, v in results.items()}

    windows = [8, 32, 128] if args.quick else [16, 64, 256, 1152]
    window_times = []
    for w in windows:
        w_lo = max(centre - w // 2, 0)
        w_hi = min(w_lo + w, config.seq_len)
        run = lambda: saturation_mutagenesis(  # noqa: E731
            model, x, targets, start=w_lo, end=w_hi, method="fast", batch_size=args.batch_size, progress=False)
        if w < 1152:
            run()                                        # warm-up
        seconds = best_of(1 if w >= 1152 else args.repeats, run)
        window_times.append((w, 3 * (w_hi - w_lo), seconds))

    date = datetime.date.today().isoformat()
    print(f"# ISM benchmark, {date}, {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{args.threads} threads")
    print(f"model: {config.describe()}; 2106 outputs; {model.parameter_count():,} parameters")
    print(f"engines agree: max |fast - full| / max |full| = {agreement:.2e} (max |effect| {np.abs(a).max():.3g})\n")
    print("| engine | substitutions / s | ms / substitution | speed-up vs naive |")
    print("|---|---|---|---|")
    for name, label in (("naive", "naive (1 substitution per call)"), ("batched", f"batched full (batch {args.batch_size})"),
                        ("fast", f"fast local recomputation (batch {args.batch_size})")):
        print(f"| {label} | {1 / per_sub[name]:.1f} | {1000 * per_sub[name]:.2f} | "
              f"{per_sub['naive'] / per_sub[name]:.1f}x |")
    print(f"\nwindow {window} bp around the centre ({n_subs} substitutions; naive timed on {n_naive})\n")
    print("| ISM window (bp) | substitutions | seconds (fast) | ms / substitution |")
    print("|---|---|---|---|")
    for w, n, seconds in window_times:
        print(f"| {w} | {n} | {seconds:.2f} | {1000 * seconds / n:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
