"""Windows of one long series: a chronological train/test split, random training windows and
the fixed, non-overlapping test windows. Shared by the tasks built from data (next-step
prediction, the character language model).

A window at start s has T inputs at s..s+T−1 and their next values, s+1..s+T, as targets: it
spans T + 1 points of the series. The series of N points is split once: the first N_train
points serve training windows, the rest the test windows, so no test target is ever a training
input or target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnnviz.tasks.base import TaskError, fmt


@dataclass(frozen=True)
class Split:
    """A series of ``total`` points with its first ``train`` points for training."""

    total: int
    train: int
    length: int

    @property
    def test(self) -> int:
        return self.total - self.train

    @property
    def train_windows(self) -> int:
        """How many distinct training windows there are."""
        return self.train - self.length

    def test_starts(self, cap: int) -> np.ndarray:
        """Starts of the test windows: every T-th point from the first test point while a whole
        window (T + 1 points) fits, at most ``cap`` of them."""
        starts = np.arange(self.train, self.total - self.length, self.length)
        return starts[:cap]

    def sample_starts(self, rng: np.random.Generator, batch: int) -> np.ndarray:
        """``batch`` training-window starts, uniform over 0..N_train − T − 1."""
        return rng.integers(0, self.train_windows, batch)


def longest(total: int, fraction: float) -> int:
    """The longest window length T a series of ``total`` points supports when ``fraction`` of
    it (at least T + 1 points) is held out and T + 1 points remain for training."""
    held = math.ceil(fraction * total)
    return min(total - held - 1, total // 2 - 1)


def split(task: str, total: int, length: int, fraction: float) -> Split:
    """Hold out the last ⌈fraction·N⌉ points (at least T + 1, one whole test window) for
    testing; TaskError naming the length if the rest cannot hold one training window."""
    most = longest(total, fraction)
    if length > most:
        if most < 1:
            raise TaskError(f"{task}: {total} points are too few to split into training and "
                            f"test windows (test_fraction={fmt(fraction)})")
        raise TaskError(f"{task}: length={length} is too long for {total} points held out at "
                        f"test_fraction={fmt(fraction)}; at most {most}")
    held = max(math.ceil(fraction * total), length + 1)
    return Split(total, total - held, length)


def window_index(starts: np.ndarray, length: int) -> np.ndarray:
    """(B, T + 1) indices of the windows starting at ``starts``."""
    return starts[:, None] + np.arange(length + 1)
