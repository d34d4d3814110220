"""Step 6, truth: per tissue, the enhancer bins and as many GC-matched background bins."""
from __future__ import annotations

import numpy as np

from .bins import Bins
from .params import SimulationParams
from .streams import STREAM_ENHANCERS, stream

ENHANCER_GC_STRATA = 50   # background bins are matched to the enhancers' GC in strata of 2 %


def enhancer_bins(bins: Bins, params: SimulationParams) -> dict[str, tuple[np.ndarray, list[str], np.ndarray]]:
    """Per tissue: enhancer bins (an instance of an active TF other than the insulator, no N), their
    TF names, and as many GC-matched clean background bins without any planted base (sorted indices)."""
    out = {}
    catalogue = params.catalogue
    clean = bins.n_fraction == 0
    pool = np.flatnonzero(clean & ~bins.touched)
    pool_stratum = np.minimum(bins.gc[pool] * ENHANCER_GC_STRATA, ENHANCER_GC_STRATA - 1).astype(np.int64)
    for t, tissue in enumerate(catalogue.tissues):
        rng = stream(params, STREAM_ENHANCERS, t)
        mask = catalogue.bits(catalogue.enhancer_tfs(tissue))
        positive = np.flatnonzero(clean & ((bins.motif_bits & mask) != 0))
        stratum = np.minimum(bins.gc[positive] * ENHANCER_GC_STRATA, ENHANCER_GC_STRATA - 1).astype(np.int64)
        chosen = []
        for s, k in zip(*np.unique(stratum, return_counts=True)):
            candidates = pool[pool_stratum == s]
            chosen.append(rng.choice(candidates, min(k, len(candidates)), replace=False))
        chosen_set = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
        rest = np.setdiff1d(pool, chosen_set)
        deficit = min(len(positive) - len(chosen_set), len(rest))
        negative = np.sort(np.concatenate([chosen_set, rng.choice(rest, deficit, replace=False)]))
        names_of_bits = {b: ",".join(tf.name for i, tf in enumerate(catalogue.tfs) if (b & mask) >> i & 1)
                         for b in np.unique(bins.motif_bits[positive]).tolist()}
        out[tissue] = (positive, [names_of_bits[b] for b in bins.motif_bits[positive].tolist()], negative)
    return out
