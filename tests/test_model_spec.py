"""mfd_model.model_spec.ModelSpec: one typed model description, written alike by mfd train and save_model.

References: the saved files themselves (the packaged default model's spec.json and weights with its
test_expect.h5, and a model file saved at commit 26d7b11 with its predictions, tests/data/legacy),
and the dictionary that ``mfd train`` stores, compared with the one a model built from it gives back.
"""
from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import torch

from mfd_model import ModelSpec, save_model
from mfd_model.kipoi_folder import default_model_files, read_spec
from mfd_model.model_io import build_model, load_state, model_spec, read_torch_file

from conftest import SAVED_PREDICTIONS_ATOL, tiny_train_config

LEGACY = Path(__file__).resolve().parent / "data" / "legacy"


def _json(value) -> str:
    return json.dumps(value, sort_keys=True)


def test_saved_specs_read_and_write_back_unchanged():
    spec_path, _ = default_model_files()
    packaged = read_spec(spec_path)
    assert _json(ModelSpec.from_dict(packaged, spec_path).to_dict()) == _json(packaged)
    legacy = read_torch_file(LEGACY / "toy_model_26d7b11.pt")["spec"]
    assert _json(ModelSpec.from_dict(legacy).to_dict()) == _json(legacy)


def test_the_packaged_model_loads_and_predicts_as_when_saved():
    spec_path, weights_path = default_model_files()
    packaged = ModelSpec.from_dict(read_spec(spec_path), spec_path)
    model = load_state(build_model(packaged), read_torch_file(weights_path), weights_path)
    with h5py.File(spec_path.parent / "test_expect.h5") as handle, torch.no_grad():
        np.testing.assert_allclose(model(torch.from_numpy(handle["inputs"][:])).numpy(), handle["preds"][:],
                                   atol=SAVED_PREDICTIONS_ATOL, rtol=0)
    # the legacy model's predictions: tests/test_metadata_interaction.py


def test_train_and_save_model_write_the_same_spec(tiny_store, tmp_path):
    from mfd_model.train.config import load_train_config
    from mfd_model.train.labels import LabelStore
    from mfd_model.train.run import build_spec

    for head in ("mfd", "baseline"):
        config = load_train_config(tiny_train_config(tiny_store, tmp_path / f"run_{head}"), {"model.head": head})
        written = build_spec(config, LabelStore.open(tiny_store["store"]), command="mfd train")
        assert list(written) == ["config", "experiment_names", "encoder", "metadata", "info"]
        assert written["config"] == config.model.to_dict() and (written["encoder"] is None) == (head == "baseline")
        model = build_model(written)
        assert _json(model_spec(model)) == _json(written) == _json(ModelSpec.of(model).to_dict())
        save_model(model, tmp_path / f"{head}.pt")
        assert _json(read_torch_file(tmp_path / f"{head}.pt")["spec"]) == _json(written)
