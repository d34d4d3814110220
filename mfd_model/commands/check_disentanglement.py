"""``mfd check-disentanglement``: on simulated data, do the subspaces hold what they should?

    mfd check-disentanglement build/demo/run/model.pt --reference build/demo/run_lambda0/model.pt \\
        --simulation build/demo/sim --store build/demo/labels --out build/demo/disentanglement

Prints the probe table (biological / technical / full features -> planted biology and planted
biases, cross-validated AUROC), the dependence between the subspaces, and one PASS / FAIL line
per criterion (SKIP for a planted quantity the model did not learn); exits 1 if a criterion fails.
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
    from pathlib import Path

    import pandas as pd

    from ..disentanglement import check_disentanglement, disentanglement_report, held_out_bins
    from ..evaluate.disentanglement import read_truth_bins
    from ..evaluate.report import plot_probes, write_table
    from ..genome import Genome
    from ..model_io import load_model
    from ..outputs import StagedDir
    from ..train.labels import LabelStore

    store = LabelStore.open(args.store)
    bins = held_out_bins(store, args.split, args.max_bins, args.seed)
    models = {"model": load_model(args.model)}
    if args.reference:
        models["reference"] = load_model(args.reference)
    truth = read_truth_bins(Path(args.simulation) / "truth" / "bins.tsv.gz")
    probes, dependence = disentanglement_report(models, Genome(store.fasta_path), bins, truth, seed=args.seed)

    pd.set_option("display.width", 160)
    print(f"linear probes on {len(bins)} {args.split} bins (cross-validated; AUROC 0.5 / R2 0 = chance):")
    print(probes.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("\ndependence between the subspaces (0 = independent):")
    print(dependence.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    results = check_disentanglement(probes, dependence, "model", "reference" if args.reference else None)
    print()
    for ok, sentence in results:
        print(f"{'SKIP' if ok is None else 'PASS' if ok else 'FAIL'}  {sentence}")
    if args.out:
        with StagedDir(args.out) as out:
            write_table(probes, out, "probes")
            write_table(dependence, out, "dependence")
            plot_probes(probes[probes["model"] == "model"], out / "probes.png")
        print(f"\ntables and plot written to {args.out}")
    if not any(ok for ok, _ in results if ok is not None):
        print("no criterion could be judged: the model learned none of the planted quantities")
        return 1
    return 0 if all(ok is not False for ok, _ in results) else 1
