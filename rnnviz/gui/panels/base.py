"""The base of every plot panel: time plots sharing one x axis, the cursor line, the NaN/Inf
marker, legends, y ranges, hover text and the data tables for export."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsView,
    QVBoxLayout,
    QWidget,
)

from rnnviz.gui.panels.cursor import PanelCursor
from rnnviz.gui.panels.items import (
    COLORBAR_GAP,
    COLORBAR_WIDTH,
    Heatmap,
    Line,
    ValueAxis,
    holds_only_items,
)
from rnnviz.gui.panels.legend import Entry, PlotHeader
from rnnviz.gui.panels.ranges import nice_range
from rnnviz.gui.panels.tables import Table
from rnnviz.gui.panels.trace_item import TraceItem
from rnnviz.gui.theme import LIGHT, Theme
from rnnviz.gui.time_axis import TimeAxis, TimeLink
from rnnviz.session import Document, ModelResults, ViewState

LEFT_AXIS_WIDTH = 56
# the width a colour bar takes beside a heatmap; line plots reserve it so time axes align
RIGHT_GUTTER = COLORBAR_WIDTH + COLORBAR_GAP
MARKER_SIZE = 6
MAX_LINE_POINTS = 8192  # longer curves are handed to pyqtgraph as per-block minima and maxima
FEW_POINTS = 40  # a series with fewer finite points than this is drawn with dots too


def decimate(x: np.ndarray, y: np.ndarray, points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``points`` points of the curve (x, y), x evenly spaced steps: beyond that each
    block of steps gives its minimum and its maximum, so peaks survive — what pyqtgraph's own
    peak downsampling draws, without handing it every step. A block with nothing finite
    stays a gap."""
    n = len(y)
    if n <= points:
        return x, y
    k = -(-n // (points // 2))
    blocks = n // k
    head = np.asarray(y[: blocks * k], dtype=np.float64).reshape(blocks, k)
    with np.errstate(invalid="ignore"):
        low, high = np.fmin.reduce(head, axis=1), np.fmax.reduce(head, axis=1)
    xs = np.asarray(x, dtype=np.float64)[: blocks * k : k]
    out_x = np.column_stack([xs, xs + (k - 1) / 2]).ravel()
    out_y = np.column_stack([low, high]).ravel()
    if blocks * k < n:  # the last steps as they are
        out_x = np.concatenate([out_x, np.asarray(x[blocks * k:], dtype=np.float64)])
        out_y = np.concatenate([out_y, np.asarray(y[blocks * k:], dtype=np.float64)])
    return out_x, out_y


class Panel(QWidget):
    """A dockable panel of time plots. Subclasses build their plots in ``__init__`` with
    :meth:`add_time_plot`, draw in :meth:`show_results` and describe their data in
    :meth:`csv_tables`.

    ``plot_widget`` is the pg.GraphicsLayoutWidget holding every plot (what an exporter
    renders). ``hovered`` carries "unit u, step t, value v" text for the status bar;
    ``zoom_reset_requested``: the plot menu's "View All" was chosen (the window shows every
    step in every panel).
    """

    key = ""  # as in the panel registry, which gives the title
    hovered = Signal(str)
    zoom_reset_requested = Signal()

    def __init__(self, theme: Theme = LIGHT, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.plot_widget = pg.GraphicsLayoutWidget()
        # a few dozen items: a spatial index costs more to keep up to date than it saves
        self.plot_widget.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        # the background is one colour: filling it is cheaper than blending a cached copy of
        # it over every repainted area (which Qt hands to worker threads and waits for)
        self.plot_widget.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
        self.plot_widget.setBackground(theme.background)
        self.plot_widget.ci.setContentsMargins(2, 2, 2, 2)
        holds_only_items(self.plot_widget.ci)
        self.plot_widget.ci.setSpacing(2)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self._layout.addWidget(self.plot_widget, 1)
        self.time_plots: list[pg.PlotItem] = []
        self.heatmaps: list[Heatmap] = []
        self._lines: list[Line] = []
        self.cursor = PanelCursor(theme.cursor)
        self.plot_widget.scene().addItem(self.cursor)
        self._alarms: dict[int, pg.InfiniteLine] = {}
        self._master: pg.PlotItem | None = None
        self._time_link: TimeLink | None = None
        self._labels: tuple[str, ...] | None = None
        self._titles: dict[int, str] = {}
        self._headers: dict[int, PlotHeader] = {}
        self._gutters: list[pg.PlotItem] = []  # plots reserving a colour bar's width
        self._yranges: dict[int, tuple[float, float]] = {}
        # name -> a builder of the table of what is drawn (built only when exported)
        self._tables: dict[str, Callable[[], Table]] = {}
        self._cursor_step = 0
        self._alarm_step: int | None = None
        self.results: ModelResults | None = None
        self.context_actions: list[QAction] = []
        self.plot_widget.scene().sigMouseMoved.connect(self._on_mouse_moved)

    @property
    def title(self) -> str:
        """The panel's title, from the registry (plain text)."""
        from rnnviz.gui.panels.registry import panel_spec

        return panel_spec(self.key).title

    # ---- building --------------------------------------------------------------------------
    def add_time_plot(self, row: int, *, gutter: bool = True,
                      viewbox: pg.ViewBox | None = None,
                      left: pg.AxisItem | None = None) -> pg.PlotItem:
        """A plot on the shared time axis at ``row`` of the layout, with cursor and alarm lines.

        ``gutter`` reserves the colour bar's width on the right so the time axes of line plots
        and heatmaps line up; ``left``: an axis of its own for the values."""
        axis = TimeAxis()
        axis.set_labels(self._labels)
        axes = {"bottom": axis, "left": left if left is not None else ValueAxis()}
        plot = self.plot_widget.addPlot(row=row, col=0, axisItems=axes, viewBox=viewbox)
        holds_only_items(plot)
        plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        # value labels on the major ticks only: short plots stacked in a panel would otherwise
        # crowd their labels into each other
        plot.getAxis("left").setStyle(maxTextLevel=0)
        for name in ("left", "bottom"):
            plot.getAxis(name).enableAutoSIPrefix(False)
        for name in ("left", "bottom", "right", "top"):
            # axes repaint from a pixmap unless their range changes: replaying their text on
            # every data update is most of a frame's painting
            plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        plot.setMenuEnabled(True)
        plot.hideButtons()
        self._take_view_all(plot.getViewBox())
        if gutter:
            plot.showAxis("right")
            right = plot.getAxis("right")
            right.setStyle(showValues=False, tickLength=0)
            right.setWidth(RIGHT_GUTTER)
            right.setPen(pg.mkPen(None))
            self._gutters.append(plot)
        alarm = pg.InfiniteLine(
            pos=0,
            angle=90,
            movable=False,
            pen=pg.mkPen(self.theme.alarm, width=1, style=Qt.PenStyle.DashLine),
        )
        alarm.setZValue(49)
        alarm.setVisible(self._alarm_step is not None)
        if self._alarm_step is not None:
            alarm.setValue(self._alarm_step)
        plot.addItem(alarm, ignoreBounds=True)
        self._alarms[id(plot)] = alarm
        self.cursor.plots.append(plot)
        vb = plot.getViewBox()
        vb.sigResized.connect(self.cursor.place)
        vb.sigXRangeChanged.connect(self.cursor.place)
        plot.visibleChanged.connect(self.cursor.place)
        self.time_plots.append(plot)
        self._style_plot(plot)
        for action in self.context_actions:
            plot.getViewBox().menu.addAction(action)
        if self._time_link is not None:
            self._time_link.add(plot)
        elif self._master is not None and plot is not self._master:
            plot.setXLink(self._master)
        return plot

    def _take_view_all(self, vb: pg.ViewBox) -> None:
        """The plot menu's "View All" resets the zoom of every panel (pyqtgraph's own fits
        this one plot to its items, out of step with the others and the fixed y ranges)."""
        menu = getattr(vb, "menu", None)
        action = getattr(menu, "viewAll", None)
        if action is None:
            return
        action.triggered.disconnect()
        action.setText("View All (reset zoom)")
        action.triggered.connect(self.zoom_reset_requested.emit)

    @property
    def has_heatmaps(self) -> bool:
        """Whether any plot of the panel has a colour bar (so line plots keep its room)."""
        return bool(self.heatmaps)

    def set_gutter(self, on: bool) -> None:
        """Reserve (True) or drop (False) the colour bar's width at the right of line plots:
        a picture without heatmaps has no colour bars to line up with."""
        for plot in self._gutters:
            if plot in self.time_plots:
                plot.getAxis("right").setWidth(RIGHT_GUTTER if on else 0)
                plot.showAxis("right", on)

    def reset_zoom(self) -> None:
        """Forget the y ranges set so far, so the next draw fits every plot afresh."""
        self._yranges.clear()
        for heat in self.heatmaps:
            heat.forget_range()

    def add_heatmap(
        self,
        row: int,
        title: str,
        *,
        diverging: bool,
        levels: tuple[float, float],
        ylabel: str = "unit",
    ) -> Heatmap:
        plot = self.add_time_plot(row, gutter=False)
        heat = Heatmap(plot, title, diverging, levels, self.theme, ylabel)
        self.heatmaps.append(heat)
        return heat

    def set_title(self, plot: pg.PlotItem, title: str) -> None:
        """Set a plot's title, only when it changes (a new title re-lays out the plot); in a
        plot with a header (a legend) the title leads the header's line."""
        header = self._headers.get(id(plot))
        if header is not None:
            header.set_title(title)
            return
        if self._titles.get(id(plot)) != title:
            self._titles[id(plot)] = title
            plot.setTitle(title or None, color=self.theme.foreground, size="9pt")

    def title_of(self, plot: pg.PlotItem) -> str:
        """``plot``'s title as shown (in its header when it has one)."""
        header = self._headers.get(id(plot))
        return header.title if header is not None else self._titles.get(id(plot), "")

    def set_status(self, plot: pg.PlotItem, text: str) -> None:
        """Text at the right of ``plot``'s header (e.g. the loss total): above the data, and
        changing it repaints only itself."""
        self._header(plot).set_status(text)

    def header(self, plot: pg.PlotItem) -> PlotHeader | None:
        """``plot``'s header (legend and status), if it has one."""
        return self._headers.get(id(plot))

    def fit_y(self, plot: pg.PlotItem, *arrays: np.ndarray, log: bool = False) -> None:
        """Set ``plot``'s y range to hold ``arrays`` (NaN ignored), rounded outwards to round
        numbers so that small changes of the data leave it (and the axis drawing) as it is."""
        finite = [a[np.isfinite(a)] for a in arrays]
        finite = [a for a in finite if a.size]
        if not finite:
            if id(plot) not in self._yranges:  # nothing drawn yet: a neutral range
                self._yranges[id(plot)] = (-4.0, 0.0) if log else (-1.0, 1.0)
                plot.enableAutoRange(y=False)
                plot.setYRange(*self._yranges[id(plot)], padding=0.04)
            return
        low = min(float(a.min()) for a in finite)
        high = max(float(a.max()) for a in finite)
        lo, hi = nice_range(low, high, log)
        if self._yranges.get(id(plot)) != (lo, hi):
            self._yranges[id(plot)] = (lo, hi)
            plot.enableAutoRange(y=False)
            plot.setYRange(lo, hi, padding=0.04)

    def _header(self, plot: pg.PlotItem) -> PlotHeader:
        header = self._headers.get(id(plot))
        if header is None:
            header = PlotHeader(plot, self.theme)
            self._headers[id(plot)] = header
            title = self._titles.pop(id(plot), "")
            if title:
                header.set_title(title)
        return header

    def add_legend(self, plot: pg.PlotItem) -> PlotHeader:
        """A legend for ``plot``'s lines, in a header row above the data (never over it): every
        line added with :meth:`add_line` and a name gets an entry."""
        header = self._header(plot)
        self._update_header(plot)
        return header

    def fit_legend(self, plot: pg.PlotItem) -> None:
        """Bring the legend up to date with the plot's lines (it wraps itself to the width)."""
        self._update_header(plot)

    def legend_entries(self, plot: pg.PlotItem) -> list[Entry]:
        """The legend entries of ``plot``'s lines, in order, in the theme's colours."""
        entries = []
        for line in self._lines:
            if line.plot is plot and line.name:
                style = "marker" if line.markers else "dashed" if line.dashed else "solid"
                entries.append(Entry(line.name, self._colour(line), style))
        return entries

    def _update_header(self, plot: pg.PlotItem) -> None:
        header = self._headers.get(id(plot))
        if header is not None:
            header.set_entries(self.legend_entries(plot))

    def add_line(
        self, plot: pg.PlotItem, name: str, colour: int, *, dashed: bool = False, width: float = 1.0
    ) -> TraceItem:
        """A line trace (colour: index into the theme's colours, -1 for the target colour;
        ``width`` 0: dots only), named in the plot's legend if it has one. Curves wider than
        the plot are drawn downsampled (each pixel column keeps its minimum and maximum) and
        only where visible (but dots)."""
        item = TraceItem(name=name, connect="finite")
        plot.addItem(item)
        item.setDownsampling(auto=True, method="peak")
        # repaints that do not change the curve (the cursor passing over it) blit a pixmap
        item.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        line = Line(item, colour, dashed, width, plot, name or "", markers=width == 0)
        self._lines.append(line)
        self._style_line(line)
        self._update_header(plot)
        return item

    def remove_lines(self, plot: pg.PlotItem, items) -> None:
        """Take line traces made by :meth:`add_line` out of ``plot`` (and its legend)."""
        gone = {id(item) for item in items}
        for item in items:
            plot.removeItem(item)
        self._lines = [ln for ln in self._lines if id(ln.item) not in gone]
        self._update_header(plot)

    def rename_line(self, item: pg.PlotDataItem, name: str) -> None:
        """Give a line made by :meth:`add_line` another legend entry."""
        line = self._line_of(item)
        if line is not None and line.name != name:
            line.name = name
            self._update_header(line.plot)

    def set_line(self, item: TraceItem, x: np.ndarray, y: np.ndarray) -> None:
        """Give a line its data. A sparse series (a value with no finite neighbour, which a
        line would not show — a target at one step —, or fewer than :data:`FEW_POINTS` values)
        is drawn with dots; a series with nothing finite is drawn empty (pyqtgraph warns about
        all-NaN data)."""
        line = self._line_of(item)
        if line is not None and line.drawn is not None:
            old_x, old_y = line.drawn
            if (old_x is x or np.array_equal(old_x, x)) and (
                    old_y is y or np.array_equal(old_y, y, equal_nan=True)):
                return  # unchanged (a target, an input channel not edited): nothing to redo
        if line is not None:
            line.drawn = (x, y)
        finite = np.isfinite(y)
        count = int(np.count_nonzero(finite))
        if not count:
            item.setData([], [])
            dots = False
        else:
            item.set_xy(*decimate(x, y, MAX_LINE_POINTS))
            near = np.zeros_like(finite)
            near[1:] |= finite[:-1]
            near[:-1] |= finite[1:]
            dots = count < FEW_POINTS or bool((finite & ~near).any())
        if line is not None and line.width and dots != line.markers:
            line.markers = dots
            self._style_line(line)
            if line.plot is not None:
                self._update_header(line.plot)

    def _line_of(self, item: pg.PlotDataItem) -> Line | None:
        return next((ln for ln in self._lines if ln.item is item), None)

    def remove_plot(self, plot: pg.PlotItem) -> None:
        """Take a plot out (e.g. when the cell type changes the gates)."""
        self.heatmaps = [h for h in self.heatmaps if h.plot is not plot]
        self._lines = [ln for ln in self._lines if ln.item.getViewBox() is not plot.getViewBox()]
        if plot in self.cursor.plots:
            self.cursor.plots.remove(plot)
        self._alarms.pop(id(plot), None)
        self._headers.pop(id(plot), None)
        if plot in self.time_plots:
            self.time_plots.remove(plot)
        if self._time_link is not None:
            self._time_link.remove(plot)
        plot.setXLink(None)
        self.plot_widget.removeItem(plot)

    def add_context_action(self, action: QAction) -> None:
        """Add ``action`` (e.g. "Export…") to the right-click menu of every plot of the panel,
        including plots built later."""
        self.context_actions.append(action)
        for plot in self.time_plots:
            plot.getViewBox().menu.addAction(action)

    # ---- shared time axis ------------------------------------------------------------------
    def link_x(self, link: TimeLink | pg.PlotItem) -> None:
        """Show the time range of ``link`` in every time plot, including plots built later: the
        window's :class:`~rnnviz.gui.time_axis.TimeLink` (``window.time_link``), or a master
        plot whose x range to follow (pyqtgraph's own link, which lines views up on screen)."""
        if isinstance(link, TimeLink):
            self._time_link = link
            for plot in self.time_plots:
                link.add(plot)
            return
        self._master = link
        for plot in self.time_plots:
            if plot is not link:
                plot.setXLink(link)

    def set_time_labels(self, labels: tuple[str, ...] | None) -> None:
        self._labels = labels
        for plot in self.time_plots:
            axis = plot.getAxis("bottom")
            if isinstance(axis, TimeAxis):
                axis.set_labels(labels)

    def set_cursor(self, step: int) -> None:
        """Move the cursor line to ``step`` (no redraw of data)."""
        self._cursor_step = step
        self.cursor.set_step(step)

    @property
    def alarm_lines(self) -> list[pg.InfiniteLine]:
        """The marks of the first NaN/Inf step, one per time plot."""
        return list(self._alarms.values())

    def set_alarm(self, step: int | None) -> None:
        """Mark the first step with NaN/Inf values (None: hide the mark)."""
        self._alarm_step = step
        for line in self._alarms.values():
            line.setVisible(step is not None)
            if step is not None:
                line.setValue(step)

    # ---- drawing ---------------------------------------------------------------------------
    def show_document(self, document: Document, view: ViewState) -> None:
        """The document changed; its results are still to come. Panels that draw only the
        document itself (the input) draw it now; the others wait for :meth:`show_results`."""

    def show_results(self, results: ModelResults, view: ViewState) -> None:
        """Draw the selected model's ``results`` as seen through ``view`` (layer, picked
        units, reveal)."""
        raise NotImplementedError

    def prepare_export(self) -> None:
        """Called before the panel is exported: draw now whatever is still being computed in
        the background (the analysis views), so the export shows it complete."""

    def prepare(self, results: ModelResults, view: ViewState) -> dict | None:
        """The heavy part of :meth:`show_results` for a long run — e.g. heatmap pixels —
        computed off the GUI thread by the dashboard before it draws: pure NumPy on the
        results, touching no Qt object. None: nothing worth preparing."""
        return None

    def set_prepared(self, results: ModelResults, view: ViewState, prepared: dict | None) -> None:
        """What :meth:`prepare` gave for ``results`` and ``view`` (the dashboard hands it over
        just before :meth:`show_results`)."""
        self._prepared = (results, view, prepared)

    def prepared(self, results: ModelResults, view: ViewState) -> dict:
        """What was prepared for exactly these ``results`` and ``view`` (empty otherwise)."""
        held = getattr(self, "_prepared", None)
        if held is not None and held[0] is results and held[1] == view and held[2]:
            return held[2]
        return {}

    def csv_tables(self) -> dict[str, Table]:
        """Exactly the data drawn: name -> (headers, array (rows, len(headers))). Heatmaps
        have one row per unit (first column the unit index) and one column per step."""
        return {name: make() for name, make in self._tables.items()}

    # ---- theme -----------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.plot_widget.setBackground(theme.background)
        for plot in self.time_plots:
            self._style_plot(plot)
        for heat in self.heatmaps:
            heat.apply_theme(theme)
        for line in self._lines:
            self._style_line(line)
        self.cursor.set_colour(theme.cursor)
        for line in self._alarms.values():
            line.setPen(pg.mkPen(theme.alarm, width=1, style=Qt.PenStyle.DashLine))

    def _style_plot(self, plot: pg.PlotItem) -> None:
        fg = self.theme.foreground
        for name in ("left", "bottom", "right"):
            axis = plot.getAxis(name)
            axis.setTextPen(fg)
            if name != "right":
                axis.setPen(fg)
        header = self._headers.get(id(plot))
        if header is not None:
            header.apply_theme(self.theme)
            self._update_header(plot)
            return
        title = plot.titleLabel.text
        if title:
            plot.setTitle(title, color=fg, size="9pt")

    def _colour(self, line: Line) -> str:
        theme = self.theme
        return theme.target if line.colour < 0 else theme.lines[line.colour % len(theme.lines)]

    def _style_line(self, line: Line) -> None:
        colour = self._colour(line)
        style = Qt.PenStyle.DashLine if line.dashed else Qt.PenStyle.SolidLine
        line.item.setPen(pg.mkPen(colour, width=line.width, style=style) if line.width else None)
        # Dots are drawn from all their data: clipped to a view between sparse values, the
        # scatter would get only NaN, and pyqtgraph warns about that ("All-NaN slice").
        line.item.setClipToView(not line.markers)
        if line.markers:
            line.item.setSymbol("o")
            line.item.setSymbolSize(MARKER_SIZE)
            line.item.setSymbolBrush(colour)
            line.item.setSymbolPen(colour)
        elif line.item.opts.get("symbol") is not None:
            line.item.setSymbol(None)

    # ---- hover -----------------------------------------------------------------------------
    def _on_mouse_moved(self, pos: QPointF) -> None:
        for heat in self.heatmaps:
            if heat.plot.sceneBoundingRect().contains(pos):
                point = heat.plot.vb.mapSceneToView(pos)
                hit = heat.value_at(point.x(), point.y())
                if hit is not None:
                    unit, step, value = hit
                    self.hovered.emit(f"{heat.title}: unit {unit}, step {step}, value {value:.6g}")
                return
