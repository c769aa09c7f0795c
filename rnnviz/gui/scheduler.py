"""Recompute scheduling: :class:`ComputeScheduler` brings stale results up to date.

Small documents are computed at once on the GUI thread; large ones (steps × hidden × layers ×
gates above a threshold) as a job of the window's :class:`~rnnviz.gui.runner.JobRunner`, with a
progress bar and a Cancel button, the results installed with ``session.accept``.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from rnnviz.engine import EngineError
from rnnviz.gui.runner import JobRunner, one_line
from rnnviz.jobs import FunctionJob
from rnnviz.session import Document, Results, Session, SessionError, compute

# Work units (steps × hidden × layers × gates) a frame can afford on the GUI thread.
# LSTM T=1000, H=128 is 512k and computes in ~25 ms; beyond ~1.5M a worker keeps the UI live.
SYNC_LIMIT = 1_500_000
RETRY_MS = 30
SLOT = "compute"


def work_units(doc: Document) -> int:
    """A cost estimate of computing ``doc``: steps × hidden × layers × gates."""
    return doc.sequence.steps * sum(m.config.hidden_size * m.config.num_layers
                                    * m.config.gate_count for m in doc.models)


class ComputeScheduler(QObject):
    """Keeps ``session`` computed. Small documents are computed at once on the GUI thread;
    large ones as a job in ``runner``'s "compute" slot, installed with ``session.accept``
    when done. Signals: ``busy(bool)`` while a job runs, ``progress`` (0..1), ``failed(str)``
    with a one-line reason."""

    busy = Signal(bool)
    progress = Signal(float)
    failed = Signal(str)

    def __init__(self, session: Session, runner: JobRunner, parent: QObject | None = None,
                 sync_limit: int = SYNC_LIMIT) -> None:
        super().__init__(parent)
        self.session = session
        self.runner = runner
        self.sync_limit = sync_limit
        self._job_document: Document | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.run_now)
        runner.progressed.connect(self._progressed)

    @property
    def running(self) -> bool:
        return self.runner.running(SLOT)

    def computes_at_once(self, doc: Document) -> bool:
        """Whether ``doc`` is computed on the GUI thread as soon as the event loop is free
        (then its results follow within the same frame)."""
        return work_units(doc) <= self.sync_limit

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
        if self.running:
            if self._job_document is doc:
                return
            self.cancel()
        if self.runner.draining():
            # A cancelled job stops at its next chunk (a fraction of a second); starting
            # another meanwhile would hold two full-size computations in memory at once.
            self._timer.start(RETRY_MS)
            return
        previous = session.previous_results
        if self.computes_at_once(doc):
            try:
                session.accept(compute(doc, previous=previous))
            except (EngineError, SessionError, ValueError, FloatingPointError) as exc:
                self.failed.emit(f"cannot compute: {one_line(exc)}")
            except MemoryError:
                self.failed.emit("cannot compute: not enough memory for a run this size")
            return
        job = FunctionJob("computing", lambda ctx: compute(doc, ctx.progress, previous))
        self._job_document = doc
        self.runner.start(SLOT, job, done=self._done, failed=self._failed)
        self.busy.emit(True)

    def cancel(self) -> None:
        """Stop the running computation (its results are dropped)."""
        if self.running:
            self.runner.cancel(SLOT)
            self._job_document = None
            self.busy.emit(False)

    def wait(self) -> None:
        """Block until every computation has stopped (for shutdown and tests). Cancelled jobs
        stop at their next chunk boundary, which the engine keeps short."""
        self.runner.wait()

    def _progressed(self, slot: str, fraction: float, _message: str) -> None:
        if slot == SLOT:
            self.progress.emit(fraction)

    def _done(self, results: Results) -> None:
        self._job_document = None
        self.busy.emit(False)
        self.session.accept(results)
        if self.session.stale:
            self.request()

    def _failed(self, message: str) -> None:
        failed, self._job_document = self._job_document, None
        self.busy.emit(False)
        self.failed.emit(f"cannot compute: {message}")
        if self.session.stale and self.session.document is not failed:
            self.request()  # the document moved on while the failed one was computing
