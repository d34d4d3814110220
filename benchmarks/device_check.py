"""The device check's measurements (run by ``benchmarks/device_check.sh``, which makes the data first).

    python benchmarks/device_check.py --sim SIM --store STORE --workdir DIR [--quick] [--device cuda|cpu]
        [--out FILE.md] [--peak-fp32 TFLOPS] [--peak-bf16 TFLOPS]

``SIM`` is a data set written by ``mfd simulate`` and ``STORE`` its label store (``mfd prepare``).
On the paper-sized model (``train/configs/encode.yaml``: 1152 bp, 120 channels, latent 120; the
store's experiments as outputs; untrained weights, speed does not depend on training) it records:

1. training windows/s with the real loader (``WindowDataModule``: gathers from the genome code
   cache, augmentation, labels) at batch 256 (``--quick``: 32), and its data-wait share (the time
   between the end of one step and the start of the next; the GPU is synchronised at each step end);
2. ``mfd predict`` windows/s: the whole command (start-up, reading, writing HDF5 included) and the
   inference engine in-process on windows already in memory (the device's own rate);
3. ``mfd score-variants`` alleles/s on random SNVs (90 %) and indels: the whole command (every
   experiment scored, written aggregated with ``--aggregate mean --aggregate absmax`` so the
   writer does not dominate) and its in-process rate as it reports it;
4. the FLOPs each reaches, as a fraction of the device's fp32 and bf16 peaks: FLOPs per window
   counted with ``torch.utils.flop_counter`` (forward; training: forward, backward and the
   adversary steps), times the rate. Variant scoring is counted in full-window equivalents (the
   reference and alternative windows of both strands: 4 forward passes per allele); the local
   recomputation of SNVs does less work than that.

The results are a markdown table, printed and written to ``--out``.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import re
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import torch
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from mfd_model.config import ModelConfig  # noqa: E402
from mfd_model.genome import Genome  # noqa: E402
from mfd_model.simulation_layout import SimulationLayout  # noqa: E402
from mfd_model.train.config import TrainingParams  # noqa: E402

ENCODE = REPO / "train" / "configs" / "encode.yaml"

#: dense peak TFLOP/s (fp32 on CUDA cores, bf16 on tensor cores, no sparsity), by a part of the GPU's name
GPU_PEAKS = {
    "H200": (67.0, 989.4), "H100 SXM": (67.0, 989.4), "H100 NVL": (60.0, 835.0), "H100 PCIe": (51.2, 756.5),
    "H100": (51.2, 756.5), "GH200": (67.0, 989.4), "B200": (80.0, 2250.0), "A100": (19.5, 312.0),
    "L40S": (91.6, 362.1), "L40": (90.5, 181.0), "L4": (30.3, 121.0), "A10G": (31.2, 70.0), "A10": (31.2, 125.0),
    "A6000": (38.7, 154.8), "RTX 4090": (82.6, 165.2), "V100": (15.7, 0.0), "T4": (8.1, 0.0),
}


# ----------------------------------------------------------------------------- sizes, FLOPs, peaks
def encode_sizes() -> tuple[ModelConfig, TrainingParams]:
    """The paper-sized model and its training settings from ``train/configs/encode.yaml`` (one device)."""
    config = yaml.safe_load(ENCODE.read_text())
    model = ModelConfig.from_dict(config["model"])
    known = set(TrainingParams.__dataclass_fields__)
    training = TrainingParams(**{k: v for k, v in config["training"].items() if k in known})
    return model, replace(training, devices=1, num_nodes=1, strategy="auto")


def count_flops(module, seq_len: int) -> dict[str, tuple[float, float]]:
    """FLOPs counted by ``torch.utils.flop_counter``: ``{"forward": (per window, per batch), "train": (...)}``.

    Counted at batch sizes 2 and 4: the difference is the cost of a window; the rest is paid once
    per batch (the metadata hypernetwork computing the output layer ``W``, ``b``). The training
    step is the MFD module's: features -> BCE + lambda * penalty, backward; then the adversary
    step(s) on detached features, backward.
    """
    from torch.utils.flop_counter import FlopCounterMode

    model = module.model

    def forward(batch: int) -> float:
        model.eval()
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model(torch.randint(0, 4, (batch, seq_len)))
        return counter.get_total_flops()

    def train(batch: int) -> float:
        model.train()
        x, y = torch.randint(0, 4, (batch, seq_len)), torch.rand(batch, model.n_experiments).round()
        with FlopCounterMode(display=False) as counter:
            features = model.features(x)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model.logits_from_features(features), y)
            if module.independence is not None:
                loss = loss + module.lambda_indep * module._penalty(features)
            loss.backward()
            if module.independence is not None:
                for _ in range(module.adversary_steps):
                    (-module._penalty(features.detach())).backward()
        model.zero_grad(set_to_none=True)
        model.eval()
        return counter.get_total_flops()

    out = {}
    for name, count in (("forward", forward), ("train", train)):
        two, four = count(2), count(4)
        per_window = (four - two) / 2
        out[name] = (per_window, max(0.0, two - 2 * per_window))
    return out


def per_item(flops: tuple[float, float], batch: int, windows: int = 1) -> float:
    """FLOPs of one item (``windows`` windows each) in batches of ``batch`` windows."""
    per_window, per_batch = flops
    return windows * (per_window + per_batch / batch)


def device_peaks(device: torch.device, fp32: float | None, bf16: float | None) -> tuple[float | None, float | None, str]:
    """Peak TFLOP/s ``(fp32, bf16, where the figures come from)``; ``--peak-*`` win."""
    if fp32 is not None or bf16 is not None:
        return fp32, bf16, "given on the command line"
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        for key, (p32, p16) in GPU_PEAKS.items():
            if key.lower() in name.lower():
                return p32, (p16 or None), f"{name}: vendor's dense peaks for '{key}'"
        return None, None, f"{name}: unknown peak (pass --peak-fp32 / --peak-bf16)"
    from mfd_model.threads import available_cores
    flags = _cpu_flags()
    per_cycle = 64 if "avx512f" in flags else 32 if "fma" in flags else 8   # 2 FMA units x vector width x 2
    bf16_per_cycle = 1024 if "amx_bf16" in flags else 128 if "avx512_bf16" in flags else None
    ghz = _cpu_ghz()
    cores = available_cores()
    p32 = cores * ghz * per_cycle / 1e3
    p16 = cores * ghz * bf16_per_cycle / 1e3 if bf16_per_cycle else None
    return p32, p16, (f"CPU estimate: {cores} cores x {ghz:.2f} GHz x {per_cycle} fp32 FLOPs/cycle"
                      + (f", {bf16_per_cycle} bf16" if bf16_per_cycle else ", no bf16 units (bf16 is emulated)"))


def _cpu_flags() -> set[str]:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def _cpu_ghz() -> float:
    with contextlib.suppress(OSError, ValueError):
        return float(Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").read_text()) / 1e6
    with contextlib.suppress(OSError, ValueError):
        mhz = [float(line.split(":")[1]) for line in Path("/proc/cpuinfo").read_text().splitlines()
               if line.startswith("cpu MHz")]
        return max(mhz) / 1e3
    return 2.0


# ----------------------------------------------------------------------------- inputs
def write_bed(genome: Genome, n: int, seq_len: int, path: Path, rng: np.random.Generator) -> Path:
    """``n`` random 200 bp intervals whose windows lie inside their contig."""
    names = list(genome.contigs)
    lengths = np.array([genome.contigs[c] for c in names])
    contig = rng.choice(len(names), n, p=lengths / lengths.sum())
    start = (seq_len + rng.random(n) * (lengths[contig] - 2 * seq_len - 200)).astype(np.int64)
    path.write_text("".join(f"{names[c]}\t{s}\t{s + 200}\tw{k}\n" for k, (c, s) in enumerate(zip(contig, start))))
    return path


def write_vcf(genome: Genome, n: int, seq_len: int, path: Path, rng: np.random.Generator) -> Path:
    """``n`` random variants (90 % SNVs, 5 % insertions, 5 % deletions of 1-5 bp) away from contig ends."""
    names = list(genome.contigs)
    lengths = np.array([genome.contigs[c] for c in names])
    contig = rng.choice(len(names), n, p=lengths / lengths.sum())
    pos = (seq_len + rng.random(n) * (lengths[contig] - 2 * seq_len)).astype(np.int64)
    rows = []
    for c, p in sorted(set(zip(contig.tolist(), pos.tolist()))):
        kind = rng.random()
        ref = genome.fetch(names[c], p - 1, p + 5)
        if "N" in ref:
            continue
        if kind < 0.9:
            rows.append((names[c], p, ref[0], "ACGT".replace(ref[0], "")[rng.integers(3)]))
        elif kind < 0.95:
            rows.append((names[c], p, ref[0], ref[0] + "".join(rng.choice(list("ACGT"), rng.integers(1, 6)))))
        else:
            rows.append((names[c], p, ref[:rng.integers(2, 7)], ref[0]))
    header = ["##fileformat=VCFv4.2"] + [f"##contig=<ID={c},length={genome.contigs[c]}>" for c in names]
    header.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    body = [f"{c}\t{p}\tv{k}\t{r}\t{a}\t.\tPASS\t." for k, (c, p, r, a) in enumerate(rows)]
    path.write_text("\n".join(header + body) + "\n")
    return path


# ----------------------------------------------------------------------------- measurements
def mfd(argv: list[str]) -> tuple[float, str]:
    """Run ``mfd ARGV`` as a new process (start-up included): ``(wall seconds, stdout + stderr)``."""
    from bench_common import run_mfd
    return run_mfd(argv, "device_check")


def engine_rate(model, codes: np.ndarray, device: torch.device, precision: str) -> float:
    """Windows/s of the inference engine on windows in memory (one warm-up batch first)."""
    from mfd_model.inference.engine import Engine

    engine = Engine(model, device=device, precision=precision)
    engine.predict(codes[:engine.batch_size])
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    started = time.perf_counter()
    engine.predict(codes)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return len(codes) / (time.perf_counter() - started)


def train_rate(sim: Path, store: Path, model: ModelConfig, training: TrainingParams, *, batch: int, steps: int,
               warmup: int, workers: int, device: torch.device, precision: str) -> dict:
    """``bench_training.measure`` with ``mfd train``'s thread rule, capped by the commands' load-aware choice."""
    import logging

    from bench_training import measure

    from mfd_model.threads import choose_threads
    from mfd_model.train.run import _quiet_lightning, training_threads

    accelerator = "gpu" if device.type == "cuda" else "cpu"
    threads = max(1, min(training_threads(replace(training, num_workers=workers, accelerator=accelerator)),
                         choose_threads()))
    _quiet_lightning()
    for name in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return measure(sim, store, model.channels, workers, steps, batch, accelerator, threads, model=model,
                       warmup=warmup, precision=precision, training=training)


# ----------------------------------------------------------------------------- report
def row(what: str, precision: str, rate: float, unit: str, flops: float | None, peaks: tuple, note: str) -> str:
    if flops is None:
        return f"| {what} | {precision} | {rate:,.0f} {unit} | - | - | - | - | {note} |"
    achieved = rate * flops / 1e12
    fractions = [f"{100 * achieved / p:.1f} %" if p else "-" for p in peaks[:2]]
    return (f"| {what} | {precision} | {rate:,.0f} {unit} | {flops / 1e9:.2f} | {achieved:.2f} | "
            f"{fractions[0]} | {fractions[1]} | {note} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sim", type=Path, required=True)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=REPO / "build" / "device_check.md")
    parser.add_argument("--quick", action="store_true", help="small CPU-friendly sizes (under 2 minutes on 2 cores)")
    parser.add_argument("--device", default=None, help="cuda, cuda:1 or cpu (default: cuda if available)")
    parser.add_argument("--peak-fp32", type=float, help="the device's fp32 peak in TFLOP/s (default: looked up)")
    parser.add_argument("--peak-bf16", type=float, help="the device's bf16 peak in TFLOP/s (default: looked up)")
    args = parser.parse_args()

    from mfd_model.inference.sources import GenomeWindows
    from mfd_model.model_io import build_model, save_model
    from mfd_model.predict import resolve_device
    from mfd_model.threads import available_cores, use_threads
    from mfd_model.train.labels import LabelStore

    device = resolve_device(args.device)
    gpu = device.type == "cuda"
    quick = args.quick
    sizes = dict(batch=32 if quick else 256, steps=6 if quick else 100, warmup=2 if quick else 10,
                 intervals=300 if quick else 20_000, variants=200 if quick else 20_000,
                 workers=min(8, max(1, available_cores() // 2)) if gpu else (0 if quick else 2))
    store = LabelStore.open(args.store)
    model_config, training = encode_sizes()
    precisions = ["fp32", "bf16"]
    train_precisions = ["32-true"] + (["bf16-mixed"] if gpu and not quick else [])
    peaks = device_peaks(device, args.peak_fp32, args.peak_bf16)
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    lines: list[str] = []

    # 1. training with the real loader
    train_results = {p: train_rate(args.sim, args.store, model_config, training, batch=sizes["batch"],
                                   steps=sizes["steps"], warmup=sizes["warmup"], workers=sizes["workers"],
                                   device=device, precision=p) for p in train_precisions}

    # the paper-sized model (untrained weights), its FLOPs, a model file for the commands
    from mfd_model.train.module import MFDLightningModule
    from mfd_model.train.run import build_spec
    from mfd_model.train.config import DataParams, TrainConfig
    from mfd_model.metadata import MetadataSchema

    config = TrainConfig(DataParams(store=str(args.store)), MetadataSchema.from_yaml(SimulationLayout(args.sim).schema_yaml),
                         model_config, training, args.workdir / "run")
    spec = build_spec(config, store, command="benchmarks/device_check.sh")
    module = MFDLightningModule(spec, training.__dict__)
    flops = count_flops(module, model_config.seq_len)
    from mfd_model.inference.engine import default_batch_size
    infer_batch = default_batch_size(device)
    forward_flops = per_item(flops["forward"], infer_batch)
    train_flops = per_item(flops["train"], sizes["batch"])
    model = build_model(spec)
    model.load_state_dict(module.model.state_dict())
    model_file = save_model(model.eval(), args.workdir / "model.pt")

    # 2. mfd predict: the command and the engine in-process
    genome = Genome(SimulationLayout(args.sim).genome_fa)
    bed = write_bed(genome, sizes["intervals"], model_config.seq_len, args.workdir / "intervals.bed", rng)
    predict_rows = []
    from mfd_model.bed import read_bed
    from mfd_model.interpret.windows import centred_windows
    windows = centred_windows(read_bed(bed, with_name=True), genome, model_config.seq_len)
    codes = GenomeWindows.of(windows).windows(np.arange(len(windows)), 0)
    model_on = model.to(device)
    threads = use_threads()  # in-process, as the commands choose (mfd_model.threads)
    for precision in precisions:
        seconds, _ = mfd(["predict", str(bed), str(SimulationLayout(args.sim).genome_fa), str(args.workdir / f"p_{precision}.h5"),
                          "-m", str(model_file), "--no-progress", "--precision", precision,
                          "--device", str(device)])
        predict_rows.append((precision, len(windows) / seconds, engine_rate(model_on, codes, device, precision)))
    model.cpu()

    # 3. mfd score-variants: the command, and the rate it reports
    vcf = write_vcf(genome, sizes["variants"], model_config.seq_len, args.workdir / "variants.vcf", rng)
    score_rows = []
    for precision in precisions:
        seconds, output = mfd(["score-variants", str(vcf), str(SimulationLayout(args.sim).genome_fa),
                               str(args.workdir / f"s_{precision}.tsv"), "-m", str(model_file), "-q",
                               "-s", "diff", "-s", "biological", "-s", "technical",
                               "--aggregate", "mean", "--aggregate", "absmax", "--precision", precision,
                               "--device", str(device)])
        found = re.search(r"([\d,]+) alleles: ([\d,]+) scored.*\(([\d,]+) alleles/s\)", output)
        if not found:
            raise SystemExit(f"device_check: cannot read the summary of mfd score-variants:\n{output}")
        scored = int(found.group(2).replace(",", ""))
        score_rows.append((precision, scored, scored / seconds, int(found.group(3).replace(",", ""))))
    genome.close()

    # report
    name = torch.cuda.get_device_name(device) if gpu else (platform.processor() or platform.machine())
    lines.append(f"# mfd device check, {date.today()}, {'quick' if quick else 'full'} setting")
    lines.append("")
    shown = [f"{p:.3g}" if p else "?" for p in peaks[:2]]
    lines.append(f"Machine: {platform.node()}, {name}, {available_cores()} CPU cores available (load average "
                 f"{os.getloadavg()[0]:.1f}), torch {torch.__version__}, Python {platform.python_version()}. Peaks: "
                 f"fp32 {shown[0]} / bf16 {shown[1]} TFLOP/s ({peaks[2]}).")
    lines.append(f"Model (train/configs/encode.yaml): {model_config.seq_len} bp, {model_config.channels} channels, "
                 f"latent {model_config.latent_dim}, {store.n_experiments} experiments, "
                 f"{model.parameter_count():,} parameters; per window {flops['forward'][0] / 1e9:.3f} GFLOP forward and "
                 f"{flops['train'][0] / 1e9:.3f} GFLOP per training step, plus per batch (the metadata hypernetwork) "
                 f"{flops['forward'][1] / 1e9:.3f} / {flops['train'][1] / 1e9:.3f} GFLOP (torch.utils.flop_counter; "
                 f"below: per item at batch {infer_batch} for inference, {sizes['batch']} for training).")
    lines.append(f"Data: `mfd simulate` + `mfd prepare` ({store.n_bins:,} bins of {store.bin_size} bp). "
                 f"Wall time of the measurements: {time.perf_counter() - started:.0f} s.")
    lines.append("")
    lines.append("| measurement | precision | rate | GFLOP per item | TFLOP/s | % of fp32 peak | % of bf16 peak | notes |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for precision, r in train_results.items():
        lines.append(row(f"training, real loader, batch {sizes['batch']}, {sizes['workers']} workers", precision,
                         r["seq_per_s"], "windows/s", train_flops, peaks,
                         f"data-wait share {100 * r['data_wait_share']:.1f} %, {r['steps']} steps after "
                         f"{sizes['warmup']} warm-up, torch threads: {r['threads']}"))
    for precision, command, engine in predict_rows:
        lines.append(row(f"mfd predict, whole command, {len(windows):,} intervals", precision, command, "windows/s",
                         forward_flops, peaks, "start-up, FASTA reads and the HDF5 output included"))
        lines.append(row("mfd predict's engine in-process", precision, engine, "windows/s", forward_flops, peaks,
                         f"windows already in memory as base codes; torch threads: {threads}"))
    for precision, scored, command, inside in score_rows:
        lines.append(row(f"mfd score-variants, whole command, {scored:,} alleles", precision, command, "alleles/s",
                         4 * forward_flops, peaks, "90 % SNVs; every experiment scored, written aggregated; "
                         "FLOPs as 4 full windows per allele"))
        lines.append(row("mfd score-variants, as it reports", precision, inside, "alleles/s", 4 * forward_flops,
                         peaks, "after start-up (its summary line)"))
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
