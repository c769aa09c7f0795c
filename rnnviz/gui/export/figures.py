"""Export plots and whole dashboards as PNG, SVG or PDF files.

Two entry points, both choosing the format from the file suffix:

* :func:`export_figure` — one pyqtgraph figure (a ``PlotWidget``, ``GraphicsLayoutWidget``,
  ``PlotItem`` or ``GraphicsScene``), as the paper or slide figure.
* :func:`export_widget_image` — any widget as laid out on screen (the whole dashboard).

PNG may be rendered larger than on screen (``width`` in pixels): the image is painted like a
high-DPI screen (a device pixel ratio), so text, legends and layout stay as on screen, only
sharper. pyqtgraph draws with cosmetic pens, whose width is in device pixels and would leave
1-pixel hairlines in a 4x image; a painter that widens cosmetic pens by the same factor keeps
lines in proportion. SVG and PDF are vector files at the on-screen size (``width`` is ignored).

Every file is written atomically; errors are :class:`ExportError` with a one-line message.
A widget that was never shown has no real layout: call :func:`prepare_offscreen` first.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from pyqtgraph.exporters import SVGExporter
from pyqtgraph.exporters.Exporter import Exporter
from PySide6 import QtCore, QtGui, QtSvg, QtWidgets

from rnnviz.io.atomic import atomic_write_bytes
from rnnviz.io.run_export import ExportError

__all__ = [
    "FIGURE_FORMATS",
    "MAX_PIXELS",
    "ExportError",
    "export_figure",
    "export_widget_image",
    "prepare_offscreen",
    "render_figure",
    "render_widget",
]

FIGURE_FORMATS = (".png", ".svg", ".pdf")
# Largest image side in pixels: beyond this QImage allocation fails or takes gigabytes.
MAX_PIXELS = 16384
# Vector pages use the screen's logical resolution so that one device unit is one on-screen
# pixel: cosmetic 1-pixel lines become 0.75 pt and fonts keep their on-screen size.
_VECTOR_DPI = 96

# PlotWidget and GraphicsLayoutWidget are QGraphicsViews; PlotItem is a QGraphicsItem.
FigureLike = QtWidgets.QGraphicsView | QtWidgets.QGraphicsScene | QtWidgets.QGraphicsItem


def prepare_offscreen(widget: QtWidgets.QWidget, size: tuple[int, int] | QtCore.QSize) -> None:
    """Lay ``widget`` out at ``size`` (width, height) without showing it on screen.

    A widget that was never shown keeps a default geometry; exporting it needs a real layout.
    A widget already visible on screen is only resized.
    """
    width, height = (size.width(), size.height()) if isinstance(size, QtCore.QSize) else size
    if width < 1 or height < 1:
        raise ExportError(f"a widget size must be positive, got {width}x{height}")
    if not widget.isVisible():
        widget.setAttribute(QtCore.Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    widget.resize(int(width), int(height))
    widget.show()
    QtWidgets.QApplication.processEvents()


# ---- one figure -------------------------------------------------------------------------------
def export_figure(item: FigureLike, path: str | os.PathLike[str], width: int | None = None) -> Path:
    """Write a pyqtgraph figure to ``path``; the suffix picks the format (.png, .svg, .pdf).

    ``item``: a ``PlotWidget`` / ``GraphicsLayoutWidget`` (any ``QGraphicsView``), a
    ``GraphicsScene`` or a single item such as a ``PlotItem``. ``width``: PNG width in pixels
    (default: the on-screen width; the height follows the aspect ratio). Returns the path.
    """
    target = Path(path)
    fmt = _format_of(target)
    fig = _figure_of(item)
    if fmt == ".png":
        data = _png_bytes(_render_figure(fig, width), fig.size.width())
    elif fmt == ".svg":
        data = _svg_of_figure(fig)
    else:
        size = fig.size.toSize()
        page = QtCore.QRectF(0, 0, size.width(), size.height())
        data = _pdf_bytes(size, target.stem, lambda p: _paint_figure(fig, p, page, 1.0))
    _write(target, data)
    return target


def render_figure(item: FigureLike, width: int | None = None) -> QtGui.QImage:
    """Render a pyqtgraph figure into an image ``width`` pixels wide (default: as on screen).

    Suits animation frames: a ``render_frame(step)`` for :func:`rnnviz.gui.export.animation.
    export_animation` can move the cursor to ``step`` and return ``render_figure(view, 640)``.
    """
    return _render_figure(_figure_of(item), width)


def _render_figure(fig: _Figure, width: int | None) -> QtGui.QImage:
    w, h, scale = _scaled_size(fig.size, width)
    image, painter = _hidpi_canvas(w, h, scale)
    try:
        logical = QtCore.QRectF(0, 0, w / scale, h / scale)
        _paint_figure(fig, painter, logical, scale)
    finally:
        painter.end()
    image.setDevicePixelRatio(1.0)
    return image


# ---- a whole widget ---------------------------------------------------------------------------
def export_widget_image(
    widget: QtWidgets.QWidget, path: str | os.PathLike[str], width: int | None = None
) -> Path:
    """Write ``widget`` as laid out on screen to ``path`` (.png, .svg or .pdf).

    ``width``: PNG width in pixels (default: the on-screen image, ``widget.grab()``). The plots
    inside are painted from their scenes, so they are crisp at any width and vectors in SVG/PDF.
    Returns the path.
    """
    target = Path(path)
    fmt = _format_of(target)
    size = widget.size()
    if size.width() < 1 or size.height() < 1:
        raise ExportError(f"{target}: the widget has no size; lay it out first")
    if fmt == ".png":
        data = _png_bytes(render_widget(widget, width), size.width())
    elif fmt == ".svg":
        data = _svg_bytes(size, target.stem, lambda p: _paint_widget(widget, p, 1.0))
    else:
        data = _pdf_bytes(size, target.stem, lambda p: _paint_widget(widget, p, 1.0))
    _write(target, data)
    return target


def render_widget(widget: QtWidgets.QWidget, width: int | None = None) -> QtGui.QImage:
    """Render ``widget`` into an image ``width`` pixels wide (default: ``widget.grab()``)."""
    if widget.width() < 1 or widget.height() < 1:
        raise ExportError("the widget has no size; lay it out first")
    if width is None:
        return widget.grab().toImage()
    w, h, scale = _scaled_size(QtCore.QSizeF(widget.size()), width)
    image, painter = _hidpi_canvas(w, h, scale)
    try:
        _paint_widget(widget, painter, scale)
    finally:
        painter.end()
    image.setDevicePixelRatio(1.0)
    return image


# ---- painting ---------------------------------------------------------------------------------
def _hidpi_canvas(
    width: int, height: int, scale: float
) -> tuple[QtGui.QImage, _CosmeticScalingPainter]:
    """A transparent image of ``width`` x ``height`` pixels that paints like a screen with
    ``scale`` device pixels per pixel, and a painter on it that widens cosmetic pens to match.

    A device pixel ratio (rather than a painter transform) also enlarges items that ignore
    transformations, such as legends and text labels, exactly as on a high-DPI screen.
    """
    image = QtGui.QImage(width, height, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(scale)
    image.fill(QtCore.Qt.GlobalColor.transparent)
    return image, _CosmeticScalingPainter(image, scale)


class _CosmeticScalingPainter(QtGui.QPainter):
    """A painter that widens cosmetic pens by ``pen_scale``.

    pyqtgraph items set their pens from Python, so this override sees them; a cosmetic pen's
    width is in device pixels and would otherwise not grow with the rendering scale.
    """

    def __init__(self, device: QtGui.QPaintDevice, pen_scale: float) -> None:
        super().__init__(device)
        self.pen_scale = pen_scale

    def setPen(self, pen: Any) -> None:  # noqa: N802 (Qt's name)
        if self.pen_scale != 1.0 and isinstance(pen, QtGui.QPen) and pen.isCosmetic():
            pen = _scaled_pen(pen, self.pen_scale)
        super().setPen(pen)


def _scaled_pen(pen: QtGui.QPen, scale: float) -> QtGui.QPen:
    scaled = QtGui.QPen(pen)
    # Width 0 is Qt's one-pixel hairline.
    scaled.setWidthF(max(1.0, max(pen.widthF(), 1.0) * scale))
    return scaled


@dataclass(frozen=True)
class _Figure:
    """What to render: ``source`` (scene coordinates) of ``scene`` at ``size`` screen pixels."""

    scene: QtWidgets.QGraphicsScene
    source: QtCore.QRectF
    size: QtCore.QSizeF
    background: QtGui.QColor
    exporter: Exporter  # pyqtgraph's bookkeeping of which items paint (for export mode)
    svg_target: Any  # what pyqtgraph's SVGExporter is given


def _figure_of(item: FigureLike) -> _Figure:
    if isinstance(item, QtWidgets.QGraphicsView):
        view, scene = item, item.scene()
        if scene is None:
            raise ExportError("the view shows no scene")
        viewport = view.viewport().rect()
        source = view.mapToScene(viewport).boundingRect()
        size = QtCore.QSizeF(viewport.size())
        target: Any = scene
    elif isinstance(item, QtWidgets.QGraphicsScene):
        scene = item
        if not scene.views():
            raise ExportError("the scene is not shown in any view")
        return _figure_of(scene.views()[0])
    elif isinstance(item, QtWidgets.QGraphicsItem):
        scene = item.scene()
        if scene is None or not scene.views():
            raise ExportError("the item is not in a scene shown in a view")
        view = scene.views()[0]
        source = item.sceneBoundingRect()
        size = QtCore.QSizeF(view.mapFromScene(source).boundingRect().size())
        target = item
    else:
        raise ExportError(
            f"cannot export a {type(item).__name__}: pass a PlotWidget, GraphicsLayoutWidget, "
            "PlotItem or GraphicsScene"
        )
    if size.width() < 1 or size.height() < 1:
        raise ExportError("the figure has no size on screen; lay it out first")
    brush = view.backgroundBrush()
    background = QtGui.QColor(brush.color())
    if brush.style() == QtCore.Qt.BrushStyle.NoBrush:
        background.setAlpha(0)
    return _Figure(scene, source, size, background, Exporter(target), target)


def _paint_figure(
    fig: _Figure, painter: QtGui.QPainter, target: QtCore.QRectF, pen_scale: float
) -> None:
    """Paint the figure into ``target`` (painter coordinates, on-screen pixels); ``pen_scale``:
    device pixels per on-screen pixel, by which cached axis drawings widen their pens."""
    painter.save()
    try:
        painter.setClipRect(target, QtCore.Qt.ClipOperation.IntersectClip)
        if fig.background.alpha() > 0:
            painter.fillRect(target, fig.background)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing, True)
        # resolutionScale stays 1: the device pixel ratio already scales what pyqtgraph would.
        options = {"antialias": True, "background": fig.background, "painter": painter}
        fig.exporter.setExportMode(True, options)
        try:
            with _scaled_axis_pictures(fig, pen_scale):
                fig.scene.render(
                    painter, target, fig.source, QtCore.Qt.AspectRatioMode.IgnoreAspectRatio
                )
        finally:
            fig.exporter.setExportMode(False)
    finally:
        painter.restore()


@contextlib.contextmanager
def _scaled_axis_pictures(fig: _Figure, scale: float) -> Iterator[None]:
    """Axes replay a cached QPicture recorded with their own painter, out of reach of the
    pen-scaling painter: record them afresh with scaled pens for the export, then restore."""
    if scale == 1.0:
        yield
        return
    axes = [it for it in fig.exporter.getPaintItems() if isinstance(it, pg.AxisItem)]
    saved = [(axis, axis.picture) for axis in axes]
    try:
        for axis in axes:
            axis.picture = _axis_picture(axis, scale)
        yield
    finally:
        for axis, picture in saved:
            axis.picture = picture


def _axis_picture(axis: pg.AxisItem, scale: float) -> QtGui.QPicture:
    # Mirrors AxisItem.paint (pyqtgraph 0.14) with a pen-scaling painter.
    picture = QtGui.QPicture()
    painter = _CosmeticScalingPainter(picture, scale)
    try:
        if axis.style["tickFont"]:
            painter.setFont(axis.style["tickFont"])
        specs = axis.generateDrawSpecs(painter)
        if specs is not None:
            axis.drawPicture(painter, *specs)
    finally:
        painter.end()
    return picture


def _paint_widget(widget: QtWidgets.QWidget, painter: QtGui.QPainter, pen_scale: float) -> None:
    """Paint ``widget`` at its own coordinates: everything but the graphics views through Qt's
    widget rendering, then each view's scene directly (crisp and vector, with clipping)."""
    views = [v for v in widget.findChildren(QtWidgets.QGraphicsView) if v.isVisibleTo(widget)]
    if isinstance(widget, QtWidgets.QGraphicsView):
        views.insert(0, widget)
    rest = QtGui.QRegion(widget.rect())
    placed: list[tuple[QtWidgets.QGraphicsView, QtCore.QRect, QtCore.QRect]] = []
    for view in views:
        if view.scene() is None:
            continue
        viewport = view.viewport()
        rect = QtCore.QRect(viewport.mapTo(widget, QtCore.QPoint(0, 0)), viewport.size())
        visible = _visible_rect(viewport, widget)
        if visible.isEmpty():
            continue
        placed.append((view, rect, visible))
        rest -= QtGui.QRegion(visible)
    # QGraphicsView.render means "render the scene"; the QWidget method renders the widget.
    QtWidgets.QWidget.render(widget, painter, QtCore.QPoint(0, 0), rest)
    for view, rect, visible in placed:
        painter.save()
        try:
            painter.setClipRect(visible)
            _paint_figure(_figure_of(view), painter, QtCore.QRectF(rect), pen_scale)
        finally:
            painter.restore()


def _visible_rect(child: QtWidgets.QWidget, top: QtWidgets.QWidget) -> QtCore.QRect:
    """The part of ``child`` inside every ancestor up to ``top``, in ``top``'s coordinates;
    empty when an ancestor is a separate window (a floating dock is not part of the picture)."""
    rect = QtCore.QRect(child.mapTo(top, QtCore.QPoint(0, 0)), child.size())
    parent = child.parentWidget()
    while parent is not None and parent is not top:
        if parent.isWindow():
            return QtCore.QRect()
        rect &= QtCore.QRect(parent.mapTo(top, QtCore.QPoint(0, 0)), parent.size())
        parent = parent.parentWidget()
    return rect & top.rect()


# ---- file formats -----------------------------------------------------------------------------
def _format_of(target: Path) -> str:
    suffix = target.suffix.lower()
    if suffix not in FIGURE_FORMATS:
        shown = f"'{target.suffix}'" if target.suffix else "no suffix"
        raise ExportError(f"{target}: unknown figure format {shown}; use .png, .svg or .pdf")
    return suffix


def _scaled_size(size: QtCore.QSizeF, width: int | None) -> tuple[int, int, float]:
    """(width, height, scale) of an image ``width`` pixels wide with ``size``'s aspect ratio."""
    if width is None:
        w = round(size.width())
    else:
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ExportError(f"the image width must be a positive whole number, got {width!r}")
        w = width
    scale = w / size.width()
    h = max(1, round(size.height() * scale))
    if w > MAX_PIXELS or h > MAX_PIXELS:
        raise ExportError(f"an image of {w}x{h} pixels is too large (at most {MAX_PIXELS} a side)")
    return w, h, scale


def _png_bytes(image: QtGui.QImage, screen_width: float) -> bytes:
    """PNG data of ``image``, tagged with a resolution that places it at its on-screen size
    (a 2x image says 192 dpi). Set only now: painting reads the DPI to size fonts and more."""
    image = QtGui.QImage(image)
    dots_per_metre = round(_VECTOR_DPI * image.width() / screen_width / 0.0254)
    image.setDotsPerMeterX(dots_per_metre)
    image.setDotsPerMeterY(dots_per_metre)
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise ExportError("the image could not be encoded as PNG")
    return bytes(buffer.data())


def _svg_of_figure(fig: _Figure) -> bytes:
    # pyqtgraph's exporter clips each item and keeps images; it fails on Qt >= 6.11 (see docs).
    data = SVGExporter(fig.svg_target).export(toBytes=True)
    if not isinstance(data, bytes | bytearray):
        raise ExportError("the SVG exporter returned no data")
    return bytes(data)


def _svg_bytes(size: QtCore.QSize, title: str, paint: Any) -> bytes:
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    # SVG 1.1 rather than Qt's default SVG Tiny: only 1.1 output has clip paths.
    generator = QtSvg.QSvgGenerator(QtSvg.QSvgGenerator.SvgVersion.Svg11)
    generator.setOutputDevice(buffer)
    generator.setSize(size)
    generator.setViewBox(QtCore.QRect(QtCore.QPoint(0, 0), size))
    generator.setResolution(_VECTOR_DPI)
    generator.setTitle(title)
    painter = _CosmeticScalingPainter(generator, 1.0)
    try:
        paint(painter)
    finally:
        painter.end()
    return bytes(buffer.data())


def _pdf_bytes(size: QtCore.QSize, title: str, paint: Any) -> bytes:
    """A one-page PDF exactly ``size`` on-screen pixels large, painted by ``paint(painter)``."""
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    writer = QtGui.QPdfWriter(buffer)
    writer.setResolution(_VECTOR_DPI)
    points = QtCore.QSizeF(size.width() * 72 / _VECTOR_DPI, size.height() * 72 / _VECTOR_DPI)
    writer.setPageSize(
        QtGui.QPageSize(
            points, QtGui.QPageSize.Unit.Point, title, QtGui.QPageSize.SizeMatchPolicy.ExactMatch
        )
    )
    writer.setPageMargins(QtCore.QMarginsF(0, 0, 0, 0))
    writer.setTitle(title)
    writer.setCreator("rnnviz")
    painter = _CosmeticScalingPainter(writer, 1.0)
    if not painter.isActive():
        raise ExportError("the PDF could not be started")
    try:
        # The page may round to a slightly different number of device units.
        painter.scale(writer.width() / size.width(), writer.height() / size.height())
        paint(painter)
    finally:
        painter.end()
    buffer.close()
    return bytes(buffer.data())


def _write(target: Path, data: bytes) -> None:
    try:
        atomic_write_bytes(target, data)
    except OSError as exc:
        raise ExportError(f"{target}: cannot write ({exc.strerror or exc})") from None
