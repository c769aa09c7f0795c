"""Animation frames of a cursor sweeping through time, fast: the panel is rendered once without
its cursor, and each frame is that picture with the cursor drawn where its step is.

Outside reveal mode nothing but the cursor moves from frame to frame, so this is exactly what
rendering every frame from the scene shows, at the cost of one line a frame (rendering the
whole panel, axes re-recorded at the export's scale, took most of an animation's time).
"""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets

from rnnviz.gui.export.figures import (
    _CosmeticScalingPainter,
    _figure_of,
    _scaled_size,
    render_figure,
)
from rnnviz.gui.panels.cursor import PanelCursor


class CursorSweep:
    """``frame(step)`` -> QImage (RGB32) of ``view`` (a panel's plot view) ``width`` pixels
    wide with ``cursor`` at ``step``. Use as a context manager: the on-screen cursor is hidden
    meanwhile and put back after."""

    def __init__(self, view: QtWidgets.QGraphicsView, cursor: PanelCursor,
                 width: int | None) -> None:
        self.view = view
        self.cursor = cursor
        self.width = width
        self.base: QtGui.QImage | None = None

    def __enter__(self) -> CursorSweep:
        self.cursor.suppressed = True
        self.cursor.place()
        fig = _figure_of(self.view)
        w, _h, _scale = _scaled_size(fig.size, self.width)
        rendered = render_figure(self.view, self.width)
        base = QtGui.QImage(rendered.size(), QtGui.QImage.Format.Format_RGB32)
        base.fill(QtGui.QColor("white"))
        painter = QtGui.QPainter(base)
        painter.drawImage(0, 0, rendered)
        painter.end()
        self.base = base
        self.source = fig.source
        self.scale = w / fig.source.width()
        return self

    def __exit__(self, *exc) -> None:
        self.cursor.suppressed = False
        self.cursor.place()

    def frame(self, step: int) -> QtGui.QImage:
        image = QtGui.QImage(self.base)  # shares the pixels until painted on
        where = self.cursor.geometry(step)
        if where is None:
            return image
        x, segments = where
        painter = _CosmeticScalingPainter(image, self.scale)
        try:
            painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
            painter.scale(self.scale, self.scale)
            painter.translate(-self.source.left() + x, -self.source.top())
            self.cursor.draw(painter, segments)
        finally:
            painter.end()
        return image

