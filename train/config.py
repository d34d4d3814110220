"""The training configuration: one YAML file for data, model, metadata schema and optimisation.

    data:        the label store (and how `mfd prepare` builds it: FASTA, metadata, peaks column, bins)
    schema:      path to the metadata schema YAML, or the schema itself as a mapping
    model:       ModelConfig keys (channels, latent_dim, seq_len, head, ...)
    training:    lambda_indep, learning rates, batch size, epochs, seed, devices, augmentation ...
    output:      the run folder (logs, checkpoints, plots, model.pt)

Every key is checked: an unknown key or a wrongly typed value is one error line naming the
file, the line and the fix. Relative paths are taken from the current directory.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from mfd_model.config import ModelConfig
from mfd_model.errors import ConfigError
from mfd_model.metadata import MetadataSchema
from mfd_model.yamlio import LocatedYaml, check_keys, load_yaml, parse_overrides  # noqa: F401 (re-exported)

SECTIONS = ("data", "schema", "model", "training", "output")
LR_SCHEDULES = ("plateau", "none")


@dataclass(frozen=True)
class TrainingParams:
    """Optimisation and run settings (docs/method.md sections 5 and 8: the defaults).

    Attributes:
        lambda_indep: weight of the independence penalty (paper: 0, 0.001, 0.01, 0.1; 0.001 chosen).
        lr / adversary_lr: Adam(amsgrad) learning rates of the model and of the adversaries.
        head_lr_multiplier: the output head (MFD: the metadata hypernetwork and the per-experiment
            biases; baseline: its linear layer) learns at ``lr * head_lr_multiplier`` (default 1,
            as the original code). The demo uses 5: the generated weights otherwise lag behind the
            free weights of the baseline (docs/convergence.md).
        lambda_warmup_epochs: train the first N epochs with lambda 0 (the adversaries still learn),
            so the model has features before they are pushed apart (docs/method.md section 5: 0). Early stopping,
            the learning-rate schedule and the choice of the best checkpoint ignore these epochs
            (the penalty switching on raises the loss, and a model trained without it is not
            disentangled): they start with the first epoch trained with the penalty.
        adversary_steps: adversary updates per model update, on the same detached features
            (docs/method.md section 5 and the original code: 1). More keep the adversaries near their optimum,
            so the penalty the model sees is the dependence that is really there.
        batch_size: sequences per step and device.
        max_epochs: the most passes over the training bins: a ceiling; early stopping usually ends
            the run sooner.
        early_stopping_patience: stop when the validation loss (``val/loss``, the BCE) has not
            improved for this many validation epochs (default 6: with ``lr_patience`` 4 the run
            gets two epochs at half the learning rate before it gives up; 0 disables early
            stopping and the run trains for ``max_epochs``). The best checkpoint (minimum
            ``val/loss``) becomes ``model.pt``; ``model.info`` and ``training_summary.json`` say
            which epoch that was and why the run stopped.
        early_stopping_min_delta: an improvement must lower ``val/loss`` by more than this, an
            ABSOLUTE amount in BCE units (default 0.0: any decrease counts), as Lightning's
            EarlyStopping counts it; the plateau schedule uses the same absolute threshold, so
            "improved" means the same to both.
        lr_schedule: ``"plateau"`` (default): multiply the MODEL's learning rate by ``lr_factor``
            when ``val/loss`` has not improved for ``lr_patience`` validation epochs, never below
            ``min_lr`` (the adversaries keep ``adversary_lr``: they must track the model's
            features, not converge); ``"none"``: constant learning rates.
        lr_factor: the plateau schedule's multiplier (default 0.5: halve).
        lr_patience: non-improving validation epochs before each reduction (default 4, counted
            like ``early_stopping_patience``, so PyTorch's ``ReduceLROnPlateau`` gets
            ``patience = lr_patience - 1``). Shorter patience decays the rate during a slow start:
            with 1, one noisy epoch halved the rate of the demo's MFD at epoch 12 and it stalled
            0.025 test AUROC below the baseline; with 2, on the second simulation both models
            ended 0.05-0.10 test AUROC below a constant rate. With constant rates no run of
            either simulation went more than 3 epochs without improving after the warm-up
            (docs/convergence.md).
        min_lr: the plateau schedule's floor (default 1e-5, a hundredth of the default ``lr``).
        seed: seeds initialisation, data order, augmentation and every step.
        num_workers: data-loading processes per device.
        threads: CPU threads of each training process (``None``: the cores left after the
            data-loading workers, at least 1; two threads spinning on one core make a step many
            times slower).
        accelerator / devices / strategy / num_nodes / precision: passed to Lightning's Trainer
            (``devices: 2`` on CPU runs two DDP processes with the gloo backend).
        reverse_complement / max_shift: training augmentation (p = 0.5 reverse complement;
            uniform shift in [-max_shift, max_shift] bp); never applied to validation.
        checkpoint_every_n_steps: also write ``last.ckpt`` every N steps (0: only at epoch ends),
            so a killed run resumes mid-epoch.
        limit_train_batches / limit_val_batches: optional caps per epoch (int = batches).
        auroc_thresholds: bins of the streaming per-experiment AUROC / AUPRC (constant memory).
        log_every_n_steps: logging interval.
        init_bias_from_data: start each experiment's bias at the logit of its training positive rate.
    """

    lambda_indep: float = 0.001
    lambda_warmup_epochs: int = 0
    lr: float = 1e-3
    adversary_lr: float = 1e-3
    adversary_steps: int = 1
    head_lr_multiplier: float = 1.0
    batch_size: int = 256
    max_epochs: int = 10
    early_stopping_patience: int = 6
    early_stopping_min_delta: float = 0.0
    lr_schedule: str = "plateau"
    lr_factor: float = 0.5
    lr_patience: int = 4
    min_lr: float = 1e-5
    seed: int = 0
    num_workers: int = 2
    threads: int | None = None
    accelerator: str = "auto"
    devices: int | str = 1
    strategy: str = "auto"
    num_nodes: int = 1
    precision: str = "32-true"
    reverse_complement: bool = True
    max_shift: int = 3
    checkpoint_every_n_steps: int = 0
    limit_train_batches: int | None = None
    limit_val_batches: int | None = None
    auroc_thresholds: int = 200
    log_every_n_steps: int = 10
    init_bias_from_data: bool = True


@dataclass(frozen=True)
class DataParams:
    """Where the training data is. ``store`` is the label store written by ``mfd prepare``;
    ``fasta`` overrides the FASTA path recorded in the store (same checksum required).
    The other keys describe how ``mfd prepare --config`` builds the store."""

    store: str
    fasta: str | None = None
    prepare: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainConfig:
    """A validated training configuration."""

    data: DataParams
    schema: MetadataSchema | None
    model: ModelConfig
    training: TrainingParams
    output: Path
    source: str = "<config>"
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


# ----------------------------------------------------------------------------- checking
def _type_ok(value: Any, annotation: str) -> bool:
    checks = {
        "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "str": lambda v: isinstance(v, str),
        "bool": lambda v: isinstance(v, bool),
        "None": lambda v: v is None,
        "HeadKind": lambda v: isinstance(v, str),
    }
    return any(checks.get(part.strip(), lambda v: True)(value) for part in annotation.split("|"))


def check_mapping(doc: LocatedYaml, key_path: tuple, mapping: Any, cls: type,
                  required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Validate ``mapping`` against dataclass ``cls``'s fields (names and simple types)."""
    if mapping is None:
        mapping = {}
    known = {f.name: f.type for f in fields(cls)}
    check_keys(mapping, known, doc=doc, key_path=key_path, unknown="unknown key '{dotted}'",
               fix=f"known keys: {', '.join(sorted(known))}",
               not_a_mapping=f"'{'.'.join(map(str, key_path))}' must be a mapping")
    for key, value in mapping.items():
        annotation = known[key] if isinstance(known[key], str) else getattr(known[key], "__name__", str(known[key]))
        annotation = annotation.replace("Path", "str").replace("dict[str, Any]", "dict")
        if "dict" not in annotation and not _type_ok(value, annotation):
            raise doc.error(key_path + (key,), f"'{'.'.join(map(str, key_path + (key,)))}' must be {annotation}, "
                            f"got {value!r}", fix=f"write a value of type {annotation}")
    for key in required:
        if key not in mapping:
            raise doc.error(key_path, f"'{'.'.join(map(str, key_path + (key,)))}' is required")
    return mapping


def _model_config(doc: LocatedYaml, mapping: dict[str, Any]) -> ModelConfig:
    check_mapping(doc, ("model",), mapping, ModelConfig)
    try:
        return ModelConfig.from_dict(mapping)
    except ConfigError as err:
        raise ConfigError(err.message, path=doc.path, line=doc.line(("model",)), fix=err.fix) from None


def _schema(doc: LocatedYaml, value: Any) -> MetadataSchema | None:
    if value is None:
        return None
    if isinstance(value, str):
        return MetadataSchema.from_yaml(value)
    if isinstance(value, dict):
        return MetadataSchema.from_located(LocatedYaml(value, {k[1:]: v for k, v in doc._lines.items()
                                                               if k and k[0] == "schema"}, doc.path))
    raise doc.error(("schema",), "schema must be a path to a schema YAML or the schema mapping itself")


DATA_KEYS = ("store", "fasta", "metadata", "peaks_column")


def load_train_config(path: str | Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Read and validate a training config; ``overrides`` maps dotted keys to values
    (e.g. ``{"training.max_epochs": 1}``), applied before validation."""
    doc = load_yaml(path)
    data = doc.data if doc.data is not None else {}
    sections = dict(doc=doc, unknown="unknown section '{key}'", fix=f"sections are {', '.join(SECTIONS)}",
                    not_a_mapping="a training config must be a mapping with sections " + ", ".join(SECTIONS))
    check_keys(data, SECTIONS, **sections)
    for dotted, value in (overrides or {}).items():
        *parents, last = dotted.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    check_keys(data, SECTIONS, **sections)   # a --set of an unknown section
    raw_data = data.get("data")
    if not isinstance(raw_data, dict) or "store" not in raw_data:
        raise doc.error(("data",), "'data.store' (the label store written by mfd prepare) is required")
    from .prepare import PrepareParams
    prepare = PrepareParams.from_mapping(raw_data, doc) if set(raw_data) - {"store", "fasta"} else None
    data_params = DataParams(store=str(raw_data["store"]), fasta=raw_data.get("fasta"),
                             prepare={} if prepare is None else dict(raw_data))
    model = _model_config(doc, data.get("model") or {})
    training = TrainingParams(**check_mapping(doc, ("training",), data.get("training"), TrainingParams))
    if training.batch_size < 2:
        raise doc.error(("training", "batch_size"), "batch_size must be at least 2 (BatchNorm and the R2 penalty "
                        "need a batch)", fix="use e.g. 64 or 256")
    if training.lambda_warmup_epochs < 0:
        raise doc.error(("training", "lambda_warmup_epochs"), "lambda_warmup_epochs must be >= 0")
    if training.adversary_steps < 1:
        raise doc.error(("training", "adversary_steps"), "adversary_steps must be at least 1")
    if not training.head_lr_multiplier > 0:
        raise doc.error(("training", "head_lr_multiplier"), "head_lr_multiplier must be > 0",
                        fix="use 1 for one learning rate everywhere")
    if training.lambda_indep < 0:
        raise doc.error(("training", "lambda_indep"), "lambda_indep must be >= 0")
    for key, ok, rule in (("early_stopping_patience", training.early_stopping_patience >= 0, ">= 0 (0 disables it)"),
                          ("early_stopping_min_delta", training.early_stopping_min_delta >= 0, ">= 0"),
                          ("lr_factor", 0 < training.lr_factor < 1, "between 0 and 1 (0.5 halves)"),
                          ("lr_patience", training.lr_patience >= 1, "at least 1"),
                          ("min_lr", training.min_lr >= 0, ">= 0")):
        if not ok:
            raise doc.error(("training", key), f"{key} must be {rule}")
    if training.lr_schedule not in LR_SCHEDULES:
        raise doc.error(("training", "lr_schedule"), f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, "
                        f"got {training.lr_schedule!r}", fix="write lr_schedule: plateau (or none)")
    schema = _schema(doc, data.get("schema"))
    if model.head == "mfd" and schema is None:
        raise doc.error(("schema",), "an MFD model needs a metadata schema",
                        fix="add 'schema: path/to/schema.yaml', or set model.head: baseline")
    output = data.get("output")
    if not isinstance(output, str):
        raise doc.error(("output",), "'output' (the run folder) is required and must be a path")
    return TrainConfig(data_params, schema, model, training, Path(output), source=str(path), raw=data)
