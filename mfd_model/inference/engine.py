"""The inference engine: windows in, predictions / features out (in the spirit of gReLU's ``predict_on_dataset``).

Every analysis that runs windows through the whole model goes through :class:`Engine`
(``mfd predict``, ``mfd score-variants``' full windows, ``mfd embed``, ``mfd evaluate`` /
``mfd importance``, full ISM, global importance analysis), with one syntax::

    Engine(model, output="probabilities" | "logits" | "features" | func(model, x),
           strand="fwd" | "rc" | "both" | "mean" | "median" | "max" | "min" | "absmax" | "concat",
           shifts=(0,), batch_size=None, device=None, precision="fp32" | "bf16" | "tf32", compile=False)
        .predict(windows)          # windows: a WindowSource, or an array (N, L) codes / (N, 4, L) one-hot

What it owns, in one place:

* **batching** -- ``batch_size`` is the number of model inputs per call: a batch of ``b`` windows is
  run at every shift and on every strand needed in *one* call of ``b * shifts * strands`` inputs
  (:class:`WindowBatches`: ``b = batch_size // (shifts * strands)``, at least 1);
* **strands** -- the reverse complement of every window (codes or one-hot,
  :func:`mfd_model.strands.reverse_complement_windows`), merged with
  :func:`mfd_model.strands.merge_strands`; ``both`` keeps the two, shape=(N, 2, ...) (forward first);
* **shifts** -- each window moved by every shift (the source cuts it, :mod:`.sources`); the outputs
  are averaged over the shifts, per strand, before the strands are merged;
* **device** -- the CPU runs the channels-last rebuild of an :class:`~mfd_model.model.MFDModel`
  (:mod:`.fast_model`, same numbers) for the named outputs; other devices run the model; eval mode
  and ``torch.inference_mode`` for the call (:func:`mfd_model.predict.evaluating_on`);
* **precision** -- ``fp32`` (IEEE float32; on CUDA TF32 is switched off for the call), ``tf32`` (CUDA
  matmuls and convolutions in TF32; a CPU has no TF32 and computes fp32) or ``bf16``
  (``torch.autocast``; outputs returned as float32). Measured deviations from fp32: docs/inference.md;
* **compile** -- ``torch.compile`` of the network, compiled at the first batch; a failure is one
  :class:`~mfd_model.errors.MFDError` line.

The Lightning path (several devices, :mod:`.lightning`) runs the same :meth:`Engine.step` on the
same :class:`WindowBatches`. The local recomputation of single-base changes (fast ISM, the variant
scorer's SNVs) is different work and stays in :mod:`mfd_model.local`; it shares the engine's
precision through :meth:`Engine.precision_context`.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from mfd_model.errors import MFDError
from mfd_model.predict import evaluating_on, resolve_device
from mfd_model.processes import worker_init_fn
from mfd_model.strands import STRAND_MERGES, merge_strands, reverse_complement_windows

from .sources import ArrayWindows, WindowSource

OUTPUTS = ("probabilities", "logits", "features")
STRANDS = ("fwd", "rc", "both", *[m for m in STRAND_MERGES if m not in ("fwd", "rc")])
PRECISIONS = ("fp32", "bf16", "tf32")
CPU_BATCH_SIZE = 64       # narrow convolutions run fastest on batches that stay in cache ...
CPU_MAX_BATCH_SIZE = 256
CPU_ACTIVATION_BYTES = 8 << 20   # ... about this much of one call's widest activation (measured, BENCHMARKS.md)
GPU_BATCH_SIZE = 512

Output = str | Callable[[nn.Module, torch.Tensor], torch.Tensor]


def widest_activation(config: Any) -> int:
    """Values of the trunk's widest activation for one window (a :class:`~mfd_model.config.ModelConfig`):
    the dinucleotide input and the stem at ``seq_len``, each tower convolution at its length."""
    channels = config.tower_channels
    widths = [16 * config.seq_len, channels[0] * config.seq_len]
    widths += [c * (config.seq_len >> (level + 1)) for level, c in enumerate(channels[1:])]
    return max(widths)


def default_batch_size(device: str | torch.device | None, model: nn.Module | None = None) -> int:
    """Model inputs per call: 512 on a GPU; on a CPU 64, or for a model with a ``config``
    (:class:`~mfd_model.model.MFDModel`) the power of two whose widest activation (float32) fills
    :data:`CPU_ACTIVATION_BYTES`, between 64 and 256: 256 for the default model (384 bp, 1.3x the
    variant scorer's speed at 64 on 2 CPU cores), 64 for the paper-sized one (1152 bp, 120 channels)."""
    if resolve_device(device).type != "cpu":
        return GPU_BATCH_SIZE
    config = getattr(model, "config", None)
    if config is None or not hasattr(config, "tower_channels"):
        return CPU_BATCH_SIZE
    fits = max(1, CPU_ACTIVATION_BYTES // (4 * widest_activation(config)))
    return int(min(CPU_MAX_BATCH_SIZE, max(CPU_BATCH_SIZE, 1 << (fits.bit_length() - 1))))


def as_source(windows: WindowSource | np.ndarray | torch.Tensor) -> WindowSource:
    """A :class:`~.sources.WindowSource` as it is; an array or tensor as :class:`~.sources.ArrayWindows`."""
    if isinstance(windows, (np.ndarray, torch.Tensor)):
        return ArrayWindows(windows)
    if not isinstance(windows, WindowSource):
        raise TypeError(f"expected windows as an array or a WindowSource, got {type(windows).__name__}")
    return windows


class WindowBatches(torch.utils.data.Dataset):
    """Batches of ``b`` windows of a source, each at every shift, in the source's order.

    Items are whole batches (use ``DataLoader(batch_size=None)``):
    ``{"index": LongTensor (b,), "x": (S, b, L) codes or (S, b, 4, L) one-hot}`` with ``S = len(shifts)``;
    ``index`` says which windows (rows of the result) the batch holds. Picklable when the source is.
    """

    def __init__(self, source: WindowSource, windows_per_batch: int, shifts: Sequence[int] = (0,)) -> None:
        self.source = source
        self.size = int(windows_per_batch)
        self.shifts = tuple(int(s) for s in shifts)
        order = getattr(source, "order", None)
        self.order = np.arange(len(source), dtype=np.int64) if order is None else np.asarray(order, dtype=np.int64)

    def __len__(self) -> int:
        return -(-len(self.order) // self.size)

    def __getitem__(self, k: int) -> dict[str, torch.Tensor]:
        rows = self.order[k * self.size:(k + 1) * self.size]
        x = torch.stack([torch.as_tensor(self.source.windows(rows, shift)) for shift in self.shifts])
        return {"index": torch.from_numpy(rows), "x": x}


class Engine:
    """Runs a model on windows: batching, device, strands, shifts, precision and compilation (module docstring).

    Args:
        model: an :class:`~mfd_model.model.MFDModel` (or any module for a callable ``output``).
        output: ``probabilities`` (N, O), ``logits`` (N, O), ``features`` (N, latent_dim), or
            ``func(model, x) -> (b, ...)`` (run on the model itself).
        strand: which strands, and how they merge (:data:`STRANDS`).
        shifts: window shifts in bp, averaged over (a source that can cut shifted windows is needed
            for any shift but 0).
        batch_size: model inputs per call (``None``: :func:`default_batch_size`: 64-256 on a CPU by the
            model's size, 512 on a GPU).
        device: where to compute (``None``: CUDA if available).
        precision: ``fp32``, ``bf16`` or ``tf32`` (:data:`PRECISIONS`).
        compile: ``torch.compile`` the network.
    """

    def __init__(self, model: nn.Module, *, output: Output = "probabilities", strand: str = "fwd",
                 shifts: Sequence[int] = (0,), batch_size: int | None = None,
                 device: str | torch.device | None = None, precision: str = "fp32", compile: bool = False) -> None:
        if not callable(output) and output not in OUTPUTS:
            raise MFDError(f"unknown output {output!r}", fix=f"use one of: {', '.join(OUTPUTS)}, or a function")
        if strand not in STRANDS:
            raise MFDError(f"unknown strand choice {strand!r}", fix=f"use one of: {', '.join(STRANDS)}")
        if precision not in PRECISIONS:
            raise MFDError(f"unknown precision {precision!r}", fix=f"use one of: {', '.join(PRECISIONS)}")
        shifts = tuple(int(s) for s in shifts)
        if not shifts:
            raise MFDError("no window shift given", fix="use shifts=(0,) for the windows as they are")
        self.device = resolve_device(device)
        if batch_size is not None and int(batch_size) < 1:
            raise MFDError(f"batch size must be >= 1, got {batch_size}", fix="pass a batch size of 1 or more")
        self.model = model
        self.output = output
        self.strand = strand
        self.shifts = shifts
        self.batch_size = int(batch_size or default_batch_size(self.device, model))
        self.precision = precision
        self.compile = bool(compile)
        self.strands = ("fwd",) if strand == "fwd" else ("rc",) if strand == "rc" else ("fwd", "rc")
        self._net: nn.Module | None = None
        self._fn: Callable[[torch.Tensor], torch.Tensor] | None = None
        self._checked = False

    # ------------------------------------------------------------------ set-up
    def on(self, device: str | torch.device) -> "Engine":
        """The same engine on another device (a Lightning process's)."""
        return Engine(self.model, output=self.output, strand=self.strand, shifts=self.shifts,
                      batch_size=self.batch_size, device=device, precision=self.precision, compile=self.compile)

    def __getstate__(self) -> dict[str, Any]:  # the network is rebuilt where the engine runs
        return {**self.__dict__, "_net": None, "_fn": None, "_checked": False}

    @property
    def net(self) -> nn.Module:
        """The module that runs: the channels-last rebuild on a CPU (named outputs), else the model."""
        if self._net is None:
            if callable(self.output):
                self._net = self.model
            else:
                from .fast_model import inference_model
                self._net = inference_model(self.model, self.device)
        return self._net

    @property
    def windows_per_batch(self) -> int:
        """Windows per model call: ``batch_size`` inputs shared by every shift and strand."""
        return max(1, self.batch_size // (len(self.shifts) * len(self.strands)))

    def _function(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """``x (B, ...) -> outputs (B, ...)`` on the network, compiled if asked."""
        if self._fn is None:
            net, output = self.net, self.output
            if callable(output):
                fn = lambda x: output(net, x)  # noqa: E731
            elif output == "probabilities":
                fn = net
            else:
                fn = getattr(net, output)
            if self.compile:
                try:
                    fn = torch.compile(fn)
                except Exception as err:  # e.g. no compiler back end for this platform / Python
                    raise _compile_error(err, self.device) from None
            self._fn = fn
        return self._fn

    @contextlib.contextmanager
    def precision_context(self) -> Iterator[None]:
        """For the block: this engine's precision on its device (autocast for bf16; TF32 on or off on CUDA)."""
        if self.precision == "bf16":
            with torch.autocast(self.device.type, dtype=torch.bfloat16):
                yield
            return
        if self.device.type != "cuda":  # a CPU has no TF32: fp32 and tf32 both compute in fp32
            yield
            return
        allow = self.precision == "tf32"
        saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = allow
        try:
            yield
        finally:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved

    # ------------------------------------------------------------------ one batch
    def step(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs of one batch of windows at every shift: one model call, shifts averaged, strands merged.

        Args:
            x: shape=(S, b, L) base codes or (S, b, 4, L) one-hot, ``S = len(shifts)``
                (:class:`WindowBatches`' ``x``).
        Returns:
            torch.Tensor on the engine's device, shape=(b, ...) as the output gives (``both``:
            (b, 2, ...); ``concat``: the last axis twice as long); float32 for ``bf16``.
        """
        S, b = x.shape[0], x.shape[1]
        x = x.to(self.device, non_blocking=True).flatten(0, 1)                     # (S b, ...)
        inputs = [x if strand == "fwd" else reverse_complement_windows(x) for strand in self.strands]
        batch = inputs[0] if len(inputs) == 1 else torch.cat(inputs)
        fn = self._function()
        with self.precision_context():
            if self._checked or not self.compile:
                y = fn(batch)
            else:
                try:
                    y = fn(batch)
                except Exception as err:
                    raise _compile_error(err, self.device) from None
        self._checked = True
        if y.dtype in (torch.bfloat16, torch.float16):
            y = y.float()
        y = y.reshape(len(self.strands), S, b, *y.shape[1:])
        per_strand = y[:, 0] if S == 1 else y.mean(dim=1)                          # (strands, b, ...)
        if self.strand == "both":
            return per_strand.transpose(0, 1)
        if len(self.strands) == 1:
            return per_strand[0]
        return merge_strands(per_strand[0], per_strand[1], self.strand)

    # ------------------------------------------------------------------ a data set
    def output_shape(self) -> tuple[int, ...] | None:
        """The shape of one window's result for a named output (``None`` for a function)."""
        if callable(self.output):
            return None
        width = self.model.config.latent_dim if self.output == "features" else self.model.n_experiments
        if self.strand == "both":
            return (2, width)
        return (2 * width,) if self.strand == "concat" else (width,)

    def batches(self, windows: WindowSource | np.ndarray | torch.Tensor) -> WindowBatches:
        """The :class:`WindowBatches` of ``windows`` this engine runs."""
        return WindowBatches(as_source(windows), self.windows_per_batch, self.shifts)

    def predict(self, windows: WindowSource | np.ndarray | torch.Tensor, *, out: np.ndarray | None = None,
                num_workers: int = 0, progress: bool = False, desc: str = "predicting") -> np.ndarray:
        """The output of every window.

        Args:
            windows: a :class:`~.sources.WindowSource`, or windows in memory: base codes shape=(N, L)
                (integers; 0..3 = ACGT, else N) or one-hot DNA shape=(N, 4, L).
            out: where to write (e.g. a memory-mapped ``.npy``), shape=(N, ...) (default: a new array).
            num_workers: DataLoader processes that cut the windows (0: in this process).
            progress: a progress bar (on stderr).
        Returns:
            np.ndarray, shape=(N, ...) (see :meth:`step`), row ``i`` for window ``i``.
        """
        from tqdm.auto import tqdm

        dataset = self.batches(windows)
        n = len(dataset.source)
        if num_workers > 0:
            batches = torch.utils.data.DataLoader(dataset, batch_size=None, shuffle=False, num_workers=num_workers,
                                                  worker_init_fn=worker_init_fn())
        else:
            batches = (dataset[k] for k in range(len(dataset)))
        net = self.net
        with evaluating_on(net, self.device):
            for batch in tqdm(batches, total=len(dataset), desc=desc, unit="batch", disable=not progress,
                              file=sys.stderr):
                y = self.step(batch["x"])
                if out is None:
                    out = np.empty((n, *y.shape[1:]), dtype=_numpy_dtype(y.dtype))
                out[batch["index"].numpy()] = y.cpu().numpy()
        if out is None:  # no window
            shape = self.output_shape() or (0,)
            out = np.empty((0, *shape), dtype=np.float32)
        return out


def predict_windows(model: nn.Module, windows: WindowSource | np.ndarray | torch.Tensor, *,
                    output: Output = "probabilities", strand: str = "fwd", shifts: Sequence[int] = (0,),
                    batch_size: int | None = None, device: str | torch.device | None = None,
                    precision: str = "fp32", compile: bool = False, num_workers: int = 0,
                    progress: bool = False, out: np.ndarray | None = None, desc: str = "predicting") -> np.ndarray:
    """``Engine(model, ...).predict(windows, ...)`` in one call (arguments as there).

    Returns:
        np.ndarray, shape=(N, ...): per window, the output averaged over the shifts, strands merged.
    """
    engine = Engine(model, output=output, strand=strand, shifts=shifts, batch_size=batch_size, device=device,
                    precision=precision, compile=compile)
    return engine.predict(windows, out=out, num_workers=num_workers, progress=progress, desc=desc)


def _numpy_dtype(dtype: torch.dtype) -> np.dtype:
    return torch.empty(0, dtype=dtype).numpy().dtype


def _compile_error(err: BaseException, device: torch.device) -> MFDError:
    """``torch.compile`` failing (no C++ compiler, an unsupported platform ...) as one line."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    detail = lines[0] if lines else type(err).__name__
    return MFDError(f"torch.compile failed on {device.type}: {type(err).__name__}: {detail[:300]}",
                    fix="leave out --compile (compiling needs a working C++ compiler on a CPU, Triton on a GPU)")
