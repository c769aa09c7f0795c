"""The window's own cost, measured in the real window offscreen. Used by
``python -m rnnviz.bench latency``.

:func:`measure_latency` — edit → pixels. Each edit changes one input value the way dragging a
point on the input plot does (``session.set_document(doc.with_sequence(seq.with_inputs(...)))``).
The window is in its default layout (the dashboard), or with every panel open. The clock runs
from the edit until the event loop has painted the hidden-state heatmap showing
the new results, so it covers recompute, redraw and repaint; the engine's own compute time of
the same edit (``Results.seconds``) is recorded beside it, so the window's share (redraw =
total − compute) and the ratio total / compute come from one run. Edits are spaced a little
over a frame apart, like the mouse events of a drag.

:func:`measure_cursor` — cursor moves: single steps (→) and playback at a given speed, with
every panel open. Reports the GUI thread's CPU time per move (what a move costs a frame,
whatever else shares the machine) and the number of recomputations (which must be zero).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QEventLoop, QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from rnnviz.engine import NetworkConfig
from rnnviz.session import Document, Session, Task
from rnnviz.session.demos import document_for, sequence_from_generated
from rnnviz.tasks.generators import generate

EDIT_SPACING_S = 0.020  # a drag delivers mouse moves at about 50-60 Hz
TIMEOUT_S = 10.0
FRAME_MS = 1000.0 / 60.0
WINDOW_SIZE = (1280, 800)


class _PaintWatch(QObject):
    """Notes when one widget last began to paint."""

    def __init__(self) -> None:
        super().__init__()
        self.last_paint = 0.0

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Paint:
            self.last_paint = time.perf_counter()
        return False


def benchmark_document(cell: str = "lstm", steps: int = 200, hidden: int = 64,
                       models: int = 1, compare: tuple[str, ...] | None = None) -> Document:
    """The sine-with-a-step sequence read by ``models`` networks of ``cell`` × ``hidden``
    (seeds 0, 1, …), MSE at every step; or, with ``compare``, by one network of each of those
    cell types at that size."""
    seq = sequence_from_generated(generate("sine_plus_step", steps, seed=0))
    doc = document_for(
        seq, NetworkConfig(cell=cell, hidden_size=hidden, seed=0), Task("mse", "all")
    )
    if models > 1:
        first = doc.model(0)
        extra = tuple(first.with_config(first.config.replace(seed=k)).renamed(f"seed {k}")
                      for k in range(1, models))
        doc = doc.with_models((first, *extra))
    if compare:
        from rnnviz.session.compare import compare_cells

        doc = compare_cells(doc, cells=compare)
    return doc


@contextlib.contextmanager
def _window(document: Document, every_panel: bool = True
            ) -> Iterator[tuple[QApplication, object]]:
    """The real main window over ``document``, shown offscreen at :data:`WINDOW_SIZE` in its
    default layout (the dashboard) or with ``every_panel`` open (the analysis, comparison,
    diagram and training views too), its settings in a throwaway file."""
    if QApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from rnnviz.gui.app import create_app
    from rnnviz.gui.main_window import MainWindow

    app = create_app()
    session = Session(document)
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "latency.ini"), QSettings.Format.IniFormat)
        window = MainWindow(session, settings=settings, restore_layout=False)
        window.resize(*WINDOW_SIZE)
        window.show()
        if every_panel:
            for key in window.panels:
                window.docks[key].show()
        try:
            _settle(app, 0.3)
            yield app, window
        finally:
            window.close()
            window.deleteLater()
            app.processEvents()


def _counting_computes(window) -> Callable[[], int]:
    """Count the results installed from now on (each one is a computation)."""
    count = [0]
    window.session.results_changed.connect(lambda _r: count.__setitem__(0, count[0] + 1))
    return lambda: count[0]


def measure_latency(
    cell: str = "lstm", steps: int = 200, hidden: int = 64, edits: int = 50, models: int = 1,
    compare: tuple[str, ...] | None = None, every_panel: bool = False,
) -> dict:
    """Build the window offscreen, make ``edits`` input edits and time each from the edit to
    the repainted plots. Returns milliseconds: total (edit → pixels) p50, p95, max, mean; the
    engine's compute time of the same edits (p50, p95; every model's); redraw (total − compute,
    p50, p95); ``ratio`` = total p95 / compute p50; and the settings used.

    ``compare``: cell types compared at the same size, with the comparison view open; each edit
    is then timed until the selected model's dashboard and the comparison view have both
    repainted (the influence rows, computed once the edits rest, are not waited for).

    The window is in its default layout (the dashboard), or with ``every_panel`` open: the
    analysis views then compute what costs more than a few milliseconds as jobs, which the
    clock does not wait for."""
    doc = benchmark_document(cell, steps, hidden, models, compare)
    with _window(doc, every_panel) as (app, window):
        session = window.session
        drawn_at = [0.0]
        draw = window.dashboard.draw_results

        def timed_draw(*args, **kwargs):
            out = draw(*args, **kwargs)
            drawn_at[0] = time.perf_counter()
            return out

        window.dashboard.draw_results = timed_draw
        watch = _PaintWatch()
        viewport = window.panels["hidden"].plot_widget.viewport()
        viewport.installEventFilter(watch)
        compared = [0.0]  # when the comparison view last drew
        if compare:
            window.models.show_comparison()
            compare_watch = _PaintWatch()
            view = window.panels["compare"]
            compare_port = view.plot_widget.viewport()
            compare_port.installEventFilter(compare_watch)
            view_draw = view._draw

            def timed_view_draw(*args) -> None:
                view_draw(*args)
                compared[0] = time.perf_counter()

            view._draw = timed_view_draw
            _settle(app, 0.2)
        rng = np.random.default_rng(0)
        latencies, computes = [], []
        try:
            for k in range(edits):
                seq = session.document.sequence
                inputs = np.array(seq.inputs)
                inputs[int(rng.integers(seq.steps)), 0] += 0.05 if k % 2 == 0 else -0.05
                edited = session.document.with_sequence(seq.with_inputs(inputs))
                start = time.perf_counter()
                session.set_document(edited)
                deadline = start + TIMEOUT_S
                while True:
                    app.processEvents()
                    results = session.model_results
                    drawn = results is not None and window.dashboard.drawn is results
                    if compare:
                        drawn = (drawn and start < compared[0] < compare_watch.last_paint
                                 and view.current() is session.last_results)
                    if drawn and start < drawn_at[0] < watch.last_paint:
                        break
                    if time.perf_counter() > deadline:
                        raise TimeoutError("the window did not repaint after an edit")
                latencies.append((time.perf_counter() - start) * 1000.0)
                computes.append(session.last_results.seconds * 1000.0)
                _settle(app, EDIT_SPACING_S)
        finally:
            viewport.removeEventFilter(watch)
            if compare:
                compare_port.removeEventFilter(compare_watch)
    lat, comp = np.array(latencies), np.array(computes)
    redraw = lat - comp
    return {
        "cell": cell,
        "steps": steps,
        "hidden": hidden,
        "models": len(doc.models),
        "every_panel": every_panel,
        "edits": edits,
        "p50_ms": float(np.percentile(lat, 50)),
        "p95_ms": float(np.percentile(lat, 95)),
        "max_ms": float(lat.max()),
        "mean_ms": float(lat.mean()),
        "compute_p50_ms": float(np.median(comp)),
        "compute_p95_ms": float(np.percentile(comp, 95)),
        "redraw_p50_ms": float(np.percentile(redraw, 50)),
        "redraw_p95_ms": float(np.percentile(redraw, 95)),
        "ratio": float(np.percentile(lat, 95) / max(np.median(comp), 1e-9)),
    }


def measure_cursor(
    cell: str = "lstm", steps: int = 1000, hidden: int = 128, moves: int = 100,
    play_speed: float = 60.0, play_seconds: float = 2.0,
) -> dict:
    """Cursor moves with every panel open: ``moves`` single steps (each until painted), then
    playback at ``play_speed`` steps per second for ``play_seconds``. Returns the GUI thread's
    CPU milliseconds per move (``step_cpu_p50_ms``, ``step_cpu_p95_ms``, ``play_cpu_ms`` per
    frame), each also as a share of a 60 Hz frame, and ``recomputes`` (must be 0)."""
    doc = benchmark_document(cell, steps, hidden)
    with _window(doc) as (app, window):
        session = window.session
        window.redraw_now()
        _settle(app, 0.2)
        computes = _counting_computes(window)
        watch = _PaintWatch()
        viewport = window.panels["hidden"].plot_widget.viewport()
        viewport.installEventFilter(watch)
        costs = []
        try:
            for _ in range(moves):
                cpu, start = time.thread_time(), time.perf_counter()
                session.set_view(step=(session.view.step + 7) % steps)
                window.redraw.flush()
                deadline = start + TIMEOUT_S
                while watch.last_paint < start:
                    app.processEvents()
                    if time.perf_counter() > deadline:
                        raise TimeoutError("the window did not repaint after a cursor move")
                app.processEvents()
                costs.append((time.thread_time() - cpu) * 1000.0)
                _settle(app, 0.002)
            session.set_view(step=0)
            window.redraw_now()
            _settle(app, 0.1)
            window.player.set_speed(play_speed)
            first = session.view.step
            ticks = [0]
            session.view_changed.connect(lambda _v: ticks.__setitem__(0, ticks[0] + 1))
            cpu, start = time.thread_time(), time.perf_counter()
            window.player.play()
            loop = QEventLoop()  # waits idle between frames, so CPU time is the window's
            QTimer.singleShot(round(play_seconds * 1000), loop.quit)
            loop.exec()
            window.player.stop()
            played_cpu = (time.thread_time() - cpu) * 1000.0
            elapsed = time.perf_counter() - start
            played = session.view.step - first
        finally:
            viewport.removeEventFilter(watch)
        recomputes = computes()
    cost = np.array(costs)
    play_per_frame = played_cpu / max(ticks[0], 1)
    return {
        "cell": cell,
        "steps": steps,
        "hidden": hidden,
        "moves": moves,
        "step_cpu_p50_ms": float(np.percentile(cost, 50)),
        "step_cpu_p95_ms": float(np.percentile(cost, 95)),
        "play_cpu_ms": float(play_per_frame),
        "play_steps": int(played),
        "play_moves": int(ticks[0]),
        "play_seconds": float(elapsed),
        "frame_share_p95": float(np.percentile(cost, 95) / FRAME_MS),
        "play_frame_share": float(play_per_frame / FRAME_MS),
        "recomputes": int(recomputes),
    }


def _settle(app: QApplication, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)
