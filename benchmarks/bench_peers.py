"""Benchmark against a peer: tangermeme (variant effects, in-silico mutagenesis), and the command vs its engine.

    build/bench-venv/bin/python benchmarks/bench_peers.py                    # all three comparisons
    build/bench-venv/bin/python benchmarks/bench_peers.py --only variants --models paper --rounds 2
    build/bench-venv/bin/python benchmarks/bench_peers.py --snvs 500 --engine-snvs 2000 --ism-windows 4   # smoke run

Needs tangermeme, which is not a dependency of this package: it runs in the separate benchmark
environment that ``make bench-venv`` builds (``build/bench-venv``: this package, editable, plus
tangermeme, every pip call with ``constraints.txt``), never in ``.venv``. Needs ``../shared/data``.

Three comparisons, each on the default model (``mfd_model/default_model``: 384 bp, 32 channels, 96
outputs, trained) and a paper-sized one (``train/configs/encode.yaml``'s architecture: 1152 bp, 120
channels, latent 120; 2,106 ENCODE-like experiments; random weights with trained-like scales, as in
``bench_variants.py``; written to a model file the command loads and tangermeme gets the same file):

1. ``variants``: ``mfd score-variants`` -- the whole command, a new process (start-up, VCF, FASTA,
   TSV output) -- against tangermeme's ``substitution_effect`` in this process on the same SNVs.
   tangermeme predicts the reference and the alternative one-hot window on the forward strand and
   the effect is ``y_after - y_before`` of the model's output (probabilities): that is
   ``score-variants -s diff --rc-merge none`` (shift 0). tangermeme is handed the windows already
   one-hot encoded (``tangermeme.utils.one_hot_encode`` of the same windows, made before timing: its
   time is the call alone), the command reads them from the FASTA. The windows are ours: for the
   SNV at 0-based position ``p``, ``genome[p - c, p - c + L)`` with ``c = (L - 1) // 2`` and the SNV
   at index ``c`` (``docs/variant_scoring.md``). Outputs must agree (max |difference| reported).
2. ``engine``: ``mfd score-variants`` as a command vs the same ``score_variants`` call in this
   process with the model already loaded (default model, default scores and strand merge).
3. ``ism``: ``mfd_model.interpret.ism.saturation_mutagenesis`` (what ``mfd attribute --method ism``
   runs; ``fast`` local recomputation) vs tangermeme's ``saturation_mutagenesis`` (its defaults:
   ``fast=True``, its own fastISM when it judges the job long enough), on the same windows and the
   same central ISM span, one output (experiment 0) as a probability (tangermeme: ``func`` keeps
   that column, ``raw_outputs=True``). The effects must agree.

Fairness: one torch thread for every contender (``torch.set_num_threads(1)``; the command
``--threads 1``), the command's allocator setting (``mfd_model.allocator``) for this whole process,
tangermeme's batch size the fastest of 32 / 64 / 128 / 256 for its ``predict`` on each model
(probed first), warm-up calls before timing. The contenders take turns: in each of ``--rounds``
rounds each runs once on the whole input, the order alternating between rounds, so the load of
other jobs on a shared machine hits them alike. Ratios are reported per round and over all rounds
(sum of times); absolute rates are context only. ``uptime`` is recorded before and after.

Inputs are generated under ``build/bench_peers/`` (never committed): SNVs at distinct random
positions of the real 1 Mb of hg19 chr20 in ``../shared/data/hg19_chr20_1mb_1kg/z.fa`` (no N),
ALT a random other base; ISM windows centred at random positions of the same sequence.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
FASTA = ROOT.parent / "shared" / "data" / "hg19_chr20_1mb_1kg" / "z.fa"
ENCODE = ROOT / "train" / "configs" / "encode.yaml"
OUT = ROOT / "build" / "bench_peers"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))        # toy_models
sys.path.insert(0, str(ROOT / "benchmarks"))   # bench_variants (metadata of the paper-sized model)

MARGIN = 2_000   # SNVs and ISM windows stay this far from the contig ends (the longest window is 1,152 bp)


# ----------------------------------------------------------------------------- machine and inputs
def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def contig_sequence() -> str:
    lines = FASTA.read_text().splitlines()
    return "".join(line.strip() for line in lines if not line.startswith(">")).upper()


def write_snv_vcf(path: Path, seq: str, n: int, seed: int = 0) -> tuple[Path, np.ndarray, np.ndarray]:
    """``n`` SNVs at distinct random positions, sorted; returns the VCF, 0-based positions, ALT codes (ACGT)."""
    rng = np.random.default_rng(seed)
    positions = np.sort(rng.choice(np.arange(MARGIN, len(seq) - MARGIN), size=n, replace=False))
    alts = np.empty(n, dtype=np.int64)
    lines = ["##fileformat=VCFv4.2", f"##contig=<ID=z,length={len(seq)}>",
             "##source=benchmarks/bench_peers.py (synthetic SNVs)",
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    for i, p in enumerate(positions.tolist()):
        ref = seq[p]
        alt = "ACGT".replace(ref, "")[rng.integers(3)]
        alts[i] = "ACGT".index(alt)
        lines.append(f"z\t{p + 1}\tsnv{i}\t{ref}\t{alt}\t.\tPASS\t.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_name(path.name + ".partial")
        tmp.write_text("\n".join(lines) + "\n")
        tmp.replace(path)
    return path, positions, alts


def one_hot_windows(seq: str, starts: np.ndarray, length: int) -> torch.Tensor:
    """tangermeme's own encoder on our windows: int8, shape=(N, 4, length), alphabet ACGT."""
    from tangermeme.utils import one_hot_encode
    return torch.stack([one_hot_encode(seq[s:s + length]) for s in starts.tolist()])


# ----------------------------------------------------------------------------- models
def paper_model_file() -> Path:
    """The paper-sized model (encode.yaml's architecture, 2,106 experiments) as a model file."""
    import yaml

    from bench_variants import write_metadata
    from mfd_model import MFDModel, ModelConfig, load_metadata
    from mfd_model.model_io import save_model
    from toy_models import sharpen_

    path = OUT / "paper_model.pt"
    if path.exists():
        return path
    table, encoder, _ = load_metadata(*write_metadata(OUT / "paper_metadata", 2106))
    torch.manual_seed(0)
    config = ModelConfig.from_dict(yaml.safe_load(ENCODE.read_text())["model"])
    model = MFDModel(config, table.experiment_names(encoder.schema), encoder=encoder, table=table)
    return save_model(sharpen_(model, head_bias=False).eval(), path)


def model_files(names: list[str]) -> dict[str, Path | None]:
    """``None`` is the packaged default model (the command without ``-m``)."""
    return {name: (None if name == "default" else paper_model_file()) for name in names}


def describe(model) -> str:
    c = model.config
    return (f"{c.seq_len} bp, {c.channels} channels, latent {c.latent_dim}, head {c.head}, "
            f"{model.n_experiments:,} outputs, {model.parameter_count():,} parameters")


_BATCH: dict[str, tuple[int, dict[int, float]]] = {}


def tangermeme_batch(name: str, model, X: torch.Tensor) -> tuple[int, dict[int, float]]:
    """The fastest batch size of tangermeme's ``predict`` on this model (windows/s per size, best of 2),
    probed once per model on 512 (default) or 256 (paper-sized) of these windows, repeated if fewer."""
    if name in _BATCH:
        return _BATCH[name]
    from tangermeme.predict import predict
    n = 512 if model.config.seq_len < 1000 else 256
    X = X.repeat(-(-n // len(X)), 1, 1)[:n]
    predict(model, X[:64], batch_size=64, device="cpu")
    rates = {}
    for size in (32, 64, 128, 256):
        best = float("inf")
        for _ in range(2):
            t = time.perf_counter()
            predict(model, X[:n], batch_size=size, device="cpu")
            best = min(best, time.perf_counter() - t)
        rates[size] = n / best
    _BATCH[name] = max(rates, key=rates.get), rates
    return _BATCH[name]


# ----------------------------------------------------------------------------- the command
def mfd_command(argv: list[str]) -> tuple[float, str]:
    """``mfd ARGV`` as a new process: (wall seconds, stdout + stderr)."""
    from bench_common import run_mfd
    return run_mfd(argv, "bench_peers")


def reported_rate(output: str) -> float | None:
    found = re.search(r"\(([\d,]+) alleles/s\)", output)
    return float(found.group(1).replace(",", "")) if found else None


def read_scores(path: Path, score: str) -> tuple[list[str], np.ndarray]:
    import pandas as pd
    frame = pd.read_csv(path, sep="\t", dtype={"REF": str, "ALT": str}, keep_default_na=False)
    columns = [c for c in frame.columns if c.startswith("MFD/") and c.endswith(f"/{score}")]
    return frame["ID"].tolist(), frame[columns].to_numpy(np.float64)


def rounds_summary(times: dict[str, list[float]], ours: str, peer: str, work: int) -> dict:
    """Per-round ratios (peer time / our time) and the ratio of the summed times."""
    per_round = [p / o for o, p in zip(times[ours], times[peer])]
    return {"times_s": times, "ratio_per_round": per_round,
            "ratio": sum(times[peer]) / sum(times[ours]),
            "rate_per_s": {k: work * len(v) / sum(v) for k, v in times.items()}}


# ----------------------------------------------------------------------------- 1. variants
def bench_variants(args, seq: str, files: dict[str, Path | None]) -> dict:
    from tangermeme.variant_effect import substitution_effect

    from mfd_model.model_io import load_model

    vcf, positions, alts = write_snv_vcf(OUT / f"snvs_{args.snvs}.vcf", seq, args.snvs)
    warm_vcf, _, _ = write_snv_vcf(OUT / "snvs_warmup.vcf", seq, 20, seed=99)
    results = {}
    for name, file in files.items():
        model = load_model(file).eval()
        L = model.config.seq_len
        c = (L - 1) // 2
        X = one_hot_windows(seq, positions - c, L)
        subs = torch.as_tensor(np.stack([np.arange(len(positions)), np.full(len(positions), c), alts], 1))
        batch, probe = tangermeme_batch(name, model, X)
        print(f"[variants/{name}] {describe(model)}; tangermeme batch {batch} "
              f"({', '.join(f'{b}: {r:,.0f}/s' for b, r in probe.items())})", flush=True)
        out = OUT / f"variants_{name}.tsv"
        argv = ["score-variants", str(vcf), str(FASTA), str(out), "-s", "diff", "--rc-merge", "none",
                "--threads", "1", "--workers", "0", "-q"] + (["-m", str(file)] if file else [])
        warm = ["score-variants", str(warm_vcf), str(FASTA), str(OUT / "warm.tsv"), "-s", "diff",
                "--rc-merge", "none", "--threads", "1", "--workers", "0", "-q"] + (["-m", str(file)] if file else [])
        mfd_command(warm)                                                   # file caches, not timed
        substitution_effect(model, X[:64], subs[:64], batch_size=batch, device="cpu")   # oneDNN kernels

        times = {"mfd score-variants (command)": [], "tangermeme substitution_effect": []}
        reports, peer_diff = [], None
        for r in range(args.rounds):
            order = (0, 1) if r % 2 == 0 else (1, 0)
            for who in order:
                if who == 0:
                    seconds, output = mfd_command(argv)
                    times["mfd score-variants (command)"].append(seconds)
                    reports.append(reported_rate(output))
                else:
                    t = time.perf_counter()
                    result = substitution_effect(model, X, subs, batch_size=batch, device="cpu")
                    times["tangermeme substitution_effect"].append(time.perf_counter() - t)
                    if peer_diff is None:
                        peer_diff = (result.y_after - result.y_before).double().numpy()
            print(f"[variants/{name}] round {r + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()),
                  flush=True)
        ids, ours = read_scores(out, "diff")
        if ids != [f"snv{i}" for i in range(len(positions))] or ours.shape != peer_diff.shape:
            raise SystemExit(f"bench_peers: {out} does not hold the {len(positions)} SNVs in order")
        summary = rounds_summary(times, "mfd score-variants (command)", "tangermeme substitution_effect",
                                 len(positions))
        summary.update(model=describe(model), snvs=len(positions), tangermeme_batch=batch, batch_probe=probe,
                       command=" ".join(["mfd", *argv]), command_reported_alleles_per_s=reports,
                       max_abs_diff=float(np.abs(ours - peer_diff).max()),
                       max_abs_score=float(np.abs(peer_diff).max()),
                       median_abs_score=float(np.median(np.abs(peer_diff))))
        results[name] = summary
        out.unlink()
        print(f"[variants/{name}] command {summary['ratio']:.2f}x tangermeme's speed "
              f"(rounds: {', '.join(f'{x:.2f}' for x in summary['ratio_per_round'])}); "
              f"max |diff| {summary['max_abs_diff']:.1e} (max |score| {summary['max_abs_score']:.2f})", flush=True)
    return results


# ----------------------------------------------------------------------------- 2. engine vs command
def bench_engine(args, seq: str) -> dict:
    from mfd_model.model_io import load_model
    from mfd_model.variants.scoring import ScoringOptions, score_variants

    vcf, positions, _ = write_snv_vcf(OUT / f"snvs_{args.engine_snvs}.vcf", seq, args.engine_snvs, seed=1)
    warm_vcf, _, _ = write_snv_vcf(OUT / "snvs_warmup.vcf", seq, 20, seed=99)
    model = load_model(None).eval()
    argv = ["score-variants", str(vcf), str(FASTA), str(OUT / "engine_cmd.tsv"), "--threads", "1", "-q"]
    options = ScoringOptions(progress=False, device="cpu")   # the command's defaults

    def in_process(vcf_file: Path, out: Path) -> float:
        t = time.perf_counter()
        summary = score_variants(vcf_file, FASTA, model, out, options=options)
        assert summary.scored == summary.alleles
        return time.perf_counter() - t

    mfd_command(["score-variants", str(warm_vcf), str(FASTA), str(OUT / "warm.tsv"), "--threads", "1", "-q"])
    in_process(warm_vcf, OUT / "warm.tsv")
    times = {"mfd score-variants (command)": [], "score_variants in-process": []}
    reports = []
    for r in range(args.rounds):
        for who in ((0, 1) if r % 2 == 0 else (1, 0)):
            if who == 0:
                seconds, output = mfd_command(argv)
                times["mfd score-variants (command)"].append(seconds)
                reports.append(reported_rate(output))
            else:
                times["score_variants in-process"].append(in_process(vcf, OUT / "engine_inproc.tsv"))
        print(f"[engine] round {r + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()), flush=True)
    _, a = read_scores(OUT / "engine_cmd.tsv", "diff")
    _, b = read_scores(OUT / "engine_inproc.tsv", "diff")
    summary = rounds_summary(times, "score_variants in-process", "mfd score-variants (command)", len(positions))
    # here the figure is the command's throughput as a share of the in-process one: in-process time / command time
    summary["command_share_per_round"] = [1 / x for x in summary.pop("ratio_per_round")]
    summary["command_share"] = 1 / summary.pop("ratio")
    summary.update(model=describe(model), snvs=len(positions), command=" ".join(["mfd", *argv]),
                   options="ScoringOptions() defaults: scores diff, biological, technical; rc_merge mean; shift 0; "
                           "1 VCF-reading worker; torch threads 1", command_reported_alleles_per_s=reports,
                   same_output=bool(np.array_equal(a, b)))
    for name in ("engine_cmd.tsv", "engine_inproc.tsv", "warm.tsv"):
        (OUT / name).unlink(missing_ok=True)
        (OUT / name).with_suffix(".rejects.tsv").unlink(missing_ok=True)
    print(f"[engine] command delivers {summary['command_share']:.2f} of the in-process throughput "
          f"(rounds: {', '.join(f'{x:.2f}' for x in summary['command_share_per_round'])})", flush=True)
    return {"default": summary}


# ----------------------------------------------------------------------------- 3. ISM
def bench_ism(args, seq: str, files: dict[str, Path | None]) -> dict:
    import tangermeme.saturation_mutagenesis as tm_ism

    from mfd_model.interpret.ism import saturation_mutagenesis
    from mfd_model.interpret.targets import Target
    from mfd_model.model_io import load_model

    # observe (not change) whether tangermeme takes its fastISM path: count its constructions
    original = tm_ism._FastISM
    captured = {"n": 0}

    def counting(*a, **k):
        captured["n"] += 1
        return original(*a, **k)

    tm_ism._FastISM = counting
    results = {}
    for name, file in files.items():
        model = load_model(file).eval()
        L = model.config.seq_len
        rng = np.random.default_rng(2)
        starts = rng.integers(MARGIN, len(seq) - MARGIN - L, args.ism_windows)
        X = one_hot_windows(seq, starts, L)
        lo = (L - args.ism_span) // 2
        hi = lo + args.ism_span
        n_mut = 3 * args.ism_span * len(starts)
        targets = [Target("output", 0, model.experiment_names[0])]
        X_ours = X.float().numpy()
        batch, probe = tangermeme_batch(name, model, X)
        print(f"[ism/{name}] {describe(model)}; {len(starts)} windows, span [{lo}, {hi}), {n_mut:,} substitutions; "
              f"tangermeme batch {batch}", flush=True)

        def ours():
            return saturation_mutagenesis(model, X_ours, targets, start=lo, end=hi, scale="probability",
                                          method="fast", device="cpu", progress=False)

        def peer(mode: str):
            """``shipped``: tangermeme's defaults; ``full``: ``fast=False``; ``forced``: its fastISM
            attempted whatever the job's length (its 30 s threshold set to 0 for this call)."""
            threshold = tm_ism._FAST_MIN_SECONDS
            if mode == "forced":
                tm_ism._FAST_MIN_SECONDS = 0.0
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    y0, y_hat = tm_ism.saturation_mutagenesis(model, X, start=lo, end=hi, batch_size=batch,
                                                              raw_outputs=True, device="cpu", fast=mode != "full",
                                                              func=lambda y: y[:, :1])
            finally:
                tm_ism._FAST_MIN_SECONDS = threshold
            return y0, y_hat, [str(w.message) for w in caught]

        saturation_mutagenesis(model, X_ours[:1], targets, start=lo, end=lo + 8, scale="probability",
                               method="fast", device="cpu", progress=False)        # warm-up
        tm_ism.saturation_mutagenesis(model, X[:1], start=lo, end=lo + 8, batch_size=batch, raw_outputs=True,
                                      device="cpu", func=lambda y: y[:, :1], fast=False)
        ours_name = "mfd saturation_mutagenesis (fast)"
        peers = {"shipped": "tangermeme saturation_mutagenesis", "full": "tangermeme, fast=False",
                 "forced": "tangermeme, fastISM forced"}
        modes = ["shipped"] + [m for m in ("full", "forced") if m in args.ism_context]
        contenders = [None] + modes
        times = {ours_name: [], **{peers[m]: [] for m in modes}}
        a, latest = None, {}
        diffs = dict.fromkeys(modes, 0.0)
        messages: list[str] = []
        fast_used: dict[str, list[bool]] = {m: [] for m in modes}
        for r in range(args.rounds):
            for who in (contenders if r % 2 == 0 else contenders[::-1]):
                t = time.perf_counter()
                if who is None:
                    effects = ours()
                    times[ours_name].append(time.perf_counter() - t)
                    a = effects[:, 0, :, lo:hi].astype(np.float64)               # (N, 4, span)
                else:
                    before = captured["n"]
                    y0, y_hat, caught = peer(who)
                    times[peers[who]].append(time.perf_counter() - t)
                    fast_used[who].append(captured["n"] > before and not any("fast=False" in m for m in caught))
                    messages.extend(m for m in caught if m not in messages)
                    latest[who] = (y_hat[..., 0] - y0[:, None, None, 0]).double().numpy()  # (N, 4, span)
            for who, b in latest.items():       # every contender's output of this round against ours
                diffs[who] = max(diffs[who], float(np.abs(a - b).max()))
            print(f"[ism/{name}] round {r + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()),
                  flush=True)
        summary = rounds_summary(times, ours_name, peers["shipped"], n_mut)
        summary["context_ratios"] = {peers[m]: sum(times[peers[m]]) / sum(times[ours_name]) for m in modes[1:]}
        summary.update(model=describe(model), windows=len(starts), span=[int(lo), int(hi)], substitutions=n_mut,
                       tangermeme_batch=batch, batch_probe=probe, tangermeme_fastism_used=fast_used,
                       tangermeme_warnings=messages, max_abs_diff={peers[m]: diffs[m] for m in modes},
                       max_abs_effect=float(np.abs(latest['shipped']).max()))
        results[name] = summary
        print(f"[ism/{name}] ours {summary['ratio']:.2f}x tangermeme's speed "
              f"(rounds: {', '.join(f'{x:.2f}' for x in summary['ratio_per_round'])}); context: "
              + ", ".join(f"{k} {v:.2f}x" for k, v in summary["context_ratios"].items())
              + f"; tangermeme fastISM used: {fast_used}; max |diff| "
              f"{max(diffs.values()):.1e} (max |effect| {summary['max_abs_effect']:.2g})", flush=True)
    tm_ism._FastISM = original
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("variants", "engine", "ism"), action="append",
                        help="run only these comparisons (repeatable; default: all)")
    parser.add_argument("--models", default="default,paper", help="default and/or paper")
    parser.add_argument("--snvs", type=int, default=5_000, help="SNVs for the comparison with tangermeme")
    parser.add_argument("--engine-snvs", type=int, default=20_000, help="SNVs for command vs in-process")
    parser.add_argument("--ism-windows", type=int, default=64,
                        help="windows for ISM (64 x 64 bp: long enough that tangermeme tries its fastISM "
                             "on the paper-sized model)")
    parser.add_argument("--ism-span", type=int, default=64, help="central bases mutated per window")
    parser.add_argument("--ism-context", default="full,forced",
                        help="extra tangermeme ISM settings timed for context: full (fast=False), forced "
                             "(its fastISM whatever the job's length); empty for none")
    parser.add_argument("--rounds", type=int, default=3, help="rounds the contenders take turns in")
    args = parser.parse_args()
    if not FASTA.exists():
        raise SystemExit(f"needs {FASTA}")
    try:
        import tangermeme
    except ImportError:
        raise SystemExit("needs tangermeme: run it with build/bench-venv/bin/python (make bench-venv)")
    from mfd_model.allocator import keep_freed_memory

    keep_freed_memory()            # as the mfd command does; for every in-process contender alike
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    sections = args.only or ["variants", "engine", "ism"]
    seq = contig_sequence()
    files = model_files([m for m in args.models.split(",") if m])
    from importlib.metadata import version
    results = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "uptime_before": uptime(),
               "machine": f"{cpu_model()}, nproc {os.cpu_count()}, Python {platform.python_version()}",
               "versions": {p: version(p) for p in ("torch", "tangermeme", "numpy", "mfd-kipoi")},
               "nice": os.nice(0), "torch_threads": torch.get_num_threads(), "args": vars(args)}
    print(f"# bench_peers.py, {results['date']}, {results['machine']}, nice {results['nice']}\n"
          f"# {results['versions']}\n# uptime before: {results['uptime_before']}", flush=True)
    if "variants" in sections:
        results["variants"] = bench_variants(args, seq, files)
    if "engine" in sections:
        results["engine"] = bench_engine(args, seq)
    if "ism" in sections:
        results["ism"] = bench_ism(args, seq, files)
    results["uptime_after"] = uptime()
    print(f"# uptime after: {results['uptime_after']}", flush=True)
    name = "results_" + "_".join(sections) + ".json"
    (OUT / name).write_text(json.dumps(results, indent=2))
    print(f"written to {OUT / name}")


if __name__ == "__main__":
    main()
