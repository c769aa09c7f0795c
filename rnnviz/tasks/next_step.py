"""Next-step prediction of a user's own sequence: windows of it, each step's target its next
value."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnviz.tasks import windows
from rnnviz.tasks.base import (
    MAX_BATCH,
    Batch,
    Task,
    TaskError,
    TrainingDefaults,
    check_length,
    float_option,
    int_option,
    relative_success,
)

MAX_POINTS = 10_000_000
MAX_CHANNELS = 4096


def _check_data(task: str, data: Any) -> np.ndarray:
    if data is None:
        raise TaskError(f"{task}: needs data, a (T, I) array of the sequence to predict")
    try:
        array = np.array(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise TaskError(f"{task}: data must be a (T, I) array of numbers") from None
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[1] == 0:
        raise TaskError(f"{task}: data must be a (T, I) array, got shape {array.shape}")
    if array.shape[0] > MAX_POINTS or array.shape[1] > MAX_CHANNELS:
        raise TaskError(f"{task}: data of shape {array.shape} is too large; at most "
                        f"{MAX_POINTS} steps and {MAX_CHANNELS} channels")
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        t, i = (int(v) for v in bad[0])
        raise TaskError(f"{task}: data must be finite; step {t}, channel {i} is {array[t, i]}")
    array.flags.writeable = False
    return array


class NextStepTask(Task):
    """Next-step prediction on windows of one (N, I) sequence (the next-input prediction of
    Elman 1990, "Finding structure in time", on the user's own data).

    A window at start s has inputs x_s..x_{s+T−1} and targets x_{s+1}..x_{s+T} (every channel,
    so O = I); every step carries a target and the loss is MSE over all of them. The sequence is
    split chronologically once: its last ⌈test_fraction·N⌉ steps (at least T + 1, one window)
    are held out. Training windows start anywhere in the first part (uniformly, a fresh draw for
    every sequence of a batch); the test set is the non-overlapping windows of the held-out part
    (starts N_train, N_train + T, …; at most ``test_size`` of them), so no test target is seen in
    training.

    Baseline: the best prediction that ignores the inputs, the training part's mean of each
    channel, scored on the test set. Echoing the input (x_{t+1} ≈ x_t) is the note's second
    figure. Success measure: the fraction of the baseline's error removed, 1 − MSE/baseline
    (clipped to [0, 1]); solved at 0.99 (test MSE below 1% of the baseline's).
    """

    name = "next_step"
    title = "Next-step prediction"
    summary = "predict x(t+1) from x(0..t) on windows of your own sequence"
    reference = ("prediction of the next input, as in Elman (1990), Finding structure in time, "
                 "Cognitive Science 14(2)")
    loss = "mse"
    where = "all"
    success_name = "1 − MSE/baseline"
    OPTIONS = (
        float_option("test_fraction", 0.2, 0.05, 0.5, "fraction of the sequence held out"),
        int_option("test_size", 1000, 1, MAX_BATCH, "most test windows"),
    )
    DEFAULT_LENGTH = 50
    MIN_LENGTH = 1

    def __init__(self, data: Any, length: int | None = None,
                 channel_names: tuple[str, ...] | None = None, **options: object) -> None:
        series = _check_data(self.name, data)
        values = self.resolve(options)
        fraction = float(values["test_fraction"])
        most = windows.longest(series.shape[0], fraction)
        if length is None:
            length = max(1, min(self.DEFAULT_LENGTH, most))
        length = check_length(self.name, length, self.MIN_LENGTH)
        self.split = windows.split(self.name, series.shape[0], length, fraction)
        self.data = series
        channels = series.shape[1]
        if channel_names is None:
            channel_names = ("x",) if channels == 1 else tuple(f"x{i}" for i in range(channels))
        if len(channel_names) != channels:
            raise TaskError(f"{self.name}: {len(channel_names)} channel names for {channels} "
                            "channels")
        self.train_mean = series[:self.split.train].mean(axis=0)
        starts = self.split.test_starts(int(values["test_size"]))
        test = self._windows(starts)
        baseline = float(np.mean((test.targets - self.train_mean) ** 2))
        echo = float(np.mean((test.targets - test.inputs) ** 2))
        super().__init__(
            length, length, values,
            channel_names=tuple(channel_names),
            target_names=tuple(f"next {n}" for n in channel_names),
            baseline=baseline,
            baseline_note=(f"predict the training mean of each channel: test MSE "
                           f"{baseline:.4g}; echoing the input gives {echo:.4g}"),
            loss_threshold=0.01 * baseline,
            success_threshold=0.99,
            training=TrainingDefaults(hidden_size=32, learning_rate=1e-2, batch_size=32,
                                      clip_norm=1.0, updates=1000, eval_every=50),
        )
        self._test = None
        self._test_windows = test

    @property
    def test_size(self) -> int:
        """How many test windows there are (at most the ``test_size`` option)."""
        return self._test_windows.size

    def _windows(self, starts: np.ndarray) -> Batch:
        chunk = self.data[windows.window_index(starts, self.split.length)]
        inputs = np.ascontiguousarray(chunk[:, :-1])
        targets = np.ascontiguousarray(chunk[:, 1:])
        return Batch(inputs, targets, np.ones(inputs.shape[:2], bool))

    def _sample(self, rng: np.random.Generator, batch: int) -> Batch:
        return self._windows(self.split.sample_starts(rng, batch))

    def _make_test_set(self) -> Batch:
        return self._test_windows

    def _success(self, out: np.ndarray, batch: Batch) -> float:
        return relative_success(float(np.mean((out - batch.targets) ** 2)), self.baseline)

    def _describe(self, one: Batch) -> str:
        return (f"next-step prediction: a window of {self.length} steps of your sequence "
                f"({self.split.train} of its {self.split.total} steps train, the rest test)")
