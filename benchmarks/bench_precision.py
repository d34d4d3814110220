"""Benchmark: deviation from fp32 of ``--precision bf16 / tf32`` and ``--compile`` on the default model.

    .venv/bin/python benchmarks/bench_precision.py [--intervals 600] [--variants 1500] [--compile]

Runs ``mfd predict --rc --pad`` on ``--intervals`` tiles of the 1 Mb hg19 region of ../shared/data
(1000 Genomes, contig ``z``) and ``mfd score-variants -s diff -s biological -s technical`` on the
first ``--variants`` records of its VCF (SNVs through the local recomputation), plus
``--no-incremental`` on the 221 GIAB variants of chr20 (every window through the engine), once per
precision (and with ``--compile`` if asked: slow on a CPU), in this process, and prints the max and
mean absolute deviation of every output from the fp32 run as a markdown table (docs/inference.md).
"""
from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"
Z_FASTA = SHARED / "hg19_chr20_1mb_1kg" / "z.fa"
Z_VCF = SHARED / "hg19_chr20_1mb_1kg" / "z.vcf.gz"
HG19 = SHARED / "hg19_chr20" / "ucsc.hg19.chr20.unittest.fasta.gz"
GIAB = SHARED / "hg19_chr20" / "test_nist.b37_chr20_100kbp_at_10mb.vcf.gz"
SCORES = ["-s", "diff", "-s", "biological", "-s", "technical"]


def inputs(folder: Path, n_intervals: int, n_variants: int) -> tuple[Path, Path]:
    """Tiles across contig ``z`` (the last one off its end) and the first VCF records."""
    step = 1_000_000 // n_intervals
    bed = folder / "tiles.bed"
    bed.write_text("".join(f"z\t{k * step}\t{k * step + 200}\tt{k}\n" for k in range(n_intervals))
                   + "z\t999900\t1000000\tend\n")
    vcf = folder / "z.vcf"
    with gzip.open(Z_VCF, "rt") as src, open(vcf, "w") as dst:
        kept = 0
        for line in src:
            if not line.startswith("#"):
                if kept == n_variants:
                    break
                kept += 1
            dst.write(line)
    return bed, vcf


def run(argv: list[str]) -> float:
    from mfd_model.cli import main

    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(argv) == 0, argv
    return time.perf_counter() - started


def columns(path: Path, score: str | None) -> np.ndarray:
    table = pd.read_csv(path, sep="\t")
    numeric = [c for c in table.columns if table[c].dtype.kind == "f" and (score is None or c.endswith("/" + score))]
    return table[numeric].to_numpy(np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intervals", type=int, default=600)
    parser.add_argument("--variants", type=int, default=1500)
    parser.add_argument("--compile", action="store_true", help="also --compile (fp32)")
    args = parser.parse_args()
    for path in (Z_FASTA, Z_VCF, HG19, GIAB):
        if not path.exists():
            sys.exit(f"bench_precision: {path} is missing (../shared/data)")
    settings = {"bf16": ["--precision", "bf16"], "tf32": ["--precision", "tf32"]}
    if args.compile:
        settings["compile"] = ["--compile"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bed, vcf = inputs(tmp, args.intervals, args.variants)
        jobs = {"predict": ["predict", str(bed), str(Z_FASTA), "{out}", "--rc", "--pad", "--no-progress"],
                "score": ["score-variants", str(vcf), str(Z_FASTA), "{out}", *SCORES, "-q"],
                "score_full": ["score-variants", str(GIAB), str(HG19), "{out}", *SCORES, "-q", "--no-incremental"]}
        seconds: dict[tuple[str, str], float] = {}
        for job, argv in jobs.items():
            for name, extra in {"fp32": [], **settings}.items():
                out = tmp / f"{job}_{name}.tsv"
                seconds[job, name] = run([a.replace("{out}", str(out)) for a in argv] + extra)
        print("| output | setting | max abs deviation from fp32 | mean abs deviation | seconds (fp32 seconds) |")
        print("|---|---|---|---|---|")
        for job in jobs:
            for name in settings:
                for score in ([None] if job == "predict" else ["diff", "biological", "technical"]):
                    want = columns(tmp / f"{job}_fp32.tsv", score)
                    got = columns(tmp / f"{job}_{name}.tsv", score)
                    d = np.abs(got - want)
                    label = "probabilities" if score is None else score
                    print(f"| {job} {label} | {name} | {d.max():.2g} | {d.mean():.2g} | "
                          f"{seconds[job, name]:.1f} ({seconds[job, 'fp32']:.1f}) |")


if __name__ == "__main__":
    main()
