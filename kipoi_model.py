"""Kipoi entry point of an MFD model (``model.yaml``: ``type: pytorch``, ``module_class: MFD``).

Kipoi instantiates ``MFD(**module_kwargs)`` and then loads ``args.weights`` into it with
``load_state_dict``. The architecture, experiment names and metadata come from the JSON model
description named by ``spec``; every path is relative to this file, never to the working
directory. ``mfd export`` copies this file unchanged into each PyTorch variant folder and to the
repository root (the default model).

Input: one-hot DNA, shape=(N, 4, seq_len), ACGT, float32 (kipoiseq ``SeqIntervalDl`` with
``alphabet_axis: 0``; N as 0.25 or all zeros). Output: probabilities, shape=(N, n_experiments).
"""
from __future__ import annotations

import inspect
from pathlib import Path

from mfd_model.kipoi_folder import check_md5, read_spec
from mfd_model.model import MFDModel
from mfd_model.model_io import model_arguments

# Kipoi runs this file in a bare module without ``__file__``; the code object still knows its file
# (named relative to the model folder, which is the working directory while Kipoi loads the model).
HERE = Path(globals().get("__file__") or inspect.currentframe().f_code.co_filename).resolve().parent


class MFD(MFDModel):
    """:class:`mfd_model.model.MFDModel` built from a model description file.

    Args:
        spec: the model description (``spec.json``), relative to this file.
        weights: the weights file, relative to this file; with ``weights_md5`` it is checked
            before Kipoi loads it, so a corrupt file is one clear error.
        weights_md5: MD5 of the weights file recorded at export.
    """

    def __init__(self, spec: str = "spec.json", weights: str | None = None, weights_md5: str | None = None) -> None:
        if weights is not None:
            check_md5(HERE / weights, weights_md5)
        spec_path = HERE / spec
        super().__init__(**model_arguments(read_spec(spec_path), spec_path))
