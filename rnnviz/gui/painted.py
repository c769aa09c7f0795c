"""Calling back once the window has painted what is pending (:func:`after_paint`).

A job that takes turns with the window (training publishes a snapshot and waits for the
window to show it) should go on only once the new pixels are painted: resumed earlier, it
competes with the painting for the interpreter and stretches a frame into a stall.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

FALLBACK_MS = 33  # when nothing was pending, no paint comes: call back after two frames


class _AfterPaint(QObject):
    def __init__(self, window: QWidget, callback: Callable[[], None], fallback_ms: int):
        super().__init__(window)
        self._window = window
        self._callback: Callable[[], None] | None = callback
        window.installEventFilter(self)
        QTimer.singleShot(fallback_ms, self, self._fire)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if obj is self._window and event.type() == QEvent.Type.UpdateRequest:
            # the paint runs when this returns: call back on the loop's next turn
            QTimer.singleShot(0, self, self._fire)
        return False

    def _fire(self) -> None:
        callback, self._callback = self._callback, None
        if callback is None:
            return
        self._window.removeEventFilter(self)
        self.deleteLater()
        callback()


def after_paint(widget: QWidget, callback: Callable[[], None],
                fallback_ms: int = FALLBACK_MS) -> None:
    """Call ``callback`` once, after ``widget``'s window has next painted (or after
    ``fallback_ms`` if it paints nothing)."""
    _AfterPaint(widget.window(), callback, fallback_ms)
