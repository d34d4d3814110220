"""Any per-bin truth table, not only `mfd simulate`'s: roles (simulator names, bio: / tech:
prefixes, --biological-columns / --technical-columns), one-line errors, and `mfd evaluate` /
`mfd check-disentanglement` end to end on a hand-made data set whose answer is known: a model
whose biological unit 0 detects MOTIF and whose technical unit 8 detects OTHER_MOTIF
(weights set by hand), on a genome where each 32 bp bin holds either, both or none."""
from __future__ import annotations

import json
import sys
import types

import numpy as np
import pandas as pd
import pytest
import torch

from interpret_helpers import MOTIF, OTHER_MOTIF, motif_detector, random_dna, set_first_layer_motif, write_fasta
from toy_models import toy_mfd
from mfd_model.cli import main
from mfd_model.errors import MFDError
from mfd_model.evaluate.disentanglement import read_truth_bins, truth_columns, truth_targets
from mfd_model.model_io import save_model
from test_evaluate import FakeStore

N_BINS, BIN = 180, 32


# ============================================================================ roles
def test_roles_from_simulator_names_prefixes_and_options():
    simulator = ["chrom", "start", "end", "gc", "n_fraction", "motif_CTCF", "biology", "kmer_DNase-seq", "gc_rich"]
    roles = truth_columns(simulator)
    assert list(roles) == ["gc", "motif_CTCF", "biology", "kmer_DNase-seq", "gc_rich"]        # n_fraction: not probed
    assert {c: (r.role, r.checked) for c, r in roles.items()} == {
        "gc": ("bias", False), "motif_CTCF": ("biology", False), "biology": ("biology", True),
        "kmer_DNase-seq": ("bias", True), "gc_rich": ("bias", True)}
    assert roles["biology"].presence and not roles["kmer_DNase-seq"].presence
    own = truth_columns(["chrom", "start", "end", "bio:my_motif", "technical:my_bias", "gc"])
    assert [(r.name, r.role, r.checked) for r in own.values()] == [
        ("my_motif", "biology", True), ("my_bias", "bias", True), ("gc", "bias", False)]
    by_option = truth_columns(["chrom", "start", "end", "a", "b", "note:x"], biological="a", technical=["b", "note:x"])
    assert {c: r.role for c, r in by_option.items()} == {"a": "biology", "b": "bias", "note:x": "bias"}
    # an option may name a prefixed column by its name; it overrides a simulator name's default
    assert truth_columns(["chrom", "start", "end", "bio:m"], biological="m")["bio:m"].role == "biology"
    assert truth_columns(["chrom", "start", "end", "gc"], technical="gc")["gc"].checked


def test_targets_presence_binary_and_counts():
    bins = pd.DataFrame({"chrom": "c", "start": [0, 10, 20, 30], "end": [10, 20, 30, 40],
                         "motif_A": [0, 2, 0, 1], "bio:flag": [0.0, 1.0, 1.0, 0.0], "tech:count": [0, 3, 1, 2],
                         "tech:constant": 1})
    targets = truth_targets(bins)
    assert set(targets) == {"motif_A", "flag", "count"}                      # constant: nothing to predict
    assert targets["motif_A"].values.tolist() == [0, 1, 0, 1] and not targets["motif_A"].checked
    assert targets["flag"].values.dtype.kind == "i" and targets["flag"].role == "biology"
    assert targets["count"].values.tolist() == [0, 3, 1, 2] and targets["count"].role == "bias"


@pytest.mark.parametrize("header, body, options, message", [
    ("chrom\tbeg\tend\tbio:x", "c\t0\t10\t1", {}, r"t.tsv:1: truth bin table lacks column\(s\) start"),
    ("chrom\tstart\tend\tbio:x\tname", "c\t0\t10\t1\tn", {}, r"t.tsv:1: truth column 'name' has no role"),
    ("chrom\tstart\tend\tx\ty", "c\t0\t10\t1\t2", {"biological": "x"}, r"t.tsv:1: truth column 'y' has no role"),
    ("chrom\tstart\tend\tx", "c\t0\t10\t1", {"technical": "x,z"}, r"t.tsv:1: truth table has no column 'z'"),
    ("chrom\tstart\tend\tbio:x", "c\t0\t10\t1", {"technical": "x"}, r"named in --technical-columns but its prefix"),
    ("chrom\tstart\tend\tscore", "c\t0\t10\t1", {}, r"t.tsv:1: truth table has no column with a role"),
    ("chrom\tstart\tend\ttech:x", "c\t0\t10\t1\nc\t10\t20\thigh", {}, r"t.tsv:3: truth column 'tech:x' holds 'high'"),
    ("chrom\tstart\tend\ttech:x", "c\t0\t10\t1\nc\t0\t10\t0", {}, r"t.tsv:3: bin c:0-10 is listed twice"),
    ("chrom\tstart\tend\ttech:x", "c\t0\t10\t1\nc\t10.5\t20\t0", {}, r"t.tsv:3: start '10.5' is not an integer"),
])
def test_truth_table_errors_name_file_line_and_fix(tmp_path, header, body, options, message):
    path = tmp_path / "t.tsv"
    path.write_text(f"{header}\n{body}\n")
    with pytest.raises(MFDError, match=message) as err:
        read_truth_bins(path, **options)
    assert "(fix: " in str(err.value)


# ============================================================================ end to end on an own data set
@pytest.fixture
def own_data(tmp_path, toy_paths):
    rng = np.random.default_rng(0)
    motif, bias = rng.random(N_BINS) < 0.4, rng.random(N_BINS) < 0.4
    seq = list(random_dna(N_BINS * BIN + 400, seed=5))
    for b in range(N_BINS):                      # inside the bin, where the hand-set units look
        if motif[b]:
            seq[b * BIN + 4:b * BIN + 12] = MOTIF
        if bias[b]:
            seq[b * BIN + 13:b * BIN + 21] = OTHER_MOTIF
    fasta = write_fasta(tmp_path / "genome.fa", {"chrA": "".join(seq)})
    starts = np.arange(N_BINS) * BIN
    table = pd.DataFrame({"chrom": "chrA", "start": starts, "end": starts + BIN, "bio:my_motif": motif.astype(int),
                          "tech:my_bias": bias.astype(int)})
    truth = tmp_path / "truth.tsv.gz"
    table.to_csv(truth, sep="\t", index=False)
    model = toy_mfd(toy_paths)
    motif_detector(model, MOTIF, unit=0)                  # biological unit 0 <- MOTIF
    with torch.no_grad():                                 # technical unit 8 <- OTHER_MOTIF, through channel 1
        set_first_layer_motif(model, OTHER_MOTIF, 1)
        for layer in model.trunk.tower:
            conv = layer[0][2]
            conv.weight[1, 1, conv.kernel_size[0] // 2] = 1.0
        model.trunk.embed[2].weight[model.config.half_dim, 1, 0] = 1.0
    return {"fasta": fasta, "truth": truth, "table": table, "model": save_model(model, tmp_path / "own.pt"),
            "tmp": tmp_path, "names": model.experiment_names}


class IntervalStore(FakeStore):
    """test_evaluate's FakeStore plus the bin intervals mfd check-disentanglement reads."""

    def bin_interval(self, row):
        start = int(self.bin_start[row])
        return self.contigs[0], start, start + self.bin_size


@pytest.fixture
def fake_store(own_data, monkeypatch):
    labels = np.zeros((N_BINS, len(own_data["names"])), np.float32)
    store = IntervalStore(own_data["fasta"], labels, np.arange(N_BINS) * BIN, list(own_data["names"]), bin_size=BIN)
    fake = types.ModuleType("mfd_model.train.labels")
    fake.LabelStore = types.SimpleNamespace(open=lambda path: store)
    monkeypatch.setitem(sys.modules, "mfd_model.train.labels", fake)
    return store


def test_evaluate_probes_an_own_truth_table(own_data, capsys):
    out = own_data["tmp"] / "evaluation"
    assert main(["evaluate", str(out), "-m", str(own_data["model"]), "--fasta", str(own_data["fasta"]),
                 "--truth-bins", str(own_data["truth"]), "--diagnostic-bins", "150", "--adversary-steps", "20",
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "linear probes" in printed and "NOT CHECKED" in printed                 # claims: no inputs, no crash
    probes = pd.read_csv(out / "diagnostics_probes.tsv", sep="\t").set_index("target")
    assert probes.loc["my_motif", ["role", "metric", "best"]].tolist() == ["biology", "AUROC", "bio"]
    assert probes.loc["my_bias", ["role", "metric", "best"]].tolist() == ["bias", "AUROC", "tech"]
    assert probes.loc["my_motif", "bio"] > 0.95 and probes.loc["my_bias", "tech"] > 0.95
    summary = json.loads((out / "summary.json").read_text())
    assert summary["diagnostics"]["source"].startswith("150 bins of") and len(summary["claims"]) == 6
    assert all(c["passed"] is None for c in summary["claims"])


def test_check_disentanglement_on_an_own_truth_table(own_data, fake_store, capsys):
    assert main(["check-disentanglement", str(own_data["model"]), "--truth-bins", str(own_data["truth"]),
                 "--store", "unused", "--out", str(own_data["tmp"] / "check")]) == 0
    printed = capsys.readouterr().out
    passes = [line for line in printed.splitlines() if line.startswith("PASS")]
    assert len(passes) == 2 and "FAIL" not in printed, printed
    assert passes[0].startswith("PASS  my_motif: bio features") and passes[1].startswith("PASS  my_bias: tech features")
    # the same table without prefixes, roles by option, swapped: both criteria fail
    plain = own_data["table"].rename(columns={"bio:my_motif": "site", "tech:my_bias": "artefact"})
    plain.to_csv(own_data["tmp"] / "plain.tsv", sep="\t", index=False)
    assert main(["check-disentanglement", str(own_data["model"]), "--truth-bins", str(own_data["tmp"] / "plain.tsv"),
                 "--store", "unused", "--biological-columns", "artefact", "--technical-columns", "site"]) == 1
    printed = capsys.readouterr().out
    assert "FAIL  artefact: bio features" in printed and "FAIL  site: tech features" in printed


def test_check_disentanglement_with_nothing_to_probe_says_so(own_data, fake_store, capsys):
    """Truth columns that do not vary on the bins: no probe, no criterion judged, exit 1 (no traceback)."""
    constant = own_data["table"].assign(**{"bio:my_motif": 1, "tech:my_bias": 0})
    constant.to_csv(own_data["tmp"] / "constant.tsv", sep="\t", index=False)
    out = own_data["tmp"] / "constant_check"
    assert main(["check-disentanglement", str(own_data["model"]), "--truth-bins", str(own_data["tmp"] / "constant.tsv"),
                 "--store", "unused", "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert printed.rstrip().endswith("no criterion could be judged: no checked truth column varies on these bins")
    probes = pd.read_csv(out / "probes.tsv", sep="\t")
    assert len(probes) == 0 and {"model", "target", "bio", "tech", "bio_share", "tech_share"} <= set(probes.columns)
    assert (out / "probes.png").exists()


def test_check_disentanglement_bins_not_in_the_table_is_one_line(own_data, fake_store, capsys):
    partial = own_data["tmp"] / "partial.tsv"
    own_data["table"].iloc[::2].to_csv(partial, sep="\t", index=False)
    assert main(["check-disentanglement", str(own_data["model"]), "--truth-bins", str(partial), "--store", "x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "partial.tsv: 90 of 150 held-out bins are not rows of the truth table" in err[0]
    assert "(fix: give the table a row for every bin" in err[0]
    with pytest.raises(SystemExit):                                                           # no truth: usage
        main(["check-disentanglement", str(own_data["model"]), "--store", "x"])
    assert "one of the arguments --truth-bins --simulation is required" in capsys.readouterr().err
