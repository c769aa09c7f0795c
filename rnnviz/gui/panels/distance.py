"""Gradient against distance: ‖∂s_t/∂s_k‖₂ against t − k at the cursor step t, on a log axis.

Beside it the reference ρ^(t−k), ρ the recurrent weights' spectral radius (a vanilla RNN's
W_hh; for gated cells the gate block with the largest radius, named in the legend): where the
product of Jacobians follows it, the gradient vanishes (ρ < 1) or explodes (ρ > 1)
geometrically. For an LSTM the product of forget gates along the way (per layer, the largest
over the units): the cell's own path, the constant error carousel, which the Jacobian norm
follows when the forget gates stay open.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from rnnviz.gui.panels.analysis_base import AnalysisPanel, note_item
from rnnviz.gui.panels.ranges import positive_or_nan
from rnnviz.gui.panels.tables import Table
from rnnviz.gui.theme import Theme
from rnnviz.session.analysis import DistanceCurve, Failure, request

NORM_NAME = "‖∂s_t/∂s_k‖₂"


class DistancePanel(AnalysisPanel):
    """The Jacobian products' norms at the cursor step against the distance."""

    key = "distance"

    def __init__(self, theme: Theme, parent=None) -> None:
        super().__init__(theme, parent)
        self.plot = self.add_plot(0)
        self.plot.setLogMode(x=False, y=True)
        self.plot.setLabel("left", "norm (log)")
        self.plot.setLabel("bottom", "distance t − k (steps back from the cursor)")
        self.plot.showGrid(x=False, y=True, alpha=theme.grid_alpha)
        self.add_legend(self.plot)
        self.norm_line = self.add_line(self.plot, NORM_NAME, 0, width=1.5)
        self.reference_line = self.add_line(self.plot, "ρ^(t−k)", -1, dashed=True)
        self._reference_label = "ρ^(t−k)"
        self.forget_lines: list = []
        self._forget_layers = 0
        self.note = note_item(self.plot, theme)

    def requests(self, results, view, step):
        return {"distance": request(results, "distance", t=step)}

    @property
    def curve(self) -> DistanceCurve | None:
        value = self.values.get("distance")
        return value if isinstance(value, DistanceCurve) else None

    def _set_forget_lines(self, layers: int) -> None:
        if layers == self._forget_layers:
            return
        self.remove_lines(self.plot, self.forget_lines)
        self.forget_lines = [
            self.add_line(self.plot, "∏ f (forget gates)" if layers == 1
                          else f"∏ f, layer {k}", 2 + k, dashed=k > 0)
            for k in range(layers)]
        self._forget_layers = layers

    def draw_part(self, name: str, value) -> None:
        if not isinstance(value, DistanceCurve):
            for item in (self.norm_line, self.reference_line, *self.forget_lines):
                item.setData([], [])
            self._tables = {}
            self.note.setText(value.message if isinstance(value, Failure) else "")
            self.note.setVisible(isinstance(value, Failure))
            return
        self.note.hide()
        x = value.distance.astype(np.float64)
        norm = positive_or_nan(value.norm)
        reference = positive_or_nan(value.reference)
        self.norm_line.setData(x, norm)
        self.reference_line.setData(x, reference)
        label = f"ρ^(t−k), ρ({value.radius_of}) = {value.radius:.3g}"
        if label != self._reference_label:
            self._reference_label = label
            self.rename_line(self.reference_line, label)
        forget = value.forget
        self._set_forget_lines(0 if forget is None else forget.shape[0])
        columns = {NORM_NAME: norm, f"rho^(t-k), rho={value.radius:.6g}": reference}
        if forget is not None:
            for k, item in enumerate(self.forget_lines):
                f = positive_or_nan(forget[k])
                item.setData(x, f)
                columns[item.name()] = f
        # the reference is a guide: it may run off the plot, the data may not
        self.fit_y(self.plot, norm, *list(columns.values())[2:], log=True)
        self.plot.setXRange(0, max(float(x[-1]), 1.0), padding=0.02)
        self.set_title(self.plot, f"Jacobian products at step t = {value.t}")
        self._tables = {"gradient_distance": partial(_distance_table, x, columns)}

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self.plot.showGrid(x=False, y=True, alpha=theme.grid_alpha)
        self.note.setColor(theme.foreground)


def _distance_table(distance: np.ndarray, columns: dict[str, np.ndarray]) -> Table:
    return (["distance", *columns], np.column_stack([distance, *columns.values()]))
