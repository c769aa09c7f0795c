"""What every training task shares: options, batches, examples, losses and success measures.

A *task* is a source of training sequences with a fixed meaning: how inputs are laid out, which
steps carry a target, which loss scores them, what a network that learned nothing scores (the
*baseline*) and when the task counts as solved. The trainer draws batches from it, the window
shows one example of it as its document. Concrete tasks live in the sibling modules and are
listed by :data:`rnnviz.tasks.registry.TASKS`.

Conventions shared by every task

- Batches are ``(B, T, I)`` inputs (float64), targets ``(B, T, O)`` float64 for loss ``"mse"``
  or ``(B, T)`` int64 class indices for loss ``"ce"``, and a ``(B, T)`` bool mask of the steps
  that carry a target. At unmasked steps the targets are 0 and mean nothing. Every sequence of a
  task has the same number of masked steps, so the mean over a batch of per-sequence means equals
  the mean over all masked entries (PyTorch's ``reduction="mean"``), and chunked evaluations
  combine exactly when weighted by chunk size.
- Losses are those of :mod:`rnnviz.engine.losses`: "mse" is the mean of squared errors over the
  masked (b, t, o) entries; "ce" the mean over masked (b, t) of ``−log softmax(z)[target]`` with
  the network's logits ``z`` (natural log, so in nats).
- ``where`` is "last" when only the final step carries a target, else "all"; the mask is exact
  either way, so pass both to the engine:
  ``net.loss_and_grads(batch.inputs, batch.targets, task.loss, task.where, batch.mask)``.
- The *baseline* is the loss of the best predictor that ignores the inputs: it may know the step
  t (as the memoryless strategy of Arjovsky et al. 2016 knows when the recall starts) but nothing
  the sequence showed. A network stuck at the baseline has learned nothing about its inputs.
- The *success measure* is a number in [0, 1] (an accuracy, a fraction of sequences within a
  tolerance, or the fraction of the baseline's error removed). The task counts as solved when it
  reaches ``success_threshold``; where the criterion is stated as a loss (the adding problem's
  test MSE < 0.01), ``loss_threshold`` holds it and ``success_threshold`` is its equivalent.
- All randomness comes from the ``np.random.Generator`` passed to :meth:`Task.sample`: the same
  generator state gives the same batch, bit for bit. The held-out test set of a generated task
  is drawn from a fixed stream that no ``np.random.default_rng(seed)`` reaches; a task built
  from data holds out a fixed part of it instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Literal

import numpy as np

Value = int | float | bool | str
Loss = Literal["mse", "ce"]
Where = Literal["all", "last"]
Readout = Literal["identity", "softmax"]

MAX_STEPS = 100_000
"""Longest sequence a task produces."""
MAX_BATCH = 100_000
"""Most sequences in one batch or test set."""
MAX_BATCH_BYTES = 1 << 30
"""Largest batch (inputs and targets together) a task will allocate: 1 GiB."""

_TEST_ENTROPY = 0x52_4E_4E_56_49_5A_5F_54_45_53_54_5F_53_45_54  # b"RNNVIZ_TEST_SET"
_TEST_SPAWN_KEY = (7,)


class TaskError(ValueError):
    """An unknown task or option, a value of the wrong type or out of range, unusable data, or
    outputs of the wrong shape. The message is one line and names what is wrong."""


def fmt(value: object) -> str:
    """A value as written in messages: floats with up to 10 significant digits."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


@dataclass(frozen=True)
class OptionSpec:
    """One option of a task: ``kind`` int, float, bool or str; ints and floats lie in the
    inclusive range ``minimum``..``maximum``; strs are one of ``choices``."""

    name: str
    kind: type
    default: Value
    help: str
    minimum: int | float | None = None
    maximum: int | float | None = None
    choices: tuple[str, ...] = ()

    def range_text(self) -> str:
        """The allowed values as a message shows them: "[1, 1000]", "one of a, b", "true or
        false"."""
        if self.kind is bool:
            return "true or false"
        if self.kind is str:
            return "one of " + ", ".join(self.choices)
        return f"[{fmt(self.minimum)}, {fmt(self.maximum)}]"

    def check(self, value: object, task: str) -> Value:
        """``value`` converted to ``kind`` and checked; TaskError naming the option and its
        range if it is not allowed."""
        where = f"{task}: {self.name}"
        if self.kind is bool:
            if not isinstance(value, bool | np.bool_):
                raise TaskError(f"{where} must be true or false, got {value!r}")
            return bool(value)
        if self.kind is str:
            if not isinstance(value, str) or value not in self.choices:
                raise TaskError(f"{where}={value!r} is not {self.range_text()}")
            return value
        if isinstance(value, bool | np.bool_):
            raise TaskError(f"{where} must be a number in {self.range_text()}, got {value!r}")
        if self.kind is int:
            if isinstance(value, float | np.floating) and float(value).is_integer():
                value = int(value)
            if not isinstance(value, int | np.integer):
                raise TaskError(f"{where} must be a whole number in {self.range_text()}, "
                                f"got {value!r}")
            value = int(value)
        else:
            if not isinstance(value, int | float | np.integer | np.floating):
                raise TaskError(f"{where} must be a number in {self.range_text()}, got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                raise TaskError(f"{where} must be a finite number in {self.range_text()}, "
                                f"got {value!r}")
        assert self.minimum is not None and self.maximum is not None
        if not self.minimum <= value <= self.maximum:
            raise TaskError(f"{where}={fmt(value)} is outside {self.range_text()}")
        return value

    def parse(self, text: str, task: str) -> Value:
        """The value written as ``text`` (a command line, a form field), checked."""
        raw = text.strip()
        if self.kind is bool:
            words = {"true": True, "yes": True, "on": True, "1": True,
                     "false": False, "no": False, "off": False, "0": False}
            if raw.lower() not in words:
                raise TaskError(f"{task}: {self.name} must be true or false, got {text!r}")
            return words[raw.lower()]
        if self.kind is str:
            return self.check(raw, task)
        try:
            value: Value = int(raw) if self.kind is int else float(raw)
        except ValueError:
            what = "a whole number" if self.kind is int else "a number"
            raise TaskError(f"{task}: {self.name} must be {what} in {self.range_text()}, "
                            f"got {text!r}") from None
        return self.check(value, task)


def int_option(name: str, default: int, minimum: int, maximum: int, help: str) -> OptionSpec:
    return OptionSpec(name, int, default, help, minimum, maximum)


def float_option(name: str, default: float, minimum: float, maximum: float,
                 help: str) -> OptionSpec:
    return OptionSpec(name, float, default, help, minimum, maximum)


TEST_SIZE = int_option("test_size", 1000, 1, MAX_BATCH, "sequences in the held-out test set")


@dataclass(frozen=True)
class TrainingDefaults:
    """Settings under which the task trains in reasonable time: what a Training panel or a
    command line starts from. ``cell`` is an engine cell type ("lstm", "gru", "rnn_tanh", as
    :class:`rnnviz.engine.NetworkConfig` names them); ``optimizer`` "adam", "sgd" or
    "rmsprop"; ``clip_norm`` the max norm of gradient clipping (None: off); ``updates`` how
    many to run; ``eval_every`` the updates between evaluations on the test set."""

    cell: str = "lstm"
    hidden_size: int = 32
    num_layers: int = 1
    optimizer: str = "adam"
    learning_rate: float = 1e-2
    batch_size: int = 32
    clip_norm: float | None = 1.0
    updates: int = 2000
    eval_every: int = 50

    def as_dict(self) -> dict[str, Any]:
        """The settings by name, JSON-ready."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def gated_training(updates: int) -> TrainingDefaults:
    """GRU defaults for the last-step memory tasks of Hochreiter & Schmidhuber (1997)."""
    # Checked with PyTorch (float32, seed 0) at T = 100, H = 32, batch 32, Adam 1e-2, clip 1: a
    # GRU solves the original adding problem after 2300 updates, the latch after 1050 and the
    # temporal order after 1500, while an LSTM with PyTorch's initialisation stays at the
    # baseline for 3000 updates at learning rates 1e-2, 3e-3 and 1e-3 on all three.
    return TrainingDefaults(cell="gru", hidden_size=32, learning_rate=1e-2, batch_size=32,
                            clip_norm=1.0, updates=updates, eval_every=50)


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class Batch:
    """Sequences for one update or one evaluation.

    inputs (B, T, I) float64; targets (B, T, O) float64 for loss "mse" or (B, T) int64 class
    indices for "ce"; mask (B, T) bool, True at the steps that carry a target.
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray

    @property
    def size(self) -> int:
        """B, the number of sequences."""
        return self.inputs.shape[0]

    @property
    def steps(self) -> int:
        """T, the number of steps of every sequence."""
        return self.inputs.shape[1]

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: slice) -> Batch:
        """The sequences ``index`` selects (a slice), as a batch."""
        if not isinstance(index, slice):
            raise TypeError("index a Batch with a slice; use sequence(i) for one sequence")
        return Batch(self.inputs[index], self.targets[index], self.mask[index])

    def split(self, size: int) -> Iterator[Batch]:
        """Consecutive sub-batches of at most ``size`` sequences (for evaluating a large test
        set in chunks; weight each chunk's mean by its ``size``)."""
        if size < 1:
            raise TaskError(f"split size must be at least 1, got {size}")
        for start in range(0, self.size, size):
            yield self[start:start + size]

    def sequence(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sequence ``i`` as (inputs (T, I), targets (T, O) or (T,), mask (T,))."""
        return self.inputs[i], self.targets[i], self.mask[i]

    def astype(self, dtype: Any) -> Batch:
        """The batch with its inputs (and float targets) cast to ``dtype``, e.g. float32."""
        targets = self.targets
        if targets.dtype.kind == "f":
            targets = targets.astype(dtype, copy=False)
        return Batch(self.inputs.astype(dtype, copy=False), targets, self.mask)


@dataclass(frozen=True, eq=False)
class Example:
    """One sequence of a task, to show as a document.

    inputs (T, I) float64; targets (T, O) float64 for "mse" or (T,) int64 for "ce"; mask (T,)
    bool; channel_names (I,) and target_names (O,) label the columns (for "ce" the classes).
    labels: T strings for the time axis (a text's characters) or None; text and vocabulary are
    set for character tasks. Arrays are read-only.
    """

    task: str
    seed: int
    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    loss: Loss
    where: Where
    channel_names: tuple[str, ...]
    target_names: tuple[str, ...]
    description: str
    labels: tuple[str, ...] | None = None
    text: str | None = None
    vocabulary: tuple[str, ...] | None = None

    @property
    def steps(self) -> int:
        """T, the number of steps."""
        return self.inputs.shape[0]

    def one_hot_targets(self) -> np.ndarray:
        """Targets as (T, O) float64 rows to plot against outputs: the targets themselves for
        "mse", one-hot rows of the classes (zero at unmasked steps) for "ce"."""
        if self.loss == "mse":
            return np.array(self.targets, dtype=np.float64)
        rows = np.zeros((self.steps, len(self.target_names)))
        rows[self.mask, self.targets[self.mask]] = 1.0
        return rows


@dataclass(frozen=True)
class Evaluation:
    """A task's loss, success measure and verdict on one batch of outputs."""

    loss: float
    success: float
    solved: bool


def _log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, overflow-free."""
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def check_seed(task: str, seed: object) -> int:
    if isinstance(seed, bool | np.bool_) or not isinstance(seed, int | np.integer) or seed < 0:
        raise TaskError(f"{task}: seed must be a non-negative whole number, got {seed!r}")
    return int(seed)


def held_out_rng() -> np.random.Generator:
    """The generator every generated task's test set is drawn from (fresh each call)."""
    return np.random.default_rng(np.random.SeedSequence(_TEST_ENTROPY, spawn_key=_TEST_SPAWN_KEY))


class Task:
    """Base of every task. Subclasses set the class attributes, call ``__init__`` with the
    validated options and implement :meth:`_sample` and :meth:`_describe`; most also override
    :meth:`success` and the baseline.

    Attributes a caller reads (all fixed once the task is built):

    - ``name``, ``title``, ``reference`` (the definition's source), ``options`` (every option
      value, defaults included; ``make_task(name, length, **options)`` rebuilds the task);
    - ``length``: the task's T as its paper names it; ``steps``: the sequence length (equal to
      ``length`` except for the copy task, whose T is the delay);
    - ``input_size`` I, ``output_size`` O, ``channel_names``, ``target_names``;
    - ``loss`` "mse" | "ce", ``where`` "all" | "last", ``readout`` "identity" | "softmax" (the
      network's suggested readout; with "ce" the loss takes the logits before it);
    - ``baseline`` (float, in the loss's units) and ``baseline_note`` (how it is obtained);
    - ``success_name``, ``success_threshold``, ``loss_threshold`` (float or None);
    - ``training``: :class:`TrainingDefaults`.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    summary: ClassVar[str]
    reference: ClassVar[str]
    loss: ClassVar[Loss]
    where: ClassVar[Where]
    success_name: ClassVar[str]
    OPTIONS: ClassVar[tuple[OptionSpec, ...]] = (TEST_SIZE,)
    DEFAULT_LENGTH: ClassVar[int] = 100
    MIN_LENGTH: ClassVar[int] = 1

    @classmethod
    def option(cls, name: str) -> OptionSpec:
        """The option called ``name``; TaskError listing the task's options if none is."""
        for spec in cls.OPTIONS:
            if spec.name == name:
                return spec
        known = ", ".join(o.name for o in cls.OPTIONS)
        raise TaskError(f"{cls.name} has no option {name!r} (options: {known})")

    @classmethod
    def defaults(cls) -> dict[str, Value]:
        """Every option's default."""
        return {o.name: o.default for o in cls.OPTIONS}

    @classmethod
    def resolve(cls, options: Mapping[str, object]) -> dict[str, Value]:
        """``options`` checked and completed with defaults; TaskError naming a bad one."""
        values = cls.defaults()
        for name, value in options.items():
            values[name] = cls.option(name).check(value, cls.name)
        return values

    def __init__(self, length: int, steps: int, options: Mapping[str, Value], *,
                 channel_names: tuple[str, ...], target_names: tuple[str, ...],
                 baseline: float, baseline_note: str, success_threshold: float,
                 training: TrainingDefaults, loss_threshold: float | None = None) -> None:
        self.length = length
        self.steps = steps
        self.options: Mapping[str, Value] = MappingProxyType(dict(options))
        self.channel_names = channel_names
        self.target_names = target_names
        self.baseline = float(baseline)
        self.baseline_note = baseline_note
        self.success_threshold = float(success_threshold)
        self.loss_threshold = None if loss_threshold is None else float(loss_threshold)
        self.training = training
        self._test: Batch | None = None

    # ---- shape ---------------------------------------------------------------------------
    @property
    def input_size(self) -> int:
        return len(self.channel_names)

    @property
    def output_size(self) -> int:
        return len(self.target_names)

    @property
    def readout(self) -> Readout:
        return "softmax" if self.loss == "ce" else "identity"

    @property
    def test_size(self) -> int:
        return int(self.options["test_size"])

    def to_dict(self) -> dict[str, Any]:
        """{"name", "length", "options"}, JSON-ready: ``make_task(d["name"], d["length"],
        **d["options"])`` rebuilds the task (with the same ``data=`` or ``text=`` for the tasks
        built from them, which a caller stores itself)."""
        return {"name": self.name, "length": self.length, "options": dict(self.options)}

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"<{type(self).__name__} {self.name} length={self.length} {opts}>"

    # ---- sampling ------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, batch: int) -> Batch:
        """``batch`` fresh sequences drawn with ``rng`` (which advances). Deterministic: the
        same generator state gives the same batch, bit for bit."""
        if not isinstance(rng, np.random.Generator):
            raise TaskError(f"{self.name}: rng must be a numpy.random.Generator, got "
                            f"{type(rng).__name__}")
        batch = self._check_batch(batch)
        return self._sample(rng, batch)

    def test_set(self) -> Batch:
        """The fixed held-out test set (``test_size`` sequences for a generated task): the same
        arrays, read-only, at every call and for every task built with the same options."""
        if self._test is None:
            test = self._make_test_set()
            self._test = Batch(_read_only(test.inputs), _read_only(test.targets),
                               _read_only(test.mask))
        return self._test

    def example(self, seed: int = 0) -> Example:
        """One sequence to show: the first of ``sample(np.random.default_rng(seed), 1)``."""
        seed = check_seed(self.name, seed)
        one = self.sample(np.random.default_rng(seed), 1)
        x, y, m = (_read_only(np.array(a[0])) for a in (one.inputs, one.targets, one.mask))
        return Example(self.name, seed, x, y, m, self.loss, self.where, self.channel_names,
                       self.target_names, self._describe(one), **self._example_extras(one))

    def _check_batch(self, batch: object) -> int:
        if isinstance(batch, bool | np.bool_) or not isinstance(batch, int | np.integer):
            raise TaskError(f"{self.name}: batch must be a whole number in [1, {MAX_BATCH}], "
                            f"got {batch!r}")
        batch = int(batch)
        if not 1 <= batch <= MAX_BATCH:
            raise TaskError(f"{self.name}: batch={batch} is outside [1, {MAX_BATCH}]")
        per_target = self.output_size if self.loss == "mse" else 1
        nbytes = batch * self.steps * (self.input_size + per_target + 1) * 8
        if nbytes > MAX_BATCH_BYTES:
            raise TaskError(
                f"{self.name}: a batch of {batch} × {self.steps} steps × {self.input_size} "
                f"inputs needs {nbytes / 2**30:.1f} GiB; at most "
                f"{MAX_BATCH_BYTES / 2**30:.0f} GiB is allowed"
            )
        return batch

    def _sample(self, rng: np.random.Generator, batch: int) -> Batch:
        raise NotImplementedError

    def _make_test_set(self) -> Batch:
        return self.sample(held_out_rng(), self.test_size)

    def _describe(self, one: Batch) -> str:
        """What the single sequence of ``one`` shows, in a line."""
        raise NotImplementedError

    def _example_extras(self, one: Batch) -> dict[str, Any]:
        return {}

    # ---- scoring -------------------------------------------------------------------------
    def _check_outputs(self, outputs: Any, batch: Batch) -> np.ndarray:
        shape = (batch.size, batch.steps, self.output_size)
        try:
            out = np.asarray(outputs, dtype=np.float64)
        except (TypeError, ValueError):
            raise TaskError(f"{self.name}: outputs must be numbers of shape {shape}") from None
        if out.shape != shape:
            raise TaskError(f"{self.name}: outputs must have shape {shape}, got {out.shape}")
        return out

    def loss_value(self, outputs: Any, batch: Batch) -> float:
        """The task's loss of ``outputs`` (B, T, O) on ``batch``: for "mse" the network's
        outputs, for "ce" its logits (before the softmax). Computed as the engine computes it:
        the mean over the masked entries."""
        out = self._check_outputs(outputs, batch)
        mask = batch.mask
        if self.loss == "mse":
            diff = out[mask] - batch.targets[mask]
            return float(np.mean(diff * diff)) if diff.size else 0.0
        logp = _log_softmax(out[mask])
        picked = logp[np.arange(logp.shape[0]), batch.targets[mask]]
        return float(-np.mean(picked)) if picked.size else 0.0

    def success(self, outputs: Any, batch: Batch) -> float:
        """The success measure of ``outputs`` (B, T, O) on ``batch``, in [0, 1]. Outputs or
        logits alike for "ce" (only their argmax counts)."""
        out = self._check_outputs(outputs, batch)
        return self._success(out, batch)

    def _success(self, out: np.ndarray, batch: Batch) -> float:
        """Default for "ce": accuracy of the argmax over the masked steps."""
        mask = batch.mask
        return float(np.mean(np.argmax(out[mask], axis=-1) == batch.targets[mask]))

    def solved(self, outputs: Any, batch: Batch) -> bool:
        """Whether ``outputs`` solve the task on ``batch``: success ≥ ``success_threshold``
        (or, where the criterion is a loss, loss < ``loss_threshold``)."""
        return self.evaluate(outputs, batch).solved

    def evaluate(self, outputs: Any, batch: Batch) -> Evaluation:
        """Loss, success and verdict at once."""
        loss, success = self.loss_value(outputs, batch), self.success(outputs, batch)
        return Evaluation(loss, success, self._is_solved(loss, success))

    def _is_solved(self, loss: float, success: float) -> bool:
        return success >= self.success_threshold


def relative_success(mse: float, baseline: float) -> float:
    """The fraction of the baseline's error removed, 1 − mse/baseline, clipped to [0, 1]
    (NaN outputs count as 0)."""
    if not math.isfinite(mse):
        return 0.0
    if baseline <= 0.0:
        return 1.0 if mse <= 0.0 else 0.0
    return min(1.0, max(0.0, 1.0 - mse / baseline))


def last_step_mask(batch: int, steps: int) -> np.ndarray:
    """(B, T) bool, True at the last step only."""
    mask = np.zeros((batch, steps), bool)
    mask[:, -1] = True
    return mask


def one_hot(indices: np.ndarray, classes: int) -> np.ndarray:
    """float64 one-hot rows of integer ``indices`` (any shape) → shape + (classes,)."""
    out = np.zeros((*indices.shape, classes))
    np.put_along_axis(out, indices[..., None], 1.0, axis=-1)
    return out


def check_length(task: str, length: object, minimum: int, maximum: int = MAX_STEPS,
                 why: str = "") -> int:
    """``length`` as an int in [minimum, maximum]; TaskError naming it otherwise."""
    if isinstance(length, float) and float(length).is_integer():
        length = int(length)
    if isinstance(length, bool | np.bool_) or not isinstance(length, int | np.integer):
        raise TaskError(f"{task}: length must be a whole number in [{minimum}, {maximum}], "
                        f"got {length!r}")
    length = int(length)
    if not minimum <= length <= maximum:
        raise TaskError(f"{task}: length={length} is outside [{minimum}, {maximum}]"
                        + (f" {why}" if why else ""))
    return length


__all__ = [
    "MAX_BATCH", "MAX_BATCH_BYTES", "MAX_STEPS", "Batch", "Evaluation", "Example", "Loss",
    "OptionSpec", "Readout", "Task", "TaskError", "TrainingDefaults", "Value", "Where",
    "check_length", "check_seed", "float_option", "fmt", "int_option", "last_step_mask",
    "one_hot", "relative_success", "held_out_rng", "TEST_SIZE",
]
