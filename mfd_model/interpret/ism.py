"""In-silico saturation mutagenesis (ISM): the effect of every single-nucleotide substitution.

``ism[n, t, b, i] = f_t(x_n with base b at position i) - f_t(x_n)`` for every position ``i``
of a window ``[start, end)`` and every base ``b`` other than the reference (0 at the
reference base and outside the window). Two equivalent engines:

* ``method="full"`` — the mutants are built with :func:`.ersatz.substitutions` and run through
  the inference engine (:class:`mfd_model.inference.engine.Engine`) in batches: the definition, for any model;
* ``method="fast"`` (default) — :class:`mfd_model.local.LocalTrunk` recomputes each layer only where a
  substitution changes it. Same numbers (to float rounding), several times less work; if the
  model holds a layer it does not know, it falls back to ``full`` with a warning.

:func:`ism_to_contributions` turns effects into one score per position for profiles and
logos (the usual "mean-centred ISM": the reference base gets minus the mean effect of the
three substitutions).
"""
from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
import torch

from ..inference.engine import Engine
from ..model import MFDModel
from ..predict import evaluating_on, resolve_device
from .ersatz import substitution_list, substitutions
from .targets import Scale, Target, target_values, values_from_features

log = logging.getLogger(__name__)

ISM_METHODS = ("fast", "full")


def _window(length: int, start: int | None, end: int | None) -> tuple[int, int]:
    start = 0 if start is None else int(start)
    end = length if end is None else int(end)
    if not 0 <= start < end <= length:
        raise ValueError(f"ISM window [{start}, {end}) is not inside [0, {length})")
    return start, end


def saturation_mutagenesis(model: MFDModel, X: np.ndarray | torch.Tensor, targets: Sequence[Target], *,
                           start: int | None = None, end: int | None = None, scale: Scale = "logit",
                           method: str = "fast", batch_size: int = 512, device: str | None = None,
                           progress: bool = True) -> np.ndarray:
    """ISM effects of every substitution in ``[start, end)``.

    Args:
        model: the model.
        X: one-hot DNA, shape=(N, 4, seq_len).
        targets: outputs and/or latent units.
        start, end: the mutated window (default: the whole sequence) — windowed ISM.
        scale: outputs as logits or probabilities.
        method: ``fast`` (local recomputation) or ``full`` (every mutant through the whole model).
        batch_size: mutants per model call.
    Returns:
        float32, shape=(N, T, 4, seq_len): ``f(mutant) - f(x)``; 0 at reference bases and
        outside the window.
    """
    if method not in ISM_METHODS:
        raise ValueError(f"unknown ISM method {method!r}; use one of {', '.join(ISM_METHODS)}")
    X = np.asarray(torch.as_tensor(X, dtype=torch.float32))
    start, end = _window(X.shape[2], start, end)
    if method == "fast":
        from ..local import LocalTrunk, UnsupportedModule
        try:
            engine = LocalTrunk(model)
        except UnsupportedModule as err:
            log.warning("fast ISM does not support this model (%s); using full forward passes", err)
        else:
            try:
                return _ism_fast(engine, model, X, targets, start, end, scale, batch_size, device, progress)
            except UnsupportedModule as err:
                log.warning("fast ISM does not reproduce this model (%s); using full forward passes", err)
    return _ism_full(model, X, targets, start, end, scale, batch_size, device, progress)


def _ism_full(model: MFDModel, X: np.ndarray, targets: Sequence[Target], start: int, end: int, scale: Scale,
              batch_size: int, device: str | None, progress: bool) -> np.ndarray:
    """The definition: every mutant through the inference engine."""
    from tqdm.auto import tqdm

    engine = Engine(model, output=lambda m, x: target_values(m, x, targets, scale), batch_size=batch_size,
                    device=device)
    out = np.zeros((X.shape[0], len(targets), 4, X.shape[2]), dtype=np.float32)
    reference = engine.predict(X)
    for n in tqdm(range(X.shape[0]), desc="ISM (full)", unit="seq", disable=not progress):
        X_mut, positions, bases = substitutions(X[n], start, end)
        values = engine.predict(X_mut)
        out[n][:, bases, positions] = (values - reference[n]).T
    return out


def _ism_fast(engine, model: MFDModel, X: np.ndarray, targets: Sequence[Target], start: int, end: int,
              scale: Scale, batch_size: int, device: str | None, progress: bool) -> np.ndarray:
    """Local recomputation, mutants of several sequences per batch."""
    from tqdm.auto import tqdm

    from ..local import UnsupportedModule

    dev = resolve_device(device)
    n_seq = X.shape[0]
    out = np.zeros((n_seq, len(targets), 4, X.shape[2]), dtype=np.float32)
    plan = [substitution_list(X[n], start, end) for n in range(n_seq)]
    # sequences per reference chunk: enough mutants to fill a few batches, bounded memory
    per_seq = max(1, max((len(p[0]) for p in plan), default=1))
    chunk = int(np.clip(4 * batch_size // per_seq, 1, 64))
    bar = tqdm(total=sum(len(p[0]) for p in plan), desc="ISM (fast)", unit="mut", disable=not progress)
    with evaluating_on(model, dev):
        for lo in range(0, n_seq, chunk):
            rows = np.arange(lo, min(lo + chunk, n_seq))
            Xc = torch.as_tensor(X[rows], device=dev, dtype=next(model.parameters()).dtype)
            ref_features = engine.set_reference(Xc)
            if lo == 0 and not torch.allclose(ref_features, model.features(Xc), rtol=1e-4, atol=1e-4):
                # the layer-by-layer replay must reproduce the model (checked on the first chunk)
                raise UnsupportedModule("local recomputation does not reproduce model.features")
            ref_values = values_from_features(model, ref_features, targets, scale)          # (S, T)
            seq = np.concatenate([np.full(len(plan[n][0]), k) for k, n in enumerate(rows)])
            pos = np.concatenate([plan[n][0] for n in rows])
            base = np.concatenate([plan[n][1] for n in rows])
            for b in range(0, len(seq), batch_size):
                s = torch.as_tensor(seq[b:b + batch_size], device=dev)
                p = torch.as_tensor(pos[b:b + batch_size], device=dev)
                c = torch.as_tensor(base[b:b + batch_size], device=dev)
                values = values_from_features(model, engine.features(s, p, c), targets, scale)
                effect = (values - ref_values[s]).cpu().numpy()                             # (B, T)
                out[rows[seq[b:b + batch_size]], :, base[b:b + batch_size], pos[b:b + batch_size]] = effect
                bar.update(len(s))
    bar.close()
    return out


def ism_to_contributions(ism: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Mean-centred ISM: per position, the reference base gets ``-mean`` of its substitution effects.

    Args:
        ism: effects, shape=(N, T, 4, L) (from :func:`saturation_mutagenesis`).
        X: the one-hot sequences, shape=(N, 4, L).
    Returns:
        float32, shape=(N, T, 4, L): non-zero only at the present base (like IG), so summing
        over the channel axis gives one score per position.
    """
    X = np.asarray(X, dtype=np.float32)
    n_alt = np.maximum(4 - X.sum(axis=1, keepdims=True), 1)        # 3 for a clean base
    mean_effect = ism.sum(axis=2, keepdims=True) / n_alt[:, None]  # (N, T, 1, L)
    return (-mean_effect * X[:, None]).astype(np.float32)
