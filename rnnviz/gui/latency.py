"""Edit-to-screen latency of the real window: how long after an input edit the redrawn
plots are painted. Used by ``python -m rnnviz.bench latency``.

Each edit changes one input value the way dragging a point on the input plot does
(``session.set_document(doc.with_sequence(seq.with_inputs(...)))``). The clock runs from the
edit until the event loop has painted the hidden-state heatmap showing the new results,
so it covers recompute, redraw and repaint. Edits are spaced a little over a frame apart,
like the mouse events of a drag.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, QSettings
from PySide6.QtWidgets import QApplication

from rnnviz.engine import NetworkConfig
from rnnviz.session import Session, Task
from rnnviz.session.demos import document_for, sequence_from_generated
from rnnviz.tasks.generators import generate

EDIT_SPACING_S = 0.020  # a drag delivers mouse moves at about 50-60 Hz
TIMEOUT_S = 10.0


class _PaintWatch(QObject):
    """Notes when one widget last began to paint."""

    def __init__(self) -> None:
        super().__init__()
        self.last_paint = 0.0

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Paint:
            self.last_paint = time.perf_counter()
        return False


def measure_latency(
    cell: str = "lstm", steps: int = 200, hidden: int = 64, edits: int = 50,
    compare: tuple[str, ...] | None = None,
) -> dict:
    """Build the window offscreen, make ``edits`` input edits and time each from the edit to
    the repainted plots. Returns milliseconds: p50, p95, max, mean, plus the median compute
    time alone, and the settings used.

    ``compare``: cell types compared at the same size (``cell``'s model among them if listed),
    with the comparison view open; each edit is then timed until the selected model's
    dashboard and the comparison view have both repainted (the influence rows, computed once
    the edits rest, are not waited for)."""
    if QApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from rnnviz.gui.app import create_app
    from rnnviz.gui.main_window import MainWindow

    app = create_app()
    seq = sequence_from_generated(generate("sine_plus_step", steps, seed=0))
    doc = document_for(
        seq, NetworkConfig(cell=cell, hidden_size=hidden, seed=0), Task("mse", "all")
    )
    if compare:
        from rnnviz.session.compare import compare_cells

        doc = compare_cells(doc, cells=compare)
    session = Session(doc)
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "latency.ini"), QSettings.Format.IniFormat)
        window = MainWindow(session, settings=settings, restore_layout=False)
        window.resize(1280, 800)
        window.show()
        drawn_at = [0.0]
        draw = window.dashboard.draw_results

        def timed_draw(*args) -> None:
            draw(*args)
            drawn_at[0] = time.perf_counter()

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
                computes.append(session.last_results.seconds * 1000.0)  # every model
                _settle(app, EDIT_SPACING_S)
        finally:
            viewport.removeEventFilter(watch)
            if compare:
                compare_port.removeEventFilter(compare_watch)
            window.close()
            window.deleteLater()
            app.processEvents()
    lat = np.array(latencies)
    return {
        "cell": cell,
        "models": len(doc.models),
        "steps": steps,
        "hidden": hidden,
        "edits": edits,
        "p50_ms": float(np.percentile(lat, 50)),
        "p95_ms": float(np.percentile(lat, 95)),
        "max_ms": float(lat.max()),
        "mean_ms": float(lat.mean()),
        "compute_p50_ms": float(np.median(computes)),
    }


def _settle(app: QApplication, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)
