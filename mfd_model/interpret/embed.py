"""Sequence embeddings: the biological, technical and full latent features of intervals.

Paper section 3.2: every sequence is encoded forward and reverse-complemented and the two
feature vectors are concatenated (``strand="concat"``: ``C`` features per subspace instead of
``C/2``); the original code averaged them (``strand="mean"``). Both are offered, plus either
strand alone. Optional shift averaging (the window moved by a few bp, features averaged)
smooths the dependence on the exact window position, as the paper does for variant effects.

Feature sets are always ``full = [bio | tech]``; with ``concat`` each half holds its forward
then reverse-complement features: ``bio = [bio_fwd, bio_rc]``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
import torch

from ..errors import MFDError
from ..model import MFDModel
from ..inference.engine import predict_windows
from ..inference.sources import GenomeWindows
from ..strands import merge_strands
from .windows import Windows

FEATURE_SETS = ("bio", "tech", "full")
STRAND_MODES = ("fwd", "rc", "mean", "concat")
FeatureSet = Literal["bio", "tech", "full"]
StrandMode = Literal["fwd", "rc", "mean", "concat"]


def check_feature_sets(model: MFDModel, feature_sets: Sequence[str]) -> list[str]:
    """Validate feature-set names against the model (a baseline model only has ``full``)."""
    sets = list(dict.fromkeys(feature_sets))
    for name in sets:
        if name not in FEATURE_SETS:
            raise MFDError(f"unknown feature set {name!r}", fix=f"use any of {', '.join(FEATURE_SETS)}")
    if not model.is_mfd and set(sets) - {"full"}:
        raise MFDError("a baseline model has no biological/technical subspaces: only the 'full' feature set exists",
                       fix="use --features full, or an MFD model")
    if not sets:
        raise MFDError("no feature set chosen", fix=f"use any of {', '.join(FEATURE_SETS)}")
    return sets


def _unit_slice(model: MFDModel, feature_set: str) -> slice:
    h = model.config.half_dim
    return {"bio": slice(0, h), "tech": slice(h, 2 * h), "full": slice(0, 2 * h)}[feature_set]


def feature_names(model: MFDModel, feature_set: str, strand: str = "mean") -> list[str]:
    """Column names of one feature set, e.g. ``bio/target:CTCF`` or ``bio/target:CTCF|rc``."""
    names = model.unit_names
    halves = ["bio", "tech"] if feature_set == "full" else [feature_set]
    out: list[str] = []
    for half in halves if model.is_mfd else ["full"]:
        units = names[_unit_slice(model, half)]
        if strand == "concat":
            out += [f"{u}|fwd" for u in units] + [f"{u}|rc" for u in units]
        else:
            out += list(units)
    return out


def strand_features(model: MFDModel, X: np.ndarray | torch.Tensor | GenomeWindows, *, strand: str = "mean",
                    shifts: Sequence[int] = (0,), batch_size: int = 256, device: str | None = None,
                    progress: bool = False) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Full latent features of the forward and/or reverse-complement sequences (the inference engine).

    Args:
        X: one-hot DNA, shape=(N, 4, seq_len), or a window source (shifts need one).
        strand: which strands are needed (``fwd`` / ``rc`` / ``mean`` / ``concat``).
        shifts: window shifts the features are averaged over (per strand).
    Returns:
        ``(fwd, rc)``, each float32 shape=(N, latent_dim) or ``None`` when not needed.
    """
    one = strand in ("fwd", "rc")
    feats = predict_windows(model, X, output="features", strand=strand if one else "both", shifts=shifts,
                            batch_size=batch_size, device=device, progress=progress, desc="embedding")
    if one:
        return (feats, None) if strand == "fwd" else (None, feats)
    return feats[:, 0], feats[:, 1]


def combine_strands(model: MFDModel, fwd: np.ndarray | None, rc: np.ndarray | None, feature_set: str,
                    strand: str) -> np.ndarray:
    """One feature set from per-strand full features.

    Args:
        fwd, rc: shape=(N, latent_dim) (either may be ``None`` if ``strand`` does not use it).
    Returns:
        float32, shape=(N, d) with d = |set| (``fwd``, ``rc``, ``mean``) or 2 |set| (``concat``).
    """
    if strand not in STRAND_MODES:
        raise MFDError(f"unknown strand mode {strand!r}", fix=f"use one of {', '.join(STRAND_MODES)}")
    halves = ["bio", "tech"] if (feature_set == "full" and model.is_mfd) else [feature_set]
    parts = []
    for half in halves:
        s = _unit_slice(model, half)
        parts.append(merge_strands(None if fwd is None else fwd[:, s], None if rc is None else rc[:, s], strand))
    return np.concatenate(parts, axis=1).astype(np.float32)


def embed(model: MFDModel, X: np.ndarray | torch.Tensor, feature_sets: Sequence[str] = ("full",), *,
          strand: str = "mean", batch_size: int = 256, device: str | None = None) -> dict[str, np.ndarray]:
    """Feature sets of one-hot sequences.

    Args:
        X: one-hot DNA, shape=(N, 4, seq_len).
        feature_sets: any of ``bio``, ``tech``, ``full``.
        strand: ``fwd``, ``rc``, ``mean`` (original code) or ``concat`` (paper).
    Returns:
        name -> float32 array, shape=(N, d) (see :func:`combine_strands`).
    """
    sets = check_feature_sets(model, feature_sets)
    fwd, rc = strand_features(model, X, strand=strand, batch_size=batch_size, device=device)
    return {name: combine_strands(model, fwd, rc, name, strand) for name in sets}


@dataclass
class Embedding:
    """Features of a set of intervals.

    Attributes:
        ids, chrom, start, end: the intervals' names and their (shift-0) windows, shape=(N,).
        features: feature set -> float32 array, shape=(N, d).
        names: feature set -> column names, length d.
        strand: the strand mode used; shifts: the window shifts averaged.
        skipped: reason -> number of intervals skipped.
    """

    ids: np.ndarray
    chrom: np.ndarray
    start: np.ndarray
    end: np.ndarray
    features: dict[str, np.ndarray]
    names: dict[str, list[str]]
    strand: str
    shifts: tuple[int, ...]
    skipped: dict[str, int] = field(default_factory=dict)


def embed_windows(model: MFDModel, windows: Windows, feature_sets: Sequence[str] = ("full",), *,
                  strand: str = "mean", shifts: Sequence[int] = (0,), batch_size: int = 256,
                  device: str | None = None, progress: bool = True) -> Embedding:
    """Features of every window, averaged over ``shifts`` (per strand), read from the genome batch by batch.

    Returns:
        :class:`Embedding` with one row per window (input order).
    """
    sets = check_feature_sets(model, feature_sets)
    if strand not in STRAND_MODES:
        raise MFDError(f"unknown strand mode {strand!r}", fix=f"use one of {', '.join(STRAND_MODES)}")
    if windows.seq_len != model.config.seq_len:
        raise ValueError(f"windows are {windows.seq_len} bp, the model reads {model.config.seq_len} bp")
    shifts = tuple(int(s) for s in shifts) or (0,)
    fwd, rc = strand_features(model, GenomeWindows.of(windows), strand=strand, shifts=shifts,
                              batch_size=batch_size, device=device, progress=progress)
    features = {name: combine_strands(model, fwd, rc, name, strand) for name in sets}
    return Embedding(windows.ids, windows.chrom, windows.start, windows.end, features,
                     {name: feature_names(model, name, strand) for name in sets}, strand, shifts,
                     dict(windows.skipped))


def write_embedding(embedding: Embedding, path: str | Path) -> Path:
    """Write an :class:`Embedding` atomically as ``.npz`` or ``.parquet`` (chosen by suffix).

    NPZ: ``ids``, ``chrom``, ``start``, ``end``, one array per feature set and ``names_<set>``.
    Parquet: ``id``, ``chrom``, ``start``, ``end`` then one column per unit (the union of the
    chosen sets, ``full`` = ``bio`` + ``tech``), the strand mode and shifts in the file metadata.
    """
    from ..outputs import atomic_path

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".npz", ".parquet"):
        raise MFDError(f"unknown output format {path.suffix or '(none)'!r}", path=path,
                       fix="name the output *.npz or *.parquet")
    with atomic_path(path) as tmp:
        if suffix == ".npz":
            arrays = {"ids": embedding.ids.astype(str), "chrom": embedding.chrom.astype(str),
                      "start": embedding.start, "end": embedding.end,
                      "strand_mode": np.array(embedding.strand), "shifts": np.array(embedding.shifts)}
            for name, values in embedding.features.items():
                arrays[name] = values
                arrays[f"names_{name}"] = np.array(embedding.names[name])
            np.savez(tmp, **arrays)
        else:
            _write_parquet(embedding, tmp)
    return path


def _write_parquet(embedding: Embedding, path: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is in the io extra
        raise MFDError("writing Parquet needs pyarrow", fix="pip install 'mfd-kipoi[io]', or write .npz") from None
    columns: dict[str, np.ndarray] = {"id": embedding.ids.astype(str), "chrom": embedding.chrom.astype(str),
                                      "start": embedding.start, "end": embedding.end}
    for name, values in embedding.features.items():
        for k, column in enumerate(embedding.names[name]):
            columns.setdefault(column, values[:, k])
    table = pa.table(columns)
    meta = {b"mfd.strand": embedding.strand.encode(), b"mfd.shifts": ",".join(map(str, embedding.shifts)).encode(),
            b"mfd.feature_sets": ",".join(embedding.features).encode()}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
    pq.write_table(table, path)
