"""Step 2, the planted TF instances: PWM-sampled sites at random clean, non-overlapping positions."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .catalogue import TranscriptionFactor
from .genome import SimulatedGenome
from .params import SimulationParams
from .streams import STREAM_MOTIFS, stream

MOTIF_SPACING = 5   # bp at least between two planted instances


@dataclass
class MotifSites:
    """Planted TF instances sorted by position, all shape=(S,).

    Attributes:
        start / end: global [start, end); tf: index into the motif set's TFs; minus: on the - strand;
        score: PWM log-odds (bits, vs uniform) of the planted sequence.
    """

    start: np.ndarray
    end: np.ndarray
    tf: np.ndarray
    minus: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.start)

    def distance(self, positions: np.ndarray) -> np.ndarray:
        """Distance in bp from each global position to the nearest instance (0 inside one)."""
        positions = np.asarray(positions, dtype=np.int64)
        far = np.int64(1) << 60
        right = np.searchsorted(self.start, positions, side="right")   # first instance starting after
        next_start = np.append(self.start, far)[right]
        previous_end = np.insert(self.end, 0, -far)[right]              # end of instance right - 1
        to_left = np.where(positions < previous_end, 0, positions - (previous_end - 1))
        return np.minimum(next_start - positions, to_left)


def plant_motifs(genome: SimulatedGenome, params: SimulationParams) -> MotifSites:
    """Plant PWM-sampled TF instances at random clean, non-overlapping positions (in place)."""
    rng = stream(params, STREAM_MOTIFS)
    tfs = params.catalogue.tfs
    gap_bases = int((genome.gaps[:, 1] - genome.gaps[:, 0]).sum())
    wanted = round(params.motifs_per_kb * (len(genome.codes) - gap_bases) / 1000)
    widths = np.array([tf.width for tf in tfs])
    n = int(wanted * 1.3) + 100
    start = np.sort(rng.integers(0, len(genome.codes), n))
    tf = rng.integers(0, len(tfs), n)
    minus = rng.random(n) < 0.5
    end = start + widths[tf]
    # keep an instance if it is clean and starts after every earlier candidate ends (no overlaps)
    earlier_end = np.maximum.accumulate(np.concatenate([[-MOTIF_SPACING], end[:-1]]))
    keep = np.flatnonzero(genome.clean(start, end) & (start >= earlier_end + MOTIF_SPACING))
    if len(keep) > wanted:
        keep = np.sort(rng.choice(keep, wanted, replace=False))
    start, end, tf, minus = start[keep], end[keep], tf[keep], minus[keep]
    score = np.zeros(len(keep))
    for t, factor in enumerate(tfs):
        rows = np.flatnonzero(tf == t)
        pwm = factor.pwm()                                                        # (w, 4)
        u = rng.random((len(rows), factor.width))
        motif = (u[:, :, None] >= np.cumsum(pwm, axis=1)[None, :, :3]).sum(axis=2)  # (n, w) in motif orientation
        score[rows] = np.log2(pwm[np.arange(factor.width), motif] / 0.25).sum(axis=1)
        plus = np.where(minus[rows, None], 3 - motif[:, ::-1], motif).astype(np.uint8)
        genome.codes[start[rows, None] + np.arange(factor.width)] = plus
    return MotifSites(start, end, tf, minus, score)


def max_pwm_score(factor: TranscriptionFactor) -> float:
    return float(np.log2(factor.pwm().max(axis=1) / 0.25).sum())
