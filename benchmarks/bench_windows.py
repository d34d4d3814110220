"""Training-window throughput: one pyfaidx read per window (the old path) vs gathers from the code cache.

    .venv/bin/python benchmarks/bench_windows.py [--reps 5] [--batches 40] [--batch 64 256] [--threads 1]

Two label stores, built under build/bench_windows/ on first use:

* ``demo``: the simulated demo data set (``mfd simulate`` defaults, 2 Mb plain FASTA), 384 bp windows
  as the demo config trains on;
* ``hg19``: the shared hg19 chr20 test FASTA (BGZF; ../shared/data/hg19_chr20) with its ENCODE peak
  files, 1152 bp windows (the paper's).

For each store and batch size, the same training batches (shuffled rows, random shift +-3 bp and
reverse complement, as ``mfd train`` draws them) are cut three ways:

* ``per-window``: the path training used before the cache: ``Genome.fetch`` (pyfaidx) per window,
  ``one_hot_encode_batch``, reverse complement of the flipped rows (a copy of the old code);
* ``gather one-hot``: :class:`mfd_model.train.dataset.WindowDataset` as it is now: one vectorised
  gather from the memory-mapped code array, one-hot float32 (what the model is trained on);
* ``gather codes``: the same gather, stopping at uint8 codes (B, L) (the model accepts these and
  one-hot encodes them on its device).

Modes are interleaved within each repetition (same process, same torch threads, same batches);
the first repetition warms caches and is not counted. Reported: windows per second (median over
repetitions) and the ratio to ``per-window`` (median of the per-repetition ratios). Labels are
not included (both paths read them identically). Before timing, every batch of the first
repetition is checked to be byte-identical between ``per-window`` and ``gather one-hot``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mfd_model.encoding import one_hot_encode_batch  # noqa: E402
from mfd_model.genome import Genome  # noqa: E402
from mfd_model.train.dataset import BatchKey, EpochBatchSampler, WindowDataset  # noqa: E402
from mfd_model.train.labels import LabelStore  # noqa: E402
from mfd_model.train.prepare import PrepareParams, prepare_labels  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "hg19_chr20"


def stores(root: Path) -> dict[str, tuple[Path, int]]:
    """name -> (label store, window length); built on first use."""
    from mfd_model.simulation_layout import SimulationLayout
    from mfd_model.train.simulate import SimulationParams, simulate
    out = {}
    sim, demo = root / "sim", root / "demo_labels"
    layout = SimulationLayout(sim)
    if not layout.metadata_tsv.exists():
        simulate(sim, SimulationParams())
    if not demo.exists():
        prepare_labels(PrepareParams(fasta=str(layout.genome_fa), metadata=str(layout.metadata_tsv), store=str(demo),
                                     test_chromosomes=("chr4",)), progress=False)
    out["demo"] = (demo, 384)
    hg19 = root / "hg19_labels"
    if (SHARED / "peaks" / "samples.tsv").exists():
        if not hg19.exists():
            prepare_labels(PrepareParams(fasta=str(SHARED / "ucsc.hg19.chr20.unittest.fasta.gz"),
                                         metadata=str(SHARED / "peaks" / "samples.tsv"), store=str(hg19),
                                         peaks_column="file", test_regions=("chr20:10.9e6-11.1e6",)), progress=False)
        out["hg19"] = (hg19, 1152)
    return out


def per_window(dataset: WindowDataset, genome: Genome, key: BatchKey) -> torch.Tensor:
    """The old ``WindowDataset.__getitem__`` windows: one FASTA read per window."""
    rows = np.asarray(key.rows)
    starts = dataset.window_starts(rows)
    flip = np.zeros(len(rows), dtype=bool)
    if dataset.augment:
        rng = np.random.default_rng([dataset.seed, key.epoch, key.number])
        starts = starts + rng.integers(-dataset.max_shift, dataset.max_shift + 1, size=len(rows))
        flip = (rng.random(len(rows)) < 0.5) & dataset.reverse_complement
    contigs = dataset.store.bin_contig[rows]
    names = dataset.store.contigs
    sequences = [genome.fetch(names[c], s, s + dataset.seq_len) for c, s in zip(contigs, starts)]
    x = one_hot_encode_batch(sequences)
    if flip.any():
        x[flip] = x[flip][:, ::-1, ::-1]
    return torch.from_numpy(np.ascontiguousarray(x))


def measure(name: str, store_path: Path, seq_len: int, batch: int, reps: int, n_batches: int) -> dict:
    store = LabelStore.open(store_path)
    codes = store.genome_codes()
    genome = Genome(store.fasta_path)
    dataset = WindowDataset(store, codes, seq_len, augment=True, max_shift=3, seed=0)
    sampler = EpochBatchSampler(store.indices("train"), batch, shuffle=True, seed=0, drop_last=True)
    keys = list(sampler)[:n_batches]
    modes: dict[str, Callable[[BatchKey], object]] = {
        "per-window": lambda key: per_window(dataset, genome, key),
        "gather one-hot": lambda key: dataset[key][0],
        "gather codes": dataset.codes,
    }
    for key in keys:                                            # the same bytes, or the benchmark is moot
        assert per_window(dataset, genome, key).numpy().tobytes() == dataset[key][0].numpy().tobytes()
    rates: dict[str, list[float]] = {mode: [] for mode in modes}
    for rep in range(reps + 1):
        for mode, run in modes.items():
            start = time.perf_counter()
            for key in keys:
                run(key)
            seconds = time.perf_counter() - start
            if rep:                                             # repetition 0 warms caches
                rates[mode].append(len(keys) * batch / seconds)
    base = rates["per-window"]
    return {"store": name, "fasta": Path(store.fasta_path).name, "seq_len": seq_len, "batch": batch,
            "windows": len(keys) * batch, "reps": reps,
            "windows_per_s": {m: statistics.median(r) for m, r in rates.items()},
            "ratio": {m: statistics.median([a / b for a, b in zip(r, base)]) for m, r in rates.items()},
            "ratio_range": {m: (min(a / b for a, b in zip(r, base)), max(a / b for a, b in zip(r, base)))
                            for m, r in rates.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--batches", type=int, default=40, help="batches per mode and repetition")
    parser.add_argument("--batch", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (numpy gathers are single-threaded)")
    parser.add_argument("--root", type=Path, default=ROOT / "build" / "bench_windows")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()
    results = [measure(name, path, seq_len, batch, args.reps, args.batches)
               for name, (path, seq_len) in stores(args.root).items() for batch in args.batch]
    load_after = os.getloadavg()
    print(f"# bench_windows.py, {date.today()}, {platform.machine()} with {len(os.sched_getaffinity(0))} CPU cores, "
          f"torch threads {args.threads}, load average {load[0]:.2f} before / {load_after[0]:.2f} after")
    print("| store (window) | batch | per-window, windows/s | gather one-hot, windows/s | gather codes, windows/s "
          "| ratio one-hot | ratio codes |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        w, q, span = r["windows_per_s"], r["ratio"], r["ratio_range"]
        print(f"| {r['store']} {r['fasta']} ({r['seq_len']} bp) | {r['batch']} | {w['per-window']:,.0f} | "
              f"{w['gather one-hot']:,.0f} | {w['gather codes']:,.0f} | "
              f"**{q['gather one-hot']:.1f}x** ({span['gather one-hot'][0]:.1f}-{span['gather one-hot'][1]:.1f}) | "
              f"**{q['gather codes']:.0f}x** ({span['gather codes'][0]:.0f}-{span['gather codes'][1]:.0f}) |")
    args.root.mkdir(parents=True, exist_ok=True)
    (args.root / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
