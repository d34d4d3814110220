"""Benchmark ``mfd prepare`` against merely parsing the same peak files (issue 3).

    .venv/bin/python benchmarks/bench_prepare.py                     # 100 Mb genome, 2000 experiments
    .venv/bin/python benchmarks/bench_prepare.py --genome-mb 20 --experiments 200   # a quick look

Generates its own synthetic input under ``--outdir`` (default ``build/bench_prepare``, never
committed; reused when present with the same settings): a random FASTA of ``--genome-mb`` Mb in
10 contigs (chr1..chr10, so the default test chromosomes chr9/chr10 exist) with N telomeres
and gaps, and ``--experiments`` gzip narrowPeak files of 1,000-5,000 peaks each (150-600 bp,
ENCODE-like columns; 1 % on a contig the FASTA lacks, a few past contig ends).

Then, each in its own subprocess (so peak memory is that run's own):

* ``parse``: ``mfd_model.bed.read_bed`` over the same peak files, nothing else;
* ``prepare``: ``prepare_labels`` (FASTA into the genome code cache, N count, labels, splits, checksum,
  writing the store);

twice each, alternating, for the full set (time ratio from the faster of each pair, wall and
CPU), and ``prepare`` once more on the first 10 % and 50 % of the experiments to show how peak
memory grows with the number of positive labels. Peak memory is the process's VmHWM (peak
resident set) minus its resident set just after the imports. Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

CONTIGS = 10
LINE = 80


# ============================================================================ synthetic input
def write_genome(path: Path, total_bp: int, rng: np.random.Generator) -> dict[str, int]:
    """Random ACGT FASTA, 10 contigs of decreasing length, 10 kb N at both ends and 3 gaps of 50 kb."""
    weights = np.linspace(1.5, 0.5, CONTIGS)
    lengths = (weights / weights.sum() * total_bp).astype(np.int64)
    lookup = np.frombuffer(b"ACGT", dtype=np.uint8)
    with open(path, "wb") as handle:
        for i, length in enumerate(lengths):
            seq = lookup[rng.integers(0, 4, int(length), dtype=np.uint8)]
            seq[:10_000] = ord("N")
            seq[-10_000:] = ord("N")
            for at in rng.integers(0, length - 50_000, 3):
                seq[at:at + 50_000] = ord("N")
            handle.write(f">chr{i + 1}\n".encode())
            full = len(seq) // LINE * LINE
            lines = np.concatenate([seq[:full].reshape(-1, LINE), np.full((full // LINE, 1), ord("\n"), np.uint8)], 1)
            handle.write(lines.tobytes())
            if full < len(seq):
                handle.write(seq[full:].tobytes() + b"\n")
    return {f"chr{i + 1}": int(n) for i, n in enumerate(lengths)}


def write_peak_file(path: Path, contigs: dict[str, int], rng: np.random.Generator) -> int:
    """One narrowPeak.gz with 1,000-5,000 peaks; returns the number of peaks."""
    n = int(rng.integers(1000, 5001))
    names = np.array(list(contigs) + ["chrUn_gl000220"])
    lengths = np.array(list(contigs.values()) + [161_802], dtype=np.int64)
    p = np.append(lengths[:-1] / lengths[:-1].sum() * 0.99, 0.01)
    which = rng.choice(len(names), n, p=p)
    width = rng.integers(150, 601, n)
    start = (rng.random(n) * (lengths[which] - 100)).astype(np.int64)
    start[:3] = lengths[which[:3]] + 10                        # a few past a contig end
    order = np.lexsort((start, which))
    which, start, width = which[order], start[order], width[order]
    summit = width // 2
    score = rng.integers(0, 1000, n)
    signal = rng.random(n) * 50
    text = "".join(
        f"{names[w]}\t{s}\t{s + wd}\tpeak{i}\t{sc}\t.\t{sg:.4f}\t-1\t{sg / 10:.5f}\t{sm}\n"
        for i, (w, s, wd, sc, sg, sm) in enumerate(zip(which, start, width, score, signal, summit)))
    with gzip.open(path, "wt", compresslevel=6) as handle:
        handle.write(text)
    return n


def generate(outdir: Path, genome_mb: int, n_exp: int, seed: int) -> dict:
    """Write (or reuse) the synthetic data set; returns its description."""
    settings = {"genome_mb": genome_mb, "experiments": n_exp, "seed": seed, "version": 1}
    done = outdir / "data.json"
    if done.exists() and json.loads(done.read_text()).get("settings") == settings:
        return json.loads(done.read_text())
    outdir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    t0 = time.time()
    contigs = write_genome(outdir / "genome.fa", genome_mb * 1_000_000, rng)
    (outdir / "peaks").mkdir(exist_ok=True)
    rows, peaks = [], 0
    for e in range(n_exp):
        name = f"exp{e:05d}"
        peaks += write_peak_file(outdir / "peaks" / f"{name}.narrowPeak.gz", contigs, rng)
        rows.append(f"{name}\tpeaks/{name}.narrowPeak.gz\tTF{e % 50}\tcell{e % 30}\tlab{e % 7}\n")
        if e % 200 == 199:
            print(f"  generated {e + 1}/{n_exp} peak files", file=sys.stderr)
    header = "experiment\tpeak_file\ttarget\tbiosample\tlab\n"
    for k in sorted({n_exp, max(1, n_exp // 2), max(1, n_exp // 10)}):
        (outdir / f"metadata_{k}.tsv").write_text(header + "".join(rows[:k]))
    info = {"settings": settings, "contigs": contigs, "genome_bp": sum(contigs.values()), "peaks": peaks,
            "generate_s": round(time.time() - t0, 1)}
    done.write_text(json.dumps(info, indent=1))
    return info


# ============================================================================ workers
def rss_kb(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def worker(mode: str, outdir: Path, metadata: Path, store: Path) -> None:
    """Run one measured job in this process and print its figures as JSON."""
    import shutil

    import pandas as pd

    from mfd_model.bed import read_bed
    from mfd_model.train.prepare import PrepareParams, prepare_labels

    base_kb = rss_kb("VmRSS")
    cpu0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    result: dict = {"mode": mode}
    if mode == "parse":
        table = pd.read_csv(metadata, sep="\t", dtype=str)
        peaks = 0
        for name in table["peak_file"]:
            peaks += len(read_bed(metadata.parent / name, what="peak"))
        result["peaks"] = peaks
    else:
        shutil.rmtree(store, ignore_errors=True)
        labels = prepare_labels(PrepareParams(fasta=str(outdir / "genome.fa"), metadata=str(metadata),
                                              store=str(store)), progress=False)
        result.update(peaks=labels.counts["peaks_read"], bins=labels.n_bins,
                      experiments=labels.n_experiments, positives=int(labels.info["n_positive_labels"]))
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    result.update(wall_s=time.perf_counter() - t0, cpu_s=(cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
                  base_mb=base_kb / 1024, peak_mb=rss_kb("VmHWM") / 1024)
    print(json.dumps(result))


def measure(mode: str, outdir: Path, metadata: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", mode, "--outdir", str(outdir),
                          "--metadata", str(metadata)], check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  {mode:8s} {metadata.name:20s} wall {result['wall_s']:7.1f} s  cpu {result['cpu_s']:7.1f} s  "
          f"peak RSS {result['peak_mb']:7.0f} MB", file=sys.stderr)
    return result


# ============================================================================ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outdir", type=Path, default=Path("build/bench_prepare"))
    parser.add_argument("--genome-mb", type=int, default=100)
    parser.add_argument("--experiments", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", choices=["parse", "prepare"], help=argparse.SUPPRESS)
    parser.add_argument("--metadata", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    outdir = args.outdir.absolute()
    if args.worker:
        worker(args.worker, outdir, args.metadata, outdir / "store")
        return

    print(f"generating / reusing input in {outdir}", file=sys.stderr)
    data = generate(outdir, args.genome_mb, args.experiments, args.seed)
    full = outdir / f"metadata_{args.experiments}.tsv"
    runs = [measure(mode, outdir, full) for _ in range(2) for mode in ("parse", "prepare")]
    parse = min((r for r in runs if r["mode"] == "parse"), key=lambda r: r["wall_s"])
    prep = min((r for r in runs if r["mode"] == "prepare"), key=lambda r: r["wall_s"])
    cpu_parse = min(r["cpu_s"] for r in runs if r["mode"] == "parse")
    cpu_prep = min(r["cpu_s"] for r in runs if r["mode"] == "prepare")
    scaling = [measure("prepare", outdir, outdir / f"metadata_{k}.tsv")
               for k in sorted({max(1, args.experiments // 10), max(1, args.experiments // 2)})] + [prep]

    print(f"\n**Input**: {data['genome_bp'] / 1e6:.0f} Mb genome in {CONTIGS} contigs, {args.experiments:,} "
          f"narrowPeak.gz files, {data['peaks']:,} peaks; {prep['bins']:,} bins of 128 bp kept.\n")
    print("| | parse only (read_bed) | prepare | ratio |")
    print("|---|---|---|---|")
    print(f"| wall time, s (faster of 2) | {parse['wall_s']:.1f} | {prep['wall_s']:.1f} | "
          f"**{prep['wall_s'] / parse['wall_s']:.2f}x** |")
    print(f"| CPU time, s (less of 2) | {cpu_parse:.1f} | {cpu_prep:.1f} | **{cpu_prep / cpu_parse:.2f}x** |")
    print(f"| peak RSS, MB | {parse['peak_mb']:.0f} | {prep['peak_mb']:.0f} | |")
    print("\n| experiments | positive labels | prepare peak RSS, MB | above start-up RSS, MB | bytes per positive label "
          "(increment from the previous row) |")
    print("|---|---|---|---|---|")
    previous = None
    for r in scaling:
        extra = r["peak_mb"] - r["base_mb"]
        slope = "" if previous is None else \
            f"{(r['peak_mb'] - previous['peak_mb']) * 2 ** 20 / (r['positives'] - previous['positives']):.1f}"
        print(f"| {r['experiments']:,} | {r['positives']:,} | {r['peak_mb']:.0f} | {extra:.0f} | {slope} |")
        previous = r
    print(f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
          f"Python {platform.python_version()}, {date.today().isoformat()}")


if __name__ == "__main__":
    main()
