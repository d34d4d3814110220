"""``mfd describe``: the architecture a config gives, or what a saved model holds.

    mfd describe                                   # the default architecture
    mfd describe --metadata meta.tsv --schema s.yaml --set channels=30
    mfd describe --model model.pt
"""
from __future__ import annotations

import argparse

OUTPUTS = ()  # it writes nothing


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="a saved MFD model file (.pt)")
    parser.add_argument("--metadata", help="experiment metadata table (TSV)")
    parser.add_argument("--schema", help="metadata schema (YAML) assigning columns to the two groups")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a ModelConfig value, e.g. --set channels=30 (repeatable)")


def run(args: argparse.Namespace) -> int:
    from ..config import ModelConfig
    from ..errors import ConfigError
    from ..metadata import MetadataEncoder, MetadataSchema, MetadataTable
    from ..model import MFDModel
    from ..model_io import load_model
    from ..yamlio import parse_overrides

    if args.model:
        model = load_model(args.model)
    else:
        overrides = parse_overrides(args.set, "KEY=VALUE")
        if bool(args.metadata) != bool(args.schema):
            raise ConfigError("--metadata and --schema go together", fix="pass both, or neither for a baseline")
        if args.metadata:
            schema = MetadataSchema.from_yaml(args.schema)
            table = MetadataTable.read(args.metadata)
            encoder = MetadataEncoder.fit(table, schema)
            config = ModelConfig.from_dict(overrides)
            model = MFDModel(config, table.experiment_names(schema), encoder=encoder, table=table)
        else:
            overrides.setdefault("head", "baseline")
            config = ModelConfig.from_dict(overrides)
            model = MFDModel(config, ["output"])
    c = model.config
    print(c.describe())
    print(f"experiments: {model.n_experiments}; trainable parameters: {model.parameter_count():,}")
    if model.is_mfd:
        for group, names in model.direct_unit_names.items():
            shown = ", ".join(names[:20]) + (f", ... ({len(names)} in all)" if len(names) > 20 else "")
            print(f"{group} direct units ({len(names)} of {c.half_dim}): {shown or '-'}")
    if model.info:
        for key, value in model.info.items():
            print(f"info.{key}: {value}")
    return 0
