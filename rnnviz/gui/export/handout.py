"""A figure for a handout: the chosen panels stacked on one aligned time axis, each with its
letter and title, a title above and a caption line describing the model below — no widgets
(mode bars, combo boxes, dock buttons), in print colours, as PNG at a chosen resolution, SVG or
PDF.

The panels are built afresh for the figure from the panel registry (so any panel that joins the
registry can be in one), drawn from the window's results and view, laid out offscreen at the
figure's width and painted from their scenes: every time axis starts and ends at the same place
because every panel keeps the same axis and colour-bar widths (line plots drop the colour bar's
room when no chosen panel has a heatmap).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.gui.export.figures import (
    _VECTOR_DPI,
    MAX_PIXELS,
    _CosmeticScalingPainter,
    _figure_of,
    _paint_figure,
    _pdf_bytes,
    _svg_bytes,
    _write,
    prepare_offscreen,
)
from rnnviz.gui.panels.registry import PANELS, panel_spec
from rnnviz.gui.theme import LIGHT, Theme
from rnnviz.gui.time_axis import TimeLink
from rnnviz.io.run_export import ExportError
from rnnviz.session import ModelResults, ViewState

__all__ = ["HANDOUT_FORMATS", "Handout", "describe_model", "export_handout", "panel_height"]

HANDOUT_FORMATS = (".png", ".svg", ".pdf")
DEFAULT_WIDTH_IN = 7.0
DEFAULT_DPI = 300
MAX_DPI = 1200
ROW_PX = 7.0  # logical pixels of height per unit of a panel's registry share
MARGIN = 10.0
TITLE_PT = 12.0
HEADER_PT = 9.5
CAPTION_PT = 8.5
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_CELLS = {"lstm": "LSTM", "gru": "GRU", "rnn_tanh": "vanilla RNN (tanh)",
          "rnn_relu": "vanilla RNN (ReLU)"}
_LOSSES = {"mse": "mean squared error", "ce": "cross-entropy", "none": "no loss (Σ h_T)"}


def panel_height(key: str) -> float:
    """A panel's height in the figure (logical pixels), from its share of the window."""
    return max(110.0, panel_spec(key).share * ROW_PX)


def _updates(training: Any) -> int | None:
    """How many updates ``Model.training`` records, read defensively (its trainer defines
    it): an ``update`` or ``updates`` count, or its history's."""
    for holder in (training, getattr(training, "history", None)):
        for name in ("update", "updates"):
            value = getattr(holder, name, None)
            value = value() if callable(value) else value
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                return value
    return None


def describe_model(results: ModelResults) -> str:
    """One line about the network and its run, for a caption: cell, sizes, initialisation,
    scale, loss, how the weights came about."""
    model, cfg, seq, task = results.model, results.config, results.sequence, results.task
    layers = f"{cfg.num_layers} layers" if cfg.num_layers > 1 else "1 layer"
    parts = [f"{_CELLS.get(cfg.cell, cfg.cell)}, {layers} × {cfg.hidden_size} units, "
             f"{cfg.input_size} input{'s' if cfg.input_size != 1 else ''}"]
    if cfg.output_size is not None:
        parts[0] += f" → {cfg.output_size} output{'s' if cfg.output_size != 1 else ''} " \
                    f"({cfg.readout})"
    parts.append(f"{seq.steps} steps")
    init = f"{cfg.init} initialisation"
    if cfg.recurrent_scale is not None:
        init += f", W_hh spectral radius {cfg.recurrent_scale:g}"
    if cfg.cell == "lstm":
        init += (f", forget bias {cfg.forget_bias:g}" if cfg.forget_bias is not None
                 else ", no forget bias")
    parts.append(init)
    if results.loss is not None:
        where = "at the last step" if task.where == "last" else "over every step"
        parts.append(f"{_LOSSES.get(task.loss, task.loss)} {where} = {results.loss.total:.4g}")
    updates = _updates(model.training)
    if updates is not None:
        parts.append(f"trained for {updates} update{'s' if updates != 1 else ''}")
    elif model.weights is not None:
        parts.append("loaded weights")
    else:
        parts.append(f"untrained (seed {cfg.seed})")
    return "; ".join(parts) + "."


@dataclass
class _Placed:
    key: str
    title: str
    panel: Any  # the figure's own Panel
    top: float  # logical y of the panel's header line
    height: float  # of its plots


class Handout:
    """The composed figure of ``keys`` (registry keys) over ``results`` seen through ``view``
    (layer, units, reveal; the cursor drawn only with ``cursor``), ``width_in`` inches wide.
    Use as a context manager (its panels live offscreen meanwhile); :meth:`paint` draws it
    into a painter at logical size :attr:`size`."""

    def __init__(self, results: ModelResults, view: ViewState, keys: Sequence[str],
                 title: str = "", caption: str | None = None,
                 width_in: float = DEFAULT_WIDTH_IN, cursor: bool = False,
                 x_range: tuple[float, float] | None = None, theme: Theme = LIGHT) -> None:
        keys = list(dict.fromkeys(keys))
        if not keys:
            raise ExportError("choose at least one panel for the figure")
        for key in keys:
            try:
                spec = panel_spec(key)
            except KeyError as exc:
                raise ExportError(str(exc).strip("'\"")) from None
            if not spec.has_content(results.config):
                raise ExportError(f"{spec.title}: nothing is plotted for this network")
        if not 1.0 <= width_in <= 40.0:
            raise ExportError(f"the figure width must lie in 1..40 inches, got {width_in:g}")
        self.results, self.view, self.keys = results, view, keys
        self.title = title.strip()
        self.caption = describe_model(results) if caption is None else caption.strip()
        self.width = width_in * _VECTOR_DPI  # logical pixels: 96 per inch
        self.cursor, self.x_range, self.theme = cursor, x_range, theme
        self._holder: QtWidgets.QWidget | None = None
        self.placed: list[_Placed] = []
        self.size = QtCore.QSizeF(self.width, 0.0)

    # ---- building --------------------------------------------------------------------------
    def __enter__(self) -> Handout:
        results, view = self.results, self.view
        holder = QtWidgets.QWidget()
        holder.setAttribute(QtCore.Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        self._holder = holder
        link = TimeLink(holder)
        link.set_steps(results.sequence.steps)
        if self.x_range is not None:
            link.set_range(*self.x_range)
        panels = [panel_spec(key).load()(self.theme) for key in self.keys]
        for panel in panels:
            panel.setParent(holder)
            panel.link_x(link)
            panel.set_time_labels(results.sequence.labels)
            panel.show_results(results, view)
        # line plots keep a colour bar's room only to line up with a heatmap in the figure
        gutter = any(p.has_heatmaps for p in panels)
        y = MARGIN + (self._text_height(self.title, TITLE_PT, bold=True) + 6 if self.title else 0)
        header = self._text_height("A", HEADER_PT, bold=True) + 2
        for key, panel in zip(self.keys, panels, strict=True):
            panel.set_alarm(results.nonfinite_step)
            panel.set_cursor(view.step)
            panel.cursor.suppressed = not self.cursor
            panel.set_gutter(gutter)
            height = panel_height(key)
            # the plots alone, without the panel's bars of widgets, at the figure's width
            plots = panel.plot_widget
            panel.layout().removeWidget(plots)
            plots.setParent(None)
            plots.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
            prepare_offscreen(plots, (round(self.width), round(height)))
            self.placed.append(_Placed(key, panel.title, panel, y, height))
            y += header + height + 6
        QtWidgets.QApplication.processEvents()
        for placed in self.placed:  # laid out now: draw again where sizes matter (legends)
            placed.panel.show_results(results, view)
            placed.panel.cursor.place()
        QtWidgets.QApplication.processEvents()
        y += self._text_height(self.caption, CAPTION_PT, width=self.width - 2 * MARGIN) \
            if self.caption else 0
        self._header = header
        self.size = QtCore.QSizeF(self.width, y + MARGIN)
        return self

    def __exit__(self, *exc) -> None:
        for placed in self.placed:
            placed.panel.plot_widget.close()
            placed.panel.plot_widget.deleteLater()
        if self._holder is not None:
            self._holder.deleteLater()
            self._holder = None
        self.placed = []

    # ---- painting --------------------------------------------------------------------------
    def paint(self, painter: QtGui.QPainter, pen_scale: float = 1.0) -> None:
        """Draw the figure at logical size :attr:`size` (print colours on white)."""
        w = self.size.width()
        painter.fillRect(QtCore.QRectF(0, 0, w, self.size.height()), QtGui.QColor("white"))
        ink = QtGui.QColor(self.theme.foreground)
        painter.setPen(ink)
        if self.title:
            painter.setFont(_font(TITLE_PT, bold=True))
            painter.drawText(QtCore.QRectF(MARGIN, MARGIN, w - 2 * MARGIN, 40),
                             int(QtCore.Qt.AlignmentFlag.AlignLeft), self.title)
        for k, placed in enumerate(self.placed):
            painter.setPen(ink)
            painter.setFont(_font(HEADER_PT, bold=True))
            letter = LETTERS[k % len(LETTERS)]
            box = QtCore.QRectF(MARGIN, placed.top, w - 2 * MARGIN, self._header)
            painter.drawText(box, int(QtCore.Qt.AlignmentFlag.AlignLeft), letter)
            advance = QtGui.QFontMetricsF(_font(HEADER_PT, bold=True)).horizontalAdvance(
                letter + "  ")
            painter.setFont(_font(HEADER_PT))
            painter.drawText(box.adjusted(advance, 0, 0, 0), int(QtCore.Qt.AlignmentFlag.AlignLeft),
                             placed.title)
            fig = _figure_of(placed.panel.plot_widget)
            # at the view's own size: scaling it would stretch text that ignores transforms
            target = QtCore.QRectF(QtCore.QPointF(0, placed.top + self._header), fig.size)
            _paint_figure(fig, painter, target, pen_scale)
        if self.caption:
            painter.setPen(ink)
            painter.setFont(_font(CAPTION_PT))
            last = self.placed[-1]
            top = last.top + self._header + last.height + 6
            flags = QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.TextFlag.TextWordWrap
            box = QtCore.QRectF(MARGIN, top, w - 2 * MARGIN, self.size.height() - top)
            painter.drawText(box, int(flags), self.caption)

    @staticmethod
    def _text_height(text: str, points: float, bold: bool = False,
                     width: float | None = None) -> float:
        metrics = QtGui.QFontMetricsF(_font(points, bold))
        if width is None:
            return metrics.height()
        flags = int(QtCore.Qt.TextFlag.TextWordWrap)
        return metrics.boundingRect(QtCore.QRectF(0, 0, width, 10_000), flags, text).height()


def _font(points: float, bold: bool = False) -> QtGui.QFont:
    font = QtGui.QFont()
    font.setPointSizeF(points)
    font.setBold(bold)
    return font


# ---- files ------------------------------------------------------------------------------------
def export_handout(window, path: str | os.PathLike[str], keys: Sequence[str], *,
                   title: str = "", caption: str | None = None,
                   width_in: float = DEFAULT_WIDTH_IN, dpi: int = DEFAULT_DPI,
                   cursor: bool = False) -> Path:
    """Write the handout figure of ``keys`` for ``window``'s selected model to ``path``
    (.png at ``dpi`` dots per inch, .svg, .pdf). Returns the path."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in HANDOUT_FORMATS:
        shown = f"'{target.suffix}'" if target.suffix else "no suffix"
        raise ExportError(f"{target}: unknown figure format {shown}; use .png, .svg or .pdf")
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 36 <= dpi <= MAX_DPI:
        raise ExportError(f"the resolution must lie in 36..{MAX_DPI} dpi, got {dpi!r}")
    session = window.session
    results = session.model_results
    if results is None:
        raise ExportError("still computing the results of the last change; export when the "
                          "plots are up to date")
    with Handout(results, session.view, keys, title, caption, width_in, cursor,
                 window.time_link.range) as handout:
        size = handout.size
        if suffix == ".png":
            data = _png(handout, dpi)
        else:
            page = QtCore.QSize(round(size.width()), round(size.height()))
            writer = _svg_bytes if suffix == ".svg" else _pdf_bytes
            data = writer(page, handout.title or target.stem, lambda p: handout.paint(p, 1.0))
    _write(target, data)
    return target


def _png(handout: Handout, dpi: int) -> bytes:
    scale = dpi / _VECTOR_DPI
    w = round(handout.size.width() * scale)
    h = round(handout.size.height() * scale)
    if w > MAX_PIXELS or h > MAX_PIXELS:
        raise ExportError(f"a figure of {w}x{h} pixels is too large (at most {MAX_PIXELS} a "
                          "side); lower the resolution or the width")
    image = QtGui.QImage(w, h, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(scale)
    image.fill(QtGui.QColor("white"))
    painter = _CosmeticScalingPainter(image, scale)
    try:
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing, True)
        handout.paint(painter, scale)
    finally:
        painter.end()
    image.setDevicePixelRatio(1.0)
    dots_per_metre = round(dpi / 0.0254)
    image.setDotsPerMeterX(dots_per_metre)
    image.setDotsPerMeterY(dots_per_metre)
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise ExportError("the figure could not be encoded as PNG")
    return bytes(buffer.data())


def default_panels(config, document=None) -> list[str]:
    """The panels a figure starts with: those in front by default (not the tabs behind them)
    that have something to show for ``config`` (and ``document``, when given)."""
    return [s.key for s in PANELS if s.shown and s.tab_with is None and s.has_content(config)
            and (document is None or s.has_data is None or s.has_data(document))]
