"""Sequence edits, separate from any model call (as tangermeme's ``ersatz``).

Every function takes and returns one-hot DNA arrays and never calls a model: an analysis
builds ``X_before`` / ``X_after`` with these and then calls
:func:`mfd_model.predict.predict` (or an attribution function) on them.

* :func:`substitutions`      — every single-nucleotide substitution of one sequence;
* :func:`insert_motif`       — write a motif over a position (length kept, as GIA does);
* :func:`random_sequences`   — i.i.d. background sequences with a chosen GC content;
* :func:`dinucleotide_shuffle` — shuffles that keep every dinucleotide count (Altschul-Erickson);
* :func:`motif_one_hot`, :func:`sample_motifs` — motifs from strings or PWMs.
"""
from __future__ import annotations

import numpy as np

from ..encoding import ALPHABET, one_hot_encode


def substitutions(x: np.ndarray, start: int = 0, end: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every single-nucleotide substitution of ``x`` at positions ``[start, end)``.

    A position holding base ``b`` gets the three other bases; a position that is not a
    clean base (``N``) gets all four.

    Args:
        x: one-hot DNA, shape=(4, L).
    Returns:
        ``(X_mut, positions, bases)``: shape=(M, 4, L), (M,), (M,) — mutant ``m`` has base
        ``bases[m]`` at ``positions[m]`` and is otherwise ``x``.
    """
    x = np.asarray(x)
    end = x.shape[1] if end is None else end
    positions, bases = substitution_list(x, start, end)
    X = np.repeat(x[None], len(positions), axis=0)
    X[np.arange(len(positions)), :, positions] = 0
    X[np.arange(len(positions)), bases, positions] = 1
    return X, positions, bases


def substitution_list(x: np.ndarray, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions and new bases of every substitution in ``[start, end)`` (see :func:`substitutions`).

    Returns:
        ``(positions, bases)``, int64 shape=(M,) each, ordered by position then base.
    """
    x = np.asarray(x)
    window = x[:, start:end]
    is_ref = window == 1
    clean = (np.count_nonzero(window, axis=0) == 1)
    keep = ~(is_ref & clean[None, :])                      # (4, W): bases to write
    base_idx, offset = np.nonzero(keep)
    order = np.lexsort((base_idx, offset))
    return (offset[order] + start).astype(np.int64), base_idx[order].astype(np.int64)


def insert_motif(X: np.ndarray, motif: np.ndarray, start: int | np.ndarray) -> np.ndarray:
    """Write ``motif`` over ``X`` from ``start`` (a copy; sequence length unchanged).

    Args:
        X: one-hot DNA, shape=(N, 4, L).
        motif: one-hot motif shape=(4, k), or one motif per sequence shape=(N, 4, k).
        start: first position, one for all or one per sequence shape=(N,).
    Returns:
        np.ndarray, shape=(N, 4, L).
    """
    X = np.array(X, copy=True)
    motif = np.asarray(motif, dtype=X.dtype)
    n, _, length = X.shape
    k = motif.shape[-1]
    starts = np.broadcast_to(np.asarray(start, dtype=np.int64), (n,))
    if (starts < 0).any() or (starts + k > length).any():
        raise ValueError(f"motif of {k} bp does not fit at start {starts.min()}..{starts.max()} in {length} bp")
    columns = starts[:, None] + np.arange(k)[None, :]       # (N, k)
    values = np.broadcast_to(motif, (n, 4, k)) if motif.ndim == 2 else motif
    X[np.arange(n)[:, None], :, columns] = np.transpose(values, (0, 2, 1))
    return X


def motif_one_hot(motif: str) -> np.ndarray:
    """One-hot of a motif string (ACGT; other letters, e.g. ``N``, are all-zero).

    Returns:
        float32, shape=(4, k).
    """
    return one_hot_encode(motif)


def consensus(pwm: np.ndarray) -> str:
    """Most likely base per position of a PWM, shape=(k, 4) (ACGT columns)."""
    return "".join(ALPHABET[i] for i in np.argmax(np.asarray(pwm), axis=1))


def sample_motifs(pwm: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` motif instances drawn from a PWM's base probabilities.

    Args:
        pwm: probabilities, shape=(k, 4); rows are normalised here.
    Returns:
        float32 one-hot, shape=(n, 4, k).
    """
    pwm = np.asarray(pwm, dtype=np.float64)
    probs = pwm / pwm.sum(axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    cumulative = probs.cumsum(axis=1)                       # (k, 4)
    draws = rng.random((n, probs.shape[0], 1))
    bases = (draws > cumulative[None]).sum(axis=2).clip(0, 3)  # (n, k)
    out = np.zeros((n, 4, probs.shape[0]), dtype=np.float32)
    out[np.arange(n)[:, None], bases, np.arange(probs.shape[0])[None, :]] = 1
    return out


def random_sequences(n: int, length: int, *, gc: float = 0.41, seed: int = 0) -> np.ndarray:
    """Independent random bases with GC content ``gc`` (human genome average: 0.41).

    Returns:
        float32 one-hot, shape=(n, 4, length).
    """
    rng = np.random.default_rng(seed)
    p = np.array([(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])
    bases = rng.choice(4, size=(n, length), p=p)
    out = np.zeros((n, 4, length), dtype=np.float32)
    out[np.arange(n)[:, None], bases, np.arange(length)[None, :]] = 1
    return out


def dinucleotide_shuffle(X: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """Shuffle each sequence keeping its first base and every dinucleotide count.

    The Altschul-Erickson algorithm: a random Eulerian path through the graph of observed
    dinucleotides, found by choosing the last exit edge of every base as a random
    arborescence towards the final base, then permuting the other exit edges at random.
    ``N`` positions (not one-hot) split a sequence; each clean run is shuffled alone.

    Args:
        X: one-hot DNA, shape=(N, 4, L).
    Returns:
        np.ndarray, shape=(N, 4, L) (``N`` positions stay where they are).
    """
    rng = np.random.default_rng(seed)
    X = np.asarray(X)
    out = np.array(X, copy=True)
    for n in range(X.shape[0]):
        clean = np.count_nonzero(X[n], axis=0) == 1
        idx = np.where(clean, np.argmax(X[n], axis=0), -1)
        run_start = None
        for pos in range(len(idx) + 1):
            inside = pos < len(idx) and idx[pos] >= 0
            if inside and run_start is None:
                run_start = pos
            elif not inside and run_start is not None:
                shuffled = _eulerian_shuffle(idx[run_start:pos], rng)
                out[n, :, run_start:pos] = 0
                out[n, shuffled, np.arange(run_start, pos)] = 1
                run_start = None
    return out


def _eulerian_shuffle(seq: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dinucleotide-preserving shuffle of one base-index sequence, shape=(L,) -> (L,)."""
    if len(seq) < 3:
        return seq.copy()
    last = int(seq[-1])
    edges: list[list[int]] = [[] for _ in range(4)]
    for a, b in zip(seq[:-1], seq[1:]):
        edges[int(a)].append(int(b))
    present = [v for v in range(4) if edges[v] or v == last]
    # random arborescence rooted at `last` (Wilson-style random walk on the edge lists)
    in_tree = {last}
    last_edge: dict[int, int] = {}
    for v in present:
        u = v
        path: dict[int, int] = {}
        while u not in in_tree:
            nxt = edges[u][rng.integers(len(edges[u]))]
            path[u] = nxt
            u = nxt
        u = v
        while u not in in_tree:
            last_edge[u] = path[u]
            in_tree.add(u)
            u = path[u]
    order: list[list[int]] = []
    for v in range(4):
        rest = list(edges[v])
        if v in last_edge:
            rest.remove(last_edge[v])
        rng.shuffle(rest)
        if v in last_edge:
            rest.append(last_edge[v])
        order.append(rest)
    out = [int(seq[0])]
    pointer = [0, 0, 0, 0]
    for _ in range(len(seq) - 1):
        v = out[-1]
        out.append(order[v][pointer[v]])
        pointer[v] += 1
    return np.array(out, dtype=seq.dtype)
