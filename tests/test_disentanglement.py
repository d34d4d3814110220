"""The disentanglement check (issue 3, item 7) on simulated data with known truth.

Two models are trained on a crossed data set (``conftest.write_crossed_dataset``): a planted motif
that only target TF1 reads (biology) and a planted k-mer that only AssayA reads (technical bias),
with biology and technique crossed. With lambda = 0 the two latent halves carry the same
information; with lambda > 0 the biological half holds the motif, the technical half the k-mer.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mfd_model.cli import main
from mfd_model.evaluate.disentanglement_check import (DisentanglementCheck, check_disentanglement,
                                                      disentanglement_report, held_out_bins, variance_share)
from mfd_model.evaluate.disentanglement import read_truth_bins
from mfd_model.genome import Genome
from mfd_model.model_io import load_model
from mfd_model.train.labels import LabelStore

from conftest import write_crossed_dataset


def _train(root: Path, name: str, **training) -> Path:
    config = {
        "data": {"store": str(root / "labels")},
        "schema": str(root / "sim" / "schema.yaml"),
        "model": {"seq_len": 384, "channels": 32, "latent_dim": 32, "interact_hidden": 8,
                  "adversary_hidden": 256, "adversary_layers": 3},
        "training": {"lr": 0.003, "batch_size": 32, "max_epochs": 20, "num_workers": 0, "threads": 1,
                     "accelerator": "cpu", "seed": 0, **training},
        "output": str(root / name),
    }
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    done = subprocess.run([sys.executable, "-m", "mfd_model", "train", "--config", str(path), "--quiet"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return root / name / "model.pt"


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    from mfd_model.train.prepare import PrepareParams, prepare_labels
    root = tmp_path_factory.mktemp("crossed")
    paths = write_crossed_dataset(root / "sim", chrom_len=150_000)
    prepare_labels(PrepareParams(fasta=str(paths["fasta"]), metadata=str(paths["metadata"]), store=str(root / "labels"),
                                 test_chromosomes=("chr2",), valid_fraction=0.1, valid_block_bins=10), progress=False)
    return {"root": root,
            "lambda0": _train(root, "lambda0", lambda_indep=0.0),
            "mfd": _train(root, "mfd", lambda_indep=0.03, adversary_steps=5, lambda_warmup_epochs=5)}


def test_penalised_model_separates_biology_from_technical_bias(trained):
    store = LabelStore.open(trained["root"] / "labels")
    bins = held_out_bins(store, "test", max_bins=1500)
    models = {"model": load_model(trained["mfd"]), "reference": load_model(trained["lambda0"])}
    truth = read_truth_bins(trained["root"] / "sim" / "truth" / "bins.tsv.gz")
    probes, dependence = disentanglement_report(models, Genome(store.fasta_path), bins, truth, seed=0)

    # the criteria: probes point the right way, and the halves are less correlated than at lambda = 0
    results = check_disentanglement(probes, dependence, "model", "reference")
    assert [ok for ok, _ in results] == [True, True, True], results
    # the model learned both planted quantities (so the criteria were judged, not skipped)
    own = probes[probes["model"] == "model"].set_index("target")
    assert own.loc["biology", "full"] > 0.9 and own.loc["kmer_AssayA", "full"] > 0.9
    # saturation-free: the planted quantity explains more of "its" half than of the other
    assert own.loc["biology", "bio_share"] > 2 * own.loc["biology", "tech_share"]
    assert own.loc["kmer_AssayA", "tech_share"] > 2 * own.loc["kmer_AssayA", "bio_share"]
    # non-linear dependence left between the halves, by fresh adversaries: lower than at lambda = 0
    by_model = dependence.set_index("model")
    for column in ("adversary_r2_bio_from_tech", "adversary_r2_tech_from_bio"):
        assert by_model.loc["model", column] < by_model.loc["reference", column] - 0.1


def test_the_command_prints_the_criteria(trained, capsys, tmp_path):
    root = trained["root"]
    code = main(["check-disentanglement", str(trained["mfd"]), "--reference", str(trained["lambda0"]),
                 "--simulation", str(root / "sim"), "--store", str(root / "labels"), "--max-bins", "800",
                 "--out", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert printed.count("PASS") == 3 and "FAIL" not in printed
    for name in ("probes.tsv", "dependence.tsv", "probes.png"):
        assert (tmp_path / "out" / name).exists()
    table = pd.read_csv(tmp_path / "out" / "probes.tsv", sep="\t")
    assert {"bio", "tech", "full", "bio_share", "tech_share"} <= set(table.columns)


def test_variance_share_analytic():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 20000).astype(float)
    independent = rng.normal(size=(20000, 4))
    assert variance_share(independent, y) < 1e-3
    # one unit of two equals y: the mean of (1, ~0) squared correlations is 1/2
    assert abs(variance_share(np.c_[y, rng.normal(size=20000)], y) - 0.5) < 0.01


def test_the_check_result_prints_judges_and_writes_itself(tmp_path):
    """What mfd check-disentanglement prints, its exit status and its files, from hand-made tables."""
    probes = pd.DataFrame([{"model": "model", "target": "biology", "role": "biology", "checked": True,
                            "metric": "AUROC", "bio": 0.9, "tech": 0.6, "full": 0.95, "best": "bio",
                            "bio_share": 0.2, "tech_share": 0.01}])
    dependence = pd.DataFrame([{"model": "model", "lambda_indep": 0.003, "cross_subspace_correlation": 0.01}])
    passed = (True, "biology: bio features 0.900 vs tech features 0.600 (probe AUROC)")
    skipped = (None, "kmer_X: tech features 0.510 vs bio features 0.500 (probe AUROC): not learned by the model")
    check = DisentanglementCheck(probes, dependence, [passed, skipped], 800, "test")
    assert check.report().splitlines() == [
        "linear probes on 800 test bins (cross-validated; AUROC 0.5 / R2 0 = chance):",
        *probes.to_string(index=False, float_format=lambda v: f"{v:.3f}").splitlines(), "",
        "dependence between the subspaces (0 = independent):",
        *dependence.to_string(index=False, float_format=lambda v: f"{v:.4f}").splitlines(), "",
        "PASS  " + passed[1], "SKIP  " + skipped[1]]
    assert check.passed and check.judged and check.unjudged() is None
    written = check.write(tmp_path / "out")
    assert sorted(p.name for p in written) == ["criteria.md", "criteria.tsv", "dependence.md", "dependence.tsv",
                                               "probes.md", "probes.png", "probes.tsv"]
    assert pd.read_csv(tmp_path / "out" / "criteria.tsv", sep="\t")["result"].tolist() == ["PASS", "SKIP"]
    failed = DisentanglementCheck(probes, dependence, [passed, (False, "gc_rich: ...")], 800, "test")
    assert failed.judged and not failed.passed
    for results, why in (([skipped], "the model learned none of the checked quantities"),
                         ([], "no checked truth column varies on these bins")):
        unjudged = DisentanglementCheck(probes, dependence, results, 800, "test")
        assert not unjudged.judged and not unjudged.passed
        assert unjudged.unjudged() == "no criterion could be judged: " + why

