"""Predictions on windows of a genome, fast: ``mfd predict`` (BED + FASTA -> probabilities).

One module per idea, in the order a prediction runs:

    fetch       batched FASTA reads of windows as base codes, one-hot in one vectorised step;
                WindowBatches, the Dataset of window batches (genomic order, row indices)
    fast_model  the network rebuilt channels-last for fast CPU inference (same weights, same numbers)
    intervals   predict_intervals(): BED + FASTA -> probabilities, one process or Lightning
    lightning   the one Lightning predict path (Trainer.predict, one process per device), also the
                variant scorer's (mfd_model.variants.parallel)
    outputs     TSV / Parquet / HDF5 tables, written atomically

Both strands and their merge are :mod:`mfd_model.strands`; the batched model call is
:mod:`mfd_model.predict`. Kipoi packaging (which reuses ``fetch``) is :mod:`mfd_model.export`.
Only ``lightning`` imports Lightning.
"""
from __future__ import annotations

from ..lazy import lazy_exports

_EXPORTS = {
    "fetch_codes": "fetch", "fetch_windows": "fetch", "WindowBatches": "fetch",
    "inference_model": "fast_model", "ChannelsLastMFD": "fast_model",
    "predict_intervals": "intervals", "PredictionResult": "intervals",
    "write_predictions": "outputs", "output_format": "outputs",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
