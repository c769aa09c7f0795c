"""Plot items the panels share: line traces with their theme colour, and heatmaps with a
colour bar and fixed levels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg

from rnnviz.gui.theme import Theme, colormap

# The colour bar's width (12 px bar, 45 px labels, its frame), fixed so that line plots can
# reserve exactly as much room (plus the 5 px gap before it) and every time axis lines up.
COLORBAR_WIDTH = 59
COLORBAR_GAP = 5


@dataclass
class Line:
    """A line trace and how it is drawn: ``colour`` indexes the theme's line colours (-1: the
    target colour)."""
    item: pg.PlotDataItem
    colour: int
    dashed: bool
    width: float


class Heatmap:
    """A units × steps image in its own plot with a colour bar and fixed levels.

    ``set_data(a)`` takes a (rows, n) array — n may be fewer than the sequence's steps in
    reveal mode — and never autoscales the colours.
    """

    def __init__(
        self,
        plot: pg.PlotItem,
        title: str,
        diverging: bool,
        levels: tuple[float, float],
        theme: Theme,
        ylabel: str = "unit",
    ) -> None:
        self.plot = plot
        self.title = title
        self.diverging = diverging
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        plot.addItem(self.image)
        plot.setTitle(title, size="9pt")
        plot.setLabel("left", ylabel)
        plot.setMouseEnabled(x=True, y=False)
        plot.invertY(False)
        self.bar = pg.ColorBarItem(
            values=levels, colorMap=self._cmap(theme), interactive=False, width=12
        )
        self.bar.setImageItem(self.image, insert_in=plot)
        self.bar.setFixedWidth(COLORBAR_WIDTH)
        self.bar.axis.enableAutoSIPrefix(False)
        self._label_bar(*levels)
        self.data = np.zeros((0, 0))
        self._shape: tuple[int, int] = (-1, -1)

    def _cmap(self, theme: Theme) -> pg.ColorMap:
        return colormap(theme.diverging if self.diverging else theme.sequential)

    def apply_theme(self, theme: Theme) -> None:
        self.bar.setColorMap(self._cmap(theme))
        self.bar.axis.setPen(theme.foreground)
        self.bar.axis.setTextPen(theme.foreground)

    def set_levels(self, low: float, high: float) -> None:
        if tuple(self.bar.levels()) != (low, high):
            self.bar.setLevels((low, high))
            self._label_bar(low, high)

    def _label_bar(self, low: float, high: float) -> None:
        """Three colour-bar labels (ends and middle): legible however short the heatmap."""
        ticks = (low, (low + high) / 2, high)
        self.bar.axis.setTicks([[(v, f"{v:.3g}") for v in ticks], []])

    def set_data(self, data: np.ndarray, total_steps: int) -> None:
        """Draw ``data`` (rows, n): column t at x = t, row u at y = u."""
        rows, steps = data.shape
        self.data = data
        if steps == 0:
            self.image.clear()
            self.image.setImage(np.full((max(rows, 1), 1), np.nan), autoLevels=False)
            self.image.setRect(-0.5, -0.5, 0, max(rows, 1))
        else:
            self.image.setImage(data, autoLevels=False, levels=self.bar.levels())
            self.image.setRect(-0.5, -0.5, steps, rows)
        if self._shape != (rows, total_steps):
            self._shape = (rows, total_steps)
            self.plot.setYRange(-0.5, rows - 0.5, padding=0)

    def forget_range(self) -> None:
        """Set the y range afresh at the next :meth:`set_data`."""
        self._shape = (-1, -1)

    def value_at(self, x: float, y: float) -> tuple[int, int, float] | None:
        """(row, step, value) under the view point (x, y), or None outside the drawn data."""
        t, u = int(round(x)), int(round(y))
        rows, steps = self.data.shape if self.data.ndim == 2 else (0, 0)
        if 0 <= u < rows and 0 <= t < steps:
            return u, t, float(self.data[u, t])
        return None


