"""The ``model.yaml`` of an exported variant: what Kipoi, kipoi-veff2 and ``kipoi test`` read.

Forms that matter (see KIPOI_FACTS.md):

* ``default_dataloader`` is a mapping with ``defined_as: kipoiseq.dataloaders.SeqIntervalDl``
  exactly and ``default_args`` with ``auto_resize_len``, ``alphabet_axis: 0`` (the model reads
  ``(4, L)``) and ``dtype: np.float32`` -- the form kipoi-veff2 requires. The example files are
  also default args: that is the only way to give kipoi an example offline (the dataloader's
  own examples are URLs); users pass their own ``intervals_file`` and ``fasta_file``.
* ``schema.targets`` has ``shape: (O,)`` and ``column_labels`` naming a file with one
  experiment per line, in output order.
* ``test.expect`` names an HDF5 file with ``inputs`` and ``preds``: ``kipoi test`` compares
  the model's predictions on those inputs to ``precision_decimal`` places.
* ``info`` says what the weights were trained on, from the model description's provenance.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mfd_model import __version__
from mfd_model.model import MFDModel

PRECISION_DECIMAL = 5  # kipoi test: |expected - observed| < 1.5e-5

CITATION = ("Rakowski A, Monti R, Huryn V, Lemanczyk M, Ohler U, Lippert C. Metadata-guided feature "
            "disentanglement for functional genomics. Bioinformatics 2024.")
AUTHORS = [{"name": "Alexander Rakowski"}, {"name": "Remo Monti"}]
HEADER = ("# Kipoi model description written by `mfd export` (mfd {version}). Do not edit by hand:\n"
          "# regenerate it with `{command}`.\n")


@dataclass(frozen=True)
class VariantPaths:
    """Paths written into ``model.yaml``, relative to the folder that holds it."""

    weights: str = "weights.pth"
    spec: str = "spec.json"
    module_file: str = "kipoi_model.py"
    savedmodel: str = "savedmodel"
    column_labels: str = "column_labels.txt"
    intervals: str = "example_files/intervals.bed"
    fasta: str = "example_files/sequence.fa"
    expect: str = "test_expect.h5"

    def under(self, prefix: str) -> "VariantPaths":
        """The same files inside ``prefix/`` (the root model keeps them in mfd_model/default_model/)."""
        def join(p: str) -> str:
            return f"{prefix.rstrip('/')}/{p}"
        return VariantPaths(weights=join(self.weights), spec=join(self.spec), module_file=self.module_file,
                            savedmodel=join(self.savedmodel), column_labels=join(self.column_labels),
                            intervals=join(self.intervals), fasta=join(self.fasta), expect=join(self.expect))


def provenance(info: dict[str, Any]) -> tuple[str, str, bool]:
    """``(trained_on, training_procedure, untrained)`` stated honestly from the model's ``info``."""
    untrained = bool(info.get("untrained"))
    trained_on = str(info.get("trained_on") or "not recorded: the model description holds no training provenance")
    parts = []
    if info.get("command"):
        verb = "not trained; created with" if untrained else "trained with"
        parts.append(f"{verb} `{info['command']}`")
    for key, label in (("config", "config"), ("lambda_indep", "lambda_indep"), ("seed", "seed"),
                       ("checkpoint", "checkpoint"), ("fasta", "FASTA"), ("fasta_sha256", "FASTA SHA-256"),
                       ("mfd_version", "mfd version")):
        if info.get(key) not in (None, ""):
            parts.append(f"{label} {info[key]}")
    procedure = "; ".join(parts) if parts else ("none: untrained" if untrained else "not recorded")
    return trained_on, procedure, untrained


def _doc(model: MFDModel, variant: str) -> str:
    c = model.config
    trained_on, _, untrained = provenance(model.info)
    warning = ("WARNING: UNTRAINED STAND-IN WEIGHTS (random initialisation) for development and tests only; "
               "its predictions mean nothing. " if untrained else "")
    kind = ("MFD (Metadata-guided Feature Disentanglement)" if model.is_mfd
            else "the MFD baseline (same CNN, plain linear head, no metadata)")
    subspaces = (f" Its {c.latent_dim} latent features are split into {c.half_dim} biological and {c.half_dim} "
                 f"technical ones; the output layer is generated from experiment metadata."
                 if model.is_mfd else "")
    runtime = ("The SavedModel needs only TensorFlow; it also exposes features(seq), biological_features(seq), "
               "technical_features(seq) and predict_from_halves(bio, tech)."
               if variant == "tensorflow" else
               "Needs the mfd-kipoi package (pip install from the MFD for Kipoi repository) and PyTorch.")
    return (f"{warning}{kind}: from a {c.seq_len} bp one-hot DNA window (4, {c.seq_len}), ACGT, predicts for each "
            f"of {model.n_experiments} experiments the probability that the central {c.bin_size} bp bin overlaps "
            f"a peak.{subspaces} Variant: {variant}. {runtime} Weights trained on: {trained_on}.")


def model_description(model: MFDModel, variant: str, paths: VariantPaths, weights_md5: str | None = None) -> dict:
    """The ``model.yaml`` content of the ``pytorch`` or ``tensorflow`` variant of ``model``."""
    c = model.config
    trained_on, procedure, _ = provenance(model.info)
    if variant == "pytorch":
        kwargs: dict[str, Any] = {"spec": paths.spec, "weights": paths.weights}
        if weights_md5:
            kwargs["weights_md5"] = weights_md5
        head = {"type": "pytorch",
                "args": {"module_file": paths.module_file, "module_class": "MFD", "module_kwargs": kwargs,
                         "weights": paths.weights}}
        dependencies = {"conda": ["python>=3.10", "pytorch::pytorch>=2.1"],
                        "pip": ["mfd-kipoi", "kipoiseq>=0.7.1", "pybedtools"]}
    elif variant == "tensorflow":
        head = {"type": "tensorflow2", "args": {"savedmodel_path": paths.savedmodel}}
        dependencies = {"pip": ["tensorflow>=2.16", "kipoiseq>=0.7.1", "pybedtools"]}
    else:
        raise ValueError(f"unknown variant kind {variant!r}")
    return {
        **head,
        "default_dataloader": {
            "defined_as": "kipoiseq.dataloaders.SeqIntervalDl",
            "default_args": {"auto_resize_len": c.seq_len, "alphabet_axis": 0, "dtype": "np.float32",
                             "ignore_targets": True, "intervals_file": paths.intervals, "fasta_file": paths.fasta},
        },
        "info": {
            "authors": AUTHORS,
            "contributors": [{"name": "MFD for Kipoi developers"}],
            "doc": _doc(model, variant),
            "version": __version__,
            "license": "MIT",
            "cite_as": CITATION,
            "trained_on": trained_on,
            "training_procedure": procedure,
            "tags": ["DNA binding", "DNA accessibility", "Histone modification", "disentanglement"],
        },
        "schema": {
            "inputs": {"name": "seq", "shape": f"(4, {c.seq_len})", "special_type": "DNASeq",
                       "associated_metadata": "ranges",
                       "doc": f"one-hot DNA, ACGT along axis 0, float32; N as 0.25 (kipoiseq) or all zeros"},
            "targets": {"name": "probabilities", "shape": f"({model.n_experiments},)",
                        "doc": "probability that the central bin overlaps a peak, one column per experiment",
                        "column_labels": [paths.column_labels]},
        },
        "dependencies": dependencies,
        "test": {"expect": paths.expect, "precision_decimal": PRECISION_DECIMAL},
    }


def render(description: dict, root: bool = False) -> str:
    """YAML text with a header saying where it came from."""
    import yaml

    command = "mfd export CHECKPOINT OUTDIR --root ." if root else "mfd export CHECKPOINT OUTDIR"
    return HEADER.format(version=__version__, command=command) + yaml.safe_dump(
        description, sort_keys=False, default_flow_style=False, width=100, allow_unicode=True)
