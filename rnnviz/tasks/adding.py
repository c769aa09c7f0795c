"""The adding problem, in the two forms the literature uses.

- :class:`AddingTask` ("adding"): the form of Arjovsky, Shah & Bengio (2016), which most later
  papers (and Pascanu et al.'s length sweeps) follow: values U[0, 1], one marker in each half,
  target the plain sum.
- :class:`AddingOriginalTask` ("adding_hs"): the original of Hochreiter & Schmidhuber (1997):
  values U[−1, 1], both markers in the first half, target scaled to [0, 1], judged by a
  tolerance of 0.04.
"""

from __future__ import annotations

import numpy as np

from rnnviz.tasks.base import (
    MAX_STEPS,
    TEST_SIZE,
    Batch,
    Task,
    TrainingDefaults,
    check_length,
    gated_training,
    int_option,
    last_step_mask,
    relative_success,
)

ARJOVSKY_2016 = (
    "Arjovsky, Shah & Bengio (2016), Unitary evolution recurrent neural networks, ICML, "
    "section 4.2 (adding problem)"
)
HS_1997 = "Hochreiter & Schmidhuber (1997), Long short-term memory, Neural Computation 9(8)"


def _adding_training(length: int) -> TrainingDefaults:
    # At T=100, H=32, batch 32, Adam 1e-2, clip 1: an LSTM reaches test MSE < 0.01 after about
    # 800 updates and a GRU after about 400 (measured with PyTorch; checked again here: an LSTM
    # at seed 0 is solved after 750); longer T needs longer.
    return TrainingDefaults(hidden_size=32, learning_rate=1e-2, batch_size=32, clip_norm=1.0,
                            updates=max(2000, 20 * length), eval_every=50)


class AddingTask(Task):
    """The adding problem as Arjovsky, Shah & Bengio (2016), section 4.2, state it.

    Two input channels of T steps: channel 0 holds values drawn from U[0, 1); channel 1 is an
    indicator that is 1 at exactly two steps and 0 elsewhere. The first marked step is uniform
    in the first half, steps 0..⌊T/2⌋−1; the second uniform in the second half, ⌊T/2⌋..T−1 (for
    odd T the middle step belongs to the second half). The target, at the last step only, is the
    sum of the two marked values; the loss is MSE there.

    Baseline: the best prediction that ignores the inputs is the mean of the sum, 1, and its MSE
    is the variance of a sum of two independent U[0, 1] values, 2 · 1/12 = 1/6 ≈ 0.167 ("a naive
    strategy of predicting 1 ... gives an expected mean squared error of 0.167", ibid.).
    Solved: test MSE below 0.01. Success measure: the fraction of the baseline's error removed,
    1 − MSE/(1/6), clipped to [0, 1]; MSE < 0.01 is success above 0.94.
    """

    name = "adding"
    title = "Adding problem"
    summary = "sum the two marked values of U[0,1] noise, one marker in each half"
    reference = ARJOVSKY_2016
    loss = "mse"
    where = "last"
    success_name = "1 − MSE/baseline"
    OPTIONS = (TEST_SIZE,)
    DEFAULT_LENGTH = 100
    MIN_LENGTH = 2
    BASELINE = 1.0 / 6.0
    SOLVED_MSE = 0.01

    def __init__(self, length: int = DEFAULT_LENGTH, **options: object) -> None:
        length = check_length(self.name, length, self.MIN_LENGTH)
        super().__init__(
            length, length, self.resolve(options),
            channel_names=("value", "marker"), target_names=("sum",),
            baseline=self.BASELINE,
            baseline_note="always predict 1, the mean of the sum: MSE = Var(U1 + U2) = 1/6",
            loss_threshold=self.SOLVED_MSE,
            success_threshold=1.0 - self.SOLVED_MSE / self.BASELINE,
            training=_adding_training(length),
        )

    def _sample(self, rng: np.random.Generator, batch: int) -> Batch:
        steps, half = self.steps, self.steps // 2
        rows = np.arange(batch)
        values = rng.random((batch, steps))
        first = rng.integers(0, half, batch)
        second = rng.integers(half, steps, batch)
        inputs = np.zeros((batch, steps, 2))
        inputs[:, :, 0] = values
        inputs[rows, first, 1] = 1.0
        inputs[rows, second, 1] = 1.0
        targets = np.zeros((batch, steps, 1))
        targets[:, -1, 0] = values[rows, first] + values[rows, second]
        return Batch(inputs, targets, last_step_mask(batch, steps))

    def _success(self, out: np.ndarray, batch: Batch) -> float:
        diff = out[batch.mask] - batch.targets[batch.mask]
        return relative_success(float(np.mean(diff * diff)), self.baseline)

    def _is_solved(self, loss: float, success: float) -> bool:
        return loss < self.SOLVED_MSE

    def _describe(self, one: Batch) -> str:
        marked = np.flatnonzero(one.inputs[0, :, 1])
        a, b = one.inputs[0, marked, 0]
        return (f"adding: marked steps {marked[0]} and {marked[1]}; target at the last step "
                f"{a:.3f} + {b:.3f} = {a + b:.4f}")


class AddingOriginalTask(Task):
    """The adding problem of Hochreiter & Schmidhuber (1997), section 5.4, experiment 4.

    Two channels: values drawn from U[−1, 1) and markers in {1, 0, −1}. One step is marked 1
    uniformly among the first ``first_window`` steps (10 in the paper), a second uniformly among
    the other steps of the first half, 0..⌊T/2⌋−1 (the paper's "first T/2 − 1 still unmarked
    pairs"). All other markers are 0 except at the first and last step, which are −1 when not
    marked. If step 0 is marked, its value is set to 0 ("in the rare case where the first pair
    of the sequence gets marked, we set X1 to zero"). The target, at the last step only, is
    0.5 + (X1 + X2)/4, the marked values' sum scaled to [0, 1]; the loss is MSE there. The paper
    draws each sequence's length between T and T + T/10; here every sequence has T steps.

    A sequence is processed correctly when the absolute error at the last step is below 0.04
    (the paper's criterion); the success measure is the fraction processed correctly, and the
    task counts as solved when at least 99% of the test sequences are.

    Baseline: predict 0.5, the target's mean. Its MSE is the target's variance: each marked
    value has variance 1/3 unless it sits at step 0 (then it is 0), so with p0 the probability
    that step 0 is marked, p0 = 1/w + (1 − 1/w)/(⌊T/2⌋ − 1) for w = first_window, the baseline
    is (2 − p0)/48 (≈ 0.0392 at T = 100, w = 10).
    """

    name = "adding_hs"
    title = "Adding problem (original)"
    summary = "0.5 + (X1+X2)/4 of two marked U[-1,1] values, both in the first half"
    reference = f"{HS_1997}, section 5.4, experiment 4"
    loss = "mse"
    where = "last"
    success_name = "fraction correct (|error| < 0.04)"
    TOLERANCE = 0.04
    OPTIONS = (
        int_option("first_window", 10, 1, MAX_STEPS // 2,
                   "the first marker falls in this many first steps"),
        TEST_SIZE,
    )
    DEFAULT_LENGTH = 100
    MIN_LENGTH = 4

    def __init__(self, length: int = DEFAULT_LENGTH, **options: object) -> None:
        values = self.resolve(options)
        window = int(values["first_window"])
        needed = max(self.MIN_LENGTH, 2 * window)
        length = check_length(self.name, length, needed,
                              why=f"(first_window={window} needs at least {needed} steps)")
        half = length // 2
        p0 = 1.0 / window + (1.0 - 1.0 / window) / (half - 1)
        baseline = (2.0 - p0) / 48.0
        super().__init__(
            length, length, values,
            channel_names=("value", "marker"), target_names=("sum",),
            baseline=baseline,
            baseline_note=(f"always predict 0.5, the mean target: MSE = Var(target) = "
                           f"(2 − p0)/48 with p0 = {p0:.4f} the chance that step 0 is marked"),
            success_threshold=0.99,
            training=gated_training(max(4000, 40 * length)),
        )

    def _sample(self, rng: np.random.Generator, batch: int) -> Batch:
        steps, half = self.steps, self.steps // 2
        rows = np.arange(batch)
        values = rng.uniform(-1.0, 1.0, (batch, steps))
        first = rng.integers(0, int(self.options["first_window"]), batch)
        second = rng.integers(0, half - 1, batch)
        second += second >= first  # skip the step already marked
        markers = np.zeros((batch, steps))
        markers[:, 0] = markers[:, -1] = -1.0
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        values[markers[:, 0] == 1.0, 0] = 0.0
        targets = np.zeros((batch, steps, 1))
        targets[:, -1, 0] = 0.5 + (values[rows, first] + values[rows, second]) / 4.0
        inputs = np.stack([values, markers], axis=-1)
        return Batch(inputs, targets, last_step_mask(batch, steps))

    def _success(self, out: np.ndarray, batch: Batch) -> float:
        error = np.abs(out[:, -1, 0] - batch.targets[:, -1, 0])
        return float(np.mean(error < self.TOLERANCE))

    def _describe(self, one: Batch) -> str:
        marked = np.flatnonzero(one.inputs[0, :, 1] == 1.0)
        x1, x2 = one.inputs[0, marked, 0]
        return (f"adding (H&S): marked steps {marked[0]} and {marked[1]} (X1={x1:.3f}, "
                f"X2={x2:.3f}); target at the last step 0.5+(X1+X2)/4 = "
                f"{one.targets[0, -1, 0]:.4f}")

