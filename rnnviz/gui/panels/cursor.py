"""The time cursor of a panel: one light item drawn down every time plot of the panel.

Moving it repaints a few pixels' column of the panel and nothing else. A pyqtgraph
InfiniteLine per plot recomputed its bounds through the view on every move, and a panel of four
heatmaps had four of them: most of what a cursor move cost.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem

MARK = 4.0  # half the width of the mark at the top, px


class PanelCursor(QGraphicsItem):
    """A vertical line at ``step`` across each of ``plots`` (pg.PlotItems sharing one x
    range), with a small mark at the top so it shows even where it runs along an axis."""

    def __init__(self, colour: str) -> None:
        super().__init__()
        self.setZValue(1000)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresParentOpacity, True)
        self.pen = QPen(pg.mkColor(colour))
        self.pen.setCosmetic(True)
        self.pen.setWidthF(1.0)
        self.plots: list[pg.PlotItem] = []
        self.step = 0.0
        self._segments: list[tuple[float, float]] = []  # (top, bottom) in scene y
        self._height = (0.0, 0.0)
        self.suppressed = False  # kept hidden (while an animation draws it itself)

    def set_colour(self, colour: str) -> None:
        self.pen.setColor(pg.mkColor(colour))
        self.update()

    # ---- placing ---------------------------------------------------------------------------
    def set_step(self, step: float) -> None:
        self.step = float(step)
        self.place()

    def geometry(self, step: float) -> tuple[float, list[tuple[float, float]]] | None:
        """(scene x, [(top, bottom) per plot]) of the line at ``step`` in the current layout,
        or None where it is not drawn (outside the time range, nothing laid out)."""
        scene = self.scene()
        boxes = []  # (view box, its scene rectangle), each rectangle asked for once
        for plot in self.plots:
            if plot.isVisible() and plot.scene() is scene:
                rect = plot.vb.sceneBoundingRect()
                if rect.width() > 0 and rect.height() > 0:
                    boxes.append((plot.vb, rect))
        if not boxes:
            return None
        first = boxes[0][0]
        lo, hi = first.state["viewRange"][0]
        if not lo <= step <= hi:
            return None
        first.updateMatrix()  # what mapViewToScene does, in one mapping instead of three
        x = first.childGroup.sceneTransform().map(QPointF(step, 0.0)).x()
        if not math.isfinite(x):
            return None
        return x, [(rect.top(), rect.bottom()) for _vb, rect in boxes]

    def place(self, *_args) -> None:
        """Put the line where ``step`` is now (after a move, a zoom, a new layout)."""
        where = None if self.suppressed else self.geometry(self.step)
        if where is None:
            self.setVisible(False)
            return
        x, segments = where
        height = (min(s[0] for s in segments), max(s[1] for s in segments))
        if segments != self._segments or height != self._height:
            self.prepareGeometryChange()
            self._segments, self._height = segments, height
            self.update()
        self.setPos(x, 0.0)
        self.setVisible(True)

    # ---- QGraphicsItem ---------------------------------------------------------------------
    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt name)
        top, bottom = self._height
        return QRectF(-MARK - 1, top - 1, 2 * MARK + 2, bottom - top + 2)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        self.draw(painter, self._segments)

    def draw(self, painter: QPainter, segments: list[tuple[float, float]]) -> None:
        """Draw the line over ``segments`` at x = 0 of ``painter`` (scene y)."""
        if not segments:
            return
        painter.setPen(self.pen)
        for top, bottom in segments:
            painter.drawLine(QPointF(0.0, top), QPointF(0.0, bottom))
        top = segments[0][0]
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(self.pen.color())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawPolygon(QPolygonF([QPointF(-MARK, top), QPointF(MARK, top),
                                       QPointF(0.0, top + 1.6 * MARK)]))
