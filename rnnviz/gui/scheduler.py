"""Redraw and recompute scheduling.

:class:`RedrawScheduler` coalesces any number of change notifications into one redraw at most
once per frame (a single-shot timer, re-armed only after the previous redraw).
:class:`ComputeScheduler` brings stale results up to date: small documents are computed at once
on the GUI thread; large ones (steps × hidden × layers × gates above a threshold) in a worker
thread with a progress bar and a Cancel button, the results installed with ``session.accept``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from rnnviz.engine import EngineError
from rnnviz.session import Document, Results, Session, SessionError, compute

FRAME_MS = 16.0
# Work units (steps × hidden × layers × gates) a frame can afford on the GUI thread.
# LSTM T=1000, H=128 is 512k and computes in ~25 ms; beyond ~1.5M a worker keeps the UI live.
SYNC_LIMIT = 1_500_000
RETRY_MS = 30


def work_units(doc: Document) -> int:
    """A cost estimate of computing ``doc``: steps × hidden × layers × gates."""
    return doc.sequence.steps * sum(m.config.hidden_size * m.config.num_layers
                                    * m.config.gate_count for m in doc.models)


class RedrawScheduler(QObject):
    """Calls ``redraw(document_dirty, results_dirty, view_dirty)`` once for any burst of
    requests, never more often than once per frame."""

    def __init__(self, redraw: Callable[[bool, bool, bool], None],
                 parent: QObject | None = None):
        super().__init__(parent)
        self._redraw = redraw
        self._document_dirty = False
        self._results_dirty = False
        self._view_dirty = False
        self._last = -1e9
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)

    @property
    def pending(self) -> bool:
        return self._document_dirty or self._results_dirty or self._view_dirty

    def request(self, *, document: bool = False, results: bool = False,
                view: bool = False) -> None:
        self._document_dirty |= document
        self._results_dirty |= results
        self._view_dirty |= view
        if not self._timer.isActive():
            since = (time.perf_counter() - self._last) * 1000.0
            self._timer.start(int(max(0.0, FRAME_MS - since)))

    def flush(self) -> None:
        """Redraw now if anything is pending."""
        self._timer.stop()
        if not self.pending:
            return
        document, results, view = self._document_dirty, self._results_dirty, self._view_dirty
        self._document_dirty = self._results_dirty = self._view_dirty = False
        self._last = time.perf_counter()
        self._redraw(document, results, view)


class _Cancelled(Exception):
    pass


class ComputeWorker(QThread):
    """Runs ``compute(doc, progress)`` off the GUI thread. ``done`` carries the Results, or an
    error message string; nothing is emitted when cancelled."""

    done = Signal(object)
    progressed = Signal(float)

    def __init__(self, doc: Document, previous: Results | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.previous = previous
        self.cancelled = False

    def _progress(self, fraction: float) -> None:
        if self.cancelled:
            raise _Cancelled
        self.progressed.emit(fraction)

    def run(self) -> None:
        try:
            results = compute(self.doc, self._progress, previous=self.previous)
        except _Cancelled:
            return
        except (EngineError, SessionError, ValueError, FloatingPointError) as exc:
            self.done.emit(f"cannot compute: {exc}")
            return
        except MemoryError:
            self.done.emit("cannot compute: not enough memory for a run this size")
            return
        self.done.emit(results)


class ComputeScheduler(QObject):
    """Keeps ``session`` computed. Signals: ``busy(bool)`` while a worker runs, ``progress``
    (0..1), ``failed(str)`` with a one-line reason, ``succeeded()`` after results install."""

    busy = Signal(bool)
    progress = Signal(float)
    failed = Signal(str)

    def __init__(
        self, session: Session, parent: QObject | None = None, sync_limit: int = SYNC_LIMIT
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.sync_limit = sync_limit
        self._worker: ComputeWorker | None = None
        self._retired: list[ComputeWorker] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.run_now)

    @property
    def running(self) -> bool:
        return self._worker is not None

    def request(self) -> None:
        """The document changed: compute as soon as the event loop is free."""
        if not self._timer.isActive():
            self._timer.start(0)

    def run_now(self) -> None:
        """Compute the current document if its results are stale."""
        self._timer.stop()
        session = self.session
        if not session.stale:
            return
        doc = session.document
        if self._worker is not None:
            if self._worker.doc is doc:
                return
            self.cancel()
        if any(w.isRunning() for w in self._retired):
            # A cancelled worker stops at its next chunk (a fraction of a second); starting
            # another meanwhile would hold two full-size computations in memory at once.
            self._timer.start(RETRY_MS)
            return
        if work_units(doc) <= self.sync_limit:
            try:
                session.accept(compute(doc, previous=session.previous_results))
            except (EngineError, SessionError, ValueError, FloatingPointError) as exc:
                self.failed.emit(f"cannot compute: {exc}")
            except MemoryError:
                self.failed.emit("cannot compute: not enough memory for a run this size")
            return
        worker = ComputeWorker(doc, session.previous_results, self)
        worker.progressed.connect(self.progress.emit)
        worker.done.connect(self._on_done)
        worker.finished.connect(self._on_thread_finished)
        self._worker = worker
        self.busy.emit(True)
        worker.start()

    def cancel(self) -> None:
        """Stop the running worker (its results are dropped)."""
        worker = self._worker
        if worker is None:
            return
        worker.cancelled = True
        self._retired.append(worker)
        self._worker = None
        self.busy.emit(False)

    def wait(self) -> None:
        """Block until every worker has stopped (for shutdown and tests). Cancelled workers
        stop at their next chunk boundary, which the engine keeps short."""
        for worker in [self._worker, *self._retired]:
            if worker is not None:
                worker.wait()

    def _on_done(self, outcome: object) -> None:
        worker = self.sender()
        if worker is None or worker is not self._worker:
            return
        self._worker = None
        self.busy.emit(False)
        if isinstance(outcome, Results):
            self.session.accept(outcome)
        else:
            self.failed.emit(str(outcome))
        if self.session.stale:
            self.request()

    def _on_thread_finished(self) -> None:
        worker = self.sender()
        if worker in self._retired:
            self._retired.remove(worker)
        if worker is not None and worker is not self._worker:
            worker.deleteLater()
