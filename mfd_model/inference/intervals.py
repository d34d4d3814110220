"""``mfd predict``: BED + FASTA -> per-experiment probabilities, fast and with the same numbers as Kipoi.

    intervals (BED)  --centred_windows-->  windows of seq_len centred on the midpoints (as kipoiseq's
                                           auto_resize_len); unknown contigs / off-contig windows counted
                     --WindowBatches-->  one-hot batches (batched reads, vectorised encoding)
                     --model-->          probabilities (N, O), optionally averaged with the reverse complement
                     --write_predictions--> TSV / Parquet / HDF5

Single process: a plain loop over a ``DataLoader`` under ``torch.inference_mode``. Several
devices (``devices > 1``): Lightning's ``Trainer.predict`` with one process per device, each
writing its rows into a shared memory-mapped result (see :mod:`.lightning`);
``use_lightning=True`` runs that path on one device too.

Where the speed comes from (vs ``kipoi predict``): on the CPU the network runs as its
channels-last rebuild (:mod:`.fast_model`, same weights, same numbers); windows are visited in genomic order and a
batch's sequence is read with one FASTA access per cluster of nearby windows, then encoded in
one vectorised step (no per-interval Python objects); batches are larger; the model runs under
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
import torch

from mfd_model.bed import read_bed
from mfd_model.errors import MFDError
from mfd_model.genome import Genome
from mfd_model.model import MFDModel
from mfd_model.outputs import reserve_space
from mfd_model.strands import probabilities_step
from mfd_model.processes import worker_init_fn

from mfd_model.interpret.windows import SKIP_OUTSIDE, Windows, centred_windows

from .fetch import WindowBatches


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


CPU_BATCH_SIZE = 64  # narrow convolutions run fastest on batches that stay in cache
GPU_BATCH_SIZE = 512


def predict_intervals(model: MFDModel, bed: str | Path, fasta: str | Path, *, batch_size: int | None = None,
                      reverse_complement: bool = False, pad: bool = False, device: str | None = None,
                      devices: int = 1, use_lightning: bool = False, num_workers: int = 0,
                      progress: bool = True, workdir: str | Path | None = None,
                      log: Callable[[str], None] | None = None) -> PredictionResult:
    """Predict every interval of ``bed`` (windows centred as kipoiseq does).

    Args:
        model: the model (eval mode is set here).
        bed: BED-like intervals (plain or gzip).
        fasta: the reference (plain or BGZF).
        batch_size: windows per model call (default 64 on the CPU, 512 on a GPU).
        reverse_complement: average the probabilities of both strands.
        pad: score windows that run off a contig end, N-padded (otherwise skipped and reported).
        device: single-process device (``None``: CUDA if available).
        devices: > 1 runs Lightning's multi-process prediction on that many devices.
        use_lightning: use the Lightning path even for one device.
        num_workers: DataLoader worker processes that fetch and encode windows.
        workdir: keep the (memory-mapped) result in ``workdir/probabilities.npy`` instead of in memory.
        log: where the skipped-interval report goes (default: stderr).

    Returns:
        :class:`PredictionResult`; ``probabilities`` shape=(n_scored, O), float32.
    """
    log = log or (lambda line: print(line, file=sys.stderr))
    if batch_size is None:
        from mfd_model.predict import resolve_device
        on_gpu = torch.cuda.is_available() and (device is None or resolve_device(device).type == "cuda")
        batch_size = GPU_BATCH_SIZE if on_gpu else CPU_BATCH_SIZE
    if batch_size < 1:
        raise MFDError(f"batch size must be >= 1, got {batch_size}", fix="pass --batch-size 64, or leave it out")
    if devices < 1:
        raise MFDError(f"devices must be >= 1, got {devices}", fix="pass --devices 1 or more")
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
    dataset = WindowBatches(fasta, windows.chrom, windows.start, model.config.seq_len, batch_size)
    shape = (len(kept), model.n_experiments)
    if workdir is None:  # keep the result in memory; the memory map lives only while predicting
        with tempfile.TemporaryDirectory(prefix="mfd-predict-") as tmp:
            probabilities = np.array(_run(model, dataset, shape, Path(tmp), reverse_complement, device, devices,
                                          use_lightning, num_workers, progress))
    else:
        probabilities = _run(model, dataset, shape, Path(workdir), reverse_complement, device, devices,
                             use_lightning, num_workers, progress)
    return PredictionResult(windows=windows, intervals=kept, probabilities=probabilities,
                            experiments=list(model.experiment_names))


def _run(model: MFDModel, dataset: WindowBatches, shape: tuple[int, int], workdir: Path, reverse_complement: bool,
         device: str | None, devices: int, use_lightning: bool, num_workers: int, progress: bool) -> np.ndarray:
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
        lightning_predict(model, dataset, path, reverse_complement=reverse_complement, devices=devices,
                          num_workers=num_workers, progress=progress)
        return np.load(path, mmap_mode="r")
    _predict_loop(model, dataset, result, reverse_complement, device, num_workers, progress)
    result.flush()
    return result


def _predict_loop(model: MFDModel, dataset: WindowBatches, out: np.ndarray, reverse_complement: bool,
                  device: str | None, num_workers: int, progress: bool) -> None:
    from tqdm.auto import tqdm

    from mfd_model.predict import resolve_device

    from .fast_model import inference_model

    device = resolve_device(device)
    model = inference_model(model, device).to(device)
    loader = torch.utils.data.DataLoader(dataset, batch_size=None, shuffle=False, num_workers=num_workers,
                                         persistent_workers=False, worker_init_fn=worker_init_fn())
    with torch.inference_mode():
        for batch in tqdm(loader, desc="mfd predict", unit="batch", disable=not progress, file=sys.stderr):
            p = probabilities_step(model, batch["x"].to(device, non_blocking=True), reverse_complement)
            out[batch["index"].numpy()] = p.float().cpu().numpy()
