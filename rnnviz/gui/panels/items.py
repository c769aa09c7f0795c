"""Plot items the panels share: line traces with their theme colour, and heatmaps with a
colour bar and fixed levels."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QImage, QPaintEngine, QTransform
from PySide6.QtWidgets import QGraphicsItem

from rnnviz.gui.theme import Theme, colormap

# The colour bar's width (12 px bar, 45 px labels, its frame), fixed so that line plots can
# reserve exactly as much room (plus the 5 px gap before it) and every time axis lines up.
COLORBAR_WIDTH = 59
COLORBAR_GAP = 5


def holds_only_items(item: QGraphicsItem) -> None:
    """Mark ``item`` (a pyqtgraph layout, plot or colour bar, which paints nothing itself) as
    having no contents of its own: a repaint then skips asking it (a Python method) whether
    it meets the repainted area."""
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, True)


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
    drawn: tuple[np.ndarray, np.ndarray] | None = None  # the (x, y) last given


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


MAX_IMAGE_COLUMNS = 4096  # wider data is drawn reduced to this many columns (no screen has more)
NAN_INDEX = 256  # the colour table's last entry: transparent, for values that are not drawn


def colour_table(cmap: pg.ColorMap) -> np.ndarray:
    """(257,) uint32 premultiplied ARGB: 256 colours of ``cmap`` from low to high, then
    transparent (for NaN)."""
    rgba = cmap.getLookupTable(0.0, 1.0, 256, alpha=True).astype(np.uint32)
    table = np.zeros(257, np.uint32)
    table[:256] = (0xFF << 24) | (rgba[:, 0] << 16) | (rgba[:, 1] << 8) | rgba[:, 2]
    return table


def reduce_columns(data: np.ndarray, centre: float, columns: int = MAX_IMAGE_COLUMNS
                   ) -> np.ndarray:
    """``data`` (rows, n) with n > ``columns`` reduced to at most ``columns`` columns: each
    keeps the value of its block of steps farthest from ``centre`` (the colour scale's middle),
    so a spike of one step still shows; NaN only where a whole block is NaN.

    Two passes of block minimum and maximum over the steps, on the steps-major layout the
    traces have (``data`` is usually the transpose of a (T, H) trace)."""
    rows, n = data.shape
    k = -(-n // columns)
    blocks = -(-n // k)
    steps_major = data.T  # (n, rows): C-contiguous for a transposed trace
    whole = (n // k) * k
    head = steps_major[:whole].reshape(n // k, k, rows)
    with np.errstate(invalid="ignore"):
        high = np.fmax.reduce(head, axis=1)
        low = np.fmin.reduce(head, axis=1)
        if whole < n:  # the last, shorter block
            tail = steps_major[whole:]
            high = np.vstack([high, np.fmax.reduce(tail, axis=0)[None]])
            low = np.vstack([low, np.fmin.reduce(tail, axis=0)[None]])
        pick = np.where(np.abs(high - centre) >= np.abs(low - centre), high, low)
        pick = np.where(np.isnan(high), low, pick)
    assert pick.shape == (blocks, rows)
    return np.ascontiguousarray(pick.T)


def colour_image(data: np.ndarray, levels: tuple[float, float], table: np.ndarray
                 ) -> np.ndarray:
    """(rows, n) uint32 ARGB of ``data`` (rows, n) through ``table`` (see :func:`colour_table`)
    between ``levels``, NaN transparent. Pure NumPy (safe off the GUI thread)."""
    low, high = levels
    scale = 256.0 / (high - low) if high > low else 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        x = (np.asarray(data, dtype=np.float64) - low) * scale
        np.clip(x, 0.0, 255.0, out=x)
    x[np.isnan(x)] = NAN_INDEX
    return np.ascontiguousarray(table[x.astype(np.intp)])


def heat_pixels(data: np.ndarray, levels: tuple[float, float], table: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """(values drawn, their uint32 ARGB pixels) of a heatmap's ``data`` (rows, n) at
    ``levels`` through ``table``: reduced to :data:`MAX_IMAGE_COLUMNS` columns when wider."""
    low, high = levels
    values = data
    if data.shape[1] > MAX_IMAGE_COLUMNS:
        values = reduce_columns(data, (low + high) / 2)
    return values, colour_image(values, (low, high), table)


class ColourImage(pg.ImageItem):
    """An ImageItem shown from ARGB pixels made once per new data (:func:`colour_image`).

    pyqtgraph rescales float images through the colour table when painting and keeps an 8-bit
    indexed image that Qt converts again on every paint; this one keeps Qt's native format.
    On a raster device (the screen, PNG exports) it paints an image already at the device's
    pixel size, each device pixel taking its cell's colour (what scaling with Qt would give,
    without Qt's threaded image transform on every repaint), made once per size and reused by
    repaints that only the cursor needed. ``image`` is the (rows, n) float data the pixels
    show."""

    _scaled: tuple[tuple, QImage, np.ndarray] | None = None

    def set_pixels(self, values: np.ndarray, argb: np.ndarray,
                   levels: tuple[float, float] | None = None) -> None:
        """Show ``argb`` (rows, n) uint32, the colours of ``values`` (rows, n) between
        ``levels`` (what :meth:`getLevels` then gives)."""
        if levels is not None:
            self.levels = np.asarray(levels, dtype=np.float64)
        rows, n = argb.shape
        if self.image is None or self.image.shape[:2] != (rows, n):
            self.prepareGeometryChange()
            self.informViewBoundsChanged()
        self.image = values
        self._pixels = argb  # the QImage below reads this buffer
        self._scaled = None
        self.qimage = QImage(argb.data, n, rows, 4 * n, QImage.Format.Format_ARGB32_Premultiplied)
        self._renderRequired = False
        self._unrenderable = False
        self.update()

    def render(self) -> None:  # the pixels are made in set_pixels
        self._renderRequired = False

    def paint(self, painter, *args) -> None:
        if self.image is None or self.qimage is None:
            return
        engine = painter.paintEngine()
        transform = painter.deviceTransform()
        if (engine is None or engine.type() != QPaintEngine.Type.Raster
                or transform.isRotating()):
            super().paint(painter, *args)  # vector files keep the image as it is
            return
        rows, n = self._pixels.shape
        whole = QRectF(0.0, 0.0, n, rows)
        target = transform.mapRect(whole)
        vb = self.getViewBox()
        shown = whole
        if vb is not None:  # only the part inside the view box (which clips to it) is seen
            shown = self.mapRectFromView(vb.viewRect()).intersected(whole)
        visible = transform.mapRect(shown)
        if visible.isEmpty() or target.width() <= 0 or target.height() <= 0:
            return
        ratio = painter.device().devicePixelRatioF()
        x0, y0 = math.floor(visible.left()), math.floor(visible.top())
        x1, y1 = math.ceil(visible.right()), math.ceil(visible.bottom())
        key = (id(self._pixels), target.getRect(), x0, y0, x1, y1)
        if self._scaled is None or self._scaled[0] != key:
            # each device pixel's centre, in cells
            cols = ((np.arange(x0, x1) + 0.5 - target.left()) * (n / target.width()))
            rws = ((np.arange(y0, y1) + 0.5 - target.top()) * (rows / target.height()))
            cols = np.clip(cols.astype(np.intp), 0, n - 1)
            rws = np.clip(rws.astype(np.intp), 0, rows - 1)
            if transform.m11() < 0:
                cols = n - 1 - cols
            if transform.m22() < 0:  # row 0 at the bottom: y grows upwards on screen
                rws = rows - 1 - rws
            scaled = np.ascontiguousarray(self._pixels[rws][:, cols])
            image = QImage(scaled.data, x1 - x0, y1 - y0, 4 * (x1 - x0),
                           QImage.Format.Format_ARGB32_Premultiplied)
            self._scaled = (key, image, scaled)
        image = self._scaled[1]
        painter.save()
        try:
            # world = the inverse of what the painter adds itself (the device pixel ratio and,
            # painting into a window's backing store as X11 does, the widget's offset in it),
            # so that the image lands on exactly the device pixels computed above
            painter.resetTransform()
            to_device, invertible = painter.deviceTransform().inverted()
            if not invertible:
                to_device = QTransform.fromScale(1.0 / ratio, 1.0 / ratio)
            painter.setWorldTransform(to_device)
            painter.drawImage(QPointF(x0, y0), image)
        finally:
            painter.restore()


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
        self.image = ColourImage(axisOrder="row-major")
        self.image.setZValue(-10)
        plot.addItem(self.image)
        plot.setTitle(title, size="9pt")
        plot.setLabel("left", ylabel)
        plot.setMouseEnabled(x=True, y=False)
        plot.invertY(False)
        self.bar = pg.ColorBarItem(
            values=levels, colorMap=self._cmap(theme), interactive=False, width=12
        )
        # the bar only shows the scale: the image is coloured here, with the bar's map
        self.bar.setImageItem([], insert_in=plot)
        self.bar.setFixedWidth(COLORBAR_WIDTH)
        holds_only_items(self.bar)
        self.bar.axis.enableAutoSIPrefix(False)
        self._label_bar(*levels)
        self.table = colour_table(self._cmap(theme))
        self.data = np.zeros((0, 0))
        self._shape: tuple[int, int] = (-1, -1)

    def _cmap(self, theme: Theme) -> pg.ColorMap:
        return colormap(theme.diverging if self.diverging else theme.sequential)

    def apply_theme(self, theme: Theme) -> None:
        self.bar.setColorMap(self._cmap(theme))
        self.table = colour_table(self._cmap(theme))
        if self.data.size:
            self._colour()
        self.bar.axis.setPen(theme.foreground)
        self.bar.axis.setTextPen(theme.foreground)

    def set_levels(self, low: float, high: float, recolour: bool = True) -> None:
        """Fixed colour levels (``recolour``: colour the data shown again; off when new data
        follows at once)."""
        if tuple(self.bar.levels()) != (low, high):
            self.bar.setLevels((low, high))
            self._label_bar(low, high)
            if recolour:
                self._colour()

    def show(self, data: np.ndarray, total_steps: int, levels: tuple[float, float],
             pixels: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """New ``data`` at ``levels``, coloured once (``pixels``: made beforehand at these
        levels, e.g. off the GUI thread)."""
        self.set_levels(*levels, recolour=False)
        self.set_data(data, total_steps, pixels)

    def _label_bar(self, low: float, high: float) -> None:
        """Three colour-bar labels (ends and middle): legible however short the heatmap."""
        ticks = (low, (low + high) / 2, high)
        self.bar.axis.setTicks([[(v, f"{v:.3g}") for v in ticks], []])

    def set_data(self, data: np.ndarray, total_steps: int,
                 pixels: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Draw ``data`` (rows, n): column t at x = t, row u at y = u. Wider than
        :data:`MAX_IMAGE_COLUMNS` it is drawn reduced (:func:`reduce_columns`); ``pixels``:
        what :meth:`pixels` gave for this data, made beforehand (off the GUI thread)."""
        rows, steps = data.shape
        self.data = data
        if steps == 0:
            values = np.full((max(rows, 1), 1), np.nan)
            self.image.set_pixels(values, colour_image(values, (0.0, 1.0), self.table))
            self._set_rect(-0.5, -0.5, 0, max(rows, 1))
        else:
            values, argb = pixels if pixels is not None else self.pixels(data)
            self.image.set_pixels(values, argb, tuple(self.bar.levels()))
            self._set_rect(-0.5, -0.5, steps, rows)
        if self._shape != (rows, total_steps):
            self._shape = (rows, total_steps)
            self.plot.setYRange(-0.5, rows - 0.5, padding=0)

    def pixels(self, data: np.ndarray, levels: tuple[float, float] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """(values drawn, their uint32 ARGB pixels) of ``data`` at ``levels`` (default the
        bar's). Pure NumPy on arrays it is given: safe to call off the GUI thread."""
        return heat_pixels(data, levels if levels is not None else tuple(self.bar.levels()),
                           self.table)

    def _colour(self) -> None:
        if self.data.ndim == 2 and self.data.shape[1]:
            self.image.set_pixels(*self.pixels(self.data), tuple(self.bar.levels()))

    def _set_rect(self, x: float, y: float, w: float, h: float) -> None:
        rect = (x, y, w, h)
        if getattr(self, "_rect", None) != rect:
            self._rect = rect
            self.image.setRect(*rect)

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


