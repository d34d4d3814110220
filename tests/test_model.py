"""The assembled MFD model: head semantics, accessors, shapes, naming, saving."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from mfd_model import MFDError, MFDModel, ModelConfig, load_model, one_hot_encode_batch, save_model
from mfd_model.encoding import reverse_complement_one_hot


def random_onehot(n: int, length: int, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    return torch.from_numpy(one_hot_encode_batch(["".join(rng.choice(list("ACGT"), length)) for _ in range(n)]))


@pytest.mark.parametrize("batch", [1, 7])
def test_output_shapes(toy_model, batch):
    x = random_onehot(batch, 1152)
    with torch.no_grad():
        p = toy_model(x)
        s = toy_model.features(x)
        bio, tech = toy_model.split_features(s)
    assert p.shape == (batch, 6) and s.shape == (batch, 16) and bio.shape == tech.shape == (batch, 8)
    assert torch.all((p > 0) & (p < 1))


def test_wrong_input_shape_is_a_clear_error(toy_model):
    with pytest.raises(ValueError, match=r"\(N, 4, 1152\)"):
        toy_model(torch.zeros(2, 1152, 4))


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int64])
def test_base_codes_give_the_outputs_of_their_one_hot(toy_model, dtype):
    """Integer codes (N, L) are one-hot encoded inside the model: same outputs as the one-hot input."""
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 5, size=(4, 1152))                     # 4 = N
    onehot = np.zeros((4, 4, 1152), dtype=np.float32)              # reference: set each base by hand
    for n, i in zip(*np.nonzero(codes < 4)):
        onehot[n, codes[n, i], i] = 1
    with torch.no_grad():
        expected = toy_model(torch.from_numpy(onehot))
        torch.testing.assert_close(toy_model(torch.from_numpy(codes).to(dtype)), expected, rtol=0, atol=0)
        torch.testing.assert_close(toy_model.features(torch.from_numpy(codes).to(dtype)),
                                   toy_model.features(torch.from_numpy(onehot)), rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"\(N, 1152\)"):
        toy_model(torch.zeros(2, 1151, dtype=dtype))


def test_float64_kipoiseq_input_accepted(toy_model):
    x = random_onehot(3, 1152)
    with torch.no_grad():
        torch.testing.assert_close(toy_model(x.double()), toy_model(x))


def test_replicates_share_weights_and_differ_only_by_bias(toy_model):
    head = toy_model.head
    with torch.no_grad():
        head.bias.copy_(torch.arange(6, dtype=torch.float32) * 0.37)
        w_bio, w_tech = head.weights()
        # ctcf_k562_a and ctcf_k562_b have identical metadata
        torch.testing.assert_close(w_bio[0], w_bio[1], rtol=0, atol=0)
        torch.testing.assert_close(w_tech[0], w_tech[1], rtol=0, atol=0)
        assert not torch.allclose(w_bio[0], w_bio[2])
        logits = toy_model.logits(random_onehot(5, 1152))
    torch.testing.assert_close(logits[:, 1] - logits[:, 0], torch.full((5,), 0.37), atol=1e-5, rtol=0)


def test_biological_features_act_only_through_biological_weights(toy_model):
    head = toy_model.head
    bio = torch.randn(4, 8, requires_grad=True)
    tech = torch.randn(4, 8, requires_grad=True)
    logits = head(bio, tech)
    w_bio, w_tech = head.weights()
    # d logit[j, i] / d s_bio[j] = w_bio[i]: the Jacobian is exactly the biological weights
    for i in range(6):
        g_bio, g_tech = torch.autograd.grad(logits[:, i].sum(), (bio, tech), retain_graph=True)
        torch.testing.assert_close(g_bio, w_bio[i].expand(4, -1))
        torch.testing.assert_close(g_tech, w_tech[i].expand(4, -1))
    # With the technical half at zero, no gradient reaches the technical hypernetwork
    toy_model.zero_grad()
    head(torch.randn(4, 8), torch.zeros(4, 8)).sum().backward()
    tech_grads = [p.grad for p in head.groups["technical"].parameters()]
    bio_grads = [p.grad for p in head.groups["biological"].parameters()]
    assert all(g is None or torch.count_nonzero(g) == 0 for g in tech_grads)
    assert any(g is not None and torch.count_nonzero(g) > 0 for g in bio_grads)


def test_accessors_compose_to_forward(toy_model):
    x = random_onehot(4, 1152, seed=3)
    with torch.no_grad():
        bio, tech = toy_model.split_features(toy_model.features(x))
        torch.testing.assert_close(toy_model.predict_from_halves(bio, tech), toy_model(x))
        torch.testing.assert_close(toy_model.biological_features(x), bio)
        torch.testing.assert_close(toy_model.technical_features(x), tech)
        w, b = toy_model.experiment_weights()
        torch.testing.assert_close(torch.cat([bio, tech], 1) @ w.T + b, toy_model.logits(x))
        # swapping in the alternative's biological half is what the swap VEP uses
        x_alt = reverse_complement_one_hot(x)
        bio_alt, _ = toy_model.split_features(toy_model.features(x_alt))
        mixed = toy_model.logits_from_halves(bio_alt, tech)
        w_bio, w_tech = toy_model.head.weights()
        torch.testing.assert_close(mixed, bio_alt @ w_bio.T + tech @ w_tech.T + toy_model.head.bias)


def test_named_direct_units(toy_model):
    names = toy_model.unit_names
    assert len(names) == 16
    assert names[:4] == ["bio/target:Accessible DNA", "bio/target:CTCF", "bio/target:EP300", "bio/target:H3K27ac"]
    assert names[8:11] == ["tech/assay:ATAC-seq", "tech/assay:ChIP-seq", "tech/assay:DNase-seq"]
    assert toy_model.unit_index("CTCF") == 1 == toy_model.unit_index("target:CTCF") == toy_model.unit_index("bio/target:CTCF")
    assert toy_model.unit_index("DNase-seq", group="tech") == 10
    with pytest.raises(MFDError, match="no latent unit named 'YY1'"):
        toy_model.unit_index("YY1")
    with pytest.raises(MFDError, match="ambiguous"):
        toy_model.unit_index("interact_0")
    # a direct unit only carries weight for experiments with that value
    with torch.no_grad():
        w_bio, w_tech = toy_model.head.weights()
    np.testing.assert_array_equal(w_bio[:, 1].numpy(), [1, 1, 0, 0, 0, 0])
    assert torch.count_nonzero(w_tech[:, 2]) == 1 and w_tech[3, 2] != 0   # DNase-seq: dnase_k562 only


def test_save_and_load_round_trip(toy_model, tmp_path):
    toy_model.info["trained_on"] = "nothing (test)"
    path = save_model(toy_model, tmp_path / "model.pt")
    loaded = load_model(path)
    x = random_onehot(3, 1152)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), toy_model(x), rtol=0, atol=0)
    assert loaded.experiment_names == toy_model.experiment_names
    assert loaded.unit_names == toy_model.unit_names and loaded.info["trained_on"] == "nothing (test)"


def test_corrupt_or_mismatched_weights_give_clear_errors(toy_model, tmp_path):
    path = save_model(toy_model, tmp_path / "model.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(path.read_bytes()[: 3000])
    with pytest.raises(MFDError, match="corrupt"):
        load_model(corrupt)
    payload = torch.load(path, weights_only=True)
    payload["spec"]["config"]["channels"] = 10
    torch.save(payload, tmp_path / "wrong.pt")
    with pytest.raises(MFDError, match="do not fit the model architecture") as err:
        load_model(tmp_path / "wrong.pt")
    assert "wrong.pt" in err.value.one_line()
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(MFDError, match="not an MFD model file"):
        load_model(tmp_path / "other.pt")


def test_baseline_model(toy_model):
    config = ModelConfig(channels=8, latent_dim=16, head="baseline")
    model = MFDModel(config, toy_model.experiment_names).eval()
    with torch.no_grad():
        assert model(random_onehot(7, 1152)).shape == (7, 6)
    assert isinstance(model.feature_norm, torch.nn.Identity)
    with pytest.raises(MFDError, match="baseline model has no biological/technical"):
        model.split_features(torch.zeros(1, 16))


def test_mfd_head_without_metadata_is_an_error():
    with pytest.raises(MFDError, match="needs a metadata table"):
        MFDModel(ModelConfig(channels=8, latent_dim=16), ["a"])


def test_direct_units_must_fit_the_subspace(toy_paths):
    from mfd_model import load_metadata
    table, encoder, _ = load_metadata(*toy_paths)
    with pytest.raises(MFDError, match="raise latent_dim to at least 8"):
        MFDModel(ModelConfig(channels=8, latent_dim=6), table.experiment_names(encoder.schema), encoder, table)


def test_import_does_not_load_tensorflow():
    code = ("import sys, mfd_model, mfd_model.model, mfd_model.model_io, mfd_model.export, mfd_model.cli; "
            "mfd_model.cli.build_parser(); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
