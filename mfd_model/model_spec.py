"""The model description: everything but the weights that rebuilds an MFD model, typed.

Its dictionary form (:meth:`ModelSpec.to_dict`, JSON-compatible) is the ``spec`` of a model file
(:mod:`mfd_model.model_io`), of a training checkpoint's hyperparameters and of a Kipoi folder's
``spec.json``::

    {"config": {...}, "experiment_names": [...], "encoder": {...} | None,
     "metadata": [row, ...] | None, "info": {...}}

``mfd train`` builds it from the config and the label store, :func:`~mfd_model.model_io.save_model`
from a model (:meth:`ModelSpec.of`); both write the same dictionary. Importing this module does not
import torch.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .config import ModelConfig
from .metadata import MetadataEncoder, MetadataTable

if TYPE_CHECKING:  # pragma: no cover
    from .model import MFDModel


@dataclass(frozen=True)
class ModelSpec:
    """Everything but the weights of an MFD model (or its baseline) for ``O`` experiments.

    Attributes:
        config: the architecture.
        experiment_names: the O outputs, in output order, shape=(O,).
        encoder: the fitted metadata encoder (``None`` for a baseline).
        table: the metadata rows of the O experiments (``None`` when the model has none).
        info: free-form provenance (what data, which command), JSON-compatible.
    """

    config: ModelConfig
    experiment_names: Sequence[str]
    encoder: MetadataEncoder | None = None
    table: MetadataTable | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, model: MFDModel) -> ModelSpec:
        """The description of a built model."""
        return cls(model.config, list(model.experiment_names), model.encoder, model.table, dict(model.info))

    def to_dict(self) -> dict[str, Any]:
        """The JSON-compatible form (the ``spec`` of model files, checkpoints and ``spec.json``)."""
        return {
            "config": self.config.to_dict(),
            "experiment_names": list(self.experiment_names),
            "encoder": self.encoder.to_dict() if self.encoder is not None else None,
            "metadata": self.table.to_records() if self.table is not None else None,
            "info": dict(self.info),
        }

    @classmethod
    def from_dict(cls, spec: dict[str, Any], source: str | Path = "<spec>") -> ModelSpec:
        """Read :meth:`to_dict` output (``source`` names it in errors about the metadata rows).

        Raises:
            ConfigError: an invalid config or metadata; ``KeyError`` / ``TypeError`` / ``ValueError``
            for a malformed dictionary (:func:`~mfd_model.model_io.build_model` turns both into one line).
        """
        config = ModelConfig.from_dict(spec["config"])
        encoder = MetadataEncoder.from_dict(spec["encoder"]) if spec.get("encoder") else None
        table = (MetadataTable.from_records(spec["metadata"], path=f"{source} (metadata)")
                 if spec.get("metadata") else None)
        return cls(config, spec["experiment_names"], encoder, table, dict(spec.get("info") or {}))

    def model_arguments(self) -> dict[str, Any]:
        """The keyword arguments of :class:`~mfd_model.model.MFDModel` (and of the Kipoi wrapper class)."""
        return {"config": self.config, "experiment_names": self.experiment_names, "encoder": self.encoder,
                "table": self.table, "info": self.info}
