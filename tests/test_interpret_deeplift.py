"""DeepLIFT / DeepSHAP: the rewritten network predicts as the model, completeness holds to float
rounding (the product form of the dinucleotide step breaks it), Captum's DeepLift agrees where it
has rules (ReLU trunk), and the TensorFlow variant's outputs are explained as exactly."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from interpret_helpers import MOTIF, MOTIF_START, detector_model, plant, random_one_hot
from toy_models import spread_out_, toy_mfd
from mfd_model.encoding import dinucleotide_encode
from mfd_model.errors import MFDError
from mfd_model.interpret import deeplift
from mfd_model.interpret.attribution import attribute
from mfd_model.interpret.deeplift import DeepLiftNetwork, deep_lift_shap, one_hot_input, shuffled_references
from mfd_model.interpret.ersatz import dinucleotide_shuffle
from mfd_model.interpret.targets import Target, output_target, unit_target


@pytest.fixture
def model(toy_paths):
    """The toy MFD model (288 bp) with trained-like weights and BatchNorm statistics, float64."""
    return spread_out_(toy_mfd(toy_paths)).double()


def _targets(model) -> list[Target]:
    return [unit_target(model, "CTCF"), unit_target(model, "DNase-seq"), output_target(model, "dnase_k562")]


def _values(model, X: np.ndarray, targets, scale: str = "logit") -> np.ndarray:
    """The targets straight from the model (the independent reference), shape=(N, T)."""
    with torch.no_grad():
        x = torch.as_tensor(X, dtype=next(model.parameters()).dtype)
        features, logits = model.features(x), model.logits(x)
        if scale == "probability":
            logits = torch.sigmoid(logits)
        return torch.stack([features[:, t.index] if t.kind == "unit" else logits[:, t.index] for t in targets],
                           dim=1).double().numpy()


def test_rewritten_network_predicts_as_the_model(model):
    X = random_one_hot(6, model.config.seq_len, seed=1).astype(np.float64)
    X[1, :, 40:50] = 0                      # N as zeros
    X[2, :, 7] = 0.25                       # N as kipoiseq writes it
    targets = _targets(model)
    with torch.no_grad():
        rewritten = DeepLiftNetwork(model, targets)(one_hot_input(X)).numpy()
        pairs = torch.nn.Sequential(deeplift.PairSum(), nn.ReLU())(one_hot_input(X))
    np.testing.assert_array_equal(pairs.numpy(), dinucleotide_encode(torch.as_tensor(X)).numpy())
    np.testing.assert_allclose(rewritten, _values(model, X, targets), rtol=0, atol=1e-12)


@pytest.mark.parametrize("scale", ["logit", "probability"])
def test_completeness_on_shuffled_references(model, scale):
    X = random_one_hot(5, model.config.seq_len, seed=2).astype(np.float64)
    targets = _targets(model)
    attr, deltas = deep_lift_shap(model, X, targets, n_references=4, seed=3, scale=scale, batch_size=2)
    assert attr.shape == (5, 3, 4, model.config.seq_len) and deltas.shape == (5, 3, 4)
    assert np.abs(deltas).max() < 1e-10                                 # float64: rounding only
    # the independent check: mean over references of f(x) - f(ref), from the model itself
    refs = shuffled_references(X, 4, seed=3)
    differences = np.stack([_values(model, X, targets, scale) - _values(model, refs[:, r], targets, scale)
                            for r in range(4)], axis=2)
    assert np.abs(differences).mean() > 0.05                            # there is something to explain
    np.testing.assert_allclose(attr.astype(np.float64).sum(axis=(2, 3)), differences.mean(axis=2),
                               rtol=1e-5, atol=1e-5)                    # attr is float32


def test_completeness_in_float32(model):
    model = model.float()
    X = random_one_hot(4, model.config.seq_len, seed=4)
    _, deltas = deep_lift_shap(model, X, _targets(model), n_references=3, batch_size=4)
    assert np.abs(deltas).max() < 1e-4                                  # float32 rounding (measured ~2e-6)


def test_product_form_of_the_dinucleotide_step_breaks_completeness(model, monkeypatch):
    """Why the rewrite: with the model's own product form, gradients through the product are
    not multipliers, and the sums miss f(x) - f(ref) by far more than rounding."""
    class Product(nn.Module):
        def forward(self, x):
            return dinucleotide_encode(x)

    monkeypatch.setattr(deeplift, "LINEAR", (*deeplift.LINEAR, Product))
    monkeypatch.setattr(DeepLiftNetwork, "__init__", _with_product_encoding(DeepLiftNetwork.__init__, Product))
    X = random_one_hot(3, model.config.seq_len, seed=5).astype(np.float64)
    _, deltas = deep_lift_shap(model, X, _targets(model), n_references=3, warning_threshold=None)
    assert np.abs(deltas).max() > 1e-2
    with pytest.warns(UserWarning, match="convergence deltas"):
        deep_lift_shap(model, X[:1], _targets(model)[:1], n_references=2)


def _with_product_encoding(init, product):
    def patched(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.encode = product()
    return patched


def test_matches_captum_deeplift_on_a_relu_trunk(model):
    """Captum's DeepLift has rules for ReLU and MaxPool1d (not GELU): with ReLUs in the trunk
    both implementations must give the same single-reference attributions."""
    from captum.attr import DeepLift

    for block in model.modules():
        if isinstance(block, nn.Sequential):
            for i, layer in enumerate(block):
                if isinstance(layer, nn.GELU):
                    block[i] = nn.ReLU()
    X = random_one_hot(3, model.config.seq_len, seed=6).astype(np.float64)
    ref = dinucleotide_shuffle(X, seed=7)
    targets = _targets(model)
    ours, deltas = deep_lift_shap(model, X, targets, references=ref[:, None])
    assert np.abs(deltas).max() < 1e-10
    for t, target in enumerate(targets):
        network = DeepLiftNetwork(model, [target]).eval()
        theirs = DeepLift(network, eps=1e-10).attribute(torch.as_tensor(X), baselines=torch.as_tensor(ref), target=0)
        # Captum's m * (x - ref) summed per position is what ours puts on the present base
        np.testing.assert_allclose(ours[:, t], X * theirs.detach().numpy().sum(axis=1, keepdims=True),
                                   rtol=1e-4, atol=1e-6)


def test_contributions_sit_on_present_bases_and_hypothetical_ones_project_to_them(model):
    X = random_one_hot(2, model.config.seq_len, seed=13).astype(np.float64)
    targets = _targets(model)
    attr, _ = deep_lift_shap(model, X, targets, n_references=3)
    hyp, _ = deep_lift_shap(model, X, targets, n_references=3, hypothetical=True)
    assert np.all(attr * (1 - X[:, None]) == 0)
    assert np.abs(hyp * (1 - X[:, None])).max() > 0                     # every base has a hypothetical value
    np.testing.assert_allclose(hyp * X[:, None], attr, rtol=1e-6, atol=1e-7)


def test_batch_size_seed_and_shared_references(model):
    X = random_one_hot(3, model.config.seq_len, seed=8).astype(np.float64)
    targets = _targets(model)[:1]
    one, d1 = deep_lift_shap(model, X, targets, n_references=2, seed=1, batch_size=1)
    three, d3 = deep_lift_shap(model, X, targets, n_references=2, seed=1, batch_size=3)
    np.testing.assert_allclose(one, three, rtol=1e-6, atol=1e-7)
    other, _ = deep_lift_shap(model, X, targets, n_references=2, seed=2, batch_size=3)
    assert not np.allclose(one, other)
    shared = random_one_hot(2, model.config.seq_len, seed=9)                      # (R, 4, L) for every sequence
    _, deltas = deep_lift_shap(model, X, targets, references=shared)
    assert deltas.shape == (3, 1, 2) and np.abs(deltas).max() < 1e-10
    # the attribute() entry point gives the same contributions
    np.testing.assert_allclose(attribute(model, X, targets, method="deepliftshap", n_references=2, seed=1,
                                         progress=False), one, rtol=1e-6, atol=1e-7)


def test_inputs_that_are_not_one_hot_are_refused(model):
    X = random_one_hot(2, model.config.seq_len).astype(np.float64) * 0.5
    with pytest.raises(MFDError, match="not one-hot"):
        deep_lift_shap(model, X, _targets(model)[:1], n_references=1)
    with pytest.raises(MFDError, match="references must have shape"):
        deep_lift_shap(model, X * 2, _targets(model)[:1], references=np.zeros((2, 4, 10)))


def test_detector_contributions_sit_on_the_motif():
    model = detector_model(MOTIF).double()
    X = plant(random_one_hot(4, model.config.seq_len, seed=10), MOTIF, MOTIF_START).astype(np.float64)
    attr, deltas = deep_lift_shap(model, X, [Target("unit", 0, "unit_0")], n_references=4)
    assert np.abs(deltas).max() < 1e-10
    per_position = np.abs(attr[:, 0].sum(axis=1))                       # (N, L)
    inside = per_position[:, MOTIF_START:MOTIF_START + len(MOTIF)].sum()
    assert inside > 0.99 * per_position.sum() > 0


def test_tensorflow_variant_is_explained_as_exactly(model):
    """DeepLIFT cannot run on the SavedModel's graph (docs/interpretation.md), but the TensorFlow
    variant computes the same function: the PyTorch contributions sum to its f(x) - f(ref) too."""
    tf = pytest.importorskip("tensorflow")
    from mfd_model.export.equivalence import LOGIT_TOLERANCE
    from mfd_model.export.tensorflow_graph import build_tf_module

    model = model.float()
    module = build_tf_module(model)
    X = random_one_hot(3, model.config.seq_len, seed=11)
    ref = dinucleotide_shuffle(X, seed=12)
    target = output_target(model, "dnase_k562")
    attr, _ = deep_lift_shap(model, X, [target], references=ref[:, None])
    tf_logits = [module.logits(tf.constant(s)).numpy()[:, target.index] for s in (X, ref)]
    np.testing.assert_allclose(attr[:, 0].sum(axis=(1, 2)), tf_logits[0] - tf_logits[1], atol=LOGIT_TOLERANCE)


def test_attribute_command_reports_deltas(tmp_path, capsys):
    from interpret_helpers import random_dna, write_fasta
    from mfd_model.cli import main
    from mfd_model.model_io import save_model

    seq = list(random_dna(3000, seed=1))
    starts = list(range(400, 2600, 400))
    for start in starts:
        seq[start:start + len(MOTIF)] = MOTIF
    fasta = write_fasta(tmp_path / "genome.fa", {"chrA": "".join(seq), "chrB": random_dna(3000, seed=2)})
    sites = tmp_path / "sites.bed"
    sites.write_text("".join(f"chrA\t{s}\t{s + len(MOTIF)}\tsite{k}\t0\t+\n" for k, s in enumerate(starts)))
    background = tmp_path / "background.bed"
    background_starts = range(400, 2600, 700)
    background.write_text("".join(f"chrB\t{s}\t{s + 10}\tbg{s}\n" for s in background_starts))
    path = save_model(detector_model(MOTIF), tmp_path / "detector.pt")
    outdir = tmp_path / "dl"
    argv = ["attribute", str(sites), str(fasta), str(outdir), "-m", str(path), "--unit", "0", "--output", "detector",
            "--method", "deepliftshap", "--references", "3", "--background", str(background), "--logos", "1",
            "--no-progress"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "largest |delta|" in captured.out and "warning" not in captured.err
    import json
    import pandas as pd
    deltas = pd.read_csv(outdir / "deltas.tsv", sep="\t")
    assert len(deltas) == 2 * (len(starts) + len(background_starts)) and set(deltas["kind"]) == {"site", "baseline"}
    assert deltas["max_abs_delta"].max() < 1e-4                         # float32
    summary = json.loads((outdir / "summary.json").read_text())
    assert summary["method"] == "deepliftshap" and summary["deeplift"]["windows_past_warning"] == 0
    signal = pd.read_csv(outdir / "central_signal.tsv", sep="\t").set_index("target")
    assert signal.loc["unit unit_0", "centre_vs_flanks"] > 20
    # a threshold below float rounding: the warning names the windows past it, the outputs are still written
    assert main(argv[:-1] + ["--delta-warning", "1e-12", "--no-progress"]) == 0
    assert "window(s) have |delta| > 1e-12" in capsys.readouterr().err
    assert main(argv[:-1] + ["--references", "0"]) == 2
    assert "--references must be a positive integer" in capsys.readouterr().err
