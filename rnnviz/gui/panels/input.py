"""Input & target: x_t per channel with the target; many channels (one-hot text) as an image."""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg

from rnnviz.gui.panels.base import Panel, heatmap_table, lines_table
from rnnviz.gui.theme import Theme
from rnnviz.session import Results, ViewState

MAX_LINES = 8  # more channels than this are drawn as a channels × steps image


def _ink(theme: Theme) -> pg.ColorMap:
    """Background (0) to foreground (1): one-hot inputs read as ink on paper."""
    return pg.ColorMap(pos=[0.0, 1.0], color=[theme.background, theme.foreground])


def masked_targets(results: Results) -> np.ndarray | None:
    """The targets (T, O) with NaN at steps without a target (not drawn), or None."""
    seq = results.document.sequence
    if seq.targets is None:
        return None
    targets = np.array(seq.targets, dtype=np.float64)
    if seq.target_mask is not None:
        targets[~seq.target_mask] = np.nan
    return targets


class InputPanel(Panel):
    """x_t per channel (solid) and the target (dashed); ``input_plot`` is its PlotItem."""

    key = "input"
    title = "Input && target"

    def __init__(self, theme: Theme, parent=None) -> None:
        super().__init__(theme, parent)
        self.input_plot = self.add_time_plot(0)
        self.input_plot.setLabel("left", "x, target")
        self.input_plot.setLabel("bottom", "step")
        self.add_legend(self.input_plot)
        self.input_plot.setMouseEnabled(x=True, y=False)
        self._image = pg.ImageItem(axisOrder="row-major")
        self._image.setZValue(-10)
        self._image.setColorMap(_ink(theme))
        self._classes = pg.ScatterPlotItem(
            size=5, symbol="s", pen=None, brush=pg.mkBrush(theme.alarm)
        )
        self._structure: tuple = ()
        self._x_lines: list[pg.PlotDataItem] = []
        self._t_lines: list[pg.PlotDataItem] = []

    def _rebuild(self, names: tuple[str, ...], target_cols: int, image: bool) -> None:
        plot = self.input_plot
        for item in self._x_lines + self._t_lines:
            plot.removeItem(item)
            if plot.legend is not None:
                plot.legend.removeItem(item)
        self._lines = [
            ln
            for ln in self._lines
            if ln.item not in self._x_lines and ln.item not in self._t_lines
        ]
        self._x_lines, self._t_lines = [], []
        if self._image.scene() is not None:
            plot.removeItem(self._image)
            plot.removeItem(self._classes)
        left = plot.getAxis("left")
        if image:
            plot.addItem(self._image)
            plot.addItem(self._classes)
            # every channel named where there is room: a sparse first level, the rest second
            every = max(1, len(names) // 4)
            major = [(k, n) for k, n in enumerate(names) if k % every == 0]
            minor = [(k, n) for k, n in enumerate(names) if k % every != 0]
            left.setTicks([major, minor])
            plot.setLabel("left", "channel")
            plot.setYRange(-0.5, len(names) - 0.5, padding=0)
            plot.enableAutoRange(y=False)
        else:
            left.setTicks(None)
            plot.setLabel("left", "x, target")
            for k, name in enumerate(names):
                self._x_lines.append(self.add_line(plot, name, k))
            for k in range(target_cols):
                label = "target" if target_cols == 1 else f"target {k}"
                self._t_lines.append(self.add_line(plot, label, -1, dashed=True))
            self._yranges.pop(id(plot), None)

    def show_results(self, results: Results, view: ViewState) -> None:
        self.results = results
        seq = results.document.sequence
        image = seq.channels > MAX_LINES
        targets = masked_targets(results)
        target_cols = 0 if targets is None else targets.shape[1]
        structure = (seq.channel_names, target_cols, image)
        if structure != self._structure:
            self._structure = structure
            self._rebuild(seq.channel_names, target_cols, image)
            self.fit_legend(self.input_plot)
        steps = np.arange(seq.steps, dtype=np.float64)
        if image:
            data = seq.inputs.T
            lo, hi = float(data.min()), float(data.max())
            self._image.setImage(data, autoLevels=False, levels=(lo, hi if hi > lo else lo + 1))
            self._image.setRect(-0.5, -0.5, seq.steps, seq.channels)
            self._tables = {"input": partial(heatmap_table, data, row_name="channel")}
            if targets is not None:
                cls = targets[:, 0]
                keep = np.isfinite(cls)
                self._classes.setData(steps[keep], cls[keep])
                self._tables["target"] = partial(lines_table, {"target": cls})
            return
        columns: dict[str, np.ndarray] = {}
        for k, item in enumerate(self._x_lines):
            item.setData(steps, seq.inputs[:, k])
            columns[seq.channel_names[k]] = seq.inputs[:, k]
        for k, item in enumerate(self._t_lines):
            item.setData(steps, targets[:, k])
            columns["target" if target_cols == 1 else f"target {k}"] = targets[:, k]
        self.fit_y(self.input_plot, *columns.values())
        self._tables = {"input": partial(lines_table, columns)}

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self._image.setColorMap(_ink(theme))
        self._classes.setBrush(pg.mkBrush(theme.alarm))
