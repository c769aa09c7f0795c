"""Gradients: ‖∂L/∂h_t‖ per layer, ‖∂L/∂c_t‖ (LSTM) and ‖∂L/∂x_t‖ on a log axis."""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg

from rnnviz.gui.panels.base import Panel
from rnnviz.gui.panels.items import DecadeAxis
from rnnviz.gui.panels.ranges import positive_or_nan
from rnnviz.gui.panels.tables import lines_table
from rnnviz.gui.theme import Theme
from rnnviz.session import ModelResults, ViewState


class GradientsPanel(Panel):
    """Per-step gradient magnitudes of the loss, log scale: vanishing gradients fall away to
    the left, exploding ones climb. Zero, NaN and Inf values are not drawn."""

    key = "gradients"

    def __init__(self, theme: Theme, parent=None) -> None:
        super().__init__(theme, parent)
        self.grad_plot = self.add_time_plot(0, left=DecadeAxis())
        self.grad_plot.setLogMode(x=False, y=True)
        self.grad_plot.setLabel("left", "‖∂L/∂·‖ (log)")
        self.grad_plot.setLabel("bottom", "step")
        self.grad_plot.setMouseEnabled(x=True, y=False)
        self.grad_plot.showGrid(y=True, alpha=theme.grid_alpha)
        self.add_legend(self.grad_plot)
        self._structure: tuple = ()
        self.note = pg.TextItem(
            "Gradients appear in the backward sweep (BPTT)", color=theme.foreground, anchor=(0, 0)
        )
        self.note.setParentItem(self.grad_plot.getViewBox())
        self.note.setPos(6, 40)
        self.note.hide()
        self.grad_lines: dict[str, pg.PlotDataItem] = {}

    def _rebuild(self, names: list[tuple[str, int, bool]]) -> None:
        plot = self.grad_plot
        self.remove_lines(plot, list(self.grad_lines.values()))
        self.grad_lines = {
            name: self.add_line(plot, name, colour, dashed=dashed) for name, colour, dashed in names
        }

    def show_results(self, results: ModelResults, view: ViewState) -> None:
        self.results = results
        grads = results.grads
        layers = grads.hidden.shape[0]
        steps = results.sequence.steps
        series: dict[str, np.ndarray] = {}
        spec: list[tuple[str, int, bool]] = []
        with np.errstate(over="ignore", invalid="ignore"):
            hidden = grads.hidden_norm
            cell = grads.cell_norm
            for k in range(layers):
                name = "‖∂L/∂h_t‖" if layers == 1 else f"‖∂L/∂h_t‖ layer {k}"
                series[name] = hidden[k]
                spec.append((name, k, False))
            if cell is not None:
                for k in range(layers):
                    name = "‖∂L/∂c_t‖" if layers == 1 else f"‖∂L/∂c_t‖ layer {k}"
                    series[name] = cell[k]
                    spec.append((name, k, True))
            series["‖∂L/∂x_t‖"] = grads.input_norm
        spec.append(("‖∂L/∂x_t‖", -1, False))
        structure = tuple(spec)
        if structure != self._structure:
            self._structure = structure
            self._rebuild(spec)
            self.fit_legend(self.grad_plot)
        start, stop = view.visible_gradients(steps)
        x = np.arange(steps, dtype=np.float64)
        columns: dict[str, np.ndarray] = {}
        for name, values in series.items():
            y = positive_or_nan(values)
            if start > 0 or stop < steps:
                y = y.copy()
                y[:start] = np.nan
                y[stop:] = np.nan
            self.set_line(self.grad_lines[name], x, y)
            columns[name] = y
        self.fit_y(self.grad_plot, *columns.values(), log=True)
        self.note.setVisible(start >= stop)
        self._tables = {"gradients": partial(lines_table, columns)}

    def prepare(self, results: ModelResults, view: ViewState) -> dict | None:
        grads = results.grads
        with np.errstate(over="ignore", invalid="ignore"):
            grads.hidden_norm, grads.cell_norm, grads.input_norm  # noqa: B018 (kept)
        return None

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self.grad_plot.showGrid(y=True, alpha=theme.grid_alpha)
        self.note.setColor(theme.foreground)
