"""``score_variants``: VCF + FASTA + model -> scores, streaming, with every record accounted for.

The pipeline, chunk by chunk (a chunk is ``chunk_size`` alleles of consecutive records)::

    VariantWindowDl.chunks()           parse, check, cut windows        (DataLoader workers)
      -> VariantEffectPredictor        trunk in batches, head, scores   (main process / devices)
      -> Outputs.write()               TSV, VCF, Parquet, rejects       (a writer thread)

Reading and window cutting run in ``workers`` background processes (``workers=0``: in the main
process), and formatting and compressing the outputs in a thread, while the model computes
(PyTorch releases the interpreter lock during its kernels). With ``devices`` set, the model part runs under Lightning
(``Trainer.predict``) on that many devices; see :mod:`.parallel`. Memory is bounded by the
chunks in flight, whatever the size of the VCF.
"""
from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ..errors import MFDError
from ..model import MFDModel
from ..outputs import is_stream, refuse_overwriting_inputs
from ..processes import worker_init_fn
from .dataloader import ChunkFailure, SafeChunkStream, VariantWindowDl, identity
from .effects import VariantEffectPredictor
from .score_writers import Outputs, reject_summary
from .scores import SCORES
from .selection import select_experiments
from .windows import VariantChunk

log = logging.getLogger(__name__)


@dataclass
class ScoringOptions:
    """How to score (everything but the files).

    Attributes:
        scores: score names (default ``diff`` + ``biological`` + ``technical`` for MFD models).
        rc_merge: merge of forward and reverse-complement scores, or ``none`` (forward only).
        shifts: offsets of the variant from the window centre to average over (``"-3:3"``, ``[0]``).
        experiments: experiment names to report (default: all).
        select: metadata groups ``column=value`` to report.
        aggregate: aggregations over each group (``mean``, ``max`` ...); empty: per experiment.
        max_allele_length: longer REF / ALT alleles are rejected.
        batch_size: windows per model call (``None``: 64-256 on a CPU by the model's size, 512 on a GPU).
        chunk_size: alleles per chunk (the unit of streaming and of worker hand-off).
        workers: background processes reading the VCF and cutting windows (0: none).
        device: device for the single-process path (``None``: CUDA if available).
        devices: run under Lightning on this many devices (``None``: plain single-process path).
        accelerator: Lightning accelerator (``auto``, ``cpu``, ``gpu``).
        progress: show a progress bar.
        incremental: compute SNV alternatives from the reference's activations (exact; see
            :mod:`mfd_model.local`); ``False`` computes every window in full.
        precision: ``fp32``, ``bf16`` or ``tf32`` (the inference engine's, docs/inference.md).
        compile: ``torch.compile`` the network of the full windows.
    """

    scores: Sequence[str] | None = None
    rc_merge: str = "mean"
    shifts: Any = 0
    experiments: Sequence[str] = ()
    select: Sequence[str] = ()
    aggregate: Sequence[str] = ()
    max_allele_length: int = 50
    batch_size: int | None = None
    chunk_size: int = 512
    workers: int = 1
    device: str | None = None
    devices: int | None = None
    accelerator: str = "auto"
    progress: bool = True
    incremental: bool = True
    precision: str = "fp32"
    compile: bool = False


@dataclass
class ScoringSummary:
    """What a run did. ``alleles == scored + sum(rejected.values())`` always holds."""

    records: int = 0
    alleles: int = 0
    scored: int = 0
    rejected: Counter = field(default_factory=Counter)
    outputs: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, chunk: VariantChunk) -> None:
        self.records += len(chunk.records)
        self.alleles += chunk.n_input_alleles
        self.scored += chunk.n_alleles
        self.rejected.update(chunk.reject_counts())

    @property
    def n_rejected(self) -> int:
        return sum(self.rejected.values())

    def report(self) -> str:
        rate = self.scored / self.seconds if self.seconds > 0 else 0.0
        text = (f"{self.records:,} records, {self.alleles:,} alleles: {self.scored:,} scored, "
                f"{self.n_rejected:,} rejected")
        if self.rejected:
            text += f" ({reject_summary(self.rejected)})"
        return text + f"; {self.seconds:.1f} s ({rate:,.0f} alleles/s)"


def iter_chunks(dl: VariantWindowDl, workers: int = 1) -> Iterator[VariantChunk]:
    """The dataloader's chunks in file order, built by ``workers`` background processes."""
    if workers <= 0:
        yield from dl.chunks()
        return
    import torch.utils.data
    loader = torch.utils.data.DataLoader(SafeChunkStream(dl), batch_size=None, num_workers=workers,
                                         collate_fn=identity, prefetch_factor=2, persistent_workers=False,
                                         worker_init_fn=worker_init_fn())
    for item in loader:
        if isinstance(item, ChunkFailure):
            raise MFDError(item.message, path=item.path, line=item.line, fix=item.fix)
        yield item


class _BackgroundWriter:
    """Writes scored chunks in a thread, so formatting and compression overlap the model.

    At most ``depth`` chunks wait in the queue (bounded memory). An error in the thread is
    raised in the caller at the next :meth:`put` or at :meth:`close`.
    """

    def __init__(self, outputs: Outputs, depth: int = 2) -> None:
        self.outputs = outputs
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="mfd-score-variants-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is None:
                try:
                    self.outputs.write(*item)
                except BaseException as err:  # handed to the caller; keep draining the queue
                    self.error = err

    def put(self, chunk: VariantChunk, values: np.ndarray) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((chunk, values))

    def close(self, check: bool = True) -> None:
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        if check and self.error is not None:
            raise self.error


def _progress(enabled: bool):
    from tqdm.auto import tqdm
    return tqdm(unit=" alleles", unit_scale=True, disable=not enabled, file=sys.stderr, mininterval=1.0,
                desc="scoring variants")


def default_rejects_path(*outputs: str | Path | None) -> Path:
    """``OUT.rejects.tsv`` next to the first output (``OUT.tsv`` -> ``OUT.rejects.tsv``)."""
    first = next(Path(p) for p in outputs if p is not None)
    if is_stream(first):
        raise MFDError("the rejects TSV has no default name when the scores go to a stream", path=first,
                       fix="name it with --rejects FILE (--rejects /dev/null drops it)")
    name = first.name
    for suffix in (".tsv.gz", ".tsv", ".vcf.gz", ".vcf.bgz", ".vcf", ".parquet"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return first.with_name(f"{name}.rejects.tsv")


def score_variants(vcf_file: str | Path, fasta_file: str | Path, model: MFDModel | str | Path | None,
                   tsv: str | Path | None = None, *, vcf_out: str | Path | None = None,
                   parquet_out: str | Path | None = None, rejects: str | Path | None = None,
                   options: ScoringOptions | None = None, dataloader: VariantWindowDl | None = None,
                   header_lines: Sequence[str] = ()) -> ScoringSummary:
    """Score every allele of a VCF and write the outputs.

    Args:
        vcf_file: VCF / VCF.gz / BCF.
        fasta_file: reference FASTA (plain or BGZF).
        model: an :class:`MFDModel`, or anything :func:`mfd_model.model_io.load_model` loads.
        tsv: scores TSV (kipoi-veff2 columns).
        vcf_out: annotated VCF (``.vcf`` or ``.vcf.gz``).
        parquet_out: scores as Parquet.
        rejects: rejects TSV (default: ``<first output>.rejects.tsv``).
        options: how to score.
        dataloader: a :class:`VariantWindowDl` to read from (default: built from the files and
            options; a Kipoi-loaded instance works too).
        header_lines: extra ``##`` lines for the annotated VCF.
    Returns:
        the counts; ``alleles == scored + rejected``.
    """
    options = options or ScoringOptions()
    if tsv is None and vcf_out is None and parquet_out is None:
        raise MFDError("nothing to write", fix="give a TSV, --vcf-out or --parquet-out")
    rejects = rejects if rejects is not None else default_rejects_path(tsv, vcf_out, parquet_out)
    refuse_overwriting_inputs([tsv, vcf_out, parquet_out, rejects], [vcf_file, fasta_file])
    if not isinstance(model, MFDModel):
        from ..model_io import load_model
        model = load_model(model)
    selection = select_experiments(model, options.experiments, options.select, options.aggregate)
    predictor = VariantEffectPredictor(model, options.scores, selection, options.rc_merge,
                                       device=options.device, batch_size=options.batch_size,
                                       incremental=options.incremental, precision=options.precision,
                                       compile=options.compile)
    if dataloader is None:
        dataloader = VariantWindowDl(str(vcf_file), str(fasta_file), seq_len=model.config.seq_len,
                                     shifts=options.shifts, max_allele_length=options.max_allele_length,
                                     chunk_size=options.chunk_size, keep_text=vcf_out is not None)
    elif dataloader.spec.seq_len != model.config.seq_len:
        raise MFDError(f"the dataloader cuts {dataloader.spec.seq_len} bp windows but the model reads "
                       f"{model.config.seq_len} bp", fix=f"use seq_len={model.config.seq_len}")
    if vcf_out is not None and not dataloader.keep_text:
        dataloader.keep_text = True
    meta = [f"##MFD_scoreVariants=<shifts=\"{','.join(map(str, dataloader.spec.shifts))}\","
            f"rc_merge={options.rc_merge},seq_len={dataloader.spec.seq_len},precision={options.precision}>",
            *header_lines]
    outputs = Outputs(tsv=tsv, rejects=rejects, vcf=vcf_out, parquet=parquet_out, header=dataloader.header,
                      columns=predictor.column_names,
                      descriptions={name: s.description for name, s in SCORES.items()}, extra_meta=meta)
    summary = ScoringSummary()
    started = time.perf_counter()
    writer = _BackgroundWriter(outputs)
    chunks = scored_chunks(dataloader, predictor, options)
    try:
        with _progress(options.progress) as bar:
            for chunk, values in chunks:
                writer.put(chunk, values)
                summary.add(chunk)
                bar.update(chunk.n_input_alleles)
        writer.close()
        outputs.commit()
    except BaseException:  # an error, Ctrl-C or SIGTERM: no output appears, the workers end now
        chunks.close()
        writer.close(check=False)
        outputs.abort()
        raise
    summary.seconds = time.perf_counter() - started
    summary.outputs = {name: w.path for name, w in (("tsv", outputs.tsv), ("rejects", outputs.rejects),
                                                    ("vcf", outputs.vcf), ("parquet", outputs.parquet))
                       if w is not None}
    return summary


def scored_chunks(dl: VariantWindowDl, predictor: VariantEffectPredictor,
                  options: ScoringOptions) -> Iterator[tuple[VariantChunk, np.ndarray]]:
    """``(chunk, scores shape=(A, n_columns))`` in file order, on one device or under Lightning."""
    if options.devices is not None:
        try:
            from .parallel import lightning_scored_chunks
        except ImportError:
            raise MFDError("--devices needs Lightning", fix="pip install 'mfd-kipoi[train]', or leave out --devices") from None
        yield from lightning_scored_chunks(dl, predictor, devices=options.devices,
                                           accelerator=options.accelerator, workers=options.workers)
        return
    for chunk in iter_chunks(dl, options.workers):
        yield chunk, predictor.score_chunk(chunk).values
