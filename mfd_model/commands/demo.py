"""``mfd demo``: MFD end to end on the embedded default (simulated data), as a user would run it.

Every step is the ``mfd`` command a user would type (run in this process), with the demo config
``train/configs/demo.yaml`` and everything written under ``--outdir`` (default ``build/demo``):

    1. mfd simulate               OUT/sim                 ENCODE-like data with known biology and biases
    2. mfd prepare                OUT/labels              sparse label store, chr4 held out
    3. mfd train (lambda 0.003)   OUT/run                 the default model
       mfd train (lambda 0)       OUT/run_lambda0         reference without the independence penalty
       mfd train (baseline)       OUT/run_baseline        no metadata, no penalty
    4. mfd check-disentanglement  OUT/disentanglement     probes vs planted truth, PASS / FAIL lines
    5. mfd export                 OUT/kipoi/MFD/...       Kipoi variants pytorch, tensorflow, lambda0, baseline
    6. mfd predict                OUT/predictions.tsv     K562 enhancers + backgrounds
    7. mfd score-variants         OUT/variants.tsv/.vcf.gz the simulated variants
    8. mfd evaluate               OUT/evaluation          Table 1 / Table 2 style tables, diagnostics, plots

Steps whose outputs exist are skipped (delete OUT to start over); an interrupted training run is
resumed. At the end the default model's weights are compared with the packaged default model
(``mfd_model/default_model``), which this very command reproduces bit for bit from the seed.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--outdir", default="build/demo", help="where everything goes (default build/demo)")
    parser.add_argument("--config", help="training config (default: the packaged train/configs/demo.yaml)")
    parser.add_argument("--skip-comparisons", action="store_true",
                        help="train only the default model (no lambda = 0 / baseline models, no comparisons)")


def _config_path(given: str | None) -> Path:
    import os
    if given:
        return Path(given)
    from importlib.resources import files
    packaged = Path(str(files("mfd_model.train") / "configs" / "demo.yaml"))
    relative = Path(os.path.relpath(packaged))
    return relative if not str(relative).startswith("..") else packaged


def _step(title: str, argv: list[str], done: bool = False) -> None:
    from ..cli import main
    from ..errors import MFDError
    print(f"\n=== {title}\n$ mfd {' '.join(argv)}", flush=True)
    if done:
        print("(outputs exist: skipped)")
        return
    started = time.time()
    code = main(argv)
    if code not in (0, None):
        if argv[0] == "check-disentanglement" and code == 1:
            print("(a disentanglement criterion failed: see the FAIL lines above)")
            return
        raise MFDError(f"the demo step 'mfd {argv[0]}' failed (exit {code})", fix="see its message above")
    print(f"({time.time() - started:.0f} s)", flush=True)


def run(args: argparse.Namespace) -> int:
    out = Path(args.outdir)
    config = _config_path(args.config)
    sim, store = out / "sim", out / "labels"
    data = ["--set", f"data.fasta={sim / 'genome.fa'}", "--set", f"data.metadata={sim / 'metadata.tsv'}",
            "--set", f"data.store={store}", "--set", f"schema={sim / 'schema.yaml'}"]

    _step("1. simulate an ENCODE-like data set with known biology and technical biases",
          ["simulate", str(sim), "--quiet"], done=(sim / "truth" / "params.json").exists())
    _step("2. prepare the label store", ["prepare", str(sim / "genome.fa"), str(sim / "metadata.tsv"), str(store),
                                         "--config", str(config), "--quiet"], done=(store / "store.json").exists())
    runs = {"run": []}
    if not args.skip_comparisons:
        runs["run_lambda0"] = ["--set", "training.lambda_indep=0"]
        runs["run_baseline"] = ["--set", "model.head=baseline"]
    for name, extra in runs.items():
        folder = out / name
        resume = ["--resume"] if (folder / "checkpoints" / "last.ckpt").exists() else []
        _step(f"3. train {name}", ["train", "--config", str(config), *data, "--set", f"output={folder}", *extra,
                                   *resume], done=(folder / "model.pt").exists())
    model = out / "run" / "model.pt"
    if not args.skip_comparisons:
        _step("4. check the disentanglement against the planted truth",
              ["check-disentanglement", str(model), "--reference", str(out / "run_lambda0" / "model.pt"),
               "--simulation", str(sim), "--store", str(store), "--out", str(out / "disentanglement")])
    variants = [] if args.skip_comparisons else [
        "--variant", f"lambda0={out / 'run_lambda0' / 'model.pt'}",
        "--variant", f"baseline={out / 'run_baseline' / 'model.pt'}"]
    _step("5. export the Kipoi model group (PyTorch and TensorFlow variants)",
          ["export", str(model), str(out / "kipoi"), *variants, "--check", "--force"])
    _step("6. predict the K562 enhancers and backgrounds", [
        "predict", str(sim / "truth" / "enhancers_K562.bed"), str(sim / "genome.fa"), str(out / "predictions.tsv"),
        "-m", str(out / "kipoi" / "MFD" / "pytorch"), "--rc", "--no-progress"])
    _step("7. score the simulated variants (kipoi-veff scores + biological / technical effects)", [
        "score-variants", str(sim / "variants.vcf.gz"), str(sim / "genome.fa"), str(out / "variants.tsv"),
        "-m", str(model), "--vcf-out", str(out / "variants.vcf.gz"), "--rejects", str(out / "variants.rejects.tsv"),
        "-q"])
    evaluate = ["evaluate", str(out / "evaluation"), "-m", str(model), "--simulated", str(sim), "--store", str(store),
                "--variant-scores", str(out / "variants.tsv"),
                "--score-map", "combined=diff,biological=biological,technical=technical"]
    if not args.skip_comparisons:
        baseline = out / "run_baseline" / "model.pt"
        _step("7b. score them with the baseline model (Table 2's baseline row)", [
            "score-variants", str(sim / "variants.vcf.gz"), str(sim / "genome.fa"),
            str(out / "variants_baseline.tsv"), "-m", str(baseline), "-s", "diff", "-q"])
        evaluate += ["--baseline-model", str(baseline), "--baseline-variant-scores", str(out / "variants_baseline.tsv"),
                     "--baseline-score", "diff"]
    _step("8. evaluate: performance, enhancer classification, variant enrichment, diagnostics", evaluate)
    _compare_with_default(model)
    print(f"\nAll demo outputs are in {out}/ (see the README, 'What make demo does').")
    return 0


def _compare_with_default(model_path: Path) -> None:
    """Is the model just trained the packaged default model, bit for bit?"""
    import torch

    from ..kipoi_folder import default_model_files
    from ..model_io import load_model
    print("\n=== the packaged default model (mfd_model/default_model) vs this run")
    trained = load_model(model_path).state_dict()
    _, weights = default_model_files()
    packaged = torch.load(weights, map_location="cpu", weights_only=True)
    same = trained.keys() == packaged.keys() and all(torch.equal(trained[k], packaged[k]) for k in trained)
    if same:
        print("identical: this run reproduced the committed default weights bit for bit")
    else:
        print("different: the committed default weights came from another run or another machine "
              "(floating-point order can differ between CPUs).", file=sys.stderr)
        print(f"to make this run the default: mfd export {model_path} build/demo/kipoi --force --check --root .")
