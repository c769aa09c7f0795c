"""Edits and cursor moves change numbers, never the window's layout: a widget that re-lays
itself out on every step (a spin box given its range again, a tree repainted whole) costs a
frame its time."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QScrollBar, QWidget


class _Events(QObject):
    """Records the layout requests and scroll-bar paints delivered to ``window``'s widgets
    (the window's own layout request, which a test run's earlier windows can leave it to
    make once, is not counted: what re-lays itself out each time is a widget inside)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__()
        self.window = window
        self.layouts: list[str] = []
        self.scroll_paints = 0

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if not isinstance(obj, QWidget) or obj.window() is not self.window:
            return False
        if event.type() == QEvent.Type.LayoutRequest and obj is not self.window:
            self.layouts.append(f"{type(obj).__name__} {obj.objectName()}".strip())
        elif event.type() == QEvent.Type.Paint and isinstance(obj, QScrollBar):
            self.scroll_paints += 1
        return False


def _quiet(qtbot, window, quiet_ms: int = 300, limit_ms: int = 5000) -> None:
    """Wait until ``window`` has re-laid out nothing for ``quiet_ms`` (a new window sizes its
    docks in a few passes first)."""
    app = QApplication.instance()
    for _ in range(limit_ms // quiet_ms):
        events = _Events(window)
        app.installEventFilter(events)
        try:
            qtbot.wait(quiet_ms)
        finally:
            app.removeEventFilter(events)
        if not events.layouts:
            return


def _record(qtbot, window, change) -> _Events:
    window.redraw_now()
    _quiet(qtbot, window)
    events = _Events(window)
    app = QApplication.instance()
    app.installEventFilter(events)
    try:
        change()
        window.redraw_now()
        for _ in range(5):
            QApplication.processEvents()
    finally:
        app.removeEventFilter(events)
    return events


def _edit(session, step: int, by: float) -> None:
    seq = session.document.sequence
    inputs = np.array(seq.inputs)
    inputs[step, 0] += by
    session.set_document(session.document.with_sequence(seq.with_inputs(inputs)))


def test_an_edit_of_the_input_re_lays_out_nothing(window, qtbot):
    session = window.session
    steps = session.document.sequence.steps
    _edit(session, steps // 3, 0.1)  # the first edit marks the document modified (its title)
    before = session.model_results
    events = _record(qtbot, window, lambda: _edit(session, steps // 2, 0.25))
    assert session.model_results is not before  # the edit was computed and drawn
    assert events.layouts == []
    assert events.scroll_paints == 0


def test_a_cursor_move_re_lays_out_nothing(window, qtbot):
    session = window.session
    events = _record(qtbot, window, lambda: session.set_view(step=session.view.step + 3))
    assert window.transport.step_spin.value() == session.view.step
    assert events.layouts == []
    assert events.scroll_paints == 0
