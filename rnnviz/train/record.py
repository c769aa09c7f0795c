"""The training record of one model: what a session keeps in ``Model.training``.

A :class:`TrainingRecord` is everything needed to show how a model's weights were trained and to
train on exactly as an uninterrupted run would: the task definition (and its data), the
settings, the update count, the batch stream's random state, the optimiser's state, the history
(losses, gradient norms, evaluations, weight snapshots), what update 0 started from, and where
training diverged, if it did. The weights themselves are the model's.

:meth:`TrainingRecord.to_state` gives a JSON-ready object and named arrays for a session file;
:func:`record_from_state` reads them back, refusing anything malformed with a one-line
:class:`~rnnviz.train.settings.TrainError`. Saved arrays (names as a session file's members)::

    loss (n,) float64           training loss of updates 1..n
    grad_norm (n,) float64      gradient norm before clipping, updates 1..n
    eval_update (m,) int64      updates evaluated at (0, eval_every, ...)
    test_loss, success (m,)     test loss and success measure there
    snapshot_update (s,) int64  updates of the weight snapshots
    snapshots (s, P) float64    each snapshot's weights, flattened in the order of meta "params"
    optimizer.<buffer> (P,)     the optimiser's buffers (exp_avg, ...), flattened likewise
    task.<name>                 the task's data (a fitted sequence, next-step data)

Every float saved is finite: a diverged update is never recorded, only named in "diverged".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from rnnviz.tasks import Task
from rnnviz.train.history import HistoryView
from rnnviz.train.settings import MAX_UPDATES, TrainError, TrainSettings
from rnnviz.train.tasks import task_definition, task_from_definition

FORMAT = "rnnviz-training"
VERSION = 1
STARTS = ("config", "weights")
_META_KEYS = {"format", "version", "task", "task_arrays", "settings", "update", "rng",
              "optimizer", "start", "diverged", "seconds", "snapshot_stride", "params"}
_MAX_PARAMS = 1 << 26


@dataclass(frozen=True)
class Divergence:
    """Where training stopped on NaN/Inf: the update that would have been ``update`` and the
    quantity that was not finite ("training loss", "gradient norm", "weights", "test loss")."""

    update: int
    quantity: str
    model: str = ""

    def message(self) -> str:
        who = f"{self.model}: " if self.model else ""
        return (f"{who}training diverged at update {self.update} (the {self.quantity} became "
                f"NaN/Inf); the weights are the last finite ones")


@dataclass(frozen=True, eq=False)
class TrainingRecord:
    """How one model's weights were trained (see the module docstring).

    task, task_arrays: the task definition (:func:`rnnviz.train.tasks.task_definition`);
    update: the updates done (= ``history.updates``); rng_state: the batch stream's
    ``bit_generator.state`` before the next update; optimizer: ``Optimizer.state_dict()`` after
    ``update`` updates, or None when it was lost (a step that produced NaN weights); start:
    "config" when update 0's weights were the configuration's initialisation, "weights" when
    they were given (loaded, or trained before); seconds: this model's own compute time over
    the updates (for updates per second).
    """

    task: Mapping[str, Any]
    task_arrays: Mapping[str, np.ndarray]
    settings: TrainSettings
    update: int
    rng_state: Mapping[str, Any]
    optimizer: Mapping[str, Any] | None
    history: HistoryView
    start: str = "weights"
    diverged: Divergence | None = None
    seconds: float = 0.0
    token: object = field(default=None, compare=False)

    def make_task(self) -> Task:
        """The task this record trained on, rebuilt."""
        return task_from_definition(self.task, self.task_arrays)

    @property
    def definition(self) -> tuple[Mapping[str, Any], Mapping[str, np.ndarray]]:
        return self.task, self.task_arrays

    @property
    def updates_per_second(self) -> float | None:
        return self.update / self.seconds if self.seconds > 0 and self.update else None

    def at_snapshot(self, update: int) -> TrainingRecord:
        """The record as it was at a snapshot's ``update``: the history up to it, no optimiser
        state (a run continued from a snapshot starts a fresh optimiser) and no divergence."""
        return replace(self, update=int(update), history=self.history.truncated(update),
                       optimizer=None, diverged=None,
                       seconds=self.seconds * update / max(self.update, 1))

    # ---- saving ------------------------------------------------------------------------------
    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(meta, arrays): a JSON-ready object and named arrays (see the module docstring)."""
        layout = _layout(self)
        h = self.history
        arrays: dict[str, np.ndarray] = {
            "loss": np.asarray(h.loss, np.float64), "grad_norm": np.asarray(h.grad_norm),
            "eval_update": np.asarray(h.eval_update, np.int64),
            "test_loss": np.asarray(h.test_loss), "success": np.asarray(h.success),
            "snapshot_update": np.asarray(h.snapshot_update, np.int64),
        }
        size = sum(int(np.prod(shape)) for _, shape in layout)
        snaps = np.zeros((len(h.snapshots), size))
        for k, snap in enumerate(h.snapshots):
            snaps[k] = _flatten(snap, layout)
        arrays["snapshots"] = snaps
        optimizer = None
        if self.optimizer is not None:
            buffers = self.optimizer["buffers"]
            for name, values in buffers.items():
                arrays[f"optimizer.{name}"] = _flatten(values, layout)
            optimizer = {"kind": self.optimizer["kind"],
                         "hyperparameters": dict(self.optimizer["hyperparameters"]),
                         "steps": int(self.optimizer["steps"]), "buffers": sorted(buffers)}
        for name, value in self.task_arrays.items():
            arrays[f"task.{name}"] = np.asarray(value)
        meta = {
            "format": FORMAT, "version": VERSION,
            "task": _plain(dict(self.task)), "task_arrays": sorted(self.task_arrays),
            "settings": self.settings.to_dict(), "update": int(self.update),
            "rng": _plain(dict(self.rng_state)), "optimizer": optimizer, "start": self.start,
            "diverged": None if self.diverged is None else {
                "update": self.diverged.update, "quantity": self.diverged.quantity,
                "model": self.diverged.model},
            "seconds": float(self.seconds), "snapshot_stride": int(h.snapshot_stride),
            "params": [[name, list(shape)] for name, shape in layout],
        }
        return meta, arrays


def _plain(value: Any) -> Any:
    """``value`` with NumPy scalars and tuples turned into JSON's types."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _layout(record: TrainingRecord) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of every parameter, from a snapshot or the optimiser's buffers."""
    h = record.history
    source: Mapping[str, np.ndarray] | None = h.snapshots[0] if h.snapshots else None
    if source is None and record.optimizer is not None and record.optimizer["buffers"]:
        source = next(iter(record.optimizer["buffers"].values()))
    if source is None:
        return []
    return [(name, tuple(np.shape(a))) for name, a in source.items()]


def _flatten(values: Mapping[str, np.ndarray], layout) -> np.ndarray:
    if not layout:
        return np.zeros(0)
    return np.concatenate([np.asarray(values[name], np.float64).ravel() for name, _ in layout])


# ---- reading ---------------------------------------------------------------------------------


def _fail(problem: str):
    raise TrainError(problem)


def _int(meta: Mapping[str, Any], key: str, low: int = 0, high: int = MAX_UPDATES) -> int:
    value = meta.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        _fail(f"{key} must be a whole number in [{low}, {high}]")
    return value


def _unflatten(flat: np.ndarray, layout) -> dict[str, np.ndarray]:
    out, at = {}, 0
    for name, shape in layout:
        size = int(np.prod(shape))
        a = np.array(flat[at:at + size], dtype=np.float64).reshape(shape)
        a.flags.writeable = False
        out[name] = a
        at += size
    return out


def _array(arrays: Mapping[str, np.ndarray], name: str, kind: str,
           shape: tuple[int, ...]) -> np.ndarray:
    if name not in arrays:
        _fail(f"the array {name!r} is missing")
    a = np.asarray(arrays[name])
    if a.dtype.kind not in kind:
        _fail(f"{name} must hold {'whole numbers' if kind == 'iu' else 'numbers'}, "
              f"not {a.dtype}")
    if a.shape != shape:
        _fail(f"{name} must have shape {shape}, got {a.shape}")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        _fail(f"{name} holds NaN or Inf values")
    return a


def _frozen(a: np.ndarray, dtype) -> np.ndarray:
    a = np.array(a, dtype=dtype)
    a.flags.writeable = False
    return a


def record_from_state(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> TrainingRecord:
    """The record :meth:`TrainingRecord.to_state` saved as ``meta`` and ``arrays``; TrainError
    naming the first problem otherwise. The task is rebuilt (and so checked) too."""
    if not isinstance(meta, Mapping):
        _fail("the training record must be a JSON object")
    if meta.get("format") != FORMAT:
        _fail(f"not an rnnviz training record (format {str(meta.get('format'))[:40]!r})")
    if meta.get("version") != VERSION:
        _fail(f"training record version {str(meta.get('version'))[:20]} is not one this "
              f"rnnviz reads (it reads {VERSION})")
    missing = sorted(_META_KEYS - set(meta))
    if missing:
        _fail(f"the training record lacks {missing[0]!r}")
    unknown = sorted(str(k) for k in set(meta) - _META_KEYS)
    if unknown:
        _fail(f"the training record has an unknown key {unknown[0][:40]!r}")
    settings = TrainSettings.from_dict(meta["settings"])
    update = _int(meta, "update")
    stride = _int(meta, "snapshot_stride", 1, 1 << 62)

    raw_layout = meta["params"]
    if not isinstance(raw_layout, list) or len(raw_layout) > 10_000:
        _fail("params must be a list of [name, shape] pairs")
    layout: list[tuple[str, tuple[int, ...]]] = []
    total = 0
    for item in raw_layout:
        if (not isinstance(item, list) or len(item) != 2 or not isinstance(item[0], str)
                or not isinstance(item[1], list) or len(item[1]) > 4
                or not all(isinstance(n, int) and not isinstance(n, bool) and 0 < n <= 1 << 26
                           for n in item[1])):
            _fail("params must be a list of [name, shape] pairs")
        shape = tuple(item[1])
        total += int(np.prod(shape))
        if total > _MAX_PARAMS:
            _fail("params describe more numbers than a network may hold")
        layout.append((item[0], shape))
    if len({name for name, _ in layout}) != len(layout):
        _fail("params name a parameter twice")

    loss = _array(arrays, "loss", "f", (update,))
    grad_norm = _array(arrays, "grad_norm", "f", (update,))
    eval_update = _array(arrays, "eval_update", "iu", np.shape(arrays.get("eval_update", ())))
    if eval_update.ndim != 1:
        _fail("eval_update must be one-dimensional")
    m = eval_update.shape[0]
    test_loss = _array(arrays, "test_loss", "f", (m,))
    success = _array(arrays, "success", "f", (m,))
    if m and (np.any(np.diff(eval_update) <= 0) or eval_update[0] < 0
              or eval_update[-1] > update):
        _fail("eval_update must increase within 0..update")
    snap_update = _array(arrays, "snapshot_update", "iu",
                         np.shape(arrays.get("snapshot_update", ())))
    if snap_update.ndim != 1:
        _fail("snapshot_update must be one-dimensional")
    s = snap_update.shape[0]
    if s and (np.any(np.diff(snap_update) <= 0) or snap_update[0] < 0
              or snap_update[-1] > update):
        _fail("snapshot_update must increase within 0..update")
    if s > settings.max_snapshots:
        _fail(f"{s} snapshots, more than max_snapshots={settings.max_snapshots}")
    if s and not layout:
        _fail("snapshots need the params they flatten")
    snaps = _array(arrays, "snapshots", "f", (s, total))
    snapshots = tuple(_unflatten(snaps[k], layout) for k in range(s))

    optimizer = None
    raw_opt = meta["optimizer"]
    if raw_opt is not None:
        if not isinstance(raw_opt, Mapping) or set(raw_opt) != {"kind", "hyperparameters",
                                                                 "steps", "buffers"}:
            _fail("optimizer must be null or an object with kind, hyperparameters, steps and "
                  "buffers")
        if not isinstance(raw_opt["kind"], str) or not isinstance(raw_opt["hyperparameters"],
                                                                   Mapping):
            _fail("optimizer kind must be a name and its hyperparameters an object")
        steps = _int(raw_opt, "steps")
        names = raw_opt["buffers"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names) \
                or len(names) > 8:
            _fail("optimizer buffers must be a list of names")
        if names and not layout:
            _fail("optimizer buffers need the params they flatten")
        buffers = {n: _unflatten(_array(arrays, f"optimizer.{n}", "f", (total,)), layout)
                   for n in names}
        optimizer = {"kind": raw_opt["kind"], "hyperparameters": dict(raw_opt["hyperparameters"]),
                     "steps": steps, "buffers": buffers}

    task_names = meta["task_arrays"]
    if not isinstance(task_names, list) or not all(isinstance(n, str) for n in task_names):
        _fail("task_arrays must be a list of names")
    task_arrays = {}
    for n in task_names:
        if f"task.{n}" not in arrays:
            _fail(f"the task's array {n!r} is missing")
        task_arrays[n] = _frozen(arrays[f"task.{n}"], np.asarray(arrays[f"task.{n}"]).dtype)
    if not isinstance(meta["task"], Mapping):
        _fail("task must be a JSON object")
    task_from_definition(meta["task"], task_arrays)  # refuses a task that cannot be rebuilt

    rng = meta["rng"]
    try:
        np.random.PCG64().state = rng
    except (TypeError, ValueError, KeyError, OverflowError):
        _fail("rng is not the state of a PCG64 random stream")
    if meta["start"] not in STARTS:
        _fail(f"start must be one of {', '.join(STARTS)}")
    diverged = None
    raw_div = meta["diverged"]
    if raw_div is not None:
        if not isinstance(raw_div, Mapping) or set(raw_div) != {"update", "quantity", "model"} \
                or not isinstance(raw_div["quantity"], str) \
                or not isinstance(raw_div["model"], str):
            _fail("diverged must be null or an object with update, quantity and model")
        diverged = Divergence(_int(raw_div, "update", 0, MAX_UPDATES + 1),
                              raw_div["quantity"][:40], raw_div["model"][:60])
    seconds = meta["seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) \
            or not math.isfinite(seconds) or seconds < 0:
        _fail("seconds must be a finite number >= 0")

    history = HistoryView(_frozen(loss, np.float64), _frozen(grad_norm, np.float64),
                          _frozen(eval_update, np.int64), _frozen(test_loss, np.float64),
                          _frozen(success, np.float64), _frozen(snap_update, np.int64),
                          snapshots, stride)
    return TrainingRecord(dict(meta["task"]), task_arrays, settings, update, dict(rng),
                          optimizer, history, meta["start"], diverged, float(seconds))


def record_for(task: Task, settings: TrainSettings, update: int, rng_state: Mapping[str, Any],
               optimizer: Mapping[str, Any] | None, history: HistoryView, start: str,
               diverged: Divergence | None = None, seconds: float = 0.0,
               token: object = None,
               definition: tuple[Mapping[str, Any], Mapping[str, np.ndarray]] | None = None
               ) -> TrainingRecord:
    """A record of training on ``task`` (its definition computed unless given)."""
    meta, arrays = definition if definition is not None else task_definition(task)
    return TrainingRecord(meta, arrays, settings, update, rng_state, optimizer, history, start,
                          diverged, seconds, token)
