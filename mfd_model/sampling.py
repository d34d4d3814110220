"""Random subsets of windows or table rows, drawn reproducibly and kept in their order."""
from __future__ import annotations

from typing import Any


def random_subset(items: Any, k: int, seed: Any) -> Any:
    """At most ``k`` of ``items`` (``Windows`` or a ``DataFrame``), drawn at random, in their order.

    ``items`` itself when it has ``k`` or fewer; otherwise the rows at the sorted indices
    ``numpy.random.default_rng(seed).choice(len(items), k, replace=False)`` (``items.subset`` for
    windows, ``items.iloc`` for a table). ``seed`` is an int, or a ``numpy.random.Generator``
    that several draws share (it is used as is).
    """
    import numpy as np

    if len(items) <= k:
        return items
    rows = np.sort(np.random.default_rng(seed).choice(len(items), k, replace=False))
    return items.iloc[rows] if hasattr(items, "iloc") else items.subset(rows)
