"""Motifs: the position weight matrix (:class:`Motif`), MEME-format I/O, and motif similarity.

First-layer filters as motifs: :mod:`.filters`; de novo motifs: :mod:`.discover`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..encoding import ALPHABET
from ..errors import MFDError


@dataclass
class Motif:
    """A position weight matrix.

    Attributes:
        name: identifier (``filter_12``, a TF name, ...).
        pwm: base probabilities, shape=(k, 4), ACGT columns, rows sum to 1.
        n_sites: number of aligned sites it was built from (0 if unknown).
        counts: raw base counts, shape=(k, 4), when built from sites.
        info: free-form extras (e.g. ``max_activation``, ``threshold``).
    """

    name: str
    pwm: np.ndarray
    n_sites: int = 0
    counts: np.ndarray | None = None
    info: dict | None = None

    @property
    def consensus(self) -> str:
        return "".join(ALPHABET[i] for i in np.argmax(self.pwm, axis=1))

    def information(self) -> np.ndarray:
        """Information content per position in bits, shape=(k,)."""
        p = np.clip(self.pwm, 1e-12, 1)
        return 2 + (p * np.log2(p)).sum(axis=1)


# ============================================================================ MEME I/O
def write_meme(motifs: Sequence[Motif], path: str | Path, background: Sequence[float] = (0.25,) * 4) -> Path:
    """Write motifs in MEME minimal format (atomically)."""
    from ..outputs import atomic_path

    lines = ["MEME version 4", "", "ALPHABET= ACGT", "", "strands: + -", "",
             "Background letter frequencies",
             " ".join(f"{b} {f:.4f}" for b, f in zip(ALPHABET, background)), ""]
    for motif in motifs:
        lines.append(f"MOTIF {motif.name}")
        lines.append(f"letter-probability matrix: alength= 4 w= {motif.pwm.shape[0]} "
                     f"nsites= {max(int(motif.n_sites), 0)} E= 0")
        lines += ["  " + "  ".join(f"{v:.6f}" for v in row) for row in motif.pwm]
        lines.append("")
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines))
    return Path(path)


def read_meme(path: str | Path) -> list[Motif]:
    """Read every motif of a MEME (minimal) format file.

    Raises:
        MFDError naming the line of a malformed matrix.
    """
    path = Path(path)
    if not path.exists():
        raise MFDError("motif file not found", path=path, fix="check the path")
    lines = path.read_text(errors="replace").splitlines()
    motifs: list[Motif] = []
    name: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("MOTIF"):
            parts = line.split()
            if len(parts) < 2:
                raise MFDError("MOTIF line without a name", path=path, line=i + 1, fix="write 'MOTIF <name>'")
            name = parts[1]
        elif line.startswith("letter-probability matrix"):
            if name is None:
                raise MFDError("matrix before any MOTIF line", path=path, line=i + 1, fix="start each motif with 'MOTIF <name>'")
            width = re.search(r"w=\s*(\d+)", line)
            nsites = re.search(r"nsites=\s*([\d.eE+-]+)", line)
            rows = []
            j = i + 1
            while j < len(lines) and (width is None or len(rows) < int(width.group(1))):
                text = lines[j].strip()
                if not text:
                    if width is None and rows:
                        break
                    j += 1
                    continue
                if not re.match(r"^[\d.eE+-]", text):
                    break
                try:
                    values = [float(v) for v in text.split()]
                except ValueError:
                    raise MFDError(f"malformed matrix row {text!r}", path=path, line=j + 1,
                                   fix="each row holds 4 probabilities (A C G T)") from None
                if len(values) != 4:
                    raise MFDError(f"matrix row has {len(values)} values, expected 4", path=path, line=j + 1,
                                   fix="each row holds 4 probabilities (A C G T)")
                rows.append(values)
                j += 1
            if not rows or (width is not None and len(rows) != int(width.group(1))):
                raise MFDError(f"motif {name!r}: expected {width.group(1) if width else 'some'} matrix rows, "
                               f"found {len(rows)}", path=path, line=i + 1, fix="complete the letter-probability matrix")
            pwm = np.array(rows, dtype=np.float64)
            pwm = pwm / np.clip(pwm.sum(axis=1, keepdims=True), 1e-12, None)
            motifs.append(Motif(name, pwm, int(float(nsites.group(1))) if nsites else 0))
            name = None
            i = j
            continue
        i += 1
    if not motifs:
        raise MFDError("no motif found", path=path, fix="use MEME format ('MOTIF name' + 'letter-probability matrix')")
    return motifs


# ============================================================================ similarity
def _column_pcc(a: np.ndarray, b: np.ndarray) -> float:
    """Mean Pearson correlation of aligned columns of two (w, 4) matrices."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    denom = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    valid = denom > 0
    if not valid.any():
        return 0.0
    return float(((a * b).sum(axis=1)[valid] / denom[valid]).sum() / len(a))


def motif_similarity(query: np.ndarray, reference: np.ndarray, min_overlap: int = 5) -> tuple[float, int, str]:
    """Best mean column correlation of two PWMs over offsets and both strands (TOMTOM's PCC idea).

    Args:
        query, reference: shape=(k1, 4), (k2, 4).
        min_overlap: fewest aligned columns considered (capped at the shorter motif's length).
    Returns:
        ``(similarity, offset, strand)``: similarity in [-1, 1] (averaged over the shorter motif's
        length, so partial overlaps are penalised), the reference's offset within the query,
        and ``+`` / ``-`` for the query's strand.
    """
    best = (-2.0, 0, "+")
    short = min(len(query), len(reference))
    overlap = min(min_overlap, short)
    for strand, q in (("+", query), ("-", query[::-1, ::-1])):
        for offset in range(-(len(reference) - overlap), len(q) - overlap + 1):
            q_lo, r_lo = max(offset, 0), max(-offset, 0)
            n = min(len(q) - q_lo, len(reference) - r_lo)
            if n < overlap:
                continue
            score = _column_pcc(q[q_lo:q_lo + n], reference[r_lo:r_lo + n]) * n / short
            if score > best[0]:
                best = (score, offset, strand)
    return best


def match_motifs(query: Sequence[Motif], reference: Sequence[Motif], min_overlap: int = 5) -> pd.DataFrame:
    """For each query motif (e.g. a filter), the most similar reference motif (e.g. planted TFs).

    Returns:
        DataFrame with ``query``, ``n_sites``, ``consensus``, ``best_match``, ``similarity``,
        ``offset``, ``strand``; sorted by similarity, best first.
    """
    rows = []
    for q in query:
        scored = [(motif_similarity(q.pwm, r.pwm, min_overlap), r.name) for r in reference]
        (sim, offset, strand), name = max(scored, key=lambda item: item[0][0]) if scored else ((np.nan, 0, "+"), "")
        rows.append({"query": q.name, "n_sites": q.n_sites, "consensus": q.consensus, "best_match": name,
                     "similarity": sim, "offset": offset, "strand": strand})
    return pd.DataFrame(rows).sort_values("similarity", ascending=False, ignore_index=True)
