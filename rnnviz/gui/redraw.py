"""Drawing the session into the window, at most once per frame.

:class:`RedrawScheduler` coalesces any number of change notifications into one redraw at most
once per frame (a single-shot timer, re-armed only after the previous redraw).
:class:`Dashboard` is that redraw: the document's own data (the input) as soon as it changes,
the selected model's results into every panel when they arrive, and the cursor, inspector,
transport and NaN/Inf banner on every view change. Moving the cursor never recomputes: it moves
the cursor lines and refreshes the inspector (and, in reveal mode, what part of the data is
shown).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QSignalBlocker, QTimer

from rnnviz.engine import GATE_NAMES
from rnnviz.jobs import FunctionJob
from rnnviz.session import ModelResults, ViewState

FRAME_MS = 16.0
# While playing, the inspector (a full repaint of its tree) refreshes at most this often; every
# number is there again the moment playback stops.
PLAYING_INSPECTOR_S = 0.1
# Runs whose shown layer has more values than this (steps × hidden) are prepared for drawing
# (heatmap pixels, norms) in a job first: done on the GUI thread it stalled the window.
PREPARE_OFF_THREAD = 2_000_000
PREPARE_SLOT = "draw"


def nonfinite_message(results: ModelResults) -> str:
    """The banner text for a run that produced NaN/Inf: where, and what to do about it."""
    step = results.nonfinite_step
    forward = results.trace.nonfinite_step
    if forward is not None and forward <= step:
        where = f"Values became NaN/Inf at step {step}"
    elif forward is not None:
        where = f"Gradients became NaN/Inf at step {step} and values at step {forward}"
    else:
        where = f"Gradients became NaN/Inf at step {step}"
    return f"{where} — lower the recurrent scale (Model panel → W_hh scale)"


def gates_title(results: ModelResults, view: ViewState) -> str:
    """The Gates dock's title: the cell's gates and, in a stacked network, which layer (the
    one the hidden-state panel's selector shows)."""
    cfg = results.config
    title = f"Gates — {cfg.cell}: {', '.join(GATE_NAMES[cfg.cell])}"
    if cfg.num_layers > 1:
        title += f" — layer {view.layer} of 0…{cfg.num_layers - 1} (as Hidden state's)"
    return title


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

    def mark(self, *, document: bool = False) -> None:
        """Note that the document changed without drawing for it now: the results that follow
        at once draw it too (one redraw, one paint, instead of two a frame apart)."""
        self._document_dirty |= document

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


class Dashboard:
    """Draws ``window``'s session into its panels, inspector, transport bar and banner;
    ``drawn`` is the model results on screen."""

    def __init__(self, window) -> None:
        self.window = window
        self.drawn: ModelResults | None = None
        self._drawn_key: tuple = ()
        self._drawn_steps = -1
        self._drawn_labels: tuple[str, ...] | None = None
        self._inspected = -1e9
        # draw everything now, on this thread (exports and tests: what is drawn is current)
        self.synchronous = False
        # draw a panel per event loop turn whatever the run's size (while training: the
        # window then never holds the event loop for a whole dashboard's drawing and paint)
        self.spread = False
        self._queue: list = []  # panels still to draw, one per event loop turn
        self._when_drawn: list[Callable[[], None]] = []
        self._queue_timer = QTimer(window)  # dies with the window, as its panels do
        self._queue_timer.setSingleShot(True)
        self._queue_timer.timeout.connect(self._draw_queued)
        self._preparing: tuple | None = None  # (results, key) a job is preparing
        self._prepared: tuple | None = None  # (results, key, {panel key: prepared})

    @staticmethod
    def data_key(view: ViewState, steps: int) -> tuple:
        """What, besides the results, decides the data drawn (not the cursor, outside reveal)."""
        return (view.model, view.layer, view.units, view.visible_states(steps),
                view.visible_gradients(steps))

    def forget(self) -> None:
        """Draw everything afresh next time (a new theme, a replaced document)."""
        self.drawn = None
        self._drawn_steps = -1

    def redraw(self, document_dirty: bool, results_dirty: bool, view_dirty: bool) -> None:
        w = self.window
        session = w.session
        view = session.view
        if document_dirty:
            for panel in w.panels.values():
                panel.show_document(session.document, view)
        results = session.model_results
        if results is None:
            return
        steps = results.sequence.steps
        key = self.data_key(view, steps)
        if results is not self.drawn or key != self._drawn_key:
            big = self._big(results) and not self.synchronous
            if big and not self._ready(results, key):
                self._prepare(results, view, key)  # drawn when the job is done
            else:
                self._hand_over(results, view, key)
                self.draw_results(results, view,
                                  one_at_a_time=(big or self.spread) and not self.synchronous)
                self.drawn, self._drawn_key = results, key
        for panel in w.panels.values():
            panel.set_cursor(view.step)
        now = time.perf_counter()
        if not w.player.playing or now - self._inspected >= PLAYING_INSPECTOR_S:
            self._inspected = now
            w.inspector.show_step(results, view)
        w.transport.show_view(view)
        reveal = w.actions["view.reveal"]
        with QSignalBlocker(reveal):
            reveal.setChecked(view.reveal)

    def after_drawn(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once every panel queued for drawing has been drawn (now if none
        is)."""
        if self._queue:
            self._when_drawn.append(callback)
        else:
            callback()

    def _draw_queued(self) -> None:
        if self._queue:
            panel, results, view = self._queue.pop(0)
            if results is self.drawn:  # not overtaken by newer results meanwhile
                panel.show_results(results, view)
                panel.set_alarm(results.nonfinite_step)
        if self._queue:
            self._queue_timer.start(0)
            return
        waiting, self._when_drawn = self._when_drawn, []
        for callback in waiting:
            callback()

    # ---- long runs: prepared off the GUI thread ---------------------------------------------
    @staticmethod
    def _big(results: ModelResults) -> bool:
        return results.sequence.steps * results.config.hidden_size > PREPARE_OFF_THREAD

    def _ready(self, results: ModelResults, key: tuple) -> bool:
        held = self._prepared
        return held is not None and held[0] is results and held[1] == key

    def _prepare(self, results: ModelResults, view: ViewState, key: tuple) -> None:
        if self._preparing is not None and self._preparing[0] is results \
                and self._preparing[1] == key:
            return  # under way
        w = self.window
        panels = dict(w.panels)
        self._preparing = (results, key)

        def work(ctx) -> dict:
            out = {}
            for k, (name, panel) in enumerate(panels.items()):
                ctx.progress(k / len(panels), f"preparing {name}")
                out[name] = panel.prepare(results, view)
            return out

        def done(prepared: dict) -> None:
            self._preparing = None
            self._prepared = (results, key, prepared)
            w.redraw.request(results=True)

        def failed(message: str) -> None:
            self._preparing = None
            w.show_message(f"cannot draw the results: {message}")

        w.runner.start(PREPARE_SLOT, FunctionJob("preparing the plots", work), done=done,
                       failed=failed)

    def _hand_over(self, results: ModelResults, view: ViewState, key: tuple) -> None:
        held = self._prepared
        prepared = held[2] if held is not None and held[0] is results and held[1] == key else {}
        for name, panel in self.window.panels.items():
            panel.set_prepared(results, view, prepared.get(name))

    def draw_results(self, results: ModelResults, view: ViewState,
                     one_at_a_time: bool = False) -> None:
        """Draw ``results`` into every panel; ``one_at_a_time`` (a long run): a panel per turn
        of the event loop, so that drawing and painting them never hold it long."""
        w = self.window
        seq = results.sequence
        if seq.labels != self._drawn_labels:
            self._drawn_labels = seq.labels
            for panel in w.panels.values():
                panel.set_time_labels(seq.labels)
        panels = list(w.panels.values())
        self._queue = []
        if one_at_a_time:
            first, self._queue = panels[:1], [(p, results, view) for p in panels[1:]]
            self._queue_timer.start(0)
        else:
            first = panels
            if self._when_drawn:  # waiting for a queue this drawing replaced: call them back
                self._queue_timer.start(0)
        for panel in first:
            panel.show_results(results, view)
            panel.set_alarm(results.nonfinite_step)
        if seq.steps != self._drawn_steps:
            # a new length: show all of it (a zoom into the old one no longer means anything)
            self._drawn_steps = seq.steps
            w.time_link.set_steps(seq.steps)
        w.set_dock_title("gates", gates_title(results, view))
        if results.nonfinite_step is not None:
            w.set_banner(nonfinite_message(results), "error")
        else:
            w.set_banner(None)
