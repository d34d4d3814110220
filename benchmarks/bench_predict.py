"""Benchmark: ``mfd predict`` vs ``kipoi predict``, pipeline vs raw forward, PyTorch vs TensorFlow variant.

    .venv/bin/python benchmarks/bench_predict.py [--intervals 10000] [--channels 32] [--experiments 100]

One run of each contender on the same intervals (random positions in the real hg38 chr1:0-1 Mb
of ../shared/data), the same model (MFD head, ``channels`` wide, ``experiments`` outputs,
untrained weights with spread-out BatchNorm statistics: speed does not depend on training)
and the same thread count. Prints ratios; absolute times on a shared CPU mean little.

1. wall time of the command lines, start-up included: ``kipoi predict`` (its default batch
   size 32, and again with mfd's CPU batch size 64) vs ``mfd predict`` (defaults), same TSV
   numbers checked;
2. in-process throughput of ``mfd predict``'s pipeline (read BED, fetch, encode, predict,
   write TSV) vs the raw forward on pre-encoded tensors: of the model module (what Kipoi runs)
   and of the channels-last rebuild that ``mfd predict`` runs on the CPU (batch 64 each);
3. PyTorch module forward vs the TensorFlow SavedModel (``tensorflow`` variant), batch 64.

Kipoi runs with HOME pointing at a temporary folder (a local model source); the user's
~/.kipoi is never touched.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from mfd_model.allocator import MMAP_THRESHOLD_MAX, TRIM_THRESHOLD, keep_freed_memory  # noqa: E402

MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD_MAX), "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD)}
FASTA = REPO.parent / "shared" / "data" / "hg38_chr1_1mb" / "hg38_1m.fa.gz"


class Report(list):
    """Lines printed as they are added."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        for line in lines:
            self.append(line)

    def append(self, line: str) -> None:
        print(line, flush=True)
        super().append(line)


def build_model(channels: int, n_experiments: int, seed: int = 0):
    """An MFD model with ``n_experiments`` outputs from a synthetic metadata table."""
    from mfd_model import MFDModel, ModelConfig
    from mfd_model.metadata import MetadataEncoder, MetadataSchema, MetadataTable

    rng = np.random.default_rng(seed)
    targets = ["CTCF", "EP300", "Accessible DNA", "H3K27ac", "H3K4me3", "POLR2A", "RAD21", "YY1"]
    rows = [{"experiment": f"exp{k:04d}", "target": targets[k % len(targets)],
             "biosample": f"cell{rng.integers(0, 20)}", "assay": ["ChIP-seq", "DNase-seq", "ATAC-seq"][k % 3],
             "lab": f"lab{rng.integers(0, 6)}"} for k in range(n_experiments)]
    table = MetadataTable.from_records(rows)
    schema = MetadataSchema.from_dict({"id_column": "experiment",
                                       "biological": {"direct": [{"column": "target"}],
                                                      "interact": [{"column": "biosample"}]},
                                       "technical": {"direct": [{"column": "assay"}],
                                                     "interact": [{"column": "lab"}]}})
    torch.manual_seed(seed)
    model = MFDModel(ModelConfig(channels=channels, interact_hidden=32), table.experiment_names(schema),
                     encoder=MetadataEncoder.fit(table, schema), table=table,
                     info={"trained_on": "nothing: benchmark model with random weights"})
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # spread the outputs out (an untrained model predicts ~0.5 everywhere)
        for name, buf in model.named_buffers():
            if name.endswith("running_mean"):
                buf.copy_(torch.randn(buf.shape, generator=g) * 0.3)
            elif name.endswith("running_var"):
                buf.copy_(torch.rand(buf.shape, generator=g) + 0.5)
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
        model.feature_norm.weight.mul_(4.0)
    return model.eval()


def write_intervals(path: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    starts = rng.integers(2_000, 990_000, size=n)
    widths = rng.integers(100, 2_000, size=n)
    path.write_text("".join(f"chr1\t{s}\t{s + w}\n" for s, w in zip(starts, widths)))


def timed(args: list[str], env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"failed: {' '.join(args)}\n{done.stdout[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intervals", type=int, default=10_000)
    parser.add_argument("--channels", type=int, default=32, help="trunk width (demo: 32; paper default: 120)")
    parser.add_argument("--experiments", type=int, default=100)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for every contender")
    parser.add_argument("--skip-kipoi", action="store_true")
    args = parser.parse_args()
    if not FASTA.exists():
        sys.exit(f"needs {FASTA}")
    torch.set_num_threads(args.threads)
    keep_freed_memory()   # as the mfd command line does: the in-process figures below see what mfd predict sees
    import tensorflow as tf  # configured before anything (the export) initialises it
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from mfd_model import save_model
    from mfd_model.bed import read_bed
    from mfd_model.export.kipoi_source import export_source
    from mfd_model.inference.fetch import fetch_windows
    from mfd_model.inference.intervals import predict_intervals
    from mfd_model.inference.prediction_tables import write_predictions
    from mfd_model.interpret.windows import centred_windows
    from mfd_model.genome import Genome
    from mfd_model.predict import predict

    work = Path(tempfile.mkdtemp(prefix="mfd-bench-"))
    home = work / "home"
    (home / ".kipoi").mkdir(parents=True)
    (home / ".kipoi" / "config.yaml").write_text(f"model_sources:\n  bench:\n    type: local\n    local_path: {work}\n")
    env = {**os.environ, "HOME": str(home), "OMP_NUM_THREADS": str(args.threads), "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONWARNINGS": "ignore"}
    model = build_model(args.channels, args.experiments)
    save_model(model, work / "model.pt")
    export_source({"": model}, work, log=lambda _: None)
    bed = work / "intervals.bed"
    write_intervals(bed, args.intervals)
    bin_dir = Path(sys.executable).parent
    n = args.intervals
    lines = Report([f"# bench_predict.py, {date.today()}, {platform.machine()} with {os.cpu_count()} CPU cores, "
             f"{args.threads} threads, torch {torch.__version__}",
             f"model: MFD head, channels {args.channels}, latent {model.config.latent_dim}, seq_len "
             f"{model.config.seq_len}, {args.experiments} experiments, {model.parameter_count():,} parameters; "
             f"{n:,} intervals on hg38 chr1:0-1Mb"])

    # 1. command lines, start-up included
    mfd_tsv = work / "mfd.tsv"
    t_mfd = timed([str(bin_dir / "mfd"), "predict", str(bed), str(FASTA), str(mfd_tsv), "-m",
                   str(work / "MFD" / "pytorch"), "--no-progress"], env)
    ours = pd.read_csv(mfd_tsv, sep="\t")[model.experiment_names].to_numpy()
    lines.append(f"mfd predict (batch 64): {n / t_mfd:,.0f} intervals/s wall; output spread (std) {ours.std():.3f}")
    if not args.skip_kipoi:
        dl_args = json.dumps({"intervals_file": str(bed), "fasta_file": str(FASTA)})
        # kipoi with its defaults, with mfd's batch size, and with the allocator setting that the
        # mfd command line makes (mfd_model.allocator), given to kipoi through the environment
        for batch, extra, label in ((32, {}, ""), (64, {}, ""), (32, MALLOC_ENV, ", MALLOC_* thresholds set")):
            kipoi_tsv = work / f"kipoi{batch}.tsv"
            t_kipoi = timed([str(bin_dir / "kipoi"), "predict", "MFD/pytorch", "--source", "bench",
                             "--dataloader_args", dl_args, "--batch_size", str(batch), "-o", str(kipoi_tsv)],
                            {**env, **extra})
            theirs = pd.read_csv(kipoi_tsv, sep="\t").filter(like="preds/")
            theirs = theirs[sorted(theirs.columns, key=lambda c: int(c.split("/")[1]))].to_numpy()  # kipoi sorts
            # its TSV columns as text: preds/0, preds/1, preds/10, ...
            lines.append(f"kipoi predict (batch {batch}{label}): {n / t_kipoi:,.0f} intervals/s wall; mfd predict is "
                         f"{t_kipoi / t_mfd:.2f}x faster; max |diff| of the outputs {np.abs(ours - theirs).max():.1e}")

    # 2. pipeline vs raw forward (in process, after warm-up)
    from mfd_model.inference.fast_model import ChannelsLastMFD

    genome = Genome(FASTA)
    windows = centred_windows(read_bed(bed), genome, model.config.seq_len)
    x = fetch_windows(genome, windows.chrom, windows.start, model.config.seq_len)
    fast = ChannelsLastMFD(model)
    raw = {}
    for name, net in (("module", model), ("channels-last", fast)):
        predict(net, x[:64], device="cpu")
        t0 = time.perf_counter()
        raw[name] = (predict(net, x, batch_size=64, device="cpu").numpy(), time.perf_counter() - t0)
    reference, t_raw = raw["module"]
    t0 = time.perf_counter()
    result = predict_intervals(model, bed, FASTA, device="cpu", progress=False, log=lambda _: None)
    write_predictions(work / "inproc.tsv", result.intervals, result.probabilities, result.experiments)
    t_pipe = time.perf_counter() - t0
    lines.append(f"raw forward on pre-encoded (N, 4, L) tensors, batch 64: model module {n / t_raw:,.0f} windows/s; "
                 f"channels-last rebuild {n / raw['channels-last'][1]:,.0f} windows/s "
                 f"({t_raw / raw['channels-last'][1]:.2f}x; max |diff| "
                 f"{np.abs(raw['channels-last'][0] - reference).max():.1e})")
    lines.append(f"mfd predict pipeline in process (BED -> TSV): {n / t_pipe:,.0f} intervals/s = "
                 f"{raw['channels-last'][1] / t_pipe:.2f} of the raw forward of the network it runs, "
                 f"{t_raw / t_pipe:.2f} of the model module's raw forward")

    # 3. TensorFlow variant
    saved = tf.saved_model.load(str(work / "MFD" / "tensorflow" / "savedmodel"))
    saved(x[:64])
    t0 = time.perf_counter()
    tf_out = np.concatenate([saved(x[i:i + 64]).numpy() for i in range(0, n, 64)])
    t_tf = time.perf_counter() - t0
    lines.append(f"TensorFlow SavedModel forward (batch 64): {n / t_tf:,.0f} windows/s = {t_raw / t_tf:.2f}x the "
                 f"PyTorch module's throughput; max |diff| {np.abs(tf_out - reference).max():.1e}")


if __name__ == "__main__":
    main()
