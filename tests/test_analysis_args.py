"""mfd_model.commands.analysis_args.random_subset: the analysis commands' one random subset of windows or rows."""
from __future__ import annotations

import numpy as np
import pandas as pd

from mfd_model.commands.analysis_args import random_subset


class Items:
    """A stand-in for ``Windows``: a length and ``subset(rows)``."""

    def __init__(self, ids):
        self.ids = np.asarray(ids)

    def __len__(self):
        return len(self.ids)

    def subset(self, rows):
        return Items(self.ids[rows])


def test_subset_is_the_sorted_draw_of_default_rng():
    items = Items(np.arange(100) * 10)
    expected = np.sort(np.random.default_rng(3).choice(100, 7, replace=False)) * 10
    np.testing.assert_array_equal(random_subset(items, 7, 3).ids, expected)
    frame = pd.DataFrame({"x": np.arange(100)}, index=np.arange(100) + 1000)
    np.testing.assert_array_equal(random_subset(frame, 7, 3)["x"].to_numpy(), expected // 10)


def test_small_inputs_are_returned_as_they_are():
    items = Items([5, 1, 3])
    assert random_subset(items, 3, 0) is items
    assert random_subset(items, 10, 0) is items


def test_a_shared_generator_continues_between_draws():
    rng, reference = np.random.default_rng(0), np.random.default_rng(0)
    first, second = random_subset(Items(np.arange(50)), 5, rng), random_subset(Items(np.arange(40)), 5, rng)
    np.testing.assert_array_equal(first.ids, np.sort(reference.choice(50, 5, replace=False)))
    np.testing.assert_array_equal(second.ids, np.sort(reference.choice(40, 5, replace=False)))
