"""The latch (2-sequence) problem of Bengio et al. (1994) as Hochreiter & Schmidhuber (1997)
posed it in experiment 3a."""

from __future__ import annotations

import math

import numpy as np

from rnnviz.tasks.adding import HS_1997
from rnnviz.tasks.base import (
    MAX_STEPS,
    TEST_SIZE,
    Batch,
    Task,
    check_length,
    float_option,
    gated_training,
    int_option,
    last_step_mask,
)


class LatchTask(Task):
    """The 2-sequence problem, Hochreiter & Schmidhuber (1997), section 5.3, experiment 3a
    (after Bengio, Simard & Frasconi 1994): noise and signal on the same channel.

    One input channel. Only the first N = ``info_steps`` steps carry the class: x_t = 1.0 for
    class 1 and −1.0 for class 2 at t < N (both classes equally likely). From step N on, x_t is
    Gaussian noise with mean 0 and variance ``noise_variance`` (0.2 in the paper). The target,
    at the last step only, is 1.0 for class 1 and 0.0 for class 2; the loss is MSE there. A
    sequence is classified correctly when the absolute error at the last step is below 0.2 (the
    paper's criterion). The paper ran N = 1 and N = 3 at T = 100 and drew each length between T
    and T + T/10; here every sequence has T steps.

    Baseline: the last input is noise, so the best prediction without memory is 0.5, whose MSE
    is exactly 0.25. Success measure: fraction classified correctly; solved at 99% on the test
    set.
    """

    name = "latch"
    title = "Latch (2-sequence problem)"
    summary = "the class shows in the first N steps only, noise after; answer at the last step"
    reference = f"{HS_1997}, section 5.3, experiment 3a"
    loss = "mse"
    where = "last"
    success_name = "fraction correct (|error| < 0.2)"
    TOLERANCE = 0.2
    OPTIONS = (
        int_option("info_steps", 3, 1, MAX_STEPS - 1, "N, the first steps that show the class"),
        float_option("noise_variance", 0.2, 0.0, 100.0, "variance of the noise after them"),
        TEST_SIZE,
    )
    DEFAULT_LENGTH = 100
    MIN_LENGTH = 2

    def __init__(self, length: int = DEFAULT_LENGTH, **options: object) -> None:
        values = self.resolve(options)
        n = int(values["info_steps"])
        length = check_length(self.name, length, max(self.MIN_LENGTH, n + 1),
                              why=f"(info_steps={n} needs at least {n + 1} steps)")
        super().__init__(
            length, length, values,
            channel_names=("x",), target_names=("class",),
            baseline=0.25,
            baseline_note="always predict 0.5, between the targets 1 and 0: MSE = 0.25",
            success_threshold=0.99,
            training=gated_training(max(2000, 20 * length)),
        )
        self.info_steps = n

    def _sample(self, rng: np.random.Generator, batch: int) -> Batch:
        steps, n = self.steps, self.info_steps
        first = rng.integers(0, 2, batch) == 1  # True: class 1
        x = np.empty((batch, steps, 1))
        x[:, :n, 0] = np.where(first, 1.0, -1.0)[:, None]
        x[:, n:, 0] = rng.normal(0.0, math.sqrt(float(self.options["noise_variance"])),
                                 (batch, steps - n))
        targets = np.zeros((batch, steps, 1))
        targets[:, -1, 0] = first
        return Batch(x, targets, last_step_mask(batch, steps))

    def _success(self, out: np.ndarray, batch: Batch) -> float:
        error = np.abs(out[:, -1, 0] - batch.targets[:, -1, 0])
        return float(np.mean(error < self.TOLERANCE))

    def _describe(self, one: Batch) -> str:
        cls = 1 if one.targets[0, -1, 0] == 1.0 else 2
        return (f"latch: class {cls} shown as {one.inputs[0, 0, 0]:+.0f} for the first "
                f"{self.info_steps} step(s), then noise (variance "
                f"{float(self.options['noise_variance']):g}); target "
                f"{one.targets[0, -1, 0]:g} at the last step")
