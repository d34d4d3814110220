"""What every step shares: its random stream, keyed by ``(seed, stream, index)``, and an optional progress bar.

Independent streams make the steps independent: the genome does not change when only the
experiments change, and each experiment's noise is its own.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from .params import SimulationParams

# streams of the random generator: np.random.default_rng([seed, STREAM, index])
STREAM_GENOME, STREAM_GAPS, STREAM_MOTIFS, STREAM_DESIGN, STREAM_NOISE = 1, 2, 3, 4, 5
STREAM_VARIANTS, STREAM_ENHANCERS = 6, 7


def stream(params: SimulationParams, stream: int, index: int = 0) -> np.random.Generator:
    """The random generator of one stream (and one index within it: a chromosome, an experiment)."""
    return np.random.default_rng([params.seed, stream, index])


def progress_bar(items: Iterable, enabled: bool, description: str, unit: str, total: int | None = None) -> Iterable:
    """``items``, shown as a tqdm progress bar on stderr when ``enabled``."""
    if not enabled:
        return items
    from tqdm import tqdm
    return tqdm(items, desc=description, unit=unit, total=total, leave=False)
