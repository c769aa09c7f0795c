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

FEW_TARGETS = 40  # targets at fewer steps than this are sparse: the prediction there gets dots


def loss_status(results: ModelResults, shown: int) -> str:
    """The loss line of the header: the total, or in reveal mode the loss over the steps
    drawn so far (the mean of their per-step losses, as the total is over every step)."""
    loss = results.loss
    name = results.task.loss
    steps = results.steps
    if shown >= steps:
        return f"{name} loss = {loss.total:.4g}"
    per_step = np.asarray(loss.per_step, dtype=np.float64)[:shown]
    counted = per_step[np.isfinite(per_step)]
    if not counted.size:
        return f"{name} loss: no counted step yet (0–{shown - 1} of {steps})"
    return f"{name} loss so far = {counted.mean():.4g} (steps 0–{shown - 1} of {steps})"


class OutputPanel(Panel):
    """Regression: y_t per output channel (solid) and the target (dashed; dots where it is
    sparse, with the prediction at the same steps as dots). Classification: the output for the
    target class (the probability the network gives the right answer). Below: the loss of
    each step that counts, its total in the header."""

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
        self.add_legend(self.loss_plot)
        self.loss_line = self.add_line(self.loss_plot, "", 1)
        layout = self.plot_widget.ci.layout
        layout.setRowStretchFactor(0, 3)
        layout.setRowStretchFactor(1, 2)
        layout.setVerticalSpacing(6)
        self._structure: tuple = ()
        self.y_lines: list[pg.PlotDataItem] = []
        self.target_lines: list[pg.PlotDataItem] = []
        self.at_target: list[pg.PlotDataItem] = []  # y_t at the steps of sparse targets

    @property
    def loss_text(self) -> str:
        """The loss shown in the loss plot's header."""
        header = self.header(self.loss_plot)
        return "" if header is None else header.status

    def _rebuild(self, names: list[str], target_names: list[str], sparse: bool) -> None:
        plot = self.output_plot
        self.remove_lines(plot, self.y_lines + self.target_lines + self.at_target)
        self.y_lines = [self.add_line(plot, n, k) for k, n in enumerate(names)]
        self.target_lines = [self.add_line(plot, n, -1, dashed=True) for n in target_names]
        self.at_target = []
        if sparse:
            for k, n in enumerate(names[: len(target_names)]):
                self.at_target.append(self.add_line(plot, f"{n} at the target", k, width=0))
            self.fit_legend(plot)

    def show_results(self, results: ModelResults, view: ViewState) -> None:
        self.results = results
        steps = results.steps
        shown = view.visible_states(steps)
        output = results.trace.output
        targets = results.masked_targets
        ce = results.task.loss == "ce"
        tcount = 0 if targets is None else int(np.isfinite(targets).any(axis=1).sum())
        sparse = 0 < tcount < FEW_TARGETS and not ce
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
        structure = (tuple(names), tuple(target_names), sparse)
        if structure != self._structure:
            self._structure = structure
            self._rebuild(names, target_names, sparse)
        x = np.arange(steps, dtype=np.float64)
        columns: dict[str, np.ndarray] = {}
        if output is not None:
            if ce:
                y = results.target_output if targets is not None else output[:, 0]
                ys = [finite_or_nan(y[:shown])]
            else:
                ys = [finite_or_nan(output[:shown, k]) for k in range(len(names))]
            for name, item, y in zip(names, self.y_lines, ys, strict=True):
                self.set_line(item, x[:shown], y)
                columns[name] = y
            drawn = list(ys)
            for k, (name, item) in enumerate(zip(target_names, self.target_lines, strict=True)):
                target = finite_or_nan(targets[:, k])
                self.set_line(item, x, target)
                columns[name] = targets[:, k]
                drawn.append(target)
            for k, item in enumerate(self.at_target):
                at = np.flatnonzero(np.isfinite(targets[:shown, k]))
                y = ys[k][at]
                keep = np.isfinite(y)
                if keep.any():
                    item.setData(x[at][keep], y[keep])
                else:
                    item.setData([], [])
            self.fit_y(self.output_plot, *drawn)
        loss = results.loss
        if loss is None:
            self.set_line(self.loss_line, np.zeros(0), np.zeros(0))
            self.set_status(self.loss_plot, "no loss")
        else:
            per_step = finite_or_nan(np.asarray(loss.per_step, dtype=np.float64)[:shown])
            self.set_line(self.loss_line, x[:shown], per_step)
            self.fit_y(self.loss_plot, per_step)
            columns["loss_t"] = per_step
            self.set_status(self.loss_plot, loss_status(results, shown))
        self._tables = {"output": partial(lines_table, columns)} if columns else {}
