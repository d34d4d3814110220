"""Shared fixtures: a toy metadata table + schema and small, fast model configurations."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

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


@pytest.fixture(autouse=True)
def _deterministic() -> None:
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch) -> None:
    """Never touch the real home (kipoi writes ~/.kipoi/config.yaml on import)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))


@pytest.fixture
def toy_paths(tmp_path: Path) -> tuple[Path, Path]:
    table = tmp_path / "metadata.tsv"
    schema = tmp_path / "schema.yaml"
    table.write_text(TOY_TABLE)
    schema.write_text(TOY_SCHEMA)
    return table, schema


@pytest.fixture
def small_config():
    from mfd_model import ModelConfig
    return ModelConfig(seq_len=1152, channels=8, latent_dim=16, interact_hidden=8, adversary_hidden=16)


@pytest.fixture
def toy_model(toy_paths, small_config):
    from mfd_model import MFDModel, load_metadata
    table, encoder, _ = load_metadata(*toy_paths)
    return MFDModel(small_config, table.experiment_names(encoder.schema), encoder=encoder, table=table).eval()


def requires_shared_data(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared test data not present: {path}")
    return path
