"""Output y_t against the target, and the per-step loss below it."""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg

from rnnviz.gui.panels.base import Panel
from rnnviz.gui.panels.input import MAX_LINES
from rnnviz.gui.panels.ranges import finite_or_nan
from rnnviz.gui.panels.tables import lines_table
from rnnviz.gui.theme import Theme
from rnnviz.session import ModelResults, ViewState

FEW_POINTS = 40  # below this many counted steps the loss is drawn as dots


class OutputPanel(Panel):
    """Regression: y_t per output channel (solid) and the target (dashed). Classification:
    the output for the target class (the probability the network gives the right answer).
    Below: the loss of each step that counts."""

    key = "output"

    def __init__(self, theme: Theme, parent=None) -> None:
        super().__init__(theme, parent)
        self.output_plot = self.add_time_plot(0)
        self.output_plot.setLabel("left", "y_t, target")
        self.add_legend(self.output_plot)
        self.output_plot.getAxis("bottom").setStyle(showValues=False)
        self.output_plot.setMouseEnabled(x=True, y=False)
        self.loss_plot = self.add_time_plot(1)
        self.loss_plot.setLabel("left", "loss_t")
        self.loss_plot.setLabel("bottom", "step")
        self.loss_plot.setMouseEnabled(x=True, y=False)
        self.loss_line = self.add_line(self.loss_plot, "loss_t", 1)
        # the total in the plot's corner: a child of the view box stays put in pixels and,
        # unlike a title, changing it does not re-lay out the plot
        self.loss_text = pg.TextItem(color=theme.foreground, anchor=(0, 0))
        self.loss_text.setParentItem(self.loss_plot.getViewBox())
        self.loss_text.setPos(4, 0)
        layout = self.plot_widget.ci.layout
        layout.setRowStretchFactor(0, 3)
        layout.setRowStretchFactor(1, 2)
        self._structure: tuple = ()
        self.y_lines: list[pg.PlotDataItem] = []
        self.target_lines: list[pg.PlotDataItem] = []

    def _rebuild(self, names: list[str], target_names: list[str]) -> None:
        plot = self.output_plot
        for item in self.y_lines + self.target_lines:
            plot.removeItem(item)
            if plot.legend is not None:
                plot.legend.removeItem(item)
        old = set(map(id, self.y_lines + self.target_lines))
        self._lines = [ln for ln in self._lines if id(ln.item) not in old]
        self.y_lines = [self.add_line(plot, n, k) for k, n in enumerate(names)]
        self.target_lines = [self.add_line(plot, n, -1, dashed=True) for n in target_names]

    def show_results(self, results: ModelResults, view: ViewState) -> None:
        self.results = results
        steps = results.steps
        shown = view.visible_states(steps)
        output = results.trace.output
        targets = results.masked_targets
        ce = results.task.loss == "ce"
        if output is None:
            names, target_names = [], []
            self.set_title(self.output_plot, "no readout: the task has no loss")
        elif ce:
            names, target_names = ["y_t[target class]"], []
            self.set_title(self.output_plot, "")
        else:
            count = min(output.shape[1], MAX_LINES)
            names = ["y_t"] if count == 1 else [f"y_t[{k}]" for k in range(count)]
            tcols = 0 if targets is None else min(targets.shape[1], MAX_LINES)
            target_names = ["target"] if tcols == 1 else [f"target[{k}]" for k in range(tcols)]
            self.set_title(self.output_plot, "")
        structure = (tuple(names), tuple(target_names))
        if structure != self._structure:
            self._structure = structure
            self._rebuild(names, target_names)
            self.fit_legend(self.output_plot)
        x = np.arange(steps, dtype=np.float64)
        columns: dict[str, np.ndarray] = {}
        if output is not None:
            if ce:
                y = results.target_output if targets is not None else output[:, 0]
                ys = [finite_or_nan(y[:shown])]
            else:
                ys = [finite_or_nan(output[:shown, k]) for k in range(len(names))]
            for name, item, y in zip(names, self.y_lines, ys, strict=True):
                item.setData(x[:shown], y)
                columns[name] = y
            for k, (name, item) in enumerate(zip(target_names, self.target_lines, strict=True)):
                item.setData(x, targets[:, k])
                columns[name] = targets[:, k]
            self.fit_y(self.output_plot, *columns.values())
        loss = results.loss
        if loss is None:
            self.loss_line.setData([], [])
            self.loss_text.setText("no loss")
        else:
            per_step = finite_or_nan(np.asarray(loss.per_step, dtype=np.float64)[:shown])
            symbol = "o" if int(np.isfinite(per_step).sum()) < FEW_POINTS else None
            if symbol != self.loss_line.opts["symbol"]:
                self.loss_line.setSymbol(symbol)
                self.loss_line.setSymbolSize(6)
                self._style_line(next(ln for ln in self._lines if ln.item is self.loss_line))
            self.loss_line.setData(x[:shown], per_step)
            self.fit_y(self.loss_plot, per_step)
            columns["loss_t"] = per_step
            self.loss_text.setText(f"{results.task.loss} loss = {loss.total:.4g}")
        self._tables = {"output": partial(lines_table, columns)} if columns else {}

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self.loss_text.setColor(theme.foreground)
