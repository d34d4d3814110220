"""The model calls of variant scoring: windows -> latent features -> shift-averaged predictions.

For a chunk of alleles (see :mod:`.windows`) this module

1. runs the trunk once per distinct window -- the reference windows of a site are computed once
   for all its ALTs, on the inference engine's network (:attr:`Engine.net`, on a CPU the
   channels-last rebuild), keeping the activations from which SNV / short-MNV alternatives are
   recomputed locally (:mod:`mfd_model.local`); every other window (indels, ``incremental=False``)
   runs in the inference engine (:class:`mfd_model.inference.engine.Engine`, both strands in one call);
   sequences arrive as int8 base indices and are turned into the model's dinucleotide input on
   the device, vectorised;
2. applies the output layer ``logit = s_bio . w_bio + s_tech . w_tech + b`` (``W, b`` =
   :meth:`MFDModel.experiment_weights`, restricted to the selected experiments, in float64) to
   the latent features of ref and alt, and to the swapped pairs ``[bio(alt), tech(ref)]``
   (biological) and ``[bio(ref), tech(alt)]`` (technical) -- the paper's definition;
3. averages the probabilities over the shifts, per strand, and takes their logits stably
   (``logsumexp`` of log-sigmoids, so a saturated prediction never gives ``inf``);
4. turns them into the requested :mod:`.scores` and output columns (:mod:`.selection`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..encoding import dinucleotides_from_codes, reverse_complement_codes
from ..inference.engine import Engine, default_batch_size
from ..local import LocalTrunk, supported
from ..model import MFDModel
from ..predict import evaluating_on, resolve_device
from .scores import Predictions, Score, check_scores, default_scores, merge_strands
from .selection import ExperimentSelection, select_experiments
from .windows import VariantChunk

KINDS = ("ref", "alt", "bio", "tech")
NARROW = 16  # alternatives changing at most this many consecutive bases are recomputed locally


@dataclass(frozen=True)
class ChunkScores:
    """Scores of one chunk.

    Attributes:
        index: the chunk's number.
        values: shape=(A, n_scores * n_columns), score-major (all columns of the first score,
            then of the second, ...), float64.
    """

    index: int
    values: np.ndarray


class VariantEffectPredictor:
    """Scores variant chunks with a model.

    Args:
        model: the MFD (or baseline) model.
        scores: score names (default: ``diff`` + ``biological`` + ``technical`` for MFD).
        selection: experiments and output columns (default: every experiment).
        rc_merge: how to merge the strands (``none``: forward strand only).
        device: where the trunk runs (``None``: CUDA if available).
        batch_size: windows per trunk call (``None``: the engine's :func:`~mfd_model.inference.engine.default_batch_size`:
            64-256 on a CPU by the model's size, where larger batches fall out of cache, 512 on a GPU).
        incremental: compute SNV and short-MNV alternatives from the reference's activations
            (:mod:`mfd_model.local`, the engine of fast ISM too; exact up to float rounding, most of an
            SNV's alternative work saved); ``False`` runs every window in full. Ignored for trunks it
            does not support.
        precision: ``fp32``, ``bf16`` or ``tf32`` (:class:`~mfd_model.inference.engine.Engine`), for the
            full windows and the local recomputation alike.
        compile: ``torch.compile`` the network that computes full windows.

    The model is put in eval mode and moved to ``device``.
    """

    def __init__(self, model: MFDModel, scores: Sequence[str] | None = None,
                 selection: ExperimentSelection | None = None, rc_merge: str = "mean",
                 device: str | torch.device | None = None, batch_size: int | None = None,
                 incremental: bool = True, precision: str = "fp32", compile: bool = False) -> None:
        self.model = model.eval()
        self._device = resolve_device(device)
        self.model.to(self._device)
        self.precision, self.compile = precision, bool(compile)
        self.scores: list[Score] = check_scores(list(scores or default_scores(model.is_mfd)), model.is_mfd)
        merge_strands(np.zeros((0, 2, 0)), rc_merge)  # an unknown merge fails now, not at the first chunk
        self.rc_merge = rc_merge
        self.selection = selection or select_experiments(model)
        self.batch_size = int(batch_size or default_batch_size(self._device, model))
        needed = {kind for score in self.scores for kind in score.kinds}
        self.logits_needed = any(score.logit for score in self.scores)
        self.kinds = tuple(k for k in KINDS if k in needed)
        with torch.no_grad():
            weight, bias = model.experiment_weights()
            index = torch.as_tensor(self.selection.indices)
            self.weight = weight.detach().to("cpu", torch.float64)[index]  # (E, latent)
            self.bias = bias.detach().to("cpu", torch.float64)[index]      # (E,)
        self.half = model.config.half_dim if model.is_mfd else None
        self.latent_dim = model.config.latent_dim
        self.dtype = next(model.parameters(), torch.empty(0)).dtype
        self.incremental = bool(incremental) and supported(model)
        self.engine = self._engine()

    def _engine(self) -> Engine:
        """The inference engine of the full windows: latent features of both strands (or the forward)."""
        return Engine(self.model, output="features", strand="both" if self.rc_merge != "none" else "fwd",
                      batch_size=self.batch_size, device=self._device, precision=self.precision,
                      compile=self.compile)

    @property
    def device(self) -> torch.device:
        return self._device

    @device.setter
    def device(self, device: str | torch.device) -> None:
        """Move to ``device`` (a Lightning process's): the model and the engine."""
        self._device = resolve_device(device)
        self.model.to(self._device)
        self.engine = self._engine()

    @property
    def strands(self) -> int:
        return 1 if self.rc_merge == "none" else 2

    @property
    def column_names(self) -> list[tuple[str, str]]:
        """``(label, score)`` per output column, in output order."""
        return [(label, score.name) for score in self.scores for label in self.selection.labels]

    # ------------------------------------------------------------------ model calls
    def features(self, windows: np.ndarray) -> torch.Tensor:
        """Latent features of base-index windows on every strand (the inference engine).

        Args:
            windows: shape=(N, L), int8.
        Returns:
            torch.Tensor, shape=(N, S, latent_dim), float64 on the CPU.
        """
        out = torch.from_numpy(self.engine.predict(np.ascontiguousarray(windows))).to(torch.float64)
        return out.reshape(windows.shape[0], self.strands, -1)

    def _logit_parts(self, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(s_bio . w_bio, s_tech . w_tech)`` (MFD) or ``(s . w, None)``; shapes (..., E)."""
        if self.half is None:
            return feats @ self.weight.T, None
        h = self.half
        return feats[..., :h] @ self.weight[:, :h].T, feats[..., h:] @ self.weight[:, h:].T

    def predictions(self, chunk: VariantChunk, alleles: slice | None = None,
                    features: tuple[torch.Tensor, torch.Tensor] | None = None) -> Predictions:
        """Shift-averaged probabilities and logits per strand for the chunk's alleles.

        Returns:
            :class:`~.scores.Predictions` with arrays shape=(A, S, E) for each needed kind (logits only
            when a requested score reads them).
        """
        ref_feats, alt_feats = features if features is not None else self._chunk_features(chunk)
        alleles = alleles or slice(0, chunk.n_alleles)
        rows = chunk.ref_row[alleles]                                  # (a, K)
        ref_bio, ref_tech = self._logit_parts(ref_feats[torch.as_tensor(rows)])   # (a, K, S, E)
        alt_bio, alt_tech = self._logit_parts(alt_feats[alleles])                 # (a, K, S, E)
        b = self.bias
        if ref_tech is None:
            logits = {"ref": ref_bio + b, "alt": alt_bio + b}
        else:
            logits = {"ref": ref_bio + ref_tech + b, "alt": alt_bio + alt_tech + b,
                      "bio": alt_bio + ref_tech + b, "tech": ref_bio + alt_tech + b}
        prob, logit = {}, {}
        for kind in self.kinds:
            z = logits[kind]                                           # shifts on dim 1
            prob[kind] = torch.sigmoid(z).mean(dim=1).numpy()
            if self.logits_needed:
                logit[kind] = (torch.logsumexp(torch.nn.functional.logsigmoid(z), dim=1)
                               - torch.logsumexp(torch.nn.functional.logsigmoid(-z), dim=1)).numpy()
        return Predictions(prob, logit)

    def _chunk_features(self, chunk: VariantChunk) -> tuple[torch.Tensor, torch.Tensor]:
        """Features of the distinct reference windows (R, S, D) and of the alternatives (A, K, S, D)."""
        if self.incremental:
            return self._chunk_features_incremental(chunk)
        A, K, L = chunk.alt_windows.shape
        feats = self.features(np.concatenate([chunk.ref_windows, chunk.alt_windows.reshape(A * K, L)]))
        R = chunk.ref_windows.shape[0]
        return feats[:R], feats[R:].reshape(A, K, self.strands, -1)

    def _chunk_features_incremental(self, chunk: VariantChunk) -> tuple[torch.Tensor, torch.Tensor]:
        """As :meth:`_chunk_features`, computing SNV / short-MNV alternatives locally (:mod:`mfd_model.local`):
        each group (one shift, a batch of reference windows) as its changed dinucleotide window.

        Alternatives whose change spans more than ``NARROW`` positions (indels shift the rest of
        the window) are computed in full, batched with each other.
        """
        A, K, L = chunk.alt_windows.shape
        R = chunk.ref_windows.shape[0]
        changed = chunk.alt_windows != chunk.ref_windows[chunk.ref_row]          # (A, K, L)
        touched = changed.any(axis=-1)
        first = np.where(touched, changed.argmax(axis=-1), 0)
        last = np.where(touched, L - 1 - changed[..., ::-1].argmax(axis=-1), 0)
        narrow = last - first < NARROW
        ref_feats = torch.empty((R, self.strands, self.latent_dim), dtype=torch.float64)
        alt_feats = torch.empty((A, K, self.strands, self.latent_dim), dtype=torch.float64)
        wide = np.argwhere(~narrow)
        if len(wide):
            alt_feats[wide[:, 0], wide[:, 1]] = self.features(chunk.alt_windows[wide[:, 0], wide[:, 1]])
        local = LocalTrunk(self.model, net=self.engine.net)   # reference activations on the engine's network
        with evaluating_on(self.model, self.device), self.engine.precision_context():
            for strand in range(self.strands):
                refs = chunk.ref_windows if strand == 0 else reverse_complement_codes(chunk.ref_windows)
                for r0 in range(0, R, self.batch_size):
                    r1 = min(R, r0 + self.batch_size)
                    x = torch.from_numpy(np.ascontiguousarray(refs[r0:r1])).to(self.device)
                    ref_feats[r0:r1, strand] = local.set_reference_dinucleotides(
                        dinucleotides_from_codes(x, self.dtype)).to("cpu", torch.float64)
                    in_batch = narrow & (chunk.ref_row >= r0) & (chunk.ref_row < r1)
                    for k in range(K):
                        alleles = np.nonzero(in_batch[:, k])[0]
                        if len(alleles):
                            rows, lo16, values = self._changes(chunk, alleles, k, strand, first, last, r0)
                            alt_feats[alleles, k, strand] = local.features_of_changes(
                                rows.to(self.device), values.to(self.device), lo16).to("cpu", torch.float64)
        return ref_feats, alt_feats

    def _changes(self, chunk: VariantChunk, alleles: np.ndarray, k: int, strand: int, first: np.ndarray,
                 last: np.ndarray, r0: int) -> tuple[torch.Tensor, int, torch.Tensor]:
        """The changed dinucleotide window of alternatives ``alleles`` at shift ``k`` on ``strand``.

        Args:
            alleles: allele indices, shape=(a,), whose reference windows are rows ``>= r0`` of the chunk.
            first, last: first and last base where each alternative differs from its reference,
                shape=(A, K) (forward strand).
        Returns:
            ``(rows, lo, values)``: each allele's reference row minus ``r0`` shape=(a,), the window's first
            position, and the alternatives' dinucleotides on ``[lo, lo + w)`` shape=(a, 16, w), ``w`` covering
            every 2-mer that touches a changed base of any of them.
        """
        L = chunk.alt_windows.shape[2]
        lo, hi = int(first[alleles, k].min()), int(last[alleles, k].max()) + 1   # bases that differ
        alts = chunk.alt_windows[alleles, k]
        if strand == 1:
            alts, (lo, hi) = reverse_complement_codes(alts), (L - hi, L - lo)
        lo16, hi16 = max(0, lo - 1), hi                    # 2-mers touching a changed base
        window = np.full((len(alleles), hi16 - lo16 + 1), -1, dtype=np.int8)
        take = alts[:, lo16:hi16 + 1]
        window[:, :take.shape[1]] = take
        values = dinucleotides_from_codes(torch.from_numpy(window), self.dtype)[:, :, :hi16 - lo16]
        return torch.from_numpy(chunk.ref_row[alleles, k] - r0).long(), lo16, values

    # ------------------------------------------------------------------ scores
    def score_chunk(self, chunk: VariantChunk) -> ChunkScores:
        """All requested scores of a chunk's alleles, shape=(A, n_scores * n_columns)."""
        A = chunk.n_alleles
        n_cols = self.selection.n_columns
        out = np.empty((A, len(self.scores) * n_cols), dtype=np.float64)
        if A == 0:
            return ChunkScores(chunk.index, out)
        features = self._chunk_features(chunk)
        K = chunk.ref_row.shape[1]
        step = max(1, (1 << 21) // max(1, K * self.strands * len(self.selection.indices)))
        for start in range(0, A, step):
            part = slice(start, min(A, start + step))
            preds = self.predictions(chunk, part, features)
            for s, score in enumerate(self.scores):
                out[part, s * n_cols:(s + 1) * n_cols] = self.selection.reduce(score.compute(preds, self.rc_merge))
        return ChunkScores(chunk.index, out)
