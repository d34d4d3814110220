"""``mfd check-disentanglement``: on simulated data, do the subspaces hold what they should?

    mfd check-disentanglement build/demo/run/model.pt --reference build/demo/run_lambda0/model.pt \\
        --simulation build/demo/sim --store build/demo/labels --out build/demo/disentanglement

Prints the probe table (biological / technical / full features -> planted biology and planted
biases, cross-validated AUROC), the dependence between the subspaces, and one PASS / FAIL line
per criterion; exits 1 if a criterion fails.
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="MFD model trained with lambda > 0 (.pt model file or .ckpt)")
    parser.add_argument("--reference", help="the same model trained with lambda = 0, for the correlation criterion")
    parser.add_argument("--simulation", required=True, help="folder written by 'mfd simulate' (truth/bins.tsv.gz)")
    parser.add_argument("--store", required=True, help="label store prepared from that simulation")
    parser.add_argument("--split", default="test", choices=("train", "valid", "test"), help="bins to probe (default test)")
    parser.add_argument("--max-bins", type=int, default=3000, help="probe at most this many bins (default 3000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bin subsample and the probes")
    parser.add_argument("--out", help="folder for probes.tsv, dependence.tsv and probes.png")


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    from ..atomic import atomic_output
    from ..disentanglement import check_disentanglement, disentanglement_report, read_truth
    from ..genome import Genome
    from ..model_io import load_model
    from ..train.labels import LabelStore

    store = LabelStore.open(args.store)
    genome = Genome(store.fasta_path)
    rows = store.indices(args.split)
    if len(rows) > args.max_bins:
        rows = np.sort(np.random.default_rng(args.seed).choice(rows, args.max_bins, replace=False))
    bins = pd.DataFrame([store.bin_interval(r) for r in rows], columns=["chrom", "start", "end"])
    models = {"model": load_model(args.model)}
    if args.reference:
        models["reference"] = load_model(args.reference)
    probes, dependence = disentanglement_report(models, genome, bins, read_truth(args.simulation), seed=args.seed)

    pd.set_option("display.width", 140)
    print(f"probes on {len(bins)} {args.split} bins (cross-validated AUROC of an L2 logistic regression):")
    print(probes.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("\ndependence between the subspaces:")
    print(dependence.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    results = check_disentanglement(probes, dependence, "model", "reference" if args.reference else None)
    print()
    for ok, sentence in results:
        print(f"{'PASS' if ok else 'FAIL'}  {sentence}")
    if args.out:
        from pathlib import Path
        out = Path(args.out)
        with atomic_output(out / "probes.tsv") as tmp:
            probes.to_csv(tmp, sep="\t", index=False)
        with atomic_output(out / "dependence.tsv") as tmp:
            dependence.to_csv(tmp, sep="\t", index=False)
        _plot(probes, out / "probes.png")
        print(f"\ntables and plot written to {out}")
    return 0 if all(ok for ok, _ in results) else 1


def _plot(probes, path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from ..atomic import atomic_output
    models = list(dict.fromkeys(probes["model"]))
    fig, axes = plt.subplots(1, len(models), figsize=(5.5 * len(models), 3.6), squeeze=False)
    for ax, name in zip(axes[0], models):
        table = probes[probes["model"] == name]
        x = np.arange(len(table))
        for k, (column, colour) in enumerate((("bio", "tab:green"), ("tech", "tab:orange"), ("full", "tab:grey"))):
            ax.bar(x + (k - 1) * 0.27, table[column], width=0.27, label=f"{column} features", color=colour)
        ax.set_xticks(x, [f"{t}\n({k})" for t, k in zip(table["target"], table["kind"])], fontsize=7)
        ax.axhline(0.5, color="black", lw=0.6, ls=":")
        ax.set_ylim(0.4, 1.0)
        ax.set_ylabel("probe AUROC")
        ax.set_title(name)
        ax.legend(fontsize=7)
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
