"""Architecture: channel plan, receptive field (analytic vs measured), impossible configs."""
from __future__ import annotations

import pytest
import torch

from mfd_model import ConfigError, ModelConfig
from mfd_model.trunk import BasenjiTrunk


def test_default_channels_and_sizes_match_method():
    c = ModelConfig()
    assert c.tower_channels == [60, 67, 75, 84, 95, 106, 120]   # docs/method.md section 2 (C=120)
    assert c.bin_size == 128 and c.n_bins == 9 and c.latent_dim == 120 and c.half_dim == 60   # latent = C
    assert c.dilations == [2, 3]


def _influence_span(trunk: BasenjiTrunk, length: int, position: int) -> tuple[int, int]:
    """Brute force: which input positions change trunk output `position` when perturbed."""
    trunk.eval()
    base = torch.zeros(1, 16, length)
    base[0, 0, :] = 1.0
    with torch.no_grad():
        ref = trunk.positions(base)[0, :, position]
        changed = []
        for i in range(length):
            x = base.clone()
            x[0, :, i] = 0.0
            x[0, 5, i] = 1.0
            if not torch.allclose(trunk.positions(x)[0, :, position], ref, atol=0, rtol=0):
                changed.append(i)
    return min(changed), max(changed)


@pytest.mark.parametrize("n_tower, n_dilated", [(2, 0), (2, 2), (3, 1)])
def test_receptive_field_formula_matches_measurement(n_tower, n_dilated):
    bin_size = 2 ** (n_tower + 1)
    config = ModelConfig(seq_len=bin_size, channels=4, latent_dim=4, n_tower_layers=n_tower,
                         n_dilated_layers=n_dilated, stem_kernel=7, tower_kernel=3)
    trunk = BasenjiTrunk(config)
    with torch.no_grad():  # make every weight positive so no perturbation can cancel
        for p in trunk.parameters():
            p.copy_(p.abs() + 0.1)
    length = 16 * bin_size
    lo, hi = _influence_span(trunk, length, position=8)
    assert hi - lo + 1 == config.receptive_field


@pytest.mark.parametrize("kwargs, message", [
    (dict(seq_len=1000), "not a multiple of the bin size"),
    (dict(seq_len=1024), "no single central bin"),
    (dict(seq_len=1152, n_dilated_layers=0), "receptive field"),
    (dict(channels=121), "channels must be even"),
    (dict(latent_dim=15), "latent_dim must be even"),
    (dict(head="linear"), "head must be"),
    (dict(dropout=1.5), "dropout"),
    (dict(channels=0), "positive integer"),
])
def test_impossible_configs_raise_clear_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message) as err:
        ModelConfig(**kwargs)
    assert "fix:" in err.value.one_line() and "\n" not in err.value.one_line()


def test_unknown_config_key_is_named():
    with pytest.raises(ConfigError, match="unknown model config key.*chanels"):
        ModelConfig.from_dict({"chanels": 30})


def test_shorter_valid_window():
    config = ModelConfig(seq_len=640, n_dilated_layers=0, channels=8)
    trunk = BasenjiTrunk(config).eval()
    assert trunk(torch.zeros(2, 16, 640)).shape == (2, 8)       # latent_dim defaults to channels


def _tech_from_bio_r2(latent_dim: int, channels: int = 16) -> float:
    """Least-squares R2 of the technical half from the biological half, on random sequences."""
    import numpy as np
    from mfd_model import MFDModel, ModelConfig
    model = MFDModel(ModelConfig(seq_len=384, channels=channels, latent_dim=latent_dim, head="baseline"), ["e"]).eval()
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (600, 384)), 4).permute(0, 2, 1).float()
    with torch.no_grad():
        s = model.features(x).double().numpy()
    s -= s.mean(0)
    bio, tech = s[:, :latent_dim // 2], s[:, latent_dim // 2:]
    coef = np.linalg.lstsq(bio, tech, rcond=None)[0]
    return 1 - ((tech - bio @ coef) ** 2).sum() / (tech ** 2).sum()


def test_latent_wider_than_channels_makes_one_half_a_linear_function_of_the_other():
    """Why latent_dim defaults to channels: the last layer is a 1x1 convolution of `channels`
    activations, so with latent_dim = 2 C the technical half is exactly linear in the biological one."""
    assert _tech_from_bio_r2(latent_dim=32, channels=16) > 1 - 1e-8
    assert _tech_from_bio_r2(latent_dim=16, channels=16) < 0.9
