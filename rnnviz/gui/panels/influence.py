"""Influence map: how much every input x_k still matters at every later step t.

Top: M[t, k] = ‖∂h_t/∂x_k‖ (or ‖∂y_t/∂x_k‖) as a T × T heatmap on a log colour scale — column
k on the shared time axis, row t upwards. Below, at the cursor step t, bars of M[t, k] for every
k <= t (how much each earlier input still matters to step t) and, right of the cursor, of
M[t', t] for t' >= t (how far the input at the cursor reaches forward). Hovering a step on
either plot or on the input plot shades the earlier steps by how much they matter to it (the
shading ends where the influence falls below 1% of its peak: the memory horizon). The memory
horizon is in the panel's bar and title, in the inspector and in the exported data.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QLabel

from rnnviz.gui.panels.analysis_base import AnalysisPanel, elastic, note_item, shrinkable
from rnnviz.gui.panels.legend import Entry
from rnnviz.gui.panels.ranges import nice_range
from rnnviz.gui.panels.tables import Table, heatmap_table, lines_table
from rnnviz.gui.theme import Theme
from rnnviz.session import ModelResults, ViewState
from rnnviz.session.analysis import Failure, InfluenceMap, describe_horizon, request

DECADES = 6.0  # the colour scale spans this many decades below the largest influence
SHADE_ALPHA = 110  # the strongest shading's opacity (of 255)


class StepShading(QObject):
    """Vertical bands over the steps of a plot, each as opaque as its weight (0..1): an
    image one row high stretched over the plot's whole y range."""

    def __init__(self, plot: pg.PlotItem, colour: str) -> None:
        super().__init__()
        self.plot = plot
        self.colour = QColor(colour)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-20)
        self.image.hide()
        plot.addItem(self.image, ignoreBounds=True)
        self.weights = np.zeros(0)
        plot.getViewBox().sigYRangeChanged.connect(self._fit)

    def set_weights(self, weights: np.ndarray | None) -> None:
        """Shade step k by weights[k] (None or all zero: no shading)."""
        if weights is None or not np.any(weights > 0):
            self.weights = np.zeros(0)
            self.image.hide()
            return
        self.weights = np.asarray(weights, np.float64)
        rgba = np.zeros((1, self.weights.size, 4), np.uint8)
        rgba[..., 0] = self.colour.red()
        rgba[..., 1] = self.colour.green()
        rgba[..., 2] = self.colour.blue()
        rgba[..., 3] = np.round(np.clip(self.weights, 0, 1) * SHADE_ALPHA).astype(np.uint8)
        self.image.setImage(rgba, autoLevels=False)
        self._fit()
        self.image.show()

    def set_colour(self, colour: str) -> None:
        self.colour = QColor(colour)
        if self.weights.size:
            self.set_weights(self.weights)

    def _fit(self, *_args) -> None:
        if self.weights.size:
            (_, _), (y0, y1) = self.plot.getViewBox().viewRange()
            self.image.setRect(-0.5, y0, self.weights.size, y1 - y0)


class _LeaveFilter(QObject):
    """Calls ``left()`` when the mouse leaves a widget."""

    def __init__(self, left) -> None:
        super().__init__()
        self.left = left

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Leave:
            self.left()
        return False


class InfluencePanel(AnalysisPanel):
    """The influence map, the bars at the cursor step and the memory horizon."""

    key = "influence"

    def __init__(self, theme: Theme, parent=None) -> None:
        super().__init__(theme, parent)
        bar = self.control_bar()
        bar.addWidget(QLabel("Influence on"))
        self.of_combo = QComboBox()
        self.of_combo.addItem("h_t (top layer)", "hidden")
        self.of_combo.addItem("y_t (readout)", "output")
        self.of_combo.setToolTip("Whose change the influence measures: the top layer's "
                                 "hidden state or the readout")
        self.of_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        bar.addWidget(shrinkable(self.of_combo))
        bar.addSpacing(12)
        self.horizon_label = QLabel("memory horizon: —")
        self.horizon_label.setToolTip(
            "The distance at which an input's influence falls below 1% of its influence on "
            "its own step, averaged over the steps")
        bar.addWidget(elastic(self.horizon_label), 1)

        self.heatmap = self.add_heatmap(0, "", diverging=False, levels=(-DECADES, 0.0),
                                        ylabel="step t")
        self.heatmaps.remove(self.heatmap)  # its hover text is this panel's own
        self.heatmap.plot.getAxis("bottom").setStyle(showValues=False)
        self.row_line = pg.InfiniteLine(pos=0, angle=0, movable=False,
                                        pen=pg.mkPen(theme.cursor, width=1))
        self.heatmap.plot.addItem(self.row_line, ignoreBounds=True)
        self.bar_plot = self.add_time_plot(1)
        self.bar_plot.setLogMode(x=False, y=True)
        self.bar_plot.setLabel("left", "‖∂h/∂x‖ (log)")
        self.bar_plot.setLabel("bottom", "step")
        self.bar_plot.setMouseEnabled(x=True, y=False)
        self.bar_plot.showGrid(y=True, alpha=theme.grid_alpha)
        self.back_bars = pg.BarGraphItem(x=[], height=[], width=0.85)
        self.forward_bars = pg.BarGraphItem(x=[], height=[], width=0.85)
        self.bar_plot.addItem(self.back_bars)
        self.bar_plot.addItem(self.forward_bars)
        self.legend = self.add_legend(self.bar_plot)
        self._legend_items()
        layout = self.plot_widget.ci.layout
        layout.setRowStretchFactor(0, 3)
        layout.setRowStretchFactor(1, 2)
        self.note = note_item(self.bar_plot, theme)
        self.shading = StepShading(self.bar_plot, theme.cursor)
        self.input_shading: StepShading | None = None
        self.hover_step: int | None = None
        self._leave = _LeaveFilter(self.clear_hover)
        self.plot_widget.viewport().installEventFilter(self._leave)
        self._apply_bar_colours()

    # ---- building --------------------------------------------------------------------------
    def _legend_items(self) -> None:
        self.legend.extra = [
            Entry("x_k → step t (k ≤ t)", self.theme.lines[0], "block"),
            Entry("x_t → step t′ (t′ ≥ t)", self.theme.lines[1], "block"),
        ]
        self.fit_legend(self.bar_plot)

    def _apply_bar_colours(self) -> None:
        for bars, colour in ((self.back_bars, self.theme.lines[0]),
                             (self.forward_bars, self.theme.lines[1])):
            bars.setOpts(brush=pg.mkBrush(colour), pen=pg.mkPen(None))

    def attach(self, controller) -> None:
        super().attach(controller)
        window = controller.window
        plot = window.input_plot
        self.input_shading = StepShading(plot, self.theme.cursor)
        plot.scene().sigMouseMoved.connect(self._on_input_moved)
        view = plot.getViewBox().scene().views()
        for widget in view:
            widget.viewport().installEventFilter(self._leave)

    @property
    def of(self) -> str:
        return self.of_combo.currentData()

    # ---- values ----------------------------------------------------------------------------
    def show_results(self, results: ModelResults, view: ViewState) -> None:
        has_readout = results.config.output_size is not None
        item = self.of_combo.model().item(1)
        item.setEnabled(has_readout)
        if not has_readout and self.of == "output":
            self.of_combo.blockSignals(True)
            self.of_combo.setCurrentIndex(0)
            self.of_combo.blockSignals(False)
        if self.influence is None or self.influence.steps != results.steps:
            self.heatmap.set_data(np.zeros((results.steps, 0)), results.steps)  # its y range
        super().show_results(results, view)
        if self.controller is not None:
            self.controller.show_horizon(results)

    def requests(self, results, view, step):
        return {"influence": request(results, "influence", of=self.of)}

    @property
    def influence(self) -> InfluenceMap | None:
        value = self.values.get("influence")
        return value if isinstance(value, InfluenceMap) else None

    def _shown_matrix(self) -> np.ndarray:
        """The matrix as drawn: rows past the revealed steps are NaN (reveal mode)."""
        m = self.influence.matrix
        shown = self.view.visible_states(m.shape[0]) if self.view is not None else m.shape[0]
        if shown >= m.shape[0]:
            return m
        out = np.array(m, copy=True)
        out[shown:] = np.nan
        return out

    def draw_part(self, name: str, value) -> None:
        steps = self.results.steps
        if not isinstance(value, InfluenceMap):
            self.heatmap.set_data(np.zeros((steps, 0)), steps)
            self._tables = {}
            self.horizon_label.setText("memory horizon: —")
            self.set_title(self.heatmap.plot, "influence ‖∂h_t/∂x_k‖")
            self.note.setText(value.message if isinstance(value, Failure) else "")
            self.note.setVisible(isinstance(value, Failure))
            return
        self.note.hide()
        m = self._shown_matrix()
        with np.errstate(divide="ignore", invalid="ignore"):
            logm = np.where(m > 0, np.log10(np.where(m > 0, m, 1.0)), np.nan)
        finite = logm[np.isfinite(logm)]
        top = float(np.ceil(finite.max())) if finite.size else 0.0
        logm[logm < top - DECADES] = np.nan  # below the scale: left blank, like zero
        self.heatmap.set_levels(top - DECADES, top)
        self.heatmap.bar.axis.setTicks([[(v, _power(v)) for v in
                                         (top - DECADES, top - DECADES / 2, top)], []])
        self.heatmap.set_data(logm, steps)
        what = "h_t" if value.of == "hidden" else "y_t"
        horizon = describe_horizon(value.horizon)
        short = describe_horizon(value.horizon, short=True)
        self.horizon_label.setText(f"memory horizon: {short}")
        self.horizon_label.setToolTip(f"memory horizon: {horizon}: the distance at which an "
                                      "input's influence falls below 1% of its influence on "
                                      "its own step, averaged over the steps")
        self.set_title(self.heatmap.plot, f"‖∂{what}/∂x_k‖, row t, column k; horizon {short}")
        self.bar_plot.setLabel("left", f"‖∂{what}/∂x‖ (log)")
        self._tables = {
            "influence": partial(heatmap_table, m, row_name="step t"),
            "influence_at_cursor": self._cursor_table,
            "memory_horizon": partial(lines_table, {"horizon": value.horizon.per_step}),
            "memory_horizon_summary": partial(_horizon_summary, value),
        }

    def _cursor_series(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(T,) each: M[t, k] for k <= t (NaN after), M[t', t] for t' >= t (NaN before)."""
        m = self._shown_matrix()
        steps = m.shape[0]
        back = np.full(steps, np.nan)
        forward = np.full(steps, np.nan)
        back[:t + 1] = m[t, :t + 1]
        forward[t:] = m[t:, t]
        return back, forward

    def _cursor_table(self) -> Table:
        back, forward = self._cursor_series(self.step)
        return lines_table({f"to step {self.step} (k ≤ t)": back,
                            f"from step {self.step} (t′ ≥ t)": forward})

    def draw_cursor(self, step: int) -> None:
        self.row_line.setValue(step)
        if self.influence is None:
            self.back_bars.setOpts(x=[], height=[])
            self.forward_bars.setOpts(x=[], height=[])
            return
        back, forward = self._cursor_series(step)
        with np.errstate(divide="ignore", invalid="ignore"):
            lb = np.log10(back)
            lf = np.log10(forward)
        values = np.concatenate([lb, lf])
        finite = values[np.isfinite(values)]
        if finite.size:
            lo, hi = nice_range(10 ** float(finite.min()), 10 ** float(finite.max()), log=True)
            lo = max(lo, hi - 2 * DECADES)
        else:
            lo, hi = -4.0, 0.0
        x = np.arange(back.size, dtype=np.float64)
        for bars, logs in ((self.back_bars, lb), (self.forward_bars, lf)):
            keep = np.isfinite(logs)
            bars.setOpts(x=x[keep], y0=lo, height=np.maximum(logs[keep] - lo, 0.0))
        self.bar_plot.enableAutoRange(y=False)
        span = hi - lo
        self.bar_plot.setYRange(lo, hi + span * 0.3, padding=0)

    # ---- hover -----------------------------------------------------------------------------
    def show_hover(self, step: int | None) -> None:
        """Shade the steps that matter to ``step`` (None: no shading), here and on the
        input plot."""
        self.hover_step = step
        weights = None
        if step is not None and self.influence is not None:
            weights = self.influence.shading(step)
            shown = self.view.visible_states(self.results.steps)
            if step >= shown:
                weights = None
        self.shading.set_weights(weights)
        if self.input_shading is not None:
            self.input_shading.set_weights(weights)

    def clear_hover(self) -> None:
        if self.hover_step is not None:
            self.show_hover(None)

    def _hover_text(self, t: int, k: int | None) -> str:
        value = self.influence
        per = value.horizon.per_step[t]
        reach = "undefined" if not np.isfinite(per) and np.isnan(per) else (
            "beyond the sequence start" if np.isinf(per) else f"{per:g} steps")
        text = f"step {t}: memory horizon {reach}"
        if k is not None and 0 <= k <= t:
            text = f"x_{k} → step {t}: {value.matrix[t, k]:.4g}; " + text
        return text

    def _on_mouse_moved(self, pos: QPointF) -> None:
        if self.influence is None:
            return
        steps = self.results.steps
        heat = self.heatmap.plot
        if heat.sceneBoundingRect().contains(pos):
            point = heat.vb.mapSceneToView(pos)
            k, t = int(round(point.x())), int(round(point.y()))
            if 0 <= t < steps:
                self.show_hover(t)
                self.hovered.emit(self._hover_text(t, k))
                return
        if self.bar_plot.sceneBoundingRect().contains(pos):
            t = int(round(self.bar_plot.vb.mapSceneToView(pos).x()))
            if 0 <= t < steps:
                self.show_hover(t)
                self.hovered.emit(self._hover_text(t, None))
                return
        self.clear_hover()

    def _on_input_moved(self, pos: QPointF) -> None:
        if self.influence is None or not self.active:
            return
        plot = self.controller.window.input_plot
        if plot.sceneBoundingRect().contains(pos):
            t = int(round(plot.vb.mapSceneToView(pos).x()))
            if 0 <= t < self.results.steps:
                self.show_hover(t)
                return
        self.clear_hover()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.clear_hover()
        super().hideEvent(event)

    # ---- theme -----------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self._apply_bar_colours()
        self._legend_items()
        self.row_line.setPen(pg.mkPen(theme.cursor, width=1))
        self.bar_plot.showGrid(y=True, alpha=theme.grid_alpha)
        self.note.setColor(theme.foreground)
        self.shading.set_colour(theme.cursor)
        if self.input_shading is not None:
            self.input_shading.set_colour(theme.cursor)


def _horizon_summary(value: InfluenceMap) -> Table:
    h = value.horizon
    return (["threshold", "memory horizon (steps)", "steps never below threshold"],
            np.array([[h.threshold, h.value, float(h.censored)]]))


def _power(exponent: float) -> str:
    """10**exponent as a colour-bar label: "1", "1e-3"."""
    return "1" if exponent == 0 else f"1e{exponent:g}"
