"""Metadata schema, table and encoding: hand-computed values and clear errors."""
from __future__ import annotations

import numpy as np
import pytest

from mfd_model import MetadataEncoder, MetadataError, MetadataSchema, MetadataTable, load_metadata

from toy_models import TOY_SCHEMA, TOY_TABLE


def test_encoding_by_hand(toy_paths):
    table, encoder, enc = load_metadata(*toy_paths)
    bio, tech = enc.biological, enc.technical
    assert enc.experiment_names[0] == "ctcf_k562_a" and enc.n_experiments == 6
    # direct target: levels sorted, one unit each
    assert bio.direct_names == ["target:Accessible DNA", "target:CTCF", "target:EP300", "target:H3K27ac"]
    np.testing.assert_array_equal(bio.direct[0][2], [0, 0, 1, 0])
    # multi-hot biosample "GM12878,B cell"
    biosample = encoder.columns["biosample"]
    assert biosample.levels == ("B cell", "GM12878", "HepG2", "K562", "liver")
    np.testing.assert_array_equal(bio.interact[0][4], [1, 1, 0, 0, 0])
    # missing categorical -> 'unknown' level (last)
    assert encoder.columns["life_stage"].levels == ("adult", "child", "embryonic", "unknown")
    np.testing.assert_array_equal(bio.interact[1][4], [0, 0, 0, 1])
    # numeric: missing -> median, then z-score with the imputed column's mean and population std
    ages = np.array([53, 53, np.nan, 53, 31, 0.3])
    filled = np.where(np.isnan(ages), np.nanmedian(ages), ages)
    expected = (filled - filled.mean()) / filled.std()
    np.testing.assert_allclose(bio.interact[2][:, 0], expected, rtol=1e-6)
    # year: a date gives its year; levels sorted numerically
    assert encoder.columns["release_year"].levels == ("2010", "2011", "2012", "2016")
    np.testing.assert_array_equal(tech.interact[1][2], [0, 0, 1, 0])
    assert tech.direct_names == ["assay:ATAC-seq", "assay:ChIP-seq", "assay:DNase-seq"]


def test_encoder_round_trip(toy_paths):
    table, encoder, enc = load_metadata(*toy_paths)
    again = MetadataEncoder.from_dict(encoder.to_dict()).transform(MetadataTable.from_records(table.to_records()))
    for group in ("biological", "technical"):
        for a, b in zip(enc.group(group).direct + enc.group(group).interact,
                        again.group(group).direct + again.group(group).interact):
            np.testing.assert_array_equal(a, b)


def test_unknown_value_at_transform_is_an_error_with_line(toy_paths, tmp_path):
    _, encoder, _ = load_metadata(*toy_paths)
    new = tmp_path / "new.tsv"
    new.write_text(TOY_TABLE.replace("H3K27ac", "H3K9me3"))
    with pytest.raises(MetadataError) as err:
        encoder.transform(MetadataTable.read(new))
    line = err.value.one_line()
    assert f"{new}:7:" in line and "'H3K9me3'" in line and "target" in line and "fix:" in line


def _schema_error(tmp_path, text: str) -> str:
    path = tmp_path / "bad_schema.yaml"
    path.write_text(text)
    with pytest.raises(MetadataError) as err:
        MetadataSchema.from_yaml(path)
    return err.value.one_line()


@pytest.mark.parametrize("text, expected, line", [
    (TOY_SCHEMA.replace("    - {column: lab, intermediate: linear, dim: 3}",
                        "    - {column: lab, intermediate: linear}"), "needs 'dim'", 13),
    (TOY_SCHEMA.replace("type: year", "type: date"), "unknown type 'date'", 14),
    (TOY_SCHEMA.replace("intermediate: rescale_indep", "intermediate: embed, dim: 2"),
     "direct column 'assay' cannot use intermediate 'embed'", 11),
    (TOY_SCHEMA + "peaks: x\n", "unknown key 'peaks'", 15),
    (TOY_SCHEMA.replace("    - {column: life_stage}\n", "    - {column: life_stage, colour: red}\n"),
     "unknown key 'colour'", 7),
    (TOY_SCHEMA.replace("{column: lab,", "{column: target,"), "in both the biological and the technical group", 13),
    (TOY_SCHEMA.replace("    - {column: life_stage}\n", "    - {column: life_stage}\n    - {column: life_stage}\n"),
     "listed twice in biological.interact", 8),
    (TOY_SCHEMA.replace("    - {column: life_stage}\n", "    - {column: life_stage}\n    - {column: target, type: year}\n"),
     "categorical in biological.direct but year", 8),
    ("id_column: experiment\nbiological:\n  direct: [target]\n", "technical group is missing", None),
    ("biological: {direct: [target]}\ntechnical: {direct: [assay]}\n", "id_column", None),
    ("id_column: [unclosed\n", "invalid YAML", 2),
])
def test_bad_schema_gives_one_clear_line(tmp_path, text, expected, line):
    message = _schema_error(tmp_path, text)
    assert expected in message and "\n" not in message
    assert "bad_schema.yaml" in message
    if line is not None:
        assert f"bad_schema.yaml:{line}:" in message


def test_schema_naming_a_missing_column(tmp_path):
    table = tmp_path / "metadata.tsv"
    table.write_text(TOY_TABLE)
    schema = tmp_path / "schema.yaml"
    schema.write_text(TOY_SCHEMA.replace("{column: lab,", "{column: laboratory,"))
    with pytest.raises(MetadataError) as err:
        load_metadata(table, schema)
    message = err.value.one_line()
    assert f"{schema}:13:" in message and "'laboratory'" in message and "lab" in message.split("fix:")[1]


@pytest.mark.parametrize("edit, expected", [
    (lambda t: t.replace("\t53\tDNase-seq", "\tfifty\tDNase-seq"), "'fifty' is not a number"),
    (lambda t: t.replace("2016\nh3k27ac", "20x6\nh3k27ac"), "cannot read a year"),
    (lambda t: t.replace("ctcf_k562_b", "ctcf_k562_a"), "appears twice"),
])
def test_bad_table_values(tmp_path, edit, expected):
    table = tmp_path / "metadata.tsv"
    table.write_text(edit(TOY_TABLE))
    schema = tmp_path / "schema.yaml"
    schema.write_text(TOY_SCHEMA)
    with pytest.raises(MetadataError, match=expected):
        load_metadata(table, schema)


def test_select_rows_by_metadata(toy_paths):
    table, _, _ = load_metadata(*toy_paths)
    assert table.select("target", "ctcf") == [0, 1]
    assert table.select("biosample", "B cell") == [4]


def test_table_from_records_equals_pandas_without_importing_it():
    """The table built from records (what a model file stores) holds what pandas' ``from_records``
    -> ``fillna("")`` -> ``astype(str)`` gives: columns by first appearance, missing / None / NaN cells
    empty, other values as strings; its ``frame`` is that DataFrame, and records round-trip."""
    import pandas as pd

    from mfd_model.metadata import MetadataTable
    strings = [{"id": "a", "target": "CTCF", "year": "2012"}, {"id": "b", "lab": "x,y"},
               {"target": "", "id": "c", "score": "1.5"}]
    mixed = [{"id": "a", "target": "CTCF", "year": 2012}, {"id": "b", "year": None, "lab": "x,y"},
             {"target": float("nan"), "id": "c", "score": 1.5}]
    for records in (strings, mixed):
        table = MetadataTable.from_records(records)
        want = pd.DataFrame.from_records(records).fillna("").astype(str)
        assert table.columns == list(want.columns) and len(table) == len(want) == 3
        for column in want.columns:
            assert table.column(column) == want[column].tolist()
        pd.testing.assert_frame_equal(table.frame, want)
        assert MetadataTable.from_records(table.to_records()).cells == table.cells
        assert table.select("lab", "Y") == [1]
    assert len(MetadataTable.from_records([])) == 0
