"""Long work as jobs: progress, intermediate snapshots and prompt cancellation. No Qt here.

A job is an object with a ``title`` and a ``run(ctx)`` method that does the work and returns its
result. While it runs it talks to a :class:`JobContext`:

- ``ctx.progress(fraction, message)`` reports how far it is (0..1) — and is where it stops:
  once the job has been cancelled, the call raises :class:`Cancelled`;
- ``ctx.publish(snapshot)`` hands out an intermediate result that a window may show before the
  job ends (a training run's current weights, the first rows of an analysis);
- ``ctx.check()`` raises :class:`Cancelled` when cancelled, for loops that report no progress.

The same job runs synchronously (:func:`run_job`, for the command line and tests) or off the
GUI thread (the window's job runner), unchanged. A job must not touch its caller's state: it
returns or publishes values, and the caller installs them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

__all__ = ["Cancelled", "FunctionJob", "Job", "JobContext", "run_job"]


class Cancelled(Exception):
    """Raised inside a job that was asked to stop; the runner drops its result."""


ProgressSink = Callable[[float, str], None]
SnapshotSink = Callable[[Any], None]


class JobContext:
    """The channel between a running job and whoever runs it. Thread-safe: the job calls
    :meth:`progress`, :meth:`publish` and :meth:`check` from its thread; any thread may call
    :meth:`cancel`.

    ``on_progress(fraction, message)`` and ``on_snapshot(snapshot)`` receive the reports (in
    the job's thread); either may be None.
    """

    def __init__(self, on_progress: ProgressSink | None = None,
                 on_snapshot: SnapshotSink | None = None) -> None:
        self._stop = threading.Event()
        self._on_progress = on_progress
        self._on_snapshot = on_snapshot
        self.fraction = 0.0
        self.message = ""
        self.started = time.perf_counter()

    # ---- for the runner ----------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the job to stop at its next progress report or check."""
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    # ---- for the job -------------------------------------------------------------------------
    def check(self) -> None:
        """Raise :class:`Cancelled` if the job was cancelled."""
        if self._stop.is_set():
            raise Cancelled

    def progress(self, fraction: float, message: str = "") -> None:
        """Report ``fraction`` done (clipped to 0..1) with an optional one-line ``message``;
        raises :class:`Cancelled` once cancelled."""
        self.check()
        self.fraction = min(max(float(fraction), 0.0), 1.0)
        if message:
            self.message = message
        if self._on_progress is not None:
            self._on_progress(self.fraction, self.message)

    def publish(self, snapshot: Any) -> None:
        """Hand out an intermediate result; raises :class:`Cancelled` once cancelled."""
        self.check()
        if self._on_snapshot is not None:
            self._on_snapshot(snapshot)

    def part(self, start: float, stop: float) -> Callable[[float], None]:
        """A progress callback (fraction -> None) for a sub-task that maps its 0..1 onto
        [start, stop] of this job: what the engine's ``progress=`` arguments take."""
        span = stop - start
        return lambda f: self.progress(start + span * f)


@runtime_checkable
class Job(Protocol):
    """Anything with a ``title`` (one line, shown beside the progress bar) and ``run(ctx)``."""

    title: str

    def run(self, ctx: JobContext) -> Any: ...


class FunctionJob:
    """A job made of a function ``fn(ctx) -> result``."""

    def __init__(self, title: str, fn: Callable[[JobContext], Any]) -> None:
        self.title = title
        self._fn = fn

    def run(self, ctx: JobContext) -> Any:
        return self._fn(ctx)

    def __repr__(self) -> str:
        return f"FunctionJob({self.title!r})"


def run_job(job: Job, on_progress: ProgressSink | None = None,
            on_snapshot: SnapshotSink | None = None,
            context: JobContext | None = None) -> Any:
    """Run ``job`` in this thread and return its result (Cancelled propagates)."""
    ctx = context or JobContext(on_progress, on_snapshot)
    return job.run(ctx)
