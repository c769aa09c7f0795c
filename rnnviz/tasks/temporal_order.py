"""The temporal-order problem of Hochreiter & Schmidhuber (1997), experiment 6a."""

from __future__ import annotations

import math

import numpy as np

from rnnviz.tasks.adding import HS_1997
from rnnviz.tasks.base import (
    TEST_SIZE,
    Batch,
    Task,
    check_length,
    gated_training,
    last_step_mask,
    one_hot,
)

SYMBOLS = ("a", "b", "c", "d", "X", "Y", "E", "B")
"""Input symbols in one-hot order: four distractors, the two relevant symbols, start, trigger."""
CLASSES = ("XX", "XY", "YX", "YY")
"""The classes in index order (the paper's Q, R, S, U)."""
_X, _E, _B = 4, 6, 7
WINDOWS = (0.10, 0.20, 0.50, 0.60)
"""The paper's windows 10..20 and 50..60 as fractions of T = 100."""


def windows(length: int) -> tuple[int, int, int, int]:
    """1-based windows (lo1, hi1, lo2, hi2) of the two relevant symbols at ``length`` steps:
    the paper's fractions times T rounded half up, clipped to 2..T−1 (between E and B). At
    T = 100 they are the paper's 10..20 and 50..60."""
    lo1, hi1, lo2, hi2 = (math.floor(f * length + 0.5) for f in WINDOWS)
    return max(lo1, 2), hi1, lo2, min(hi2, length - 1)


class TemporalOrderTask(Task):
    """The temporal-order problem, Hochreiter & Schmidhuber (1997), section 5.6, experiment 6a
    ("two relevant, widely separated symbols").

    Inputs are one-hot over the 8 symbols (a, b, c, d, X, Y, E, B). A sequence starts with E,
    ends with the trigger B, and is otherwise random symbols from {a, b, c, d}, except at two
    positions t1 < t2 that hold X or Y (each with probability 1/2, independently). With 1-based
    positions, t1 is uniform in 10..20 and t2 in 50..60 for T = 100; for other T the windows
    scale with T (:func:`windows`). The paper draws T from 100..110; here every sequence has the
    given T. The class, at the last step only, is the order of the two symbols: XX, XY, YX, YY
    (indices 0..3; the paper's Q, R, S, U); the loss is cross-entropy there.

    Baseline: the four classes are equally likely and the last input is always B, so the best
    prediction without memory is uniform: cross-entropy ln 4 ≈ 1.386. Success measure: accuracy
    at the last step; solved at 99% on the test set.
    """

    name = "temporal_order"
    title = "Temporal order"
    summary = "classify the order of X/Y at two distant positions among distractors (4 classes)"
    reference = f"{HS_1997}, section 5.6, experiment 6a"
    loss = "ce"
    where = "last"
    success_name = "accuracy"
    OPTIONS = (TEST_SIZE,)
    DEFAULT_LENGTH = 100
    MIN_LENGTH = 10

    def __init__(self, length: int = DEFAULT_LENGTH, **options: object) -> None:
        length = check_length(self.name, length, self.MIN_LENGTH)
        super().__init__(
            length, length, self.resolve(options),
            channel_names=SYMBOLS, target_names=CLASSES,
            baseline=math.log(4.0),
            baseline_note="uniform over the 4 equally likely classes: ln 4",
            success_threshold=0.99,
            training=gated_training(max(3000, 30 * length)),
        )
        self.windows = windows(length)

    def _sample(self, rng: np.random.Generator, batch: int) -> Batch:
        steps = self.steps
        lo1, hi1, lo2, hi2 = self.windows
        rows = np.arange(batch)
        t1 = rng.integers(lo1, hi1 + 1, batch) - 1
        t2 = rng.integers(lo2, hi2 + 1, batch) - 1
        symbols = rng.integers(0, 4, (batch, steps))
        is_y = rng.integers(0, 2, (batch, 2))
        symbols[rows, t1] = _X + is_y[:, 0]
        symbols[rows, t2] = _X + is_y[:, 1]
        symbols[:, 0], symbols[:, -1] = _E, _B
        targets = np.zeros((batch, steps), np.int64)
        targets[:, -1] = 2 * is_y[:, 0] + is_y[:, 1]
        return Batch(one_hot(symbols, len(SYMBOLS)), targets, last_step_mask(batch, steps))

    def _describe(self, one: Batch) -> str:
        symbols = np.argmax(one.inputs[0], axis=-1)
        t1, t2 = np.flatnonzero((symbols == _X) | (symbols == _X + 1))
        return (f"temporal order: {SYMBOLS[symbols[t1]]} at step {t1}, "
                f"{SYMBOLS[symbols[t2]]} at step {t2}; class {CLASSES[one.targets[0, -1]]} "
                "at the last step")
