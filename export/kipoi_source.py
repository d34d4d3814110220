"""Write a Kipoi model source: the group ``MFD/`` with one folder per variant, and the root model.

    OUTDIR/MFD/pytorch/       type pytorch:     model.yaml, kipoi_model.py, spec.json, weights.pth,
                                                column_labels.txt, example_files/, test_expect.h5
    OUTDIR/MFD/tensorflow/    type tensorflow2: model.yaml, savedmodel/, spec.json (provenance only),
                                                column_labels.txt, example_files/, test_expect.h5
    OUTDIR/MFD/NAME/{pytorch,tensorflow}/       further checkpoints (lambda sweeps, the baseline)

Use it with a local Kipoi source whose ``local_path`` is OUTDIR: ``kipoi predict MFD/pytorch``.

Both variants' ``test_expect.h5`` hold the same inputs (the example BED's windows, encoded as
kipoiseq encodes them) and the PyTorch model's probabilities, so ``kipoi test`` on the
TensorFlow variant checks it against PyTorch. Everything is written into a temporary folder
next to the destination and renamed into place at the end: no half-written source.

The repository root is itself the default Kipoi model (:func:`write_root_model`): its
``model.yaml`` and ``kipoi_model.py`` at the root, the weights and description as package data
in ``mfd_model/default_model/``.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from mfd_model.errors import MFDError
from mfd_model.genome import Genome
from mfd_model.kipoi_folder import DEFAULT_MODEL_DIR, GROUP, SPEC_FILE, WEIGHTS_FILE, file_md5
from mfd_model.model import MFDModel
from mfd_model.model_io import model_spec
from mfd_model.outputs import atomic_folder, atomic_path
from mfd_model.predict import predict

from .equivalence import KIPOISEQ_N, Equivalence, check_equivalence
from .examples import write_example_files
from mfd_model.inference.fetch import fetch_windows
from .kipoi_yaml import VariantPaths, model_description, render

WRAPPER = Path(__file__).resolve().parent / "kipoi_model.py"
VARIANT_KINDS = ("pytorch", "tensorflow")
Log = Callable[[str], None]


@dataclass
class ExportReport:
    """What an export wrote and checked."""

    source: Path | None = None
    variants: list[Path] = field(default_factory=list)
    root_files: list[Path] = field(default_factory=list)
    checks: dict[str, list[Equivalence]] = field(default_factory=dict)


# ----------------------------------------------------------------------------- files of a variant
def save_state_dict(model: MFDModel, path: Path) -> str:
    """Write the CPU state dict Kipoi loads (``torch.load`` without ``map_location``); returns its MD5."""
    torch.save({k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, path)
    return file_md5(path)


def write_spec(model: MFDModel, path: Path) -> None:
    path.write_text(json.dumps(model_spec(model), indent=1, sort_keys=True) + "\n", encoding="utf-8")


def write_column_labels(model: MFDModel, path: Path) -> None:
    path.write_text("".join(f"{name}\n" for name in model.experiment_names), encoding="utf-8")


def example_inputs(model: MFDModel, fasta: Path, bed: Path) -> np.ndarray:
    """The example BED's windows as kipoiseq's SeqIntervalDl produces them: shape=(N, 4, L), N as 0.25."""
    from mfd_model.bed import read_bed
    from mfd_model.interpret.windows import centred_windows

    genome = Genome(fasta)
    try:
        windows = centred_windows(read_bed(bed), genome, model.config.seq_len)
        if len(windows) != windows.n_read:
            raise MFDError(f"example windows do not fit the example FASTA: {windows.skip_summary()}", path=bed,
                           fix="report this as a bug")
        return fetch_windows(genome, windows.chrom, windows.start, model.config.seq_len, n_value=KIPOISEQ_N)
    finally:
        genome.close()


def write_expect(model: MFDModel, inputs: np.ndarray, path: Path) -> None:
    """The ``test: expect:`` HDF5 (``inputs``, ``preds``), written with h5py (kipoi's writer fails on numpy 2)."""
    import h5py

    preds = predict(model, inputs, device="cpu").numpy().astype(np.float32)
    with h5py.File(path, "w", track_order=False) as handle:
        handle.create_dataset("inputs", data=inputs.astype(np.float32), compression="gzip", compression_opts=9,
                              track_times=False)
        handle.create_dataset("preds", data=preds, compression="gzip", compression_opts=9, track_times=False)


def _common_files(model: MFDModel, folder: Path, paths: VariantPaths, seed: int) -> None:
    examples = write_example_files(folder / Path(paths.intervals).parent, model.config.seq_len, seed=seed)
    write_column_labels(model, folder / paths.column_labels)
    write_spec(model, folder / paths.spec)
    write_expect(model, example_inputs(model, examples.fasta, examples.bed), folder / paths.expect)


def write_pytorch_variant(model: MFDModel, folder: Path, seed: int = 0) -> Path:
    """A ``type: pytorch`` Kipoi model folder for ``model`` (``folder`` must not exist)."""
    folder.mkdir(parents=True)
    paths = VariantPaths()
    _common_files(model, folder, paths, seed)
    md5 = save_state_dict(model, folder / paths.weights)
    shutil.copyfile(WRAPPER, folder / paths.module_file)
    (folder / "model.yaml").write_text(render(model_description(model, "pytorch", paths, md5)), encoding="utf-8")
    return folder


def write_tensorflow_variant(model: MFDModel, folder: Path, seed: int = 0) -> Path:
    """A ``type: tensorflow2`` Kipoi model folder (SavedModel of the rebuilt graph)."""
    from .tensorflow_graph import save_tf_module

    folder.mkdir(parents=True)
    paths = VariantPaths()
    _common_files(model, folder, paths, seed)
    save_tf_module(model, folder / paths.savedmodel)
    (folder / "model.yaml").write_text(render(model_description(model, "tensorflow", paths)), encoding="utf-8")
    return folder


# ----------------------------------------------------------------------------- the whole source
def export_source(models: dict[str, MFDModel], outdir: str | Path, *, kinds: tuple[str, ...] = VARIANT_KINDS,
                  check: bool = False, check_fastas: tuple[str | Path, ...] = (), n_check_windows: int = 1000,
                  force: bool = False, seed: int = 0, log: Log = print) -> ExportReport:
    """Write ``outdir/MFD/`` with the variants of every model.

    Args:
        models: variant name -> model. The name ``""`` is the primary model (``MFD/pytorch``,
            ``MFD/tensorflow``); any other name ``N`` goes to ``MFD/N/pytorch`` and ``MFD/N/tensorflow``.
        kinds: which variant kinds to write (``pytorch``, ``tensorflow``).
        check: compare each SavedModel with its PyTorch model (random + ``check_fastas`` windows);
            a failed check aborts the export before anything is renamed into place.
        force: replace an existing ``outdir/MFD``.
    """
    unknown = set(kinds) - set(VARIANT_KINDS)
    if unknown or not kinds:
        raise MFDError(f"unknown variant kind(s): {', '.join(sorted(unknown)) or '(none given)'}",
                       fix=f"use {' and/or '.join(VARIANT_KINDS)}")
    if "tensorflow" in kinds:
        import importlib.util
        if importlib.util.find_spec("tensorflow") is None:
            raise MFDError("the tensorflow variant needs TensorFlow", fix="pip install 'mfd-kipoi[tf]', or pass --only pytorch")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    destination = outdir / GROUP
    if destination.exists() and not force:
        raise MFDError(f"{destination} already exists", path=destination,
                       fix="choose another output folder, or pass --force to replace it")
    report = ExportReport(source=outdir)
    with atomic_folder(destination) as group:
        for name, model in models.items():
            base = group / name if name else group
            for kind in kinds:
                folder = base / kind
                log(f"writing {GROUP}/{folder.relative_to(group).as_posix()} ...")
                writer = write_pytorch_variant if kind == "pytorch" else write_tensorflow_variant
                writer(model, folder, seed=seed)
                report.variants.append(destination / folder.relative_to(group))
                if kind == "tensorflow" and check:
                    results = check_equivalence(model, folder / VariantPaths().savedmodel, check_fastas,
                                                n_check_windows, seed)
                    report.checks[f"{GROUP}/{folder.relative_to(group).as_posix()}"] = results
                    for result in results:
                        log(f"  check {result.line()}")
                    failed = [r for r in results if not r.passed]
                    if failed:
                        raise MFDError(f"the TensorFlow export differs from PyTorch: {failed[0].line()}",
                                       fix="report this as a bug; nothing was written")
    return report


# ----------------------------------------------------------------------------- the root default model
def _atomic_write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_root_model(model: MFDModel, repo: str | Path, seed: int = 0) -> list[Path]:
    """Regenerate the repository's root Kipoi model from ``model``.

    Writes ``mfd_model/default_model/`` (spec.json, weights.pth, column_labels.txt,
    example_files/, test_expect.h5) and the root ``model.yaml`` and ``kipoi_model.py``.
    """
    repo = Path(repo).resolve()
    package = repo / "mfd_model"
    if not (repo / "pyproject.toml").exists() or not (package / "__init__.py").exists():
        raise MFDError("not the MFD for Kipoi repository (no pyproject.toml and mfd_model/ here)", path=repo,
                       fix="pass the repository root to --root, e.g. --root .")
    relative = DEFAULT_MODEL_DIR.name
    paths = VariantPaths().under(f"mfd_model/{relative}")
    with atomic_folder(package / relative) as staging:
        inner = VariantPaths()
        _common_files(model, staging, inner, seed)
        md5 = save_state_dict(model, staging / WEIGHTS_FILE)
        assert inner.spec == SPEC_FILE and inner.weights == WEIGHTS_FILE
    _atomic_write_text(repo / "kipoi_model.py", WRAPPER.read_text(encoding="utf-8"))
    _atomic_write_text(repo / "model.yaml", render(model_description(model, "pytorch", paths, md5), root=True))
    return [repo / "model.yaml", repo / "kipoi_model.py", package / relative]
