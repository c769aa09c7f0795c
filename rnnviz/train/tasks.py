"""What a run trains on, and how a saved run names it again.

A run trains on a task of :mod:`rnnviz.tasks` (the registry's, rebuilt from
:meth:`~rnnviz.tasks.Task.to_dict`, plus the data a task built from data needs), or on one
sequence as it is (:class:`FitTask`, "fit this sequence": a document's own input and target).
:func:`task_definition` gives the JSON-ready description and the arrays a session file stores;
:func:`task_from_definition` rebuilds the task from them, so that a resumed run draws exactly the
batches an uninterrupted one would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rnnviz.tasks import Task, TaskError, TrainingDefaults, make_task
from rnnviz.tasks.base import Batch
from rnnviz.tasks.char_lm import CharLMTask
from rnnviz.tasks.next_step import NextStepTask
from rnnviz.train.settings import TrainError

FIT = "fit"


def _read_only(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


class FitTask(Task):
    """Fit one sequence as it is: every batch is that sequence (the batch size does not matter:
    a batch of copies gives the same mean loss and gradient), and it is its own test set.

    inputs (T, I); targets (T, O) float for "mse", or (T,) class indices for "ce"; mask (T,)
    bool, the steps that carry a target (combined with ``where``). Baseline: for "mse" the
    MSE of predicting each output's mean over the counted steps — or, when that is 0 (a single
    counted value), of predicting 0; for "ce" the entropy of the counted targets' class
    frequencies. Success measure: 1 − loss/baseline for "mse" (clipped to [0, 1]), accuracy
    for "ce"; solved at 0.99.
    """

    name = FIT
    title = "Fit this sequence"
    summary = "learn the document's own input → target mapping"
    reference = "the document's sequence"
    loss = "mse"
    where = "all"
    success_name = "1 − MSE/baseline"
    OPTIONS = ()

    def __init__(self, inputs: Any, targets: Any, mask: Any, loss: str, where: str,
                 channel_names: tuple[str, ...] | None = None,
                 target_names: tuple[str, ...] | None = None) -> None:
        if loss not in ("mse", "ce"):
            raise TrainError(f"fitting a sequence needs an mse or ce loss, got {loss!r}")
        if where not in ("all", "last"):
            raise TrainError(f"where must be 'all' or 'last', got {where!r}")
        x = np.asarray(inputs, dtype=np.float64)
        if x.ndim != 2 or not x.size or not np.isfinite(x).all():
            raise TrainError("fit: inputs must be a finite (T, I) array")
        steps = x.shape[0]
        m = np.ones(steps, bool) if mask is None else np.asarray(mask, dtype=bool)
        if m.shape != (steps,):
            raise TrainError(f"fit: the mask must have shape ({steps},), got {m.shape}")
        counted = m.copy()
        if where == "last":
            counted[:-1] = False
        if not counted.any():
            raise TrainError("fit: no step of the sequence carries a target")
        y = np.asarray(targets, dtype=np.float64)
        if loss == "ce":
            y = y.reshape(steps, -1)[:, 0] if y.ndim == 2 else y
            if y.shape != (steps,) or not np.isfinite(y).all() or np.any(y != np.round(y)) \
                    or np.any(y < 0):
                raise TrainError("fit: cross-entropy targets must be whole class indices")
            y = y.astype(np.int64)
            classes = int(y[counted].max()) + 1
            counts = np.bincount(y[counted], minlength=classes)
            p = counts[counts > 0] / counts.sum()
            baseline = float(-np.sum(p * np.log(p)))
            self.loss, self.success_name = "ce", "accuracy"
            output_size = max(int(y.max()) + 1, 2)
            if target_names is not None and len(target_names) >= output_size:
                output_size = len(target_names)
        else:
            if y.ndim == 1:
                y = y[:, None]
            if y.ndim != 2 or y.shape[0] != steps or not np.isfinite(y).all():
                raise TrainError(f"fit: targets must be a finite ({steps}, O) array")
            rows = y[counted]
            with np.errstate(over="ignore"):  # targets near 1e308: an infinite baseline
                baseline = float(np.mean((rows - rows.mean(axis=0)) ** 2))
                if baseline <= 1e-12:
                    baseline = float(np.mean(rows**2))
            output_size = y.shape[1]
        self.where = where
        self.inputs, self.targets, self.mask = _read_only(x), _read_only(y), _read_only(m)
        channels = channel_names or tuple(f"x{i}" for i in range(x.shape[1]))
        targets_named = target_names or tuple(f"y{i}" for i in range(output_size))
        if len(targets_named) != output_size:
            targets_named = tuple(f"y{i}" for i in range(output_size))
        super().__init__(
            steps, steps, {},
            channel_names=tuple(channels), target_names=tuple(targets_named),
            baseline=max(baseline, 1e-300),
            baseline_note=("predict the class frequencies" if loss == "ce" else
                           "predict each output's mean over the counted steps"),
            success_threshold=0.99,
            training=TrainingDefaults(cell="lstm", learning_rate=1e-2, batch_size=1,
                                      clip_norm=1.0, updates=500, eval_every=10),
        )

    def _check_batch(self, batch: object) -> int:
        return 1

    def _batch(self) -> Batch:
        targets = self.targets[None] if self.loss == "mse" else self.targets[None, :]
        return Batch(self.inputs[None], targets, self.mask[None] & _where_mask(self))

    def _sample(self, rng: np.random.Generator, batch: int) -> Batch:
        return self._batch()

    def _make_test_set(self) -> Batch:
        return self._batch()

    @property
    def test_size(self) -> int:
        return 1

    def _success(self, out: np.ndarray, batch: Batch) -> float:
        if self.loss == "ce":
            return super()._success(out, batch)
        m = batch.mask
        mse = float(np.mean((out[m] - batch.targets[m]) ** 2))
        return 0.0 if not np.isfinite(mse) else min(1.0, max(0.0, 1.0 - mse / self.baseline))

    def _describe(self, one: Batch) -> str:
        return f"the document's own sequence of {self.steps} steps"


def _where_mask(task: Task) -> np.ndarray:
    m = np.ones(task.steps, bool)
    if task.where == "last":
        m[:-1] = False
    return m


# ---- definitions ------------------------------------------------------------------------------


def task_definition(task: Task) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """({"name", "length", "options", ...}, arrays): what rebuilds ``task`` exactly."""
    if isinstance(task, FitTask):
        meta = {"name": FIT, "loss": task.loss, "where": task.where,
                "channel_names": list(task.channel_names),
                "target_names": list(task.target_names)}
        return meta, {"inputs": task.inputs, "targets": task.targets, "mask": task.mask}
    meta = task.to_dict()
    meta["options"] = dict(meta["options"])
    arrays: dict[str, np.ndarray] = {}
    if isinstance(task, NextStepTask):
        arrays["data"] = task.data
        meta["channel_names"] = list(task.channel_names)
    elif isinstance(task, CharLMTask) and task.source == "the given text":
        arrays["text"] = np.frombuffer(task.text.encode("utf-32-le"), dtype="<u4").copy()
    return meta, arrays


def same_definition(a: tuple[Mapping[str, Any], Mapping[str, np.ndarray]],
                    b: tuple[Mapping[str, Any], Mapping[str, np.ndarray]]) -> bool:
    """Whether two definitions name the same task (and the same data)."""
    if dict(a[0]) != dict(b[0]) or set(a[1]) != set(b[1]):
        return False
    return all(np.array_equal(a[1][k], b[1][k]) for k in a[1])


def _names(meta: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TrainError(f"task {key} must be a list of strings")
    return tuple(value)


def task_from_definition(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Task:
    """The task :func:`task_definition` described (TrainError, one line, if it cannot be)."""
    if not isinstance(meta, Mapping) or not isinstance(meta.get("name"), str):
        raise TrainError("the task must be a JSON object with a name")
    name = meta["name"]
    try:
        if name == FIT:
            for key in ("inputs", "targets", "mask"):
                if key not in arrays:
                    raise TrainError(f"the fitted sequence lacks its {key}")
            return FitTask(arrays["inputs"], arrays["targets"], arrays["mask"],
                           str(meta.get("loss")), str(meta.get("where")),
                           _names(meta, "channel_names"), _names(meta, "target_names"))
        length, options = meta.get("length"), meta.get("options", {})
        if not isinstance(options, Mapping):
            raise TrainError("task options must be a JSON object")
        if name == NextStepTask.name:
            if "data" not in arrays:
                raise TrainError("next-step prediction lacks its data")
            return NextStepTask(arrays["data"], length, _names(meta, "channel_names"),
                                **options)
        if name == CharLMTask.name and "text" in arrays:
            codes = np.asarray(arrays["text"])
            if codes.ndim != 1 or codes.dtype.kind not in "iu" or np.any(codes > 0x10FFFF) \
                    or np.any(codes < 0):
                raise TrainError("the text of a character model must be code points")
            text = codes.astype("<u4").tobytes().decode("utf-32-le", errors="replace")
            return make_task(name, length, text=text, **options)
        return make_task(name, length, **options)
    except TaskError as exc:
        raise TrainError(str(exc)) from None
