"""Cell memory c_t (LSTM only): a heatmap with its own symmetric levels, and ‖c_t‖."""

from __future__ import annotations

from functools import partial

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from rnnviz.gui.panels.base import Panel
from rnnviz.gui.panels.ranges import finite_or_nan, symmetric_limit
from rnnviz.gui.panels.tables import heatmap_table, lines_table
from rnnviz.gui.theme import Theme
from rnnviz.session import ModelResults, ViewState


class CellPanel(Panel):
    """c_t of the selected layer; for cells without memory a short note replaces the plots."""

    key = "cell"

    def __init__(self, theme: Theme, parent=None) -> None:
        super().__init__(theme, parent)
        self.heatmap = self.add_heatmap(
            0, "c_t (units × steps)", diverging=True, levels=(-1.0, 1.0)
        )
        self.heatmap.plot.getAxis("bottom").setStyle(showValues=False)
        self.norm_plot = self.add_time_plot(1)
        self.norm_plot.setLabel("left", "‖c_t‖")
        self.norm_plot.setLabel("bottom", "step")
        self.norm_plot.setMouseEnabled(x=True, y=False)
        self.norm_line = self.add_line(self.norm_plot, "‖c_t‖", 0)
        layout = self.plot_widget.ci.layout
        layout.setRowStretchFactor(0, 3)
        layout.setRowStretchFactor(1, 1)
        self.note = QLabel(
            "Cell memory c_t exists only in LSTM cells.\nChoose LSTM in the Model panel to see it."
        )
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setWordWrap(True)
        self.note.hide()
        self._layout.addWidget(self.note, 1)

    @property
    def available(self) -> bool:
        return not self.note.isVisible() and self.results is not None

    def prepare(self, results: ModelResults, view: ViewState, pixels: bool = True) -> dict | None:
        cell = results.trace.cell
        if cell is None:
            return None
        shown = view.visible_states(results.sequence.steps)
        values = cell[view.layer]  # (T, H)
        data = finite_or_nan(values[:shown].T)
        m = symmetric_limit(values)
        out = {"data": data, "levels": (-m, m)}
        results.trace.cell_norm  # noqa: B018 (computed here, off the GUI thread, and kept)
        if pixels:
            out["pixels"] = self.heatmap.pixels(data, (-m, m))
        return out

    def show_results(self, results: ModelResults, view: ViewState) -> None:
        self.results = results
        cell = results.trace.cell
        has_cell = cell is not None
        self.plot_widget.setVisible(has_cell)
        self.note.setVisible(not has_cell)
        if not has_cell:
            self.heatmap.set_data(np.zeros((1, 0)), results.sequence.steps)
            self.set_line(self.norm_line, np.zeros(0), np.zeros(0))
            self._tables = {}
            return
        steps = results.sequence.steps
        shown = view.visible_states(steps)
        prep = self.prepared(results, view) or self.prepare(results, view, pixels=False)
        data = prep["data"]
        self.heatmap.show(data, steps, prep["levels"], prep.get("pixels"))
        self.set_title(self.heatmap.plot, f"c_t, layer {view.layer} (units × steps)")
        norm = finite_or_nan(results.trace.cell_norm[view.layer, :shown])
        self.set_line(self.norm_line, np.arange(shown, dtype=np.float64), norm)
        self.fit_y(self.norm_plot, norm)
        self._tables = {
            f"cell_layer{view.layer}": partial(heatmap_table, data),
            f"cell_norm_layer{view.layer}": partial(lines_table, {"‖c_t‖": norm}),
        }
