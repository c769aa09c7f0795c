"""Hidden state: a units × steps heatmap of h_t for one layer, and line traces of picked units."""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit

from rnnviz.gui.panels.base import MAX_LINE_POINTS, Panel, decimate
from rnnviz.gui.panels.ranges import finite_or_nan, symmetric_limit
from rnnviz.gui.panels.tables import heatmap_table, lines_table
from rnnviz.gui.theme import Theme
from rnnviz.session import ModelResults, ViewState

MAX_TRACES = 8


def hidden_levels(cell: str, hidden: np.ndarray) -> tuple[float, float]:
    """Fixed symmetric colour levels: tanh-bounded cells [-1, 1]; ReLU ±max|h|."""
    if cell == "rnn_relu":
        m = symmetric_limit(hidden)
        return -m, m
    return -1.0, 1.0


def parse_units(text: str, hidden_size: int) -> tuple[int, ...]:
    """ "0, 3, 5-7" -> (0, 3, 5, 6, 7); ValueError with a one-line message when malformed."""
    units: list[int] = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part[1:]:
                lo, hi = part.split("-", 1)
                units.extend(range(int(lo), int(hi) + 1))
            else:
                units.append(int(part))
        except ValueError:
            raise ValueError(f"units: {part!r} is not a unit number or range") from None
    bad = [u for u in units if not 0 <= u < hidden_size]
    if bad:
        raise ValueError(f"units: {bad[0]} is not between 0 and {hidden_size - 1}")
    if not units:
        raise ValueError("units: name at least one unit, e.g. 0, 1, 2")
    return tuple(dict.fromkeys(units))[:MAX_TRACES]


class HiddenPanel(Panel):
    """h_t of the selected layer as a heatmap, plus the picked units as lines.

    ``view_requested`` carries view changes the user asked for ({"layer": l} or
    {"units": (...)}); ``message`` carries one-line complaints for the status bar.
    """

    key = "hidden"
    view_requested = Signal(dict)
    message = Signal(str)

    def __init__(self, theme: Theme, parent=None) -> None:
        super().__init__(theme, parent)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 0)
        bar.addWidget(QLabel("Layer"))
        self.layer_combo = QComboBox()
        self.layer_combo.setToolTip("Which layer of a stacked network to show")
        bar.addWidget(self.layer_combo)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Trace units"))
        self.units_edit = QLineEdit()
        self.units_edit.setPlaceholderText("e.g. 0, 1, 5-7")
        self.units_edit.setToolTip(f"Units drawn as lines below the heatmap (up to {MAX_TRACES})")
        self.units_edit.setMaximumWidth(160)
        bar.addWidget(self.units_edit)
        bar.addStretch(1)
        self._layout.insertLayout(0, bar)
        self.heatmap = self.add_heatmap(
            0, "h_t (units × steps)", diverging=True, levels=(-1.0, 1.0)
        )
        self.trace_plot = self.add_time_plot(1)
        self.trace_plot.setLabel("left", "h_t")
        self.trace_plot.setLabel("bottom", "step")
        self.trace_plot.setMouseEnabled(x=True, y=False)
        self.add_legend(self.trace_plot)
        self.heatmap.plot.getAxis("bottom").setStyle(showValues=False)
        layout = self.plot_widget.ci.layout
        layout.setRowStretchFactor(0, 3)
        layout.setRowStretchFactor(1, 2)
        self.traces: list[pg.PlotDataItem] = []  # the picked units' lines
        self._trace_units: tuple[int, ...] = ()
        self.layer_combo.currentIndexChanged.connect(
            lambda i: i >= 0 and self.view_requested.emit({"layer": i})
        )
        self.units_edit.editingFinished.connect(self._units_edited)
        self.plot_widget.scene().sigMouseClicked.connect(self._clicked)
        self.heatmap.plot.setToolTip("Double-click a row to trace that unit below")

    def _units_edited(self) -> None:
        if self.results is None:
            return
        try:
            units = parse_units(self.units_edit.text(), self.results.config.hidden_size)
        except ValueError as exc:
            self.message.emit(str(exc))
            return
        self.view_requested.emit({"units": units})

    def toggle_unit(self, unit: int) -> None:
        """Trace ``unit`` (or stop tracing it); the oldest trace goes when there are too many."""
        units = list(self._trace_units)
        if unit in units:
            if len(units) > 1:
                units.remove(unit)
        else:
            units = [*units, unit][-MAX_TRACES:]
        self.view_requested.emit({"units": tuple(units)})

    def _clicked(self, event) -> None:
        if not event.double():
            return
        pos = event.scenePos()
        if self.heatmap.plot.sceneBoundingRect().contains(pos):
            point = self.heatmap.plot.vb.mapSceneToView(pos)
            hit = self.heatmap.value_at(point.x(), point.y())
            if hit is not None:
                self.toggle_unit(hit[0])

    def _sync_widgets(self, layers: int, view: ViewState) -> None:
        combo = self.layer_combo
        combo.blockSignals(True)
        if combo.count() != layers:
            combo.clear()
            combo.addItems([f"layer {k}" for k in range(layers)])
        combo.setCurrentIndex(view.layer)
        combo.setEnabled(layers > 1)
        combo.blockSignals(False)
        if not self.units_edit.hasFocus():
            self.units_edit.setText(", ".join(str(u) for u in view.units))

    def show_results(self, results: ModelResults, view: ViewState) -> None:
        self.results = results
        cfg = results.config
        steps = results.sequence.steps
        self._sync_widgets(cfg.num_layers, view)
        prep = self.prepared(results, view) or self.prepare(results, view, pixels=False)
        data, levels = prep["data"], prep["levels"]
        self.heatmap.show(data, steps, levels, prep.get("pixels"))
        self.set_title(self.heatmap.plot, f"h_t, layer {view.layer} (units × steps)")
        units = tuple(view.units[:MAX_TRACES])
        if units != self._trace_units:
            self._set_trace_units(units)
            self.fit_legend(self.trace_plot)
        x = np.arange(data.shape[1], dtype=np.float64)
        columns: dict[str, np.ndarray] = {}
        lines = prep.get("lines", {})
        for unit, item in zip(units, self.traces, strict=True):
            y = data[unit]
            self.set_line(item, *lines.get(unit, (x, y)))
            columns[f"unit {unit}"] = y
        self.fit_y(self.trace_plot, *columns.values())
        self._tables = {
            f"hidden_layer{view.layer}": partial(heatmap_table, data),
            f"hidden_traces_layer{view.layer}": partial(lines_table, columns),
        }

    def prepare(self, results: ModelResults, view: ViewState, pixels: bool = True) -> dict:
        cfg = results.config
        steps = results.sequence.steps
        shown = view.visible_states(steps)
        hidden = results.trace.hidden[view.layer]  # (T, H)
        bounded = cfg.cell != "rnn_relu" and results.nonfinite_step is None
        data = finite_or_nan(hidden[:shown].T, bounded)  # (H, shown)
        levels = hidden_levels(cfg.cell, hidden)
        out = {"data": data, "levels": levels}
        if pixels:  # off the GUI thread: the picture, and the traces as they are drawn
            out["pixels"] = self.heatmap.pixels(data, levels)
            x = np.arange(data.shape[1], dtype=np.float64)
            out["lines"] = {u: decimate(x, np.ascontiguousarray(data[u]), MAX_LINE_POINTS)
                            for u in view.units[:MAX_TRACES] if 0 <= u < data.shape[0]}
        return out

    def _set_trace_units(self, units: tuple[int, ...]) -> None:
        plot = self.trace_plot
        self.remove_lines(plot, self.traces)
        self.traces = [self.add_line(plot, f"unit {u}", k) for k, u in enumerate(units)]
        self._trace_units = units
