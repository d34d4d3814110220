"""mfd_model.yamlio.check_keys: the one check of a parameter mapping's keys.

Each caller's own words are covered by its tests (test_config_trunk, test_metadata, test_train,
test_prepare, test_simulate); here the rules themselves, against hand-written YAML whose lines are known.
"""
from __future__ import annotations

import pytest

from mfd_model.errors import ConfigError, MetadataError
from mfd_model.yamlio import check_keys, load_yaml

YAML = """\
model:
  channels: 8
  chanels: 9
  colour: red
training: [1, 2]
"""


def test_a_mapping_of_known_keys_is_returned_as_it_is():
    mapping = {"a": 1, "b": 2}
    assert check_keys(mapping, ("a", "b", "c"), unknown="unknown {key}", fix=None) is mapping
    assert check_keys({}, (), unknown="unknown {key}", fix=None) == {}


def test_unknown_keys_in_a_yaml_name_the_file_and_the_first_ones_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(YAML)
    doc = load_yaml(path)
    with pytest.raises(ConfigError) as err:
        check_keys(doc.data["model"], ("channels",), doc=doc, key_path=("model",), unknown="unknown key '{dotted}'",
                   fix="known keys: channels")
    assert str(err.value) == f"{path}:3: unknown key 'model.chanels' (fix: known keys: channels)"
    with pytest.raises(MetadataError) as err:   # the error class is the caller's
        check_keys(doc.data["model"], ("channels",), doc=doc, key_path=("model",), unknown="{keys} ({key!r} first)",
                   fix=None, cls=MetadataError)
    assert str(err.value) == f"{path}:3: chanels, colour ('chanels' first)"
    with pytest.raises(ConfigError) as err:
        check_keys(doc.data["training"], ("lr",), doc=doc, key_path=("training",), unknown="unknown {key}", fix=None,
                   not_a_mapping="'training' must be a mapping", not_a_mapping_fix="write training: {lr: 0.1}")
    assert str(err.value) == f"{path}:5: 'training' must be a mapping (fix: write training: {{lr: 0.1}})"


def test_without_a_yaml_the_error_has_no_place():
    with pytest.raises(ConfigError) as err:
        check_keys({"zeta": 1, "alpha": 2, "seed": 0}, ("seed",), unknown="unknown parameter(s): {keys}",
                   fix="known parameters are seed")
    assert str(err.value) == "unknown parameter(s): alpha, zeta (fix: known parameters are seed)"
    with pytest.raises(ConfigError, match="^expected a mapping$"):
        check_keys(["seed"], ("seed",), unknown="unknown {key}", fix=None)
