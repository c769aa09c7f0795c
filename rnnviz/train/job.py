"""Training as a job (:mod:`rnnviz.jobs`): progress, a few snapshots a second, Pause and Step.

:class:`TrainJob` runs a :class:`~rnnviz.train.trainer.Trainer` up to a target update count. It
reports progress after every update ("update 120/2000 · loss 0.0312"), publishes a
:class:`TrainSnapshot` (every model's current weights and training record, which holds the
history so far) at most every ``publish_every`` seconds, and returns the final one. Two ways to
stop, both between updates, so within one update:

- :meth:`TrainJob.stop` (Pause): the job returns its final snapshot normally, with
  ``status="paused"``; training on from its records continues exactly;
- cancelling the job's context (the window closes, a new run replaces it): the job raises
  :class:`~rnnviz.jobs.Cancelled` and delivers nothing more.

``decorate(snapshot) -> object``, run in the job's thread before each snapshot is handed out,
lets a caller add what it derives from the weights (the session's job computes the document's
results for them there, so the window only installs them); its value is the snapshot's
``extra``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rnnviz.jobs import JobContext
from rnnviz.train.record import Divergence, TrainingRecord
from rnnviz.train.trainer import Trainer

PUBLISH_SECONDS = 0.2

RUNNING, PAUSED, DONE, DIVERGED = "running", "paused", "done", "diverged"


@dataclass(frozen=True, eq=False)
class TrainSnapshot:
    """Where a run is: ``update`` of ``target``; per model (in the trainer's order) its
    ``names``, ``weights`` (read-only state dicts) and ``records``; ``updates_per_second``: the
    job's own rate so far (every model together, wall clock); ``status``: "running", "paused",
    "done" or "diverged"; ``diverged``; ``extra``: what ``decorate`` added."""

    update: int
    target: int
    names: tuple[str, ...]
    weights: tuple[Mapping[str, np.ndarray], ...]
    records: tuple[TrainingRecord, ...]
    updates_per_second: float
    status: str
    diverged: Divergence | None = None
    extra: Any = None

    @property
    def seconds_left(self) -> float | None:
        if self.updates_per_second <= 0 or self.status != RUNNING:
            return None
        return (self.target - self.update) / self.updates_per_second

    def losses(self) -> tuple[float | None, ...]:
        """Each model's latest training loss (None before its first update)."""
        return tuple(float(r.history.loss[-1]) if r.history.updates else None
                     for r in self.records)


def progress_message(snapshot: TrainSnapshot) -> str:
    """"update 120/2000 · loss 0.0312" (the first model's loss)."""
    loss = snapshot.losses()[0] if snapshot.records else None
    text = f"update {snapshot.update}/{snapshot.target}"
    return text if loss is None else f"{text} · loss {loss:.4g}"


class TrainJob:
    """Train until ``target`` updates are done, or ``steps`` more (see the module docstring).

    ``trainer``: a :class:`Trainer`, or a function that makes one, called in the job's thread
    (building a trainer evaluates the models at update 0, which takes time). With
    ``publish_first``, a snapshot is published as soon as the trainer is ready.

    ``wait_for_ack``: after publishing a snapshot, wait (at most that many seconds) until the
    receiver calls :meth:`ack`. A window acks once it has drawn the snapshot, so training and
    drawing take turns instead of competing for the interpreter (Python runs one thread at a
    time), which would stretch every redraw and stall the window. With ``wait_to_start`` too,
    the job also waits for an ack before it begins (the window acks once it has laid out and
    painted what pressing Train changed).
    """

    title = "training"

    def __init__(self, trainer: Trainer | Callable[[], Trainer], target: int | None = None, *,
                 steps: int | None = None,
                 decorate: Callable[[TrainSnapshot], Any] | None = None,
                 publish_every: float = PUBLISH_SECONDS, publish_first: bool = False,
                 wait_for_ack: float = 0.0, wait_to_start: bool = False) -> None:
        if (target is None) == (steps is None):
            raise ValueError("give a target update or a number of steps")
        self._make = None if isinstance(trainer, Trainer) else trainer
        self.trainer: Trainer | None = trainer if isinstance(trainer, Trainer) else None
        self.target = int(target) if target is not None else None
        self.steps = steps
        self.decorate = decorate
        self.publish_every = publish_every
        self.publish_first = publish_first
        self.wait_for_ack = wait_for_ack
        self.wait_to_start = wait_to_start
        self._stop = threading.Event()
        self._acked = threading.Event()
        self._started = 0 if self.trainer is None else self.trainer.update
        self._t0 = time.perf_counter()

    def ack(self) -> None:
        """The receiver has dealt with the last snapshot (thread-safe)."""
        self._acked.set()

    def _publish(self, ctx: JobContext) -> None:
        self._acked.clear()
        ctx.publish(self.snapshot())
        if self.wait_for_ack > 0:
            self._acked.wait(self.wait_for_ack)
            ctx.check()

    def stop(self) -> None:
        """Pause: finish the update under way and return (thread-safe)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def snapshot(self, status: str = RUNNING) -> TrainSnapshot:
        t = self.trainer
        elapsed = time.perf_counter() - self._t0
        done = t.update - self._started
        rate = done / elapsed if elapsed > 0 and done else 0.0
        snap = TrainSnapshot(t.update, self.target, t.names,
                             tuple(t.weights(i) for i in range(t.models)),
                             tuple(t.record(i) for i in range(t.models)), rate, status,
                             t.diverged)
        if self.decorate is not None:
            snap = replace(snap, extra=self.decorate(snap))
        return snap

    def run(self, ctx: JobContext) -> TrainSnapshot:
        if self.wait_to_start and self.wait_for_ack > 0:
            self._acked.wait(self.wait_for_ack)
            ctx.check()
        if self.trainer is None:
            self.trainer = self._make()
        t = self.trainer
        if self.steps is not None:
            self.target = t.update + int(self.steps)
        if self.publish_first:
            self._publish(ctx)
        self._t0 = time.perf_counter()
        self._started = t.update
        span = max(self.target - self._started, 1)
        last = time.perf_counter()
        while t.update < self.target and not self._stop.is_set():
            if not t.step():
                break
            now = time.perf_counter()
            done = t.update - self._started
            ctx.progress(done / span, f"update {t.update}/{self.target}")
            if now - last >= self.publish_every and t.update < self.target:
                self._publish(ctx)
                last = time.perf_counter()
        ctx.check()
        if t.diverged is not None:
            status = DIVERGED
        elif t.update >= self.target:
            status = DONE
        else:
            status = PAUSED
        return self.snapshot(status)
