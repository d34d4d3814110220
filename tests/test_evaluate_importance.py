"""Ablation importance against an analytic answer: a hand-set model whose TF1 experiments read
only the unit ``bio/target:TF1`` and whose DNase experiment reads only ``bio/target:Accessible DNA``.
Switching a unit off (its mean) makes the experiments that read it constant predictors (AUROC
0.5, AUPRC the positive rate) and leaves every other experiment's predictions bit for bit."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from mfd_model import load_metadata
from mfd_model.cli import main
from mfd_model.config import ModelConfig
from mfd_model.errors import MFDError
from mfd_model.evaluate.importance import Ablation, ablate, ablation_importance, default_ablations
from mfd_model.evaluate.performance import evaluate_store
from mfd_model.model import MFDModel
from mfd_model.model_io import save_model
from mfd_model.train.labels import LabelStore

TF1 = ["motif_a", "motif_b"]
DNASE = "gc_artefact"


def readout_model(paths) -> MFDModel:
    """A random trunk on the tiny store's metadata with a hand-set readout (module docstring):
    the interaction weights are zero (the mixers' last layers) and the technical features are
    constant (their BatchNorm scale is zero), so ``logit[e] = s[target(e)] + const``."""
    table, encoder, _ = load_metadata(paths["metadata"], paths["schema"])
    config = ModelConfig(seq_len=384, channels=8, latent_dim=8, n_tower_layers=6, n_dilated_layers=1,
                         interact_hidden=4, adversary_hidden=8)
    torch.manual_seed(0)
    model = MFDModel(config, table.experiment_names(encoder.schema), encoder=encoder, table=table).eval()
    with torch.no_grad():
        for group in model.head.groups.values():
            group.mixer[-1].weight.zero_()
            group.mixer[-1].bias.zero_()
        model.feature_norm.weight[config.half_dim:] = 0
        model.feature_norm.weight[:config.half_dim] = 3.0          # spread the probabilities out
    return model


@pytest.fixture(scope="module")
def result(tiny_store):
    model = readout_model(tiny_store)
    store = LabelStore.open(tiny_store["store"])
    return model, store, ablation_importance(model, store, max_bins=150, seed=1, progress=False)


def test_default_ablations_name_units_groups_and_subspaces(result):
    model, _, _ = result
    by_name = {a.name: a for a in default_ablations(model)}
    assert by_name["bio"] == Ablation("bio", "subspace", (0, 1, 2, 3))
    assert by_name["tech"].units == (4, 5, 6, 7)
    assert by_name["bio/target"].units == (0, 1) and by_name["bio/interact"].units == (2, 3)
    assert by_name["bio/target:TF1"] == Ablation("bio/target:TF1", "unit", (model.unit_index("TF1"),))
    assert {"tech/assay", "tech/interact", "tech/assay:DNase-seq"} <= set(by_name)


def test_ablate_sets_units_to_the_given_values():
    features = torch.arange(12.0).reshape(3, 4)
    out = ablate(features, [1, 3], torch.tensor([9.0, 8.0, 7.0, 6.0]))
    assert out[:, 1].tolist() == [8.0] * 3 and out[:, 3].tolist() == [6.0] * 3
    assert torch.equal(out[:, [0, 2]], features[:, [0, 2]]) and features[0, 1] == 1.0   # a copy


def test_intact_metrics_are_evaluate_stores(result):
    model, store, importance = result
    metrics, info = evaluate_store(model, store, max_bins=150, seed=1, progress=False)
    assert importance.info["bins"] == info["bins"] == 150
    np.testing.assert_allclose(importance.intact["auroc"], metrics["auroc"], atol=1e-12)
    np.testing.assert_allclose(importance.intact["auprc"], metrics["auprc"], atol=1e-12)


def test_switching_a_unit_off_makes_its_readers_constant_and_leaves_the_others(result):
    _, _, importance = result
    table = importance.per_experiment.set_index(["ablation", "experiment"])
    intact = importance.intact.set_index("experiment")
    assert all(abs(intact.loc[e, "auroc"] - 0.5) > 0.01 for e in TF1 + [DNASE])     # a drop to measure
    for ablation, readers, others in (("bio/target:TF1", TF1, [DNASE]), ("bio/target:Accessible DNA", [DNASE], TF1)):
        for e in readers:
            assert table.loc[(ablation, e), "auroc"] == 0.5                         # a constant predictor
            assert table.loc[(ablation, e), "auprc"] == pytest.approx(intact.loc[e, "prevalence"])
            assert table.loc[(ablation, e), "drop_auroc"] == pytest.approx(intact.loc[e, "auroc"] - 0.5)
        for e in others:
            assert table.loc[(ablation, e), "drop_auroc"] == 0 and table.loc[(ablation, e), "drop_auprc"] == 0
    for untouched in ("tech", "tech/assay", "bio/interact", "tech/assay:DNase-seq"):   # zero weights or constant units
        assert (table.loc[untouched, ["drop_auroc", "drop_auprc"]].to_numpy() == 0).all()
    for everything in ("bio", "bio/target"):
        assert (table.loc[everything, "auroc"] == 0.5).all()


def test_group_means_and_outputs(result, tmp_path):
    _, _, importance = result
    groups = importance.by_group.set_index(["ablation", "column", "value"])
    per = importance.per_experiment.set_index(["ablation", "experiment"])
    expected = per.loc[[("bio/target:TF1", e) for e in TF1], "drop_auroc"].mean()
    assert groups.loc[("bio/target:TF1", "target", "TF1"), "drop_auroc"] == pytest.approx(expected)
    assert groups.loc[("bio/target:TF1", "target", "Accessible DNA"), "drop_auroc"] == 0
    assert groups.loc[("bio/target:TF1", "assay", "DNase-seq"), "drop_auroc"] == 0
    everything = per.loc["bio/target:TF1", "drop_auroc"].mean()
    assert groups.loc[("bio/target:TF1", "all", "all"), "drop_auroc"] == pytest.approx(everything)
    largest = importance.largest_drops(n=4)
    assert len(largest) == 4 and (np.diff(largest["drop_auroc"]) <= 0).all()
    assert largest.iloc[0]["drop_auroc"] == importance.by_group.query("column == 'all'")["drop_auroc"].max()
    written = importance.write(tmp_path / "out")
    assert sorted(p.name for p in written) == ["importance.png", "importance.tsv", "importance_per_experiment.tsv",
                                               "performance_intact.tsv", "summary.json"]
    assert len(pd.read_csv(tmp_path / "out" / "importance.tsv", sep="\t")) == len(importance.by_group)
    assert "ablation" in importance.report() and not list((tmp_path).glob(".out.staging*"))


def test_command_and_its_errors(tiny_store, tmp_path, capsys):
    path = save_model(readout_model(tiny_store), tmp_path / "model.pt")
    out = tmp_path / "importance"
    argv = ["importance", str(tiny_store["store"]), str(out), "-m", str(path), "--max-bins", "60", "--no-progress"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "largest mean drops" in printed and "bio/target" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["bins"] == 60 and summary["command"].startswith("mfd importance")
    assert main(argv + ["--group-by", "colour"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no metadata column 'colour'" in err[0]
    baseline = MFDModel(ModelConfig(seq_len=384, channels=8, latent_dim=8, head="baseline"), TF1 + [DNASE]).eval()
    argv[4] = str(save_model(baseline, tmp_path / "baseline.pt"))
    assert main(argv) == 2
    assert "a baseline model has no biological/technical subspaces" in capsys.readouterr().err
    with pytest.raises(MFDError, match="nothing to ablate"):
        ablation_importance(readout_model(tiny_store), LabelStore.open(tiny_store["store"]), ablations=[])
