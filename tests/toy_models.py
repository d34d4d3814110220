"""Toy models for the tests and the benchmarks: the one place that builds small models.

    TOY_TABLE / TOY_SCHEMA   six experiments' metadata and its schema (conftest's ``toy_paths`` writes them)
    SMALL, small_config,     three small architectures: 1152 bp (the ``small_config`` fixture, export
    tiny_config              tests), 288 bp (interpretation: 9 bins of 32 bp) and 120 bp (variants)
    toy_mfd, tiny_model,     models on the toy metadata: 288 bp as initialised; 120 bp sharpened,
    toy_model_in             float64; 1152 bp spread out, its metadata files written into a folder

An untrained network barely reacts to its input (PyTorch's initialisation leaves the effect of one
base ~1e-7 and probabilities near 0.5), so a test comparing two computations would compare
rounding. Three perturbations give it a trained network's sensitivity, each used where its
property matters:

    he_weights_    He-scaled convolutions, non-trivial BatchNorm running statistics (ISM, attribution)
    sharpen_       random BatchNorm statistics and affines, convolutions x 2, feature BatchNorm x 3,
                   random output biases (variant scores)
    spread_out_    every parameter perturbed, BatchNorm statistics estimated on random sequence,
                   logits spread like a trained model's (export equivalence, DeepLIFT)

Imports only numpy, torch and mfd_model (no pytest), so the benchmarks use it too
(``sys.path`` gets ``tests/``).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from mfd_model.config import ModelConfig
from mfd_model.model import MFDModel

TOY_TABLE = """experiment\ttarget\tbiosample\tlife_stage\tage\tassay\tlab\trelease_year
ctcf_k562_a\tCTCF\tK562\tadult\t53\tChIP-seq\tBernstein\t2011
ctcf_k562_b\tCTCF\tK562\tadult\t53\tChIP-seq\tBernstein\t2011
ep300_hepg2\tEP300\tHepG2\tchild\t\tChIP-seq\tSnyder\t2012-03-04
dnase_k562\tAccessible DNA\tK562\tadult\t53\tDNase-seq\tStam\t2010
atac_gm12878\tAccessible DNA\tGM12878,B cell\t\t31\tATAC-seq\tSnyder\t2016
h3k27ac_liver\tH3K27ac\tliver\tembryonic\t0.3\tChIP-seq\tBernstein\t2016
"""

TOY_SCHEMA = """id_column: experiment
biological:
  direct:
    - column: target
  interact:
    - {column: biosample, intermediate: embed, dim: 4}
    - {column: life_stage}
    - {column: age, type: numeric, intermediate: rescale}
technical:
  direct:
    - {column: assay, intermediate: rescale_indep}
  interact:
    - {column: lab, intermediate: linear, dim: 3}
    - {column: release_year, type: year}
"""



def write_toy_metadata(folder: Path) -> tuple[Path, Path]:
    """``folder/metadata.tsv`` and ``folder/schema.yaml`` of the toy metadata; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    table, schema = folder / "metadata.tsv", folder / "schema.yaml"
    table.write_text(TOY_TABLE)
    schema.write_text(TOY_SCHEMA)
    return table, schema


# ============================================================================ architectures
SMALL = dict(seq_len=1152, channels=8, latent_dim=16, interact_hidden=8, adversary_hidden=16)
SEQ_LEN = 288              # small_config's window: 9 bins of 32 bp, the central bin is [128, 160)


def small_config(**overrides) -> ModelConfig:
    """A fast test architecture: 288 bp, 4 tower layers, 8 channels, 16 latent units."""
    values = dict(seq_len=SEQ_LEN, channels=8, latent_dim=16, n_tower_layers=4, interact_hidden=8,
                  adversary_hidden=16, head="baseline")
    values.update(overrides)
    return ModelConfig(**values)


def tiny_config(seq_len: int = 120, channels: int = 4) -> ModelConfig:
    """The variant tests' architecture: 120 bp, 2 tower layers, 4 channels, 16 latent units."""
    return ModelConfig(seq_len=seq_len, channels=channels, latent_dim=16, n_tower_layers=2,
                       interact_hidden=8, adversary_hidden=16)


# ============================================================================ models
def toy_mfd(toy_paths) -> MFDModel:
    """An MFD-head model on the toy metadata with :func:`small_config` (named direct units), as initialised."""
    from mfd_model import load_metadata

    table, encoder, _ = load_metadata(*toy_paths)
    return MFDModel(small_config(head="mfd"), table.experiment_names(encoder.schema), encoder=encoder,
                    table=table).eval()


def tiny_model(toy_paths, seq_len: int = 120, channels: int = 4, head: str = "mfd",
               dtype: torch.dtype = torch.float64) -> MFDModel:
    """A toy-metadata MFD (or baseline) model with :func:`tiny_config`, sharpened (:func:`sharpen_`)."""
    from mfd_model import load_metadata

    table, encoder, _ = load_metadata(*toy_paths)
    config = replace(tiny_config(seq_len, channels), head=head)
    torch.manual_seed(1)
    model = MFDModel(config, table.experiment_names(encoder.schema), encoder=encoder, table=table)
    return sharpen_(model).to(dtype)


def toy_model_in(folder: Path, head: str = "mfd", seed: int = 0, **config) -> MFDModel:
    """A :data:`SMALL` MFD (or baseline) model on the toy metadata, written into ``folder``, with
    spread-out weights (:func:`spread_out_`); ``config`` overrides :data:`SMALL`."""
    from mfd_model import load_metadata

    table, encoder, _ = load_metadata(*write_toy_metadata(folder))
    torch.manual_seed(seed)
    cfg = ModelConfig(**{**SMALL, "head": head, **config})
    names = table.experiment_names(encoder.schema)
    if head == "mfd":
        model = MFDModel(cfg, names, encoder=encoder, table=table, info={"trained_on": "toy weights for tests"})
    else:
        model = MFDModel(cfg, names, table=table, info={"trained_on": "toy weights for tests"})
    return spread_out_(model, seed).eval()


# ============================================================================ perturbations
def he_weights_(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """He-scaled convolution weights and BatchNorm running statistics away from (0, 1), in module
    order, so outputs respond to one substitution by O(1) amounts. In place; returns ``model``."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv1d):
                fan_in = module.in_channels * module.kernel_size[0]
                module.weight.copy_(torch.randn(module.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
            elif isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.copy_(0.1 * torch.randn(module.num_features, generator=g))
                module.running_var.copy_(0.5 + torch.rand(module.num_features, generator=g))
    return model


def sharpen_(model: torch.nn.Module, seed: int = 0, head_bias: bool = True) -> torch.nn.Module:
    """Random BatchNorm statistics and affines, convolutions doubled, the feature BatchNorm's scale
    tripled and (``head_bias``) random output biases: an untrained model's variant effects are
    ~1e-5, all rounding; these are O(0.1). In place; returns ``model`` in eval mode."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                n = module.num_features
                module.running_mean.copy_(torch.rand(n, generator=gen) - 0.5)
                module.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                module.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                module.bias.copy_(torch.rand(n, generator=gen) - 0.5)
        for module in model.modules():
            if isinstance(module, torch.nn.Conv1d):
                module.weight.mul_(2.0)  # an untrained model barely reacts to one base: make it
        norm = getattr(model, "feature_norm", None)
        if isinstance(norm, torch.nn.BatchNorm1d):
            norm.weight.mul_(3.0)
        bias = getattr(getattr(model, "head", None), "bias", None)
        if head_bias and isinstance(bias, torch.nn.Parameter):
            bias.copy_(torch.randn(bias.shape, generator=gen))
    return model.eval()


def spread_out_(model, seed: int = 0):
    """Give a fresh model weights and BatchNorm statistics like a trained model's.

    A freshly initialised model has identity BatchNorms and probabilities near 0.5, so a
    translation error in those parts would go unnoticed. Here every parameter is perturbed,
    the BatchNorm running statistics are estimated on random sequence (as training does), and
    the last layer is scaled so that logits vary between sequences by about 2 (std), like a
    trained model's (not by hundreds, where float32 rounding alone exceeds 1e-4).
    """
    g = torch.Generator().manual_seed(seed + 1)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.1)
        model.train()
        for norm in norms:
            norm.reset_running_stats()
            norm.momentum = None  # cumulative average over the calibration batches
        for k in range(3):
            model(torch.from_numpy(random_onehot(64, model.config.seq_len, seed=seed + 100 + k)))
        for norm in norms:
            norm.momentum = 0.1
        model.eval()
        x = torch.from_numpy(random_onehot(64, model.config.seq_len, seed=seed))
        spread = model.logits(x).std(dim=0).mean()
        last = model.feature_norm.weight if model.is_mfd else model.head.linear.weight
        last.mul_(2.0 / spread)
    return model


def random_onehot(n: int, length: int, seed: int = 0, n_value: float = 0.25) -> np.ndarray:
    """Random one-hot DNA (N, 4, L) float32 with ~2 % N written as ``n_value``."""
    from mfd_model.encoding import one_hot_encode_batch

    rng = np.random.default_rng(seed)
    letters = np.array(list("ACGTN"))
    seqs = ["".join(rng.choice(letters, size=length, p=[0.245] * 4 + [0.02])) for _ in range(n)]
    return one_hot_encode_batch(seqs, n_value=n_value)
