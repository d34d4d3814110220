"""An UNTRAINED stand-in model, only to develop and test the packaging before trained weights exist.

Its weights are a seeded random initialisation and its ``info`` says so; every model.yaml
written from it carries a warning in ``info.doc``. The real root default model is trained with
``train/configs/demo.yaml`` and written with ``mfd export CHECKPOINT OUTDIR --root .``.

    python -m mfd_model.export.standin --root .      # write the stand-in as the root default model
"""
from __future__ import annotations

import argparse
import io

import torch

from mfd_model.config import ModelConfig
from mfd_model.metadata import MetadataEncoder, MetadataSchema, MetadataTable
from mfd_model.model import MFDModel

STANDIN_TABLE = """experiment\ttarget\tbiosample\tassay\tlab\trelease_year
ctcf_k562\tCTCF\tK562\tChIP-seq\tBernstein\t2011
ctcf_hepg2\tCTCF\tHepG2\tChIP-seq\tSnyder\t2012
ep300_hepg2\tEP300\tHepG2\tChIP-seq\tSnyder\t2012
dnase_k562\tAccessible DNA\tK562\tDNase-seq\tStam\t2010
atac_gm12878\tAccessible DNA\tGM12878\tATAC-seq\tSnyder\t2016
h3k27ac_k562\tH3K27ac\tK562\tChIP-seq\tBernstein\t2016
"""

STANDIN_SCHEMA = {
    "id_column": "experiment",
    "biological": {"direct": [{"column": "target"}], "interact": [{"column": "biosample"}]},
    "technical": {"direct": [{"column": "assay"}],
                  "interact": [{"column": "lab"}, {"column": "release_year", "type": "year"}]},
}

STANDIN_INFO = {
    "untrained": True,
    "trained_on": "nothing: UNTRAINED stand-in with random initial weights (seed 0) for developing and testing "
                  "the Kipoi packaging; its predictions mean nothing",
    "command": "python -m mfd_model.export.standin",
}


def standin_model(channels: int = 32, seed: int = 0) -> MFDModel:
    """The untrained stand-in: 6 toy experiments, the demo's size (``channels`` 32), eval mode."""
    import pandas as pd

    frame = pd.read_csv(io.StringIO(STANDIN_TABLE), sep="\t", dtype=str)
    table = MetadataTable.from_records(frame.to_dict("records"), path="<stand-in metadata>")
    schema = MetadataSchema.from_dict(STANDIN_SCHEMA, source="<stand-in schema>")
    encoder = MetadataEncoder.fit(table, schema)
    torch.manual_seed(seed)
    config = ModelConfig(channels=channels, interact_hidden=16, adversary_hidden=64)
    return MFDModel(config, table.experiment_names(schema), encoder=encoder, table=table, info=STANDIN_INFO).eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="repository root whose default model is (re)written")
    args = parser.parse_args()
    from .kipoi_source import write_root_model
    for path in write_root_model(standin_model(), args.root):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
