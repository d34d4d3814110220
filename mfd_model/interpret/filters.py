"""First-layer filters as motifs (``mfd motifs filters``; the review's "explaining model components").

Filter-to-PWM (DeepBind, Basset, DanQ): run sequences through the first convolution, keep every
position where a filter's activation passes a threshold (a fraction of its largest activation
over the data set), cut out the input subsequence that the filter reads there, align them and
count bases into a PWM (:func:`filter_pwms`).

MFD's first layer reads **dinucleotides**: a stem filter of width ``k`` at position ``i``
reads the 2-mers starting at ``i - left .. i - left + k - 1`` (``left = (k - 1) // 2``), i.e.
the ``k + 1`` bases ``x[i - left : i - left + k + 1]``. Those ``k + 1``-base windows of the
4-letter sequence are what is aligned, so the PWMs are ordinary ACGT matrices.

:func:`filter_motifs` is the analysis of ``mfd motifs filters``: the PWMs of the filters with
enough sites over a set of windows, each matched to the most similar known motif; the
:class:`FilterMotifs` it returns writes itself (MEME file, logos, table).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from ..encoding import dinucleotide_encode
from ..errors import MFDError
from ..model import MFDModel
from ..predict import predict
from .motifs import Motif, match_motifs
from .windows import Windows


def first_layer(model: MFDModel) -> torch.nn.Conv1d:
    """The first convolution of the trunk (reads dinucleotides, 16 channels)."""
    conv = model.trunk.stem[0]
    if not isinstance(conv, torch.nn.Conv1d):
        raise TypeError(f"the trunk's first module is {type(conv).__name__}, not Conv1d")
    return conv


def filter_activations(model: MFDModel, X: np.ndarray | torch.Tensor, *, batch_size: int = 128,
                       device: str | None = None) -> torch.Tensor:
    """First-layer activations (the convolution's output, before any non-linearity).

    Args:
        X: one-hot DNA, shape=(N, 4, L).
    Returns:
        torch.Tensor, shape=(N, F, L).
    """
    conv = first_layer(model)
    return predict(model, torch.as_tensor(X, dtype=torch.float32), batch_size=batch_size, device=device,
                   func=lambda m, x: conv(dinucleotide_encode(x.to(conv.weight.dtype))))


def filter_pwms(model: MFDModel, X: np.ndarray | torch.Tensor, *, threshold: float = 0.5,
                pseudocount: float = 0.0, batch_size: int = 128, device: str | None = None,
                filters: Sequence[int] | None = None) -> list[Motif]:
    """PWMs of the first-layer filters from activation-thresholded aligned subsequences.

    Args:
        X: one-hot DNA sequences to scan (e.g. test-set or peak windows), shape=(N, 4, L).
        threshold: a position counts for filter ``f`` when its activation exceeds
            ``threshold * max activation of f over X`` (Basset: 0.5). Filters whose maximum
            is not positive give no sites.
        pseudocount: added to every count before normalising.
        filters: which filters (default all).
    Returns:
        one :class:`Motif` per filter, ``k + 1`` bases wide (``name`` = ``filter_<f>``,
        ``info`` with ``max_activation`` and ``threshold``); a filter without sites has a
        uniform PWM and ``n_sites = 0``.
    """
    conv = first_layer(model)
    k = conv.kernel_size[0]
    left = (k - 1) // 2 if conv.padding == "same" else conv.padding[0]
    width = k + 1
    X = torch.as_tensor(X, dtype=torch.float32)
    chosen = list(range(conv.out_channels)) if filters is None else list(filters)
    # pass 1: each filter's largest activation over the data set
    maxima = predict(model, X, batch_size=batch_size, device=device,
                     func=lambda m, x: conv(dinucleotide_encode(x.to(conv.weight.dtype))).amax(dim=2)).amax(dim=0)
    cut = torch.where(maxima > 0, threshold * maxima, torch.full_like(maxima, float("inf")))[chosen]

    # pass 2: count bases of the (k + 1)-base windows at thresholded positions
    def counts(m: MFDModel, x: torch.Tensor) -> torch.Tensor:
        act = conv(dinucleotide_encode(x.to(conv.weight.dtype)))[:, chosen]        # (B, F, L)
        mask = (act > cut.to(act.device)[None, :, None]).to(x.dtype)              # (B, F, L)
        padded = torch.nn.functional.pad(x, (left, width - left))                 # (B, 4, L + width)
        windows = padded.unfold(2, width, 1)[:, :, : x.shape[2]]                  # (B, 4, L, width)
        flat = windows.permute(0, 2, 1, 3).reshape(-1, 4 * width)                 # (B*L, 4*width)
        summed = mask.permute(1, 0, 2).reshape(len(chosen), -1) @ flat            # (F, 4*width)
        return torch.cat([summed, mask.sum(dim=(0, 2))[:, None]], dim=1)[None]    # (1, F, 4*width + 1)

    summed = predict(model, X, batch_size=batch_size, device=device, func=counts).sum(dim=0).double().numpy()
    total = summed[:, :-1].reshape(len(chosen), 4, width)
    n_sites = summed[:, -1]
    motifs = []
    for j, f in enumerate(chosen):
        count = total[j].T                                                         # (width, 4)
        smoothed = count + pseudocount
        sums = smoothed.sum(axis=1, keepdims=True)
        pwm = np.where(sums > 0, smoothed / np.where(sums > 0, sums, 1), 0.25)
        motifs.append(Motif(f"filter_{f}", pwm, int(n_sites[j]), count,
                            {"max_activation": float(maxima[f]), "threshold": float(cut[j])}))
    return motifs


# ============================================================================ mfd motifs filters
@dataclass
class FilterMotifs:
    """The result of :func:`filter_motifs`; :meth:`write` writes it.

    Attributes:
        motifs: one :class:`~.motifs.Motif` per first-layer filter (:func:`filter_pwms`).
        kept: the filters with at least ``min_sites`` sites, most sites first.
        table: one row per kept filter: its best match among the known motifs
            (:func:`~.motifs.match_motifs`: query, n_sites, consensus, best_match, similarity, offset,
            strand; best first) or, without known motifs, query, n_sites, consensus, information_bits.
        n_windows: the windows scanned; window_summary: their :meth:`~.windows.Windows.skip_summary`.
        min_sites: the fewest sites of a kept filter.
    """

    motifs: list[Motif]
    kept: list[Motif]
    table: pd.DataFrame
    n_windows: int
    window_summary: str
    min_sites: int = 10

    def summary(self) -> str:
        """``"kept 16 of 17 intervals; ...; 3 of 4 filters have >= 10 sites"``."""
        return f"{self.window_summary}; {len(self.kept)} of {len(self.motifs)} filters have >= {self.min_sites} sites"

    def write(self, path: str | Path) -> list[Path]:
        """The kept filters' PWMs as MEME file ``path``, their logos ``path.png`` and the table ``path.tsv``
        (each atomically).

        Raises:
            MFDError: no filter has ``min_sites`` sites (nothing is written).
        """
        from ..outputs import atomic_path
        from .motifs import write_meme
        from .plots import plot_motif_logos

        path = Path(path)
        if not self.kept:
            raise MFDError("no filter reached --min-sites; nothing written", path=path,
                           fix="scan more sequences (--max-sequences) or lower --min-sites / --threshold")
        written = [write_meme(self.kept, path),
                   plot_motif_logos(self.kept, path.with_suffix(".png"),
                                    title=f"first-layer filters ({self.n_windows} sequences)")]
        with atomic_path(path.with_suffix(".tsv")) as tmp:
            self.table.to_csv(tmp, sep="\t", index=False, float_format="%.4g")
        return [*written, path.with_suffix(".tsv")]


def filter_motifs(model: MFDModel, windows: Windows, *, threshold: float = 0.5, min_sites: int = 10,
                  known: Sequence[Motif] | None = None, batch_size: int = 128,
                  device: str | None = None) -> FilterMotifs:
    """The first-layer filters of ``model`` as PWMs over ``windows``, those with ``min_sites`` sites kept.

    Args:
        windows: the windows to scan (e.g. peaks), read as one-hot (N, 4, seq_len).
        threshold: a site of a filter: activation above ``threshold`` x its maximum (:func:`filter_pwms`).
        min_sites: kept filters have at least this many sites.
        known: motifs to match each kept filter against (e.g. the planted ``truth/motifs.meme``).
    Returns:
        :class:`FilterMotifs`.
    """
    motifs = filter_pwms(model, windows.one_hot(), threshold=threshold, batch_size=batch_size, device=device)
    kept = sorted((m for m in motifs if m.n_sites >= min_sites), key=lambda m: -m.n_sites)
    if not kept:
        table = pd.DataFrame()
    elif known:
        table = match_motifs(kept, known)
    else:
        table = pd.DataFrame([{"query": m.name, "n_sites": m.n_sites, "consensus": m.consensus,
                               "information_bits": float(m.information().sum())} for m in kept])
    return FilterMotifs(motifs, kept, table, len(windows), windows.skip_summary(), min_sites)
