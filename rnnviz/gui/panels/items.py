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
    target colour); ``plot`` holds it; ``name`` is its legend entry ("" for none); ``markers``:
    drawn as dots (isolated points, which a line would not show)."""
    item: pg.PlotDataItem
    colour: int
    dashed: bool
    width: float
    plot: pg.PlotItem | None = None
    name: str = ""
    markers: bool = False


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
MIN_LABEL_GAP = 16.0  # pixels between value labels on a vertical axis


class ValueAxis(pg.AxisItem):
    """A value axis whose labels stay :data:`MIN_LABEL_GAP` pixels apart however short the
    plot (pyqtgraph's spacing crowds five labels into a 40-pixel trace plot)."""

    def __init__(self, orientation: str = "left", **kwargs) -> None:
        super().__init__(orientation, **kwargs)

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph's name)
        levels = super().tickSpacing(minVal, maxVal, size)
        span = maxVal - minVal
        if not levels or span <= 0 or size <= 0 or not np.isfinite(span):
            return levels
        wanted = span * MIN_LABEL_GAP / size
        if levels[0][0] >= wanted:
            return levels
        magnitude = 10.0 ** np.floor(np.log10(wanted))
        major = next(m * magnitude for m in (1.0, 2.0, 5.0, 10.0) if m * magnitude >= wanted)
        if major > span / 1.5:  # a very short plot: still a label or two inside the range
            magnitude = 10.0 ** np.floor(np.log10(span / 1.5))
            major = max(m * magnitude for m in (1.0, 2.0, 5.0) if m * magnitude <= span / 1.5)
        return [(major, 0), (major / (2.0 if str(major)[0] == "2" else 5.0), 0)]


class DecadeAxis(ValueAxis):
    """A log axis labelled in powers of ten only ("10⁻⁴"): short labels that fit the shared
    left-axis width beside the axis title, none between decades."""

    def __init__(self, orientation: str = "left", **kwargs) -> None:
        super().__init__(orientation, **kwargs)

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph's name)
        out = []
        for v in values:
            k = round(float(v))
            out.append(decade_label(k) if abs(float(v) - k) < 1e-6 else "")
        return out


def decade_label(exponent: int) -> str:
    """10 to the power ``exponent``, as an axis shows it ("1", "10", "10⁻⁴")."""
    if exponent == 0:
        return "1"
    if exponent == 1:
        return "10"
    return "10" + str(exponent).translate(_SUPERSCRIPT)


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


