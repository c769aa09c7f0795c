"""Perturbation: nudge the input at the cursor step k by ε on one channel, and compare the
real change of every later state with the first-order prediction from the Jacobians.

Top (log axis): ‖Δh_t‖ of a real rerun, the prediction's ‖(∂h_t/∂x_k) ε e_c‖ and the norm of
their difference for every t >= k — where the difference climbs to the change itself, the
network is no longer linear around this run. Below: one unit's change (the first traced unit,
or output 0), rerun against prediction.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel

from rnnviz.gui.panels.analysis_base import AnalysisPanel, note_item, shrinkable
from rnnviz.gui.panels.ranges import finite_or_nan, positive_or_nan
from rnnviz.gui.panels.tables import Table, lines_table
from rnnviz.gui.theme import Theme
from rnnviz.session.analysis import Failure, PerturbationView, request

DEFAULT_EPS = 0.1


class PerturbPanel(AnalysisPanel):
    """A rerun with x_k[c] + ε against the linear prediction, k the cursor step."""

    key = "perturb"

    def __init__(self, theme: Theme, parent=None) -> None:
        super().__init__(theme, parent)
        bar = self.control_bar()
        bar.addWidget(QLabel("Nudge"))
        self.channel_combo = QComboBox()
        self.channel_combo.setToolTip("The input channel nudged at the cursor step")
        self.channel_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        bar.addWidget(shrinkable(self.channel_combo))
        bar.addWidget(QLabel("by ε"))
        self.eps_spin = QDoubleSpinBox()
        self.eps_spin.setDecimals(4)
        self.eps_spin.setRange(-100.0, 100.0)
        self.eps_spin.setSingleStep(0.05)
        self.eps_spin.setValue(DEFAULT_EPS)
        self.eps_spin.setToolTip("How much the input at the cursor step is changed")
        self.eps_spin.valueChanged.connect(lambda _v: self.refresh())
        bar.addWidget(self.eps_spin)
        bar.addWidget(QLabel("change of"))
        self.of_combo = QComboBox()
        self.of_combo.addItem("h_t (top layer)", "hidden")
        self.of_combo.addItem("y_t (readout)", "output")
        self.of_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        bar.addWidget(shrinkable(self.of_combo))
        bar.addStretch(1)
        self._channels: tuple[str, ...] = ()

        self.norm_plot = self.add_time_plot(0)
        self.norm_plot.setLogMode(x=False, y=True)
        self.norm_plot.setLabel("left", "‖Δh_t‖ (log)")
        self.norm_plot.getAxis("bottom").setStyle(showValues=False)
        self.norm_plot.setMouseEnabled(x=True, y=False)
        self.norm_plot.showGrid(y=True, alpha=theme.grid_alpha)
        self.add_legend(self.norm_plot)
        self.actual_norm = self.add_line(self.norm_plot, "rerun", 0, width=1.5)
        self.predicted_norm = self.add_line(self.norm_plot, "1st-order prediction", 1,
                                            dashed=True)
        self.error_norm = self.add_line(self.norm_plot, "difference", 2)
        self.fit_legend(self.norm_plot)
        self.unit_plot = self.add_time_plot(1)
        self.unit_plot.setLabel("left", "Δh_t[u]")
        self.unit_plot.setLabel("bottom", "step")
        self.unit_plot.setMouseEnabled(x=True, y=False)
        self.add_legend(self.unit_plot)
        self.actual_unit = self.add_line(self.unit_plot, "rerun", 0, width=1.5)
        self.predicted_unit = self.add_line(self.unit_plot, "prediction", 1, dashed=True)
        self.fit_legend(self.unit_plot)
        layout = self.plot_widget.ci.layout
        layout.setRowStretchFactor(0, 3)
        layout.setRowStretchFactor(1, 2)
        self.note = note_item(self.norm_plot, theme)

    @property
    def channel(self) -> int:
        return int(self.channel_combo.currentData() or 0)

    @property
    def eps(self) -> float:
        return float(self.eps_spin.value())

    @property
    def of(self) -> str:
        return self.of_combo.currentData()

    def show_results(self, results, view) -> None:
        names = results.sequence.channel_names
        if names != self._channels:
            self._channels = names
            keep = self.channel
            self.channel_combo.blockSignals(True)
            self.channel_combo.clear()
            for k, name in enumerate(names):
                self.channel_combo.addItem(name, k)
            self.channel_combo.setCurrentIndex(min(keep, len(names) - 1))
            self.channel_combo.blockSignals(False)
        has_readout = results.config.output_size is not None
        self.of_combo.model().item(1).setEnabled(has_readout)
        if not has_readout and self.of == "output":
            self.of_combo.blockSignals(True)
            self.of_combo.setCurrentIndex(0)
            self.of_combo.blockSignals(False)
        super().show_results(results, view)

    def requests(self, results, view, step):
        return {"perturbation": request(results, "perturbation", k=step, channel=self.channel,
                                        eps=self.eps, of=self.of)}

    def _unit(self, value: PerturbationView) -> int:
        width = value.result.actual.shape[1]
        if value.result.of == "hidden" and self.view is not None and self.view.units:
            return min(self.view.units[0], width - 1)
        return 0

    def draw_part(self, name: str, value) -> None:
        lines = (self.actual_norm, self.predicted_norm, self.error_norm, self.actual_unit,
                 self.predicted_unit)
        if not isinstance(value, PerturbationView):
            for item in lines:
                item.setData([], [])
            self._tables = {}
            self.note.setText(value.message if isinstance(value, Failure) else "")
            self.note.setVisible(isinstance(value, Failure))
            return
        self.note.hide()
        p = value.result
        x = p.steps.astype(np.float64)
        what = "h" if p.of == "hidden" else "y"
        norms = {"‖Δ‖ rerun": positive_or_nan(value.actual_norm),
                 "‖Δ‖ prediction": positive_or_nan(value.predicted_norm),
                 "‖rerun − prediction‖": positive_or_nan(value.error_norm)}
        for item, y in zip(lines[:3], norms.values(), strict=True):
            item.setData(x, y)
        self.fit_y(self.norm_plot, *norms.values(), log=True)
        unit = self._unit(value)
        actual = finite_or_nan(p.actual[:, unit])
        predicted = finite_or_nan(p.predicted[:, unit])
        self.actual_unit.setData(x, actual)
        self.predicted_unit.setData(x, predicted)
        self.fit_y(self.unit_plot, actual, predicted)
        channel = self._channels[p.channel] if p.channel < len(self._channels) else p.channel
        self.norm_plot.setLabel("left", f"‖Δ{what}_t‖ (log)")
        self.unit_plot.setLabel("left", f"Δ{what}_t[{unit}]")
        self.set_title(self.norm_plot, f"x_{p.step}[{channel}] + {p.eps:g}: change of "
                                       f"{what}_t for t ≥ {p.step}")
        steps = self.results.steps

        def padded(a: np.ndarray) -> np.ndarray:
            out = np.full(steps, np.nan)
            out[p.step:] = a
            return out

        self._tables = {
            "perturbation": partial(lines_table, {k: padded(v) for k, v in norms.items()}
                                    | {f"rerun unit {unit}": padded(actual),
                                       f"prediction unit {unit}": padded(predicted)}),
            "perturbation_rerun": partial(_vectors_table, p.steps, p.actual, what),
            "perturbation_prediction": partial(_vectors_table, p.steps, p.predicted, what),
        }

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self.norm_plot.showGrid(y=True, alpha=theme.grid_alpha)
        self.note.setColor(theme.foreground)


def _vectors_table(steps: np.ndarray, values: np.ndarray, what: str) -> Table:
    """Every component of the change: a "step" column, then one column per unit."""
    headers = ["step", *(f"Δ{what}[{u}]" for u in range(values.shape[1]))]
    return headers, np.column_stack([steps.astype(np.float64), values])
