"""``mfd demo`` issues the same ``mfd`` sub-commands, with the same titles, as it always did.

The demo runs for about an hour, so its flow is checked without running a step: the step runner is
replaced by a recorder of ``(title, argv, done)``, and each flow (``run_flow`` with and without the
comparisons, an interrupted training to resume, ``interpret``, ``train_seeds``, and the whole command
``mfd demo --robustness`` with the default-model comparison and the robustness report stubbed) is
compared with ``tests/data/demo_steps.json``. That file was recorded from the demo as it was in
``mfd_model/commands/demo.py`` at commit 70ca3f9 (before its flow moved to ``mfd_model/demo.py``),
paths written relative to the test's temporary folder (``{tmp}``); one change since, on purpose:
``mfd evaluate`` (steps 10 and R4) gets the interpretation options (``--importance``, ``--motifs``)
that 70ca3f9 meant to pass, instead of score-variants' ``--vcf-out`` / ``--rejects``, which it
refuses (a variable named ``extra`` twice). Every recorded step must be a command line that
``mfd``'s parser accepts.

The simulated data set is faked by the two files the flow reads (``truth/params.json``'s assay
k-mers and ``metadata.tsv``'s peak files); no other output exists, so no step is skipped except
the simulation, whose marker is ``params.json``.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from mfd_model.cli import main
from mfd_model import demo as flow

GOLDEN = Path(__file__).parent / "data" / "demo_steps.json"
RUNNER = "run_step"


def _fake_simulation(sim: Path) -> None:
    """The two files of a simulated data set that the demo's flow reads."""
    (sim / "truth").mkdir(parents=True)
    (sim / "truth" / "params.json").write_text(json.dumps(
        {"assay_kmers": [["DNase-seq", "CCTTG", 4.0], ["ATAC-seq", "GATCA", 2.0]]}))
    (sim / "metadata.tsv").write_text(
        "experiment\ttarget\ttissue\tassay\tpeak_file\n"
        "E1\tCTCF\tK562\tChIP-seq\tpeaks/E1.narrowPeak.gz\n"
        "E2\tnone\tliver\tDNase-seq\tpeaks/E2.narrowPeak.gz\n"
        "E3\tnone\tK562\tDNase-seq\tpeaks/E3.narrowPeak.gz\n")


def _relative(value, tmp: Path):
    """``value`` with the temporary folder written ``{tmp}`` (lists and strings, recursively)."""
    if isinstance(value, (list, tuple)):
        return [_relative(v, tmp) for v in value]
    return value.replace(str(tmp), "{tmp}") if isinstance(value, str) else value


def record_flows(tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> dict[str, list]:
    """Every flow's recorded steps (``[title, argv, done]``), and what the whole command printed."""
    steps: list = []
    monkeypatch.setattr(flow, RUNNER, lambda title, argv, done=False: steps.append([title, list(argv), bool(done)]))
    config = tmp / "demo.yaml"
    flows = {}

    def recorded(name: str, call) -> None:
        steps.clear()
        call()
        flows[name] = _relative(steps, tmp)

    out = tmp / "flow"
    _fake_simulation(out / "sim")
    recorded("run_flow", lambda: flow.run_flow(out, config))
    recorded("run_flow_without_comparisons", lambda: flow.run_flow(tmp / "bare", config, comparisons=False))
    resumed = tmp / "resumed"
    _fake_simulation(resumed / "sim")
    (resumed / "run" / "checkpoints").mkdir(parents=True)
    (resumed / "run" / "checkpoints" / "last.ckpt").write_text("")
    recorded("run_flow_resumed", lambda: flow.run_flow(resumed, config))
    recorded("interpret", lambda: flow.interpret(out, out / "sim", out / "labels", out / "run" / "model.pt"))
    recorded("train_seeds", lambda: flow.train_seeds(out, config))

    # the whole command; the comparison with the packaged model and the robustness report stubbed
    whole = tmp / "whole"
    for sim in (whole / "sim", whole / "second_simulation" / "sim"):
        _fake_simulation(sim)
    compared = []
    monkeypatch.setattr(flow, "compare_with_default", lambda path: compared.append(str(path)))

    def report(flows, seeds, folder):
        folder.mkdir(parents=True)
        (folder / "report.md").write_text(f"flows {sorted(flows)}, seeds {sorted(seeds)}\n")
        return folder / "report.md"

    import mfd_model.evaluate.robustness as robustness
    monkeypatch.setattr(robustness, "robustness_report", report)
    capsys.readouterr()
    recorded("demo_command", lambda: main(["demo", "--outdir", str(whole), "--config", str(config), "--robustness",
                                          "--jobs", "1"]))
    flows["demo_command_compared"] = _relative(compared, tmp)
    flows["demo_command_printed"] = _relative(capsys.readouterr().out.splitlines(), tmp)
    return flows


def test_the_demo_issues_the_same_commands(tmp_path, monkeypatch, capsys):
    golden = json.loads(GOLDEN.read_text())
    flows = record_flows(tmp_path, monkeypatch, capsys)
    assert set(flows) == set(golden)
    for name, expected in golden.items():
        assert flows[name] == expected, name


def test_every_step_is_a_command_line_mfd_accepts():
    """Each recorded argv parses with mfd's own parser (no step can fail on a usage error an hour in)."""
    from mfd_model.cli import build_parser

    parser = build_parser()
    steps = [s for name, flow_steps in json.loads(GOLDEN.read_text()).items() if not name.startswith("demo_command_")
             for s in flow_steps]
    assert len(steps) > 50
    for title, argv, _ in steps:
        parser.parse_args(argv)   # SystemExit (usage error) otherwise


def test_a_step_prints_its_title_and_command(capsys):
    """The real step runner: the title, the command line, and the skip note when its outputs exist."""
    getattr(flow, RUNNER)("1. a step", ["simulate", "sim", "--quiet"], done=True)
    assert capsys.readouterr().out == "\n=== 1. a step\n$ mfd simulate sim --quiet\n(outputs exist: skipped)\n"


def test_robustness_without_comparisons_is_refused_before_any_step(tmp_path, monkeypatch, capsys):
    steps = []
    monkeypatch.setattr(flow, RUNNER, lambda title, argv, done=False: steps.append(argv))
    assert main(["demo", "--outdir", str(tmp_path / "out"), "--skip-comparisons", "--robustness"]) == 2
    assert "--robustness compares MFD with its baseline" in capsys.readouterr().err
    assert steps == [] and not (tmp_path / "out").exists()

