"""``mfd predict``: BED (+ FASTA) -> per-experiment probabilities, the fast path (same numbers as Kipoi).

    mfd predict peaks.bed hg38.fa predictions.tsv                  # the default model
    mfd predict peaks.bed hg38.fa predictions.parquet -m run/model.pt --rc
    mfd predict big.bed hg38.fa predictions.h5 --devices 4         # Lightning, one process per device

Each interval is resized around its centre to the model's window, as kipoiseq's
``auto_resize_len`` does. Intervals on contigs the FASTA lacks, or whose window runs off a
contig end (unless --pad), are skipped, counted and reported.
"""
from __future__ import annotations

import argparse

from . import analysis_args as common

OUTPUTS = ("out",)  # the arguments that name what it writes (never one of its inputs)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bed", help="intervals: BED / narrowPeak / broadPeak (plain or gzip)")
    parser.add_argument("fasta", help="reference FASTA (plain or BGZF), same build and contig names as the BED")
    parser.add_argument("out", help="output: .tsv / .tsv.gz, .parquet or .h5 (chosen by the extension)")
    parser.add_argument("-m", "--model", help="model: .pt, .ckpt or a Kipoi model folder (default: the packaged "
                                              "default model)")
    parser.add_argument("--batch-size", type=int, help="model inputs per call (default 64-256 on the CPU by the model's size, 512 on a GPU; "
                                                        "with --rc half of them are the reverse strands)")
    parser.add_argument("--rc", action="store_true", help="average with the reverse-complement prediction")
    parser.add_argument("--pad", action="store_true",
                        help="score windows that run off a contig end, padded with N (default: skip and report)")
    parser.add_argument("--device", help="device for single-process prediction (default: cuda if available, else cpu)")
    parser.add_argument("--devices", type=int, default=1,
                        help="predict with Lightning on this many devices (processes; GPUs when available)")
    parser.add_argument("--lightning", action="store_true", help="use the Lightning path even with --devices 1")
    parser.add_argument("--workers", type=int, default=0, help="data-loading worker processes (default 0)")
    common.add_engine_arguments(parser)
    common.add_threads_argument(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    import sys
    import tempfile
    from pathlib import Path

    from ..errors import MFDError
    from ..inference.prediction_tables import output_format, write_predictions
    from ..inference.intervals import predict_intervals
    from ..model_io import load_model
    from ..outputs import is_stream
    from ..predict import resolve_device

    out = Path(args.out)
    output_format(out)  # fail on a bad extension before any work
    if args.workers < 0:
        raise MFDError(f"--workers must be >= 0, got {args.workers}", fix="pass --workers 0 or more")
    if args.device is not None:
        resolve_device(args.device)  # a device this machine lacks fails now, before any work
    model = load_model(args.model)
    out.parent.mkdir(parents=True, exist_ok=True)
    # the memory-mapped result lives next to the output (same disk), or in the temporary folder for a stream
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=None if is_stream(out) else out.parent) as workdir:
        result = predict_intervals(model, args.bed, args.fasta, batch_size=args.batch_size,
                                   reverse_complement=args.rc, pad=args.pad, device=args.device,
                                   devices=args.devices, use_lightning=args.lightning, num_workers=args.workers,
                                   precision=args.precision, compile=args.compile,
                                   progress=not args.no_progress, workdir=workdir)
        attributes = {"model": str(args.model or "default"), "reverse_complement_averaged": bool(args.rc),
                      "precision": args.precision,
                      "seq_len": model.config.seq_len,
                      **{f"info.{k}": v for k, v in model.info.items()}}
        write_predictions(out, result.intervals, result.probabilities, result.experiments, attributes)
    print(f"wrote {out}: {len(result.intervals):,} intervals x {len(result.experiments):,} experiments",
          file=sys.stderr)
    return 0
