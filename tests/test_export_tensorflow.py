"""The TensorFlow SavedModel against its independent reference, the PyTorch model.

Models have spread-out weights and BatchNorm statistics (export_helpers.spread_out_) so every
translated part matters; the SavedModel is saved and reloaded the way Kipoi loads it.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import requires_shared_data
from export_helpers import one_thread
from toy_models import random_onehot, toy_model_in

tf = pytest.importorskip("tensorflow")

from mfd_model.export.equivalence import (LOGIT_TOLERANCE, PROBABILITY_TOLERANCE, compare,  # noqa: E402
                                          fasta_windows, random_windows)
from mfd_model.export.tensorflow_graph import (build_tf_module, dinucleotide_encode, load_tf_module,  # noqa: E402
                                               save_tf_module)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    yield from one_thread()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """name -> (model, reloaded SavedModel, its path) for an MFD model and a baseline with even kernels."""
    root = tmp_path_factory.mktemp("tf")
    out = {}
    for name, kwargs in {"mfd": {}, "baseline": {"head": "baseline", "stem_kernel": 14, "tower_kernel": 4,
                                                 "dilated_kernel": 2}}.items():
        model = toy_model_in(root / name, seed=3, **kwargs)
        save_tf_module(model, root / name / "savedmodel")
        out[name] = (model, load_tf_module(root / name / "savedmodel"), root / name / "savedmodel")
    return out


def test_logits_are_spread_out(exported):
    """Guard for the other tests: outputs vary, so agreement is not agreement on a constant."""
    model, _, _ = exported["mfd"]
    with torch.no_grad():
        logits = model.logits(torch.from_numpy(random_onehot(64, 1152)))
    assert logits.std(dim=0).mean() > 1.0


@pytest.mark.parametrize("name", ["mfd", "baseline"])
def test_random_sequence_equivalence(exported, name):
    model, module, _ = exported[name]
    x = random_windows(1000, model.config.seq_len, seed=5)
    x[::3] = np.where(x[::3] == 0.25, 0.0, x[::3])  # N written as zeros as well as 0.25
    result = compare(model, module, x, "random")
    assert result.n_windows == 1000
    assert result.max_probability_diff <= PROBABILITY_TOLERANCE
    assert result.max_logit_diff <= LOGIT_TOLERANCE


@pytest.mark.parametrize("fasta", [("hg19_chr20", "ucsc.hg19.chr20.unittest.fasta.gz"),
                                   ("hg38_chr1_1mb", "hg38_1m.fa.gz")])
def test_real_sequence_equivalence(exported, fasta):
    path = requires_shared_data(*fasta)
    model, module, _ = exported["mfd"]
    windows = fasta_windows(path, 1000, model.config.seq_len, seed=1)
    assert len(windows) == 1000
    result = compare(model, module, windows, path.name)
    assert result.passed, result.line()


def test_features_and_swapped_halves(exported):
    model, module, _ = exported["mfd"]
    x = random_onehot(40, 1152, seed=2)
    with torch.no_grad():
        features = model.features(torch.from_numpy(x))
        bio, tech = model.split_features(features)
        swapped = model.predict_from_halves(bio, tech.flip(0)).numpy()
        swapped_logits = model.logits_from_halves(bio, tech.flip(0)).numpy()
    np.testing.assert_allclose(module.features(x).numpy(), features.numpy(), atol=1e-4, rtol=0)
    np.testing.assert_allclose(module.biological_features(x).numpy(), bio.numpy(), atol=1e-4, rtol=0)
    np.testing.assert_allclose(module.technical_features(x).numpy(), tech.numpy(), atol=1e-4, rtol=0)
    np.testing.assert_allclose(module.predict_from_halves(bio.numpy(), tech.flip(0).numpy()).numpy(), swapped,
                               atol=PROBABILITY_TOLERANCE, rtol=0)
    np.testing.assert_allclose(module.logits_from_halves(bio.numpy(), tech.flip(0).numpy()).numpy(), swapped_logits,
                               atol=LOGIT_TOLERANCE, rtol=0)


def test_labels_travel_with_the_savedmodel(exported):
    model, module, _ = exported["mfd"]
    assert [n.decode() for n in module.experiment_names.numpy()] == model.experiment_names
    assert [n.decode() for n in module.unit_names.numpy()] == model.unit_names
    _, baseline, _ = exported["baseline"]
    assert not hasattr(baseline, "biological_features")


def test_dinucleotide_step_matches_pytorch():
    from mfd_model.encoding import dinucleotide_encode as torch_dinucleotides
    x = random_onehot(8, 300, seed=9)
    expected = torch_dinucleotides(torch.from_numpy(x)).numpy().transpose(0, 2, 1)
    np.testing.assert_array_equal(dinucleotide_encode(tf.constant(x)).numpy(), expected)


def test_input_signature_is_fixed(exported):
    _, module, _ = exported["mfd"]
    with pytest.raises((TypeError, ValueError)):
        module(np.zeros((2, 1152, 4), np.float32))  # (L, 4) layout is not the model's input


def test_kipoi_tensorflow2_model_calls_the_savedmodel(exported):
    """kipoi's own TensorFlow2Model class loads and calls the SavedModel (predict_on_batch)."""
    from kipoi.model import TensorFlow2Model

    model, _, path = exported["mfd"]
    x = random_onehot(16, 1152, seed=4)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(TensorFlow2Model(str(path)).predict_on_batch(x), expected,
                               atol=PROBABILITY_TOLERANCE, rtol=0)


def test_unknown_layer_is_a_clear_error(exported):
    from mfd_model import MFDError
    from mfd_model.export.tensorflow_graph import translate
    with pytest.raises(MFDError, match="cannot translate a LSTM"):
        translate(torch.nn.LSTM(2, 2), "lstm")


def test_export_modules_do_not_import_tensorflow():
    code = ("import sys, mfd_model.export.kipoi_source, mfd_model.inference.intervals, mfd_model.export.equivalence, "
            "mfd_model.commands.export, mfd_model.commands.predict; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_build_does_not_change_the_model(exported):
    model, _, _ = exported["mfd"]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    build_tf_module(model)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
