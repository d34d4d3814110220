"""The inference engine and ``mfd predict`` (BED + FASTA -> probabilities).

One module per idea, in the order a prediction runs:

    sources     where windows come from: WindowSource (rows at a shift -> codes or one-hot),
                ArrayWindows (in memory), GenomeWindows (a FASTA, batched reads, genomic order)
    fetch       batched FASTA reads of windows as base codes (also Kipoi's dataloader)
    engine      Engine / predict_windows: the one inference engine -- batching, device, strands,
                shifts, precision (fp32 / bf16 / tf32) and torch.compile; WindowBatches, its data set
    fast_model  the network rebuilt channels-last for fast CPU inference (same weights, same numbers)
    intervals   predict_intervals(): BED + FASTA -> probabilities, one process or Lightning
    lightning   the one Lightning predict path (Trainer.predict, one process per device) running the
                engine's step, also the variant scorer's (mfd_model.variants.parallel)
    prediction_tables  TSV / Parquet / HDF5 tables, written atomically

The strand merge is :mod:`mfd_model.strands`; the local recomputation of single-base changes (fast
ISM, SNV scoring) is :mod:`mfd_model.local`. Kipoi packaging (which reuses ``fetch``) is
:mod:`mfd_model.export`. Only ``lightning`` imports Lightning.
"""
from __future__ import annotations

from ..lazy import lazy_exports

_EXPORTS = {
    "fetch_codes": "fetch", "fetch_windows": "fetch",
    "WindowSource": "sources", "ArrayWindows": "sources", "GenomeWindows": "sources",
    "Engine": "engine", "predict_windows": "engine", "WindowBatches": "engine",
    "inference_model": "fast_model", "ChannelsLastMFD": "fast_model",
    "predict_intervals": "intervals", "PredictionResult": "intervals",
    "write_predictions": "prediction_tables", "output_format": "prediction_tables",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
