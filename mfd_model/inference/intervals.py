"""``mfd predict``: BED + FASTA -> per-experiment probabilities, fast and with the same numbers as Kipoi.

    intervals (BED)  --centred_windows-->  windows of seq_len centred on the midpoints (as kipoiseq's
                                           auto_resize_len); unknown contigs / off-contig windows counted
                     --GenomeWindows-->    base-code batches (batched reads, genomic order)
                     --Engine-->           probabilities (N, O), optionally averaged with the reverse complement
                     --write_predictions--> TSV / Parquet / HDF5

The model runs in the inference engine (:mod:`.engine`: batching, strands, precision, compilation):
in this process, or (``devices > 1``, or ``use_lightning``) under Lightning's ``Trainer.predict``
with one process per device, each writing its rows into a shared memory-mapped result
(:mod:`.lightning`).

Where the speed comes from (vs ``kipoi predict``): on the CPU the network runs as its
channels-last rebuild (:mod:`.fast_model`, same weights, same numbers); windows are visited in genomic order and a
batch's sequence is read with one FASTA access per cluster of nearby windows, as base codes that the
network turns into its input on the device (no per-interval Python objects); the model runs under
``inference_mode``; results go by index into one array and out through a columnar writer.
"""
from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from mfd_model.bed import read_bed
from mfd_model.errors import MFDError
from mfd_model.genome import Genome
from mfd_model.model import MFDModel
from mfd_model.outputs import reserve_space

from mfd_model.interpret.windows import SKIP_OUTSIDE, Windows, centred_windows

from .engine import Engine
from .sources import GenomeWindows


@dataclass
class PredictionResult:
    """The scored intervals and their probabilities (rows aligned).

    Attributes:
        windows: the scored windows, with the counts of skipped intervals by reason.
        intervals: ``chrom`` (as the FASTA spells it), ``start``, ``end`` (the input interval),
            ``name``, one row per scored interval, in input order.
        probabilities: shape=(n_scored, O), float32.
        experiments: the O column names.
    """

    windows: Windows
    intervals: pd.DataFrame
    probabilities: np.ndarray
    experiments: list[str]


def predict_intervals(model: MFDModel, bed: str | Path, fasta: str | Path, *, batch_size: int | None = None,
                      reverse_complement: bool = False, pad: bool = False, device: str | None = None,
                      devices: int = 1, use_lightning: bool = False, num_workers: int = 0,
                      precision: str = "fp32", compile: bool = False,
                      progress: bool = True, workdir: str | Path | None = None,
                      log: Callable[[str], None] | None = None) -> PredictionResult:
    """Predict every interval of ``bed`` (windows centred as kipoiseq does).

    Args:
        model: the model (eval mode is set here).
        bed: BED-like intervals (plain or gzip).
        fasta: the reference (plain or BGZF).
        batch_size: model inputs per call (default 64-256 on the CPU by the model's size, 512 on a GPU; with
            ``reverse_complement`` half of them are the reverse strands).
        reverse_complement: average the probabilities of both strands.
        pad: score windows that run off a contig end, N-padded (otherwise skipped and reported).
        device: single-process device (``None``: CUDA if available).
        devices: > 1 runs Lightning's multi-process prediction on that many devices.
        use_lightning: use the Lightning path even for one device.
        num_workers: DataLoader worker processes that fetch windows.
        precision, compile: the engine's (:class:`.engine.Engine`).
        workdir: keep the (memory-mapped) result in ``workdir/probabilities.npy`` instead of in memory.
        log: where the skipped-interval report goes (default: stderr).

    Returns:
        :class:`PredictionResult`; ``probabilities`` shape=(n_scored, O), float32.
    """
    log = log or (lambda line: print(line, file=sys.stderr))
    if devices < 1:
        raise MFDError(f"devices must be >= 1, got {devices}", fix="pass --devices 1 or more")
    engine = Engine(model, output="probabilities", strand="mean" if reverse_complement else "fwd",
                    batch_size=batch_size, device=device if devices == 1 and not use_lightning else None,
                    precision=precision, compile=compile)
    intervals = read_bed(bed, with_name=True)
    genome = Genome(fasta)
    windows = centred_windows(intervals, genome, model.config.seq_len, allow_padding=pad)
    genome.close()
    report = windows.skip_summary()
    if windows.skipped.get(SKIP_OUTSIDE) and not pad:
        report += " (--pad scores windows off a contig end, padded with N)"
    log(f"mfd predict: {report}")
    kept = pd.DataFrame({"chrom": windows.chrom.astype(str), "start": windows.source_start,
                         "end": windows.source_end, "name": windows.ids})
    source = GenomeWindows(fasta, windows.chrom, windows.start, model.config.seq_len)
    shape = (len(kept), model.n_experiments)
    if workdir is None:  # keep the result in memory; the memory map lives only while predicting
        with tempfile.TemporaryDirectory(prefix="mfd-predict-") as tmp:
            probabilities = np.array(_run(engine, source, shape, Path(tmp), devices, use_lightning, num_workers,
                                          progress))
    else:
        probabilities = _run(engine, source, shape, Path(workdir), devices, use_lightning, num_workers, progress)
    return PredictionResult(windows=windows, intervals=kept, probabilities=probabilities,
                            experiments=list(model.experiment_names))


def _run(engine: Engine, source: GenomeWindows, shape: tuple[int, int], workdir: Path, devices: int,
         use_lightning: bool, num_workers: int, progress: bool) -> np.ndarray:
    """Fill a memory-mapped (N, O) float32 result in ``workdir`` and return it."""
    path = workdir / "probabilities.npy"
    result = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)
    reserve_space(path)  # a full disk is an error now, not a SIGBUS when a row is written
    if not shape[0]:
        return result
    if devices > 1 or use_lightning:
        try:
            from .lightning import lightning_predict
        except ImportError:
            raise MFDError("prediction on several devices needs Lightning", fix="pip install 'mfd-kipoi[train]', "
                           "or predict in one process (--devices 1)") from None
        del result  # each Lightning process opens the file itself
        lightning_predict(engine, source, path, devices=devices, num_workers=num_workers, progress=progress)
        return np.load(path, mmap_mode="r")
    engine.predict(source, out=result, num_workers=num_workers, progress=progress, desc="mfd predict")
    result.flush()
    return result
