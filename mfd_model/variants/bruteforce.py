"""A deliberately plain, one-variant-at-a-time variant scorer: the reference for tests and benchmarks.

For each allele, each shift and each strand it fetches the window from the FASTA (pysam, not
the scorer's genome reader), mutates the one-hot sequence (an SNV: one column; otherwise the
string rebuilt as upstream + ALT + downstream, an insertion's upstream cut at its left end --
kipoiseq's convention), calls the model on that single sequence
(``model.features`` then ``model.logits_from_halves`` on the original or swapped halves) and
applies kipoi-veff's formulas and strand merging literally (``np.log(p / (1 - p))``,
``np.mean([fwd, rc], axis=0)`` ...). No batching, no sharing, no vectorisation: simple enough
to check by reading, which is its purpose.
"""
from __future__ import annotations

import copy
from typing import Sequence

import numpy as np
import torch

from ..encoding import ALPHABET, one_hot_encode, reverse_complement_one_hot
from ..model import MFDModel


def _kipoi_merge(fwd: np.ndarray, rc: np.ndarray | None, how: str) -> np.ndarray:
    """kipoi-veff's ``rc_merging`` (``RCScore``) on one score."""
    if rc is None or how == "none":
        return fwd
    if how == "absmax":
        x = copy.deepcopy(fwd)
        replace = np.abs(x) < np.abs(rc)
        x[replace] = rc[replace]
        return x
    return getattr(np, how)([fwd, rc], axis=0)


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


def brute_force_scores(model: MFDModel, fasta_file: str, variants: Sequence[tuple[str, int, str, str]],
                       scores: Sequence[str], shifts: Sequence[int] = (0,), rc_merge: str = "mean",
                       experiments: Sequence[int] | None = None) -> np.ndarray:
    """Score variants one at a time.

    Args:
        model: the model (evaluated in its own dtype, on the CPU).
        fasta_file: the reference FASTA (contig names as in ``variants``).
        variants: ``(contig, pos (1-based), ref, alt)`` per allele.
        scores: score names (see :data:`mfd_model.variants.scores.SCORES`).
        shifts: offsets of the variant from the window centre.
        rc_merge: kipoi-veff ``rc_merging`` or ``none`` (forward strand only).
        experiments: output indices to report (default: all).
    Returns:
        np.ndarray, shape=(n_variants, len(scores), E).
    """
    import pysam

    model = model.eval().cpu()
    dtype = next(model.parameters()).dtype
    L = model.config.seq_len
    centre = (L - 1) // 2  # the first REF base, as kipoi-veff2 places an SNV
    fasta = pysam.FastaFile(str(fasta_file))
    cols = list(range(model.n_experiments)) if experiments is None else list(experiments)
    out = np.zeros((len(variants), len(scores), len(cols)))

    def as_batch(x: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(x[None], dtype=dtype)

    for v, (contig, pos, ref, alt) in enumerate(variants):
        strands = ("fwd",) if rc_merge == "none" else ("fwd", "rc")
        probs = {s: {k: [] for k in ("ref", "alt", "bio", "tech")} for s in strands}
        for d in shifts:
            start = pos - 1 - centre - d
            ref_seq = fasta.fetch(contig, start, start + L).upper()
            x_ref = one_hot_encode(ref_seq)
            if len(ref) == 1 and len(alt) == 1:
                x_alt = x_ref.copy()
                x_alt[:, centre + d] = 0
                if alt.upper() in ALPHABET:
                    x_alt[ALPHABET.index(alt.upper()), centre + d] = 1
            elif len(ref) == 1:  # insertion: kipoiseq puts the inserted bases before the anchor (after REF)
                split = centre + d + 1
                alt_seq = ((fasta.fetch(contig, start, pos - 1) + alt)[-split:]
                           + fasta.fetch(contig, pos, pos + L - split))
                x_alt = one_hot_encode(alt_seq)
            else:
                alt_seq = (fasta.fetch(contig, start, pos - 1) + alt
                           + fasta.fetch(contig, pos - 1 + len(ref), pos - 1 + len(ref) + L))[:L]
                x_alt = one_hot_encode(alt_seq)
            for strand in strands:
                xr, xa = (x_ref, x_alt) if strand == "fwd" else (reverse_complement_one_hot(x_ref),
                                                                reverse_complement_one_hot(x_alt))
                with torch.no_grad():
                    f_ref = model.features(as_batch(xr))
                    f_alt = model.features(as_batch(xa))
                    if model.is_mfd:
                        bio_r, tech_r = model.split_features(f_ref)
                        bio_a, tech_a = model.split_features(f_alt)
                        pairs = {"ref": (bio_r, tech_r), "alt": (bio_a, tech_a),
                                 "bio": (bio_a, tech_r), "tech": (bio_r, tech_a)}
                        for kind, (bio, tech) in pairs.items():
                            p = model.predict_from_halves(bio, tech)[0].double().numpy()
                            probs[strand][kind].append(p[cols])
                    else:
                        for kind, f in (("ref", f_ref), ("alt", f_alt)):
                            p = torch.sigmoid(model.logits_from_features(f))[0].double().numpy()
                            probs[strand][kind].append(p[cols])
        # average over shifts, per strand
        P = {s: {k: np.mean(v, axis=0) for k, v in kinds.items() if v} for s, kinds in probs.items()}

        def per_strand(fn):
            fwd = fn(P["fwd"])
            rc = fn(P["rc"]) if "rc" in P else None
            return fwd, rc

        for s, name in enumerate(scores):
            if name == "deepsea_effect":
                logit_diff = _kipoi_merge(*per_strand(lambda q: _logit(q["alt"]) - _logit(q["ref"])), rc_merge)
                diff = _kipoi_merge(*per_strand(lambda q: q["alt"] - q["ref"]), rc_merge)
                out[v, s] = np.abs(logit_diff) * np.abs(diff)
                continue
            fn = {
                "ref": lambda q: q["ref"], "alt": lambda q: q["alt"],
                "diff": lambda q: q["alt"] - q["ref"], "combined": lambda q: q["alt"] - q["ref"],
                "logit_ref": lambda q: _logit(q["ref"]), "logit_alt": lambda q: _logit(q["alt"]),
                "logit": lambda q: _logit(q["alt"]) - _logit(q["ref"]),
                "biological": lambda q: q["bio"] - q["ref"], "technical": lambda q: q["tech"] - q["ref"],
                "logit_biological": lambda q: _logit(q["bio"]) - _logit(q["ref"]),
                "logit_technical": lambda q: _logit(q["tech"]) - _logit(q["ref"]),
            }[name]
            out[v, s] = _kipoi_merge(*per_strand(fn), rc_merge)
    fasta.close()
    return out
