"""The demo's flow (``mfd demo``): MFD end to end on the embedded default (simulated data), as a user would run it.

Every step is the ``mfd`` command a user would type, run in this process (:func:`run_step`), with the
demo config ``train/configs/demo.yaml`` and everything written under the output folder ``OUT``
(``mfd demo --outdir``, default ``build/demo``):

    1. mfd simulate               OUT/sim                 ENCODE-like data with known biology and biases
    2. mfd prepare                OUT/labels              sparse label store, chr4 held out
    3. mfd train (lambda 0.003)   OUT/run                 the default model
       mfd train (lambda 0)       OUT/run_lambda0         reference without the independence penalty
       mfd train (baseline)       OUT/run_baseline        no metadata, no penalty
    4. mfd check-disentanglement  OUT/disentanglement     probes vs planted truth, PASS / FAIL lines
    5. mfd export                 OUT/kipoi/MFD/...       Kipoi variants pytorch, tensorflow, lambda0, baseline
    6. mfd predict                OUT/predictions.tsv     K562 enhancers + backgrounds
    7. mfd importance             OUT/importance          accuracy lost when a unit / group / subspace is off
    8. mfd motifs discover        OUT/motifs/<unit>       de novo motifs of the CTCF and DNase-seq units
    9. mfd score-variants         OUT/variants.tsv/.vcf.gz the simulated variants
   10. mfd evaluate               OUT/evaluation          Table 1 / Table 2 style tables, diagnostics, the
                                                          importance and motif tables of steps 7-8, plots

Steps whose outputs exist are skipped (delete OUT to start over); an interrupted training run is
resumed. With ``robustness`` (``mfd demo --robustness``) the verdicts are then repeated on a second
simulation (another genome seed and other bias strengths; ``OUT/second_simulation``) and the demo
MFD and its baseline are trained with two more seeds (``OUT/seed1``, ``OUT/seed2``):
``OUT/robustness/report.md`` gives each simulation's claims and disentanglement criteria, the claims
per training seed and on the seed mean, the spread of test AUROC over seeds and the rank agreement
of the biological variant effects and of the importance between seeds. At the end of the flow the
default model's weights are compared with the packaged default model (``mfd_model/default_model``),
which this very flow reproduces bit for bit from the seed.

:func:`run_demo` is the whole demo (it returns a :class:`DemoRun`); :func:`run_flow`,
:func:`score_and_evaluate`, :func:`interpret`, :func:`train_seeds` and :func:`robustness_checks` its parts.
Like :mod:`mfd_model.cli`, a front end: it runs the other layers through the ``mfd`` command, so
this module imports only the standard library at module level (``mfd demo --help`` reads its
constants).
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

# `mfd demo --robustness`: the second simulation (another genome seed, weaker assay k-mer and stronger
# lab GC biases) and the extra training seeds on the demo data. The simulator's other motif set
# (--motif-set alternative) is not used here: in 30 epochs on 2 cores neither MFD nor the baseline
# learned its motifs (validation AUROC about 0.70 for both; docs/convergence.md).
SECOND_SIMULATION = ("--seed", "1", "--kmer-strength", "3", "--gc-strength", "5")
EXTRA_SEEDS = (1, 2)

# `mfd motifs discover` on the peaks of one experiment per unit: a biological unit and the technical
# unit of the assay with the strongest planted k-mer; DeepSHAP with 5 references over 300 peaks
DISCOVER_UNITS = (("CTCF", "bio", "target"), ("DNase-seq", "tech", "assay"))
IMPORTANCE_GROUPS = "assay,target,lab"  # experiment groups of mfd importance


@dataclass
class DemoRun:
    """What :func:`run_demo` did (its outputs are the steps' own, under ``outdir``).

    Attributes:
        outdir: the output folder ``OUT``.
        reproduced_default: whether ``OUT/run/model.pt`` has the packaged default model's weights, bit for bit.
        robustness_report: ``OUT/robustness/report.md`` with ``robustness``, else ``None``.
    """

    outdir: Path
    reproduced_default: bool | None = None
    robustness_report: Path | None = None

    def report(self) -> str:
        """The demo's last line."""
        return f"All demo outputs are in {self.outdir}/ (see the README, 'What make demo does')."


def run_demo(outdir: str | Path, config: str | Path | None = None, *, comparisons: bool = True,
             robustness: bool = False, jobs: int | None = None) -> DemoRun:
    """The whole demo: :func:`run_flow` into ``outdir``, the comparison with the packaged default model,
    then with ``robustness`` the robustness checks (:func:`robustness_checks`; they need ``comparisons``).

    Args:
        config: the training config (default: the packaged ``train/configs/demo.yaml``, :func:`config_path`).
        comparisons: also train the lambda = 0 and baseline models, check the disentanglement, interpret.
        jobs: trainings run at once (default :func:`default_jobs`), each with its share of the cores.
    Raises:
        MFDError: ``robustness`` without ``comparisons`` (before any step).
    """
    if robustness and not comparisons:
        from .errors import MFDError
        raise MFDError("--robustness compares MFD with its baseline", fix="leave out --skip-comparisons")
    out = Path(outdir)
    config = config_path(config)
    jobs = default_jobs() if jobs is None else jobs
    run_flow(out, config, comparisons=comparisons, jobs=jobs)
    reproduced = compare_with_default(out / "run" / "model.pt")
    report = robustness_checks(out, config, jobs) if robustness else None
    return DemoRun(out, reproduced, report)


def config_path(given: str | Path | None) -> Path:
    """``given``, or the packaged demo config (relative to the working folder when below it)."""
    import os
    if given:
        return Path(given)
    from importlib.resources import files
    packaged = Path(str(files("mfd_model.train") / "configs" / "demo.yaml"))
    relative = Path(os.path.relpath(packaged))
    return relative if not str(relative).startswith("..") else packaged


def run_step(title: str, argv: list[str], done: bool = False) -> None:
    """Print ``title`` and the command line, then run ``mfd argv`` in this process (unless ``done``).

    Raises:
        Terminated: the step was interrupted (Ctrl-C, SIGTERM, SIGHUP): so is the demo.
        MFDError: the step failed (a failed disentanglement criterion is reported and the demo goes on).
    """
    from .cli import main
    from .errors import MFDError
    announce(title, argv, done)
    if done:
        return
    started = time.time()
    code = main(argv)
    raise_if_interrupted(code)
    if code not in (0, None):
        if argv[0] == "check-disentanglement" and code == 1:
            print("(a disentanglement criterion failed: see the FAIL lines above)")
            return
        raise MFDError(f"the demo step 'mfd {argv[0]}' failed (exit {code})", fix="see its message above")
    print(f"({time.time() - started:.0f} s)", flush=True)


def announce(title: str, argv: list[str], done: bool = False) -> None:
    """Print a step's title and command line (and that it is skipped when ``done``)."""
    print(f"\n=== {title}\n$ mfd {' '.join(argv)}", flush=True)
    if done:
        print("(outputs exist: skipped)")


def raise_if_interrupted(status: int | None) -> None:
    """A step that ended with 128 + signal (Ctrl-C, SIGTERM, SIGHUP) interrupts the demo too.

    Raises:
        Terminated: for such a status.
    """
    if status is not None and status > 128:
        from .processes import Terminated
        raise Terminated(status - 128)


def data_overrides(sim: Path, store: Path) -> list[str]:
    """``--set`` options that point the demo config at one simulated data set and its label store."""
    from .simulation_layout import SimulationLayout
    layout = SimulationLayout(sim)
    return ["--set", f"data.fasta={layout.genome_fa}", "--set", f"data.metadata={layout.metadata_tsv}",
            "--set", f"data.store={store}", "--set", f"schema={layout.schema_yaml}"]


@dataclass
class Training:
    """One ``mfd train`` step of the demo: its title, command line, output folder, and whether it is done."""

    title: str
    argv: list[str]
    folder: Path

    @property
    def done(self) -> bool:
        return (self.folder / "model.pt").exists()


def training(title: str, config: Path, data: list[str], folder: Path, extra: list[str]) -> Training:
    """``mfd train`` into ``folder`` (resumed when interrupted; skipped when done)."""
    resume = ["--resume"] if (folder / "checkpoints" / "last.ckpt").exists() else []
    return Training(title, ["train", "--config", str(config), *data, "--set", f"output={folder}", *extra, *resume],
                    folder)


def train(trainings: Sequence[Training], jobs: int = 1) -> list[Path]:
    """Run ``trainings`` (one after the other, or ``jobs`` at a time as child processes when more
    than one is left to do); returns their model.pt files.

    Raises:
        Terminated: a training was interrupted (Ctrl-C, SIGTERM, SIGHUP): so is the demo.
        MFDError: a training failed (the others were stopped).
    """
    left = [t for t in trainings if not t.done]
    if jobs <= 1 or len(left) <= 1:
        for t in trainings:
            run_step(t.title, t.argv, done=t.done)
        return [t.folder / "model.pt" for t in trainings]
    from .concurrent_commands import Command, CommandFailed, run_commands
    from .errors import MFDError
    from .threads import available_cores
    jobs = min(jobs, len(left))
    threads = max(1, available_cores() // jobs)
    share = ["--set", f"training.threads={threads}"]
    for t in trainings:
        announce(t.title, t.argv if t.done else [*t.argv, *share], t.done)
    print(f"\n({len(left)} trainings, {jobs} at a time, {threads} thread{'s' * (threads > 1)} each)", flush=True)
    started = time.time()
    try:
        run_commands([Command(t.folder.name, [*t.argv, *share], t.folder / "train.log",
                              status=lambda folder=t.folder: training_status(folder)) for t in left], jobs)
    except CommandFailed as failed:
        raise_if_interrupted(failed.code)
        raise MFDError(f"the demo step 'mfd train' ({failed.command.name}) failed (exit {failed.code})",
                       path=failed.command.log, fix="see the end of its log above") from None
    print(f"({time.time() - started:.0f} s)", flush=True)
    return [t.folder / "model.pt" for t in trainings]


def training_status(folder: Path) -> str:
    """``"epoch 12, validation AUROC 0.861"`` from a training's ``logs/metrics.csv`` (as far as written)."""
    import csv
    try:
        with open(folder / "logs" / "metrics.csv", newline="") as handle:
            epochs = [row["val/auroc_mean"] for row in csv.DictReader(handle) if row.get("val/auroc_mean")]
    except (OSError, KeyError, csv.Error):
        return "starting"
    return f"epoch {len(epochs)}, validation AUROC {float(epochs[-1]):.3f}" if epochs else "epoch 0"


def default_jobs() -> int:
    """Trainings the demo runs at once: its three models side by side when there are 2 cores or more
    (about 1.5x the time of one training on 2 cores, instead of 3x)."""
    from .threads import available_cores
    return 3 if available_cores() >= 2 else 1


def run_flow(out: Path, config: Path, *, simulate_args: tuple[str, ...] = (), comparisons: bool = True,
             jobs: int = 1) -> None:
    """Steps 1-10 of the module docstring on one simulated data set, everything under ``out``
    (without ``comparisons``: one model, no disentanglement check, no baseline, no steps 7-8);
    ``jobs``: trainings run at once (:func:`train`)."""
    from .simulation_layout import SimulationLayout
    sim, store = out / "sim", out / "labels"
    layout = SimulationLayout(sim)
    data = data_overrides(sim, store)

    run_step("1. simulate an ENCODE-like data set with known biology and technical biases",
             ["simulate", str(sim), *simulate_args, "--quiet"], done=layout.params_json.exists())
    run_step("2. prepare the label store", ["prepare", str(layout.genome_fa), str(layout.metadata_tsv), str(store),
                                            "--config", str(config), "--quiet"], done=(store / "store.json").exists())
    runs = {"run": []}
    if comparisons:
        runs["run_lambda0"] = ["--set", "training.lambda_indep=0"]
        runs["run_baseline"] = ["--set", "model.head=baseline"]
    train([training(f"3. train {name}", config, data, out / name, extra) for name, extra in runs.items()], jobs)
    model = out / "run" / "model.pt"
    if comparisons:
        run_step("4. check the disentanglement against the planted truth",
                 ["check-disentanglement", str(model), "--reference", str(out / "run_lambda0" / "model.pt"),
                  "--simulation", str(sim), "--store", str(store), "--out", str(out / "disentanglement")])
    variants = [] if not comparisons else [
        "--variant", f"lambda0={out / 'run_lambda0' / 'model.pt'}",
        "--variant", f"baseline={out / 'run_baseline' / 'model.pt'}"]
    run_step("5. export the Kipoi model group (PyTorch and TensorFlow variants)",
             ["export", str(model), str(out / "kipoi"), *variants, "--check", "--force"])
    run_step("6. predict the K562 enhancers and backgrounds", [
        "predict", str(layout.enhancers("K562")), str(layout.genome_fa), str(out / "predictions.tsv"),
        "-m", str(out / "kipoi" / "MFD" / "pytorch"), "--rc", "--no-progress"])
    interpretation = interpret(out, sim, store, model) if comparisons else []
    score_and_evaluate(("9.", "9b.", "10."), out, sim, store, model,
                       out / "run_baseline" / "model.pt" if comparisons else None, vcf_out=True,
                       extra=interpretation)


def score_and_evaluate(steps: tuple[str, str, str], out: Path, sim: Path, store: Path, model: Path,
                       baseline: Path | None, *, vcf_out: bool = False, skip_done: bool = False,
                       extra: Sequence[str] = ()) -> None:
    """Steps 9-10 (titled ``steps``): score the simulated variants with ``model`` (biological and
    technical effects) and with ``baseline`` (Table 2's baseline row), then ``mfd evaluate`` into
    ``out/evaluation`` (the claims need ``baseline``) with ``extra`` evaluate options.
    ``skip_done``: skip what a finished run left."""
    from .simulation_layout import SimulationLayout
    layout = SimulationLayout(sim)
    variants, variants_baseline, summary = out / "variants.tsv", out / "variants_baseline.tsv", out / "evaluation" / "summary.json"
    vcf = ["--vcf-out", str(out / "variants.vcf.gz"), "--rejects", str(out / "variants.rejects.tsv")] if vcf_out else []
    run_step(f"{steps[0]} score the simulated variants (kipoi-veff scores + biological / technical effects)", [
        "score-variants", str(layout.variants_vcf), str(layout.genome_fa), str(variants), "-m", str(model),
        *vcf, "-q"], done=skip_done and header_has(variants, "/technical"))
    evaluate = ["evaluate", str(out / "evaluation"), "-m", str(model), "--simulated", str(sim), "--store", str(store),
                "--variant-scores", str(variants), "--score-map", "combined=diff,biological=biological,technical=technical",
                *extra]
    if baseline is not None:
        run_step(f"{steps[1]} score them with the baseline model (Table 2's baseline row)", [
            "score-variants", str(layout.variants_vcf), str(layout.genome_fa), str(variants_baseline),
            "-m", str(baseline), "-s", "diff", "-q"], done=skip_done and variants_baseline.exists())
        evaluate += ["--baseline-model", str(baseline), "--baseline-variant-scores", str(variants_baseline),
                     "--baseline-score", "diff"]
    run_step(f"{steps[2]} evaluate: performance, enhancer classification, variant enrichment, diagnostics", evaluate,
             done=skip_done and summary.exists() and '"enhancers"' in summary.read_text())


def header_has(path: Path, text: str) -> bool:
    """Does the first line of ``path`` (a variant score table) contain ``text``? False if absent."""
    if not path.exists():
        return False
    with open(path) as handle:
        return text in handle.readline()


def interpret(out: Path, sim: Path, store: Path, model: Path, step: str = "") -> list[str]:
    """Steps 7-8 (titled ``step``, default ``7.`` and ``8.``): what each unit is worth (ablation) and which
    motifs it reads (discovery), the planted motifs (``truth/motifs.meme``) and assay k-mers as the databases
    to match. Returns the ``mfd evaluate`` options that bring their tables into the report."""
    import json

    from .metadata import MetadataTable
    from .simulation_layout import SimulationLayout
    run_step(f"{step or '7.'} importance: test AUROC / AUPRC lost when a unit, a metadata group or a subspace is "
             "switched off",
             ["importance", str(store), str(out / "importance"), "-m", str(model), "--group-by", IMPORTANCE_GROUPS,
              "--no-progress"], done=(out / "importance" / "summary.json").exists())
    layout = SimulationLayout(sim)
    kmers = [kmer for _, kmer, _ in json.loads(layout.params_json.read_text())["assay_kmers"]]
    metadata = MetadataTable.read(layout.metadata_tsv).frame
    for unit, group, column in DISCOVER_UNITS:
        peaks = sim / metadata.loc[metadata[column] == unit, "peak_file"].iloc[0]
        folder = out / "motifs" / unit
        run_step(f"{step or '8.'} de novo motifs of the {group} unit {unit} on {peaks.name}: DeepSHAP -> TF-MoDISco "
                 "-> TomTom", [
                     "motifs", "discover", str(peaks), str(layout.genome_fa), str(folder), "-m", str(model),
                     "--unit", unit, "--group", group, "--meme", str(layout.motifs_meme),
                     *[a for k in kmers for a in ("--kmer", k)], "--max-regions", "300", "--references", "5",
                     "--no-progress"], done=(folder / "report.md").exists())
    return ["--importance", str(out / "importance"),
            *[a for unit, _, _ in DISCOVER_UNITS for a in ("--motifs", str(out / "motifs" / unit))]]


def train_seeds(out: Path, config: Path, jobs: int = 1) -> dict[int, Path]:
    """The demo's MFD and baseline with training seeds ``EXTRA_SEEDS`` on the demo data (``OUT/seed<k>``),
    each evaluated as the demo's own pair (steps 7-10: MFD's importance and motifs, the claims per seed).
    Returns seed -> folder (0: ``out``)."""
    sim, store = out / "sim", out / "labels"
    data = data_overrides(sim, store)
    seeds = {0: out}
    for seed in EXTRA_SEEDS:
        folder = out / f"seed{seed}"
        model, baseline = train([
            training(f"R1. train the demo MFD with training seed {seed}", config, data, folder / "run",
                     ["--set", f"training.seed={seed}"]),
            training(f"R1. train the baseline with training seed {seed}", config, data, folder / "run_baseline",
                     ["--set", f"training.seed={seed}", "--set", "model.head=baseline"])], jobs)
        interpretation = interpret(folder, sim, store, model, step=f"R2. (seed {seed})")
        score_and_evaluate((f"R3. (seed {seed})", f"R3b. (seed {seed})", f"R4. (seed {seed})"), folder, sim, store,
                           model, baseline, skip_done=True, extra=interpretation)
        seeds[seed] = folder
    return seeds


def robustness_checks(out: Path, config: Path, jobs: int = 1) -> Path:
    """The demo's verdicts again on a second simulation, and over training seeds; writes
    ``OUT/robustness/report.md`` and ``summary.json``; returns the report."""
    seeds = train_seeds(out, config, jobs)
    second = out / "second_simulation"
    print(f"\n=== R5. the whole demo on a second simulation: mfd simulate {' '.join(SECOND_SIMULATION)}")
    run_flow(second, config, simulate_args=SECOND_SIMULATION, jobs=jobs)

    from .evaluate.robustness import robustness_report
    report = robustness_report({"demo": out, "second simulation": second}, seeds, out / "robustness")
    print(f"\n=== robustness\n{report.read_text()}")
    return report


def compare_with_default(model_path: Path) -> bool:
    """Is the model just trained the packaged default model, bit for bit? (Printed, and returned.)"""
    import torch

    from .kipoi_folder import default_model_files
    from .model_io import load_model
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
    return bool(same)
