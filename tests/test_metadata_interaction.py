"""A column may be ``direct`` and ``interact`` in one group (docs/method.md section 4, as the original
code's sample configuration does with the assay): the interaction MLP then sees it too, so a
target x tissue effect becomes representable. Models saved before this was allowed still load."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from mfd_model import MFDModel, ModelConfig, load_metadata
from mfd_model.model_io import load_model
from mfd_model.train.config import load_train_config
from mfd_model.train.run import train

from conftest import SAVED_PREDICTIONS_ATOL, tiny_train_config

LEGACY = Path(__file__).resolve().parent / "data" / "legacy"
SCHEMA_BOTH = ("id_column: experiment\n"
               "biological:\n  direct: [{column: target}]\n  interact: [{column: target}, {column: tissue}]\n"
               "technical:\n  direct: [{column: assay}]\n"
               "  interact: [{column: assay}, {column: lab}, {column: release_year, type: year}]\n")


def _interaction_rows(model: MFDModel, first: str, second: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The biological interaction MLP's output (W_bio past the direct units) of two experiments."""
    with torch.no_grad():
        w_bio = model.head.group_weights("biological")
    direct = len(model.direct_unit_names["biological"])
    names = model.experiment_names
    return w_bio[names.index(first), direct:], w_bio[names.index(second), direct:]


def test_direct_and_interact_column_is_encoded_once_and_fed_to_both(tiny_store, tmp_path):
    schema = tmp_path / "schema.yaml"
    schema.write_text(SCHEMA_BOTH)
    _, encoder, encoded = load_metadata(tiny_store["metadata"], schema)
    bio = encoded.biological
    np.testing.assert_array_equal(bio.interact[0], bio.direct[0])   # the same one-hot target, both roles
    assert bio.direct_names == ["target:Accessible DNA", "target:TF1"]
    assert sorted(encoder.columns) == ["assay", "lab", "release_year", "target", "tissue"]


def test_target_in_the_interaction_trains_and_changes_the_mlp_output(tiny_store, tmp_path):
    # motif_a (TF1, K562) and gc_artefact (Accessible DNA, K562) differ in their biological metadata
    # only by the target. Without the target in the interaction their MLP outputs are identical.
    _, encoder, _ = load_metadata(tiny_store["metadata"], tiny_store["schema"])
    from mfd_model import MetadataTable
    table = MetadataTable.read(tiny_store["metadata"])
    config = ModelConfig(seq_len=384, channels=8, latent_dim=12, interact_hidden=8, adversary_hidden=16)
    direct_only = MFDModel(config, table.experiment_names(encoder.schema), encoder=encoder, table=table)
    a, b = _interaction_rows(direct_only, "motif_a", "gc_artefact")
    torch.testing.assert_close(a, b, rtol=0, atol=0)

    schema = tmp_path / "schema.yaml"
    schema.write_text(SCHEMA_BOTH)
    paths = {**tiny_store, "schema": schema}
    model = load_model(train(load_train_config(tiny_train_config(paths, tmp_path / "run", max_epochs=1)),
                             progress=False))
    a, b = _interaction_rows(model, "motif_a", "gc_artefact")
    assert (a - b).abs().max() > 1e-3
    assert model.encoder.schema.biological.interact[0].column == "target"


def test_a_model_saved_before_the_change_loads_and_predicts_identically():
    model = load_model(LEGACY / "toy_model_26d7b11.pt")
    generator = torch.Generator().manual_seed(1)
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (8, 384), generator=generator), 4).permute(0, 2, 1).float()
    with torch.no_grad():
        got = model(x).numpy()
    np.testing.assert_allclose(got, np.load(LEGACY / "toy_model_26d7b11_expected.npy"), rtol=0,
                               atol=SAVED_PREDICTIONS_ATOL)


def test_rescale_indep_direct_units_carry_one_learned_scale_per_value(tiny_store, tmp_path):
    # W_bio[i, k] for a direct unit k is one-hot(target_i)[k] * scale[k]: each named unit's weight is
    # its own parameter (identity would fix it at 1), and only that target's experiments use it.
    schema = tmp_path / "schema.yaml"
    schema.write_text(SCHEMA_BOTH.replace("direct: [{column: target}]",
                                          "direct: [{column: target, intermediate: rescale_indep}]"))
    from mfd_model import MetadataTable
    _, encoder, encoded = load_metadata(tiny_store["metadata"], schema)
    table = MetadataTable.read(tiny_store["metadata"])
    config = ModelConfig(seq_len=384, channels=8, latent_dim=12, interact_hidden=8, adversary_hidden=16)
    model = MFDModel(config, table.experiment_names(encoder.schema), encoder=encoder, table=table)
    scale = model.head.groups["biological"].direct[0].scale
    with torch.no_grad():
        scale.copy_(torch.tensor([2.5, -0.75]))
        w_bio = model.head.group_weights("biological")
    onehot = torch.as_tensor(encoded.biological.direct[0], dtype=torch.float32)        # (O, 2)
    torch.testing.assert_close(w_bio[:, :2], onehot * torch.tensor([2.5, -0.75]), rtol=0, atol=0)
    # the loss of experiments of one target moves only that target's scale
    target_tf1 = onehot[:, 1] == 1
    model.head.group_weights("biological")[target_tf1, 1].sum().backward()
    assert scale.grad[0] == 0 and scale.grad[1] == target_tf1.sum()


def _model_with_schema(tiny_store, schema_text: str, tmp_path) -> tuple[MFDModel, np.ndarray]:
    schema = tmp_path / "schema.yaml"
    schema.write_text(schema_text)
    from mfd_model import MetadataTable
    _, encoder, encoded = load_metadata(tiny_store["metadata"], schema)
    table = MetadataTable.read(tiny_store["metadata"])
    config = ModelConfig(seq_len=384, channels=8, latent_dim=12, interact_hidden=8, adversary_hidden=16)
    model = MFDModel(config, table.experiment_names(encoder.schema), encoder=encoder, table=table)
    return model, encoded.biological.direct[0]


def test_rescale_indep_with_a_floor_starts_at_one_and_never_falls_below_it(tiny_store, tmp_path):
    import torch.nn.functional as F
    model, onehot = _model_with_schema(tiny_store, SCHEMA_BOTH.replace(
        "direct: [{column: target}]", "direct: [{column: target, intermediate: rescale_indep, floor: 0.5}]"), tmp_path)
    onehot = torch.as_tensor(onehot, dtype=torch.float32)
    unit = model.head.groups["biological"].direct[0]
    with torch.no_grad():
        w_bio = model.head.group_weights("biological")
    torch.testing.assert_close(w_bio[:, :2], onehot, rtol=0, atol=1e-6)           # starts like identity
    with torch.no_grad():
        unit.scale.copy_(torch.tensor([-40.0, 2.0]))                              # pushed far down / up
        w_bio = model.head.group_weights("biological")
    expected = torch.tensor([0.5, 0.5 + float(F.softplus(torch.tensor(2.0)))])    # softplus(-40) ~ 4e-18
    torch.testing.assert_close(w_bio[:, :2], onehot * expected, rtol=0, atol=1e-6)
    # the floor is part of the saved schema: the model reloads with it and predicts the same
    from mfd_model.model_io import save_model
    path = save_model(model.eval(), tmp_path / "floor.pt")
    loaded = load_model(path)
    assert loaded.encoder.schema.biological.direct[0].floor == 0.5
    x = torch.rand(3, 4, 384)
    torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)


def test_floor_is_checked_in_the_schema(tiny_store, tmp_path):
    import pytest
    from mfd_model.errors import MetadataError
    for entry, message in (("{column: target, floor: 0.5}", "only used by the rescale_indep"),
                           ("{column: target, intermediate: rescale_indep, floor: 1.0}", "floor must be a number in [0, 1)"),
                           ("{column: target, intermediate: rescale_indep, floor: yes}", "floor must be a number")):
        with pytest.raises(MetadataError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
            _model_with_schema(tiny_store, SCHEMA_BOTH.replace("direct: [{column: target}]", f"direct: [{entry}]"),
                               tmp_path)
