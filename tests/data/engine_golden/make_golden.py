"""Writes the golden outputs of ``mfd predict`` and ``mfd score-variants`` that
``tests/test_engine_golden.py`` compares every later version with (float32, 1e-5).

Run from the repository root, on the version whose numbers are the reference:

    PYTHONPATH=$PWD python tests/data/engine_golden/make_golden.py

The outputs were written by the code before the inference engine (commit 75bc98c), with the
default model packaged then (``model.pt`` here, the same weights; the packaged default has been
retrained since) on the packaged example files and on ``variants.vcf`` here (SNVs, a
multi-allelic site, an MNV, a lower-case base, an insertion, a deletion, a delins, a variant
whose windows run off the contig end).
"""
from __future__ import annotations

import gzip
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[2] / "mfd_model" / "default_model" / "example_files"
MODEL = HERE / "model.pt"  # the default model of commit 75bc98c, whose outputs these are

#: output name -> the command's arguments after the inputs (the output is the third positional)
PREDICT = {"predict.tsv": [], "predict_rc.tsv": ["--rc", "--batch-size", "5"]}
SCORES = ["-s", "diff", "-s", "biological", "-s", "technical", "-q", "--workers", "0"]
SCORE_VARIANTS = {"scores.tsv": [], "scores_shifts_absmax.tsv": ["--shifts=-1:1", "--rc-merge", "absmax"],
                  "scores_full_forward.tsv": ["--no-incremental", "--rc-merge", "none"]}


def commands(folder: Path) -> list[list[str]]:
    """The ``mfd`` argument lists, writing into ``folder``."""
    out = []
    for name, extra in PREDICT.items():
        out.append(["predict", str(EXAMPLES / "intervals.bed"), str(EXAMPLES / "sequence.fa"), str(folder / name),
                    "-m", str(MODEL), "--no-progress", *extra])
    for name, extra in SCORE_VARIANTS.items():
        out.append(["score-variants", str(HERE / "variants.vcf"), str(EXAMPLES / "sequence.fa"), str(folder / name),
                    "-m", str(MODEL), "--rejects", str(folder / f"{name}.rejects"), *SCORES, *extra])
    return out


def main() -> None:
    from mfd_model.cli import main as mfd

    with tempfile.TemporaryDirectory() as tmp:
        for argv in commands(Path(tmp)):
            assert mfd(argv) == 0, argv
        for name in [*PREDICT, *SCORE_VARIANTS]:
            with open(Path(tmp) / name, "rb") as src, gzip.GzipFile(HERE / f"{name}.gz", "wb", mtime=0) as dst:
                shutil.copyfileobj(src, dst)


if __name__ == "__main__":
    sys.exit(main())
