"""Gates: one heatmap per gate of the selected layer (LSTM i, f, g, o; GRU r, z, n; the vanilla
RNN's pre-activation)."""

from __future__ import annotations

from functools import partial

import numpy as np

from rnnviz.engine import GATE_NAMES
from rnnviz.gui.panels.base import Panel
from rnnviz.gui.panels.items import Heatmap, colour_table, heat_pixels
from rnnviz.gui.panels.ranges import finite_or_nan, symmetric_limit
from rnnviz.gui.panels.tables import heatmap_table
from rnnviz.gui.theme import Theme, colormap
from rnnviz.session import ModelResults, ViewState

GATE_TITLES = {
    "i": "input gate i",
    "f": "forget gate f",
    "g": "candidate g (tanh)",
    "o": "output gate o",
    "r": "reset gate r",
    "z": "update gate z",
    "n": "candidate n (tanh)",
    "pre": "pre-activation W_ih x + W_hh h + b",
}
# Candidates are tanh outputs in [-1, 1], so they get the signed scale rather than [0, 1].
SIGNED_GATES = {"g", "n"}


def gate_levels(name: str, values: np.ndarray) -> tuple[float, float]:
    """Fixed levels: sigmoid gates [0, 1]; tanh candidates [-1, 1]; pre-activation ±max."""
    if name == "pre":
        m = symmetric_limit(values)
        return -m, m
    return (-1.0, 1.0) if name in SIGNED_GATES else (0.0, 1.0)


class GatesPanel(Panel):
    """One heatmap per gate; the set of heatmaps follows the cell type."""

    key = "gates"

    def __init__(self, theme: Theme, parent=None) -> None:
        super().__init__(theme, parent)
        self.gate_heatmaps: dict[str, Heatmap] = {}

    def _build(self, names: tuple[str, ...]) -> None:
        for heat in self.gate_heatmaps.values():
            self.remove_plot(heat.plot)
        self.gate_heatmaps = {}
        for row, name in enumerate(names):
            signed = name == "pre" or name in SIGNED_GATES
            levels = (-1.0, 1.0) if signed else (0.0, 1.0)
            heat = self.add_heatmap(row, GATE_TITLES[name], diverging=signed, levels=levels)
            last = row == len(names) - 1
            heat.plot.getAxis("bottom").setStyle(showValues=last)
            if last:
                heat.plot.setLabel("bottom", "step")
            self.gate_heatmaps[name] = heat

    def show_results(self, results: ModelResults, view: ViewState) -> None:
        self.results = results
        cfg = results.config
        names = GATE_NAMES[cfg.cell]
        if tuple(self.gate_heatmaps) != names:
            self._build(names)
        steps = results.sequence.steps
        self._tables = {}
        prep = self.prepared(results, view) or self.prepare(results, view, pixels=False)
        for name, heat in self.gate_heatmaps.items():
            data, levels, pixels = prep[name]
            heat.show(data, steps, levels, pixels)
            title = GATE_TITLES[name]
            self.set_title(heat.plot, title if cfg.num_layers == 1 else
                           f"{title}, layer {view.layer}")
            self._tables[f"gate_{name}_layer{view.layer}"] = partial(heatmap_table, data)

    def prepare(self, results: ModelResults, view: ViewState, pixels: bool = True) -> dict:
        """name -> (data (H, shown), levels, pixels or None) of every gate."""
        names = GATE_NAMES[results.config.cell]
        shown = view.visible_states(results.sequence.steps)
        out = {}
        for name in names:
            values = results.trace.gates[name][view.layer]  # (T, H)
            bounded = name != "pre" and results.nonfinite_step is None
            data = finite_or_nan(values[:shown].T, bounded)
            levels = gate_levels(name, values)
            made = None
            if pixels:
                heat = self.gate_heatmaps.get(name)
                signed = name == "pre" or name in SIGNED_GATES
                table = heat.table if heat is not None else colour_table(colormap(
                    self.theme.diverging if signed else self.theme.sequential))
                made = heat_pixels(data, levels, table)
            out[name] = (data, levels, made)
        return out
