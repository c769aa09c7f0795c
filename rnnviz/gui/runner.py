"""The window's one runner of long work: Qt-free jobs (:mod:`rnnviz.jobs`) off the GUI thread.

Each job runs in a slot ("compute", "train", "analysis", "open", ...): starting a job in a busy
slot cancels the one there, and at most one job per slot delivers results. Everything a job
reports reaches the GUI thread through queued signals, coalesced so that a fast job cannot
flood the event loop: progress at most every :data:`PROGRESS_MS`, and only the newest snapshot
(older ones not yet shown are dropped). ``done``, ``failed`` and ``snapshot`` callbacks run on
the GUI thread; a cancelled job delivers nothing.

An error the job reports (EngineError, SessionError, a file error — any ValueError — or
MemoryError) reaches ``failed`` as one line; anything else is re-raised on the GUI thread, where
the app's error dialog (and, in tests, pytest-qt) sees it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from rnnviz.jobs import Cancelled, Job, JobContext

PROGRESS_MS = 30.0
EXPECTED_ERRORS = (ValueError, FloatingPointError, OSError)

Done = Callable[[Any], None]
Failed = Callable[[str], None]


def one_line(exc: BaseException) -> str:
    """An exception's message on one line."""
    return " ".join(str(exc).split()) or type(exc).__name__


class _JobThread(QThread):
    """Runs one job; signals carry its reports to the runner (in the GUI thread)."""

    progressed = Signal(float, str)
    snapshot_ready = Signal()
    succeeded = Signal(object)
    failed = Signal(str)
    crashed = Signal(object)

    def __init__(self, job: Job, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self._lock = threading.Lock()
        self._snapshot: list[Any] = []  # the newest snapshot not yet taken, if any
        self._last_progress = 0.0
        self.context = JobContext(self._on_progress, self._on_snapshot)

    def _on_progress(self, fraction: float, message: str) -> None:
        now = time.perf_counter()
        if fraction >= 1.0 or (now - self._last_progress) * 1000.0 >= PROGRESS_MS:
            self._last_progress = now
            self.progressed.emit(fraction, message)

    def _on_snapshot(self, snapshot: Any) -> None:
        with self._lock:
            pending = bool(self._snapshot)
            self._snapshot[:] = [snapshot]
        if not pending:
            self.snapshot_ready.emit()

    def take_snapshot(self) -> tuple[bool, Any]:
        with self._lock:
            if not self._snapshot:
                return False, None
            return True, self._snapshot.pop()

    def run(self) -> None:
        try:
            result = self.job.run(self.context)
        except Cancelled:
            return
        except MemoryError:
            self.failed.emit("not enough memory for this")
        except EXPECTED_ERRORS as exc:
            self.failed.emit(one_line(exc))
        except Exception as exc:  # noqa: BLE001 (re-raised on the GUI thread)
            self.crashed.emit(exc)
        else:
            if not self.context.cancelled:
                self.succeeded.emit(result)


@dataclass
class JobHandle:
    """A started job: its ``slot``, ``job`` and reports so far."""

    slot: str
    job: Job
    thread: _JobThread = field(repr=False)
    done: Done | None = field(default=None, repr=False)
    failed: Failed | None = field(default=None, repr=False)
    snapshot: Done | None = field(default=None, repr=False)
    fraction: float = 0.0
    message: str = ""

    @property
    def title(self) -> str:
        return self.job.title

    @property
    def running(self) -> bool:
        return self.thread.isRunning() and not self.thread.context.cancelled

    def cancel(self) -> None:
        self.thread.context.cancel()


class JobRunner(QObject):
    """Runs jobs off the GUI thread, one per slot.

    Signals: ``started(slot)``, ``progressed(slot, fraction, message)``, ``ended(slot)`` (after
    the job's own callbacks, whether it succeeded, failed or was cancelled).
    """

    started = Signal(str)
    progressed = Signal(str, float, str)
    ended = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._active: dict[str, JobHandle] = {}
        self._retired: list[_JobThread] = []

    # ---- starting and stopping ---------------------------------------------------------------
    def start(self, slot: str, job: Job, *, done: Done | None = None,
              failed: Failed | None = None, snapshot: Done | None = None) -> JobHandle:
        """Run ``job`` in ``slot`` (cancelling the job there); ``done(result)``,
        ``failed(message)`` and ``snapshot(value)`` are called on the GUI thread."""
        self.cancel(slot)
        thread = _JobThread(job, self)
        handle = JobHandle(slot, job, thread, done, failed, snapshot)
        thread.progressed.connect(self._progressed)
        thread.snapshot_ready.connect(self._snapshot_ready)
        thread.succeeded.connect(self._succeeded)
        thread.failed.connect(self._failed)
        thread.crashed.connect(self._crashed)
        thread.finished.connect(self._finished)
        self._active[slot] = handle
        thread.start()
        self.started.emit(slot)
        return handle

    def cancel(self, slot: str | None = None) -> None:
        """Stop the job in ``slot`` (every job when None); it delivers nothing more."""
        for key in [slot] if slot is not None else list(self._active):
            handle = self._active.pop(key, None) if key is not None else None
            if handle is not None:
                handle.cancel()
                self._retired.append(handle.thread)
                self.ended.emit(key)

    def wait(self, slot: str | None = None, timeout_ms: int | None = None) -> bool:
        """Block until the job in ``slot`` (every job, cancelled ones included, when None)
        has stopped; False if ``timeout_ms`` passed first."""
        threads = [h.thread for k, h in self._active.items() if slot in (None, k)]
        if slot is None:
            threads += self._retired
        ok = True
        for thread in threads:
            ok &= thread.wait() if timeout_ms is None else thread.wait(timeout_ms)
        return ok

    # ---- state -------------------------------------------------------------------------------
    def handle(self, slot: str) -> JobHandle | None:
        """The job running in ``slot``, or None."""
        return self._active.get(slot)

    def running(self, slot: str) -> bool:
        return slot in self._active

    @property
    def slots(self) -> list[str]:
        """The slots with a job running, oldest first."""
        return list(self._active)

    def draining(self) -> bool:
        """Whether a cancelled job is still finishing its current piece of work (starting a
        big job meanwhile would hold two in memory at once)."""
        return any(t.isRunning() for t in self._retired)

    # ---- reports (GUI thread) ----------------------------------------------------------------
    def _handle_of(self, thread: QObject | None) -> JobHandle | None:
        for handle in self._active.values():
            if handle.thread is thread:
                return handle
        return None

    @Slot(float, str)
    def _progressed(self, fraction: float, message: str) -> None:
        handle = self._handle_of(self.sender())
        if handle is not None:
            handle.fraction, handle.message = fraction, message
            self.progressed.emit(handle.slot, fraction, message)

    @Slot()
    def _snapshot_ready(self) -> None:
        handle = self._handle_of(self.sender())
        if handle is None:
            return
        ok, value = handle.thread.take_snapshot()
        if ok and handle.snapshot is not None:
            handle.snapshot(value)

    def _end(self, handle: JobHandle) -> None:
        if self._active.get(handle.slot) is handle:
            del self._active[handle.slot]
            self.ended.emit(handle.slot)

    @Slot(object)
    def _succeeded(self, result: Any) -> None:
        handle = self._handle_of(self.sender())
        if handle is None:
            return
        self._end(handle)
        if handle.done is not None:
            handle.done(result)

    @Slot(str)
    def _failed(self, message: str) -> None:
        handle = self._handle_of(self.sender())
        if handle is None:
            return
        self._end(handle)
        if handle.failed is not None:
            handle.failed(message)

    @Slot(object)
    def _crashed(self, exc: BaseException) -> None:
        handle = self._handle_of(self.sender())
        if handle is None:
            return
        self._end(handle)
        raise exc

    @Slot()
    def _finished(self) -> None:
        thread = self.sender()
        if thread in self._retired:
            self._retired.remove(thread)
        handle = self._handle_of(thread)
        if handle is not None:  # ended without a report (cancelled from inside)
            self._end(handle)
        if isinstance(thread, QThread):
            thread.deleteLater()
