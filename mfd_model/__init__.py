"""MFD — Metadata-guided Feature Disentanglement for functional genomics, packaged for Kipoi.

The model reads like the paper, one module per idea:

    encoding      base codes (N, L) -> one-hot DNA (N, 4, L) -> dinucleotides (N, 16, L); reverse complements
    config        ModelConfig: every architecture hyperparameter, checked at construction
    trunk         the Basenji2-style CNN: (N, 16, L) -> features of the central bin (N, C_embed)
    metadata      MetadataSchema / MetadataTable / MetadataEncoder: experiment metadata -> numbers
    embedding     the hypernetwork psi_bio, psi_tech: metadata -> output-layer weights
    heads         MFD head (Eq. 2) and the baseline head
    independence  the adversarial R2 penalty (Eq. 3-4) and the cross-correlation diagnostic
    model         MFDModel: the assembled network and its feature accessors
    model_spec    ModelSpec: everything but the weights (the spec of model files, checkpoints, Kipoi folders)
    model_io      save_model / load_model

Importing this package is cheap: submodules load on first use, and TensorFlow is never
imported here (only by ``mfd_model.export``).
"""
from __future__ import annotations

from .lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "MFDError": "errors", "ConfigError": "errors", "MetadataError": "errors",
    "ModelConfig": "config",
    "base_codes": "encoding", "one_hot": "encoding",
    "one_hot_encode": "encoding", "one_hot_encode_batch": "encoding", "dinucleotide_encode": "encoding",
    "reverse_complement_one_hot": "encoding", "reverse_complement_dinucleotide": "encoding",
    "MetadataSchema": "metadata", "MetadataTable": "metadata", "MetadataEncoder": "metadata",
    "load_metadata": "metadata",
    "MFDModel": "model",
    "r2_penalty": "independence", "cross_correlation_penalty": "independence",
    "IndependencePenalty": "independence",
    "ModelSpec": "model_spec",
    "save_model": "model_io", "load_model": "model_io",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


__getattr__ = lazy_exports(__name__, _EXPORTS)
