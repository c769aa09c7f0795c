"""Spectrum: the eigenvalues of W_hh on the complex plane, and the step Jacobian's singular
values at the cursor.

Left, for the chosen layer: each gate block's eigenvalues (LSTM i, f, g, o; GRU r, z, n; a
vanilla RNN's whole W_hh) with the unit circle; the legend gives each block's spectral radius
ρ and norm ‖·‖₂. Right: the singular values of J_t = ∂s_t/∂s_{t−1} at the cursor step, against
1 (above it the step stretches the state in that direction, below it shrinks it). Both follow
the recurrent-scale slider: a new scale is a new network, and the panel redraws at once.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QLabel

from rnnviz.gui.panels.analysis_base import AnalysisPanel, elastic, note_item, shrinkable
from rnnviz.gui.panels.ranges import positive_or_nan
from rnnviz.gui.panels.tables import Table
from rnnviz.gui.theme import Theme
from rnnviz.session.analysis import Failure, SpectrumView, StepSpectrum, request

CIRCLE_POINTS = 256


class SpectrumPanel(AnalysisPanel):
    """Eigenvalues of W_hh per gate block, and the singular values of J_t."""

    key = "spectrum"

    def __init__(self, theme: Theme, parent=None) -> None:
        super().__init__(theme, parent)
        bar = self.control_bar()
        bar.addWidget(QLabel("Layer"))
        self.layer_combo = QComboBox()
        self.layer_combo.setToolTip("Whose W_hh the complex plane shows")
        self.layer_combo.addItem("layer 0", 0)
        self.layer_combo.currentIndexChanged.connect(lambda _i: self._redraw_eigenvalues())
        bar.addWidget(shrinkable(self.layer_combo))
        bar.addSpacing(12)
        self.summary = QLabel("")
        bar.addWidget(elastic(self.summary), 1)

        self.plane = self.add_plot(0, 0)
        self.plane.setAspectLocked(True)
        self.plane.setLabel("left", "Im λ")
        self.plane.setLabel("bottom", "Re λ")
        self.plane.showGrid(x=True, y=True, alpha=theme.grid_alpha)
        angle = np.linspace(0.0, 2.0 * np.pi, CIRCLE_POINTS)
        self.circle = self.plane.plot(np.cos(angle), np.sin(angle))
        # the blocks' radii and norms under the plots, not over the eigenvalues
        self.block_legend = pg.LegendItem(colCount=2, labelTextSize="8pt", verSpacing=-6,
                                          horSpacing=12)
        self.plot_widget.addItem(self.block_legend, row=1, col=0, colspan=2)
        self.block_items: list[pg.ScatterPlotItem] = []
        self.singular = self.add_plot(0, 1)
        self.singular.setLogMode(x=False, y=True)
        self.singular.setLabel("left", "σ (log)")
        self.singular.setLabel("bottom", "index")
        self.singular.showGrid(y=True, alpha=theme.grid_alpha)
        self.one_line = pg.InfiniteLine(pos=0.0, angle=0, movable=False)
        self.singular.addItem(self.one_line, ignoreBounds=True)
        self.singular_item = pg.ScatterPlotItem(size=5)
        self.singular.addItem(self.singular_item)
        self.plot_widget.ci.layout.setColumnStretchFactor(0, 1)
        self.plot_widget.ci.layout.setColumnStretchFactor(1, 1)
        self.note = note_item(self.plane, theme)
        self.singular_note = note_item(self.singular, theme)
        self._style_items()

    def _style_items(self) -> None:
        fg = self.theme.foreground
        self.circle.setPen(pg.mkPen(fg, width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
        self.one_line.setPen(pg.mkPen(self.theme.target, width=1,
                                      style=pg.QtCore.Qt.PenStyle.DashLine))
        self.singular_item.setBrush(pg.mkBrush(self.theme.lines[0]))
        self.singular_item.setPen(pg.mkPen(None))
        for k, item in enumerate(self.block_items):
            colour = self.theme.lines[k % len(self.theme.lines)]
            item.setBrush(pg.mkBrush(colour))
            item.setPen(pg.mkPen(None))

    # ---- values ----------------------------------------------------------------------------
    def requests(self, results, view, step):
        return {"spectrum": request(results, "spectrum"),
                "singular": request(results, "singular", t=step)}

    @property
    def spectrum(self) -> SpectrumView | None:
        value = self.values.get("spectrum")
        return value if isinstance(value, SpectrumView) else None

    @property
    def layer(self) -> int:
        return int(self.layer_combo.currentData() or 0)

    def draw_part(self, name: str, value) -> None:
        if name == "spectrum":
            layers = len(value.layers) if isinstance(value, SpectrumView) else 1
            if self.layer_combo.count() != layers:
                keep = self.layer
                self.layer_combo.blockSignals(True)
                self.layer_combo.clear()
                for k in range(layers):
                    self.layer_combo.addItem(f"layer {k}", k)
                self.layer_combo.setCurrentIndex(min(keep, layers - 1))
                self.layer_combo.blockSignals(False)
            self.layer_combo.setEnabled(layers > 1)
            self._redraw_eigenvalues()
        else:
            self._draw_singular(value)
        self._tables = self._make_tables()

    def _redraw_eigenvalues(self) -> None:
        value = self.values.get("spectrum")
        for item in self.block_items:
            self.plane.removeItem(item)
        self.block_legend.clear()
        self.block_items = []
        if not isinstance(value, SpectrumView):
            self.note.setText(value.message if isinstance(value, Failure) else "")
            self.note.setVisible(isinstance(value, Failure))
            self.summary.setText("")
            return
        self.note.hide()
        layer = value.layers[min(self.layer, len(value.layers) - 1)]
        extent = 1.0
        for block in layer.blocks:
            ev = block.eigenvalues
            label = "W_hh" if block.name == "hh" else f"W_h{block.name}"
            item = pg.ScatterPlotItem(ev.real, ev.imag, size=6)
            self.plane.addItem(item)
            self.block_items.append(item)
            self.block_legend.addItem(item, f"{label}: ρ {block.radius:.3g}, "
                                            f"‖·‖₂ {block.norm:.3g}")
            extent = max(extent, float(np.max(np.abs(ev))) if ev.size else 0.0)
        self._style_items()
        self.block_legend.setColumnCount(2 if len(layer.blocks) > 1 else 1)
        r = extent * 1.1
        self.plane.setRange(xRange=(-r, r), yRange=(-r, r), padding=0.02)
        self.set_title(self.plane, f"eigenvalues of W_hh, layer {layer.layer}")
        self.summary.setText(f"largest ρ: {value.radius:.4g} ({value.radius_of}); "
                             f"‖W_hh‖₂ = {layer.norm:.4g}")
        self._tables = self._make_tables()

    def _draw_singular(self, value) -> None:
        if not isinstance(value, StepSpectrum):
            self.singular_item.setData([], [])
            self.singular_note.setText(value.message if isinstance(value, Failure) else "")
            self.singular_note.setVisible(isinstance(value, Failure))
            return
        self.singular_note.hide()
        sv = positive_or_nan(value.singular_values)
        keep = np.isfinite(sv)
        idx = np.arange(sv.size, dtype=np.float64)
        self.singular_item.setData(idx[keep], np.log10(sv[keep]))
        self.fit_y(self.singular, sv, np.array([1.0]), log=True)
        self.singular.setXRange(-0.5, max(sv.size - 0.5, 0.5), padding=0.02)
        self.set_title(self.singular, f"singular values of J_t at t = {value.t}")

    def _make_tables(self) -> dict:
        tables = {}
        spec = self.spectrum
        if spec is not None:
            tables["eigenvalues"] = partial(_eigen_table, spec)
            tables["spectrum_summary"] = partial(_summary_table, spec)
        step = self.values.get("singular")
        if isinstance(step, StepSpectrum):
            tables["step_singular_values"] = partial(
                lambda s: (["index", f"sigma at step {s.t}"],
                           np.column_stack([np.arange(s.singular_values.size, dtype=float),
                                            s.singular_values])), step)
        return tables

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self._style_items()
        for plot in (self.plane, self.singular):
            plot.showGrid(x=plot is self.plane, y=True, alpha=theme.grid_alpha)
        self.note.setColor(theme.foreground)
        self.singular_note.setColor(theme.foreground)
        self.block_legend.setLabelTextColor(theme.foreground)


def _block_header(spec: SpectrumView) -> str:
    names = [b.name for b in spec.layers[0].blocks]
    return "block (" + ", ".join(f"{k}={n}" for k, n in enumerate(names)) + ")"


def _eigen_table(spec: SpectrumView) -> Table:
    rows = []
    for layer in spec.layers:
        for b, block in enumerate(layer.blocks):
            ev = block.eigenvalues
            rows.append(np.column_stack([np.full(ev.size, layer.layer, float),
                                         np.full(ev.size, b, float), ev.real, ev.imag,
                                         np.abs(ev)]))
    return (["layer", _block_header(spec), "real", "imag", "modulus"], np.vstack(rows))


def _summary_table(spec: SpectrumView) -> Table:
    rows = [[layer.layer, b, block.radius, block.norm, layer.norm]
            for layer in spec.layers for b, block in enumerate(layer.blocks)]
    return (["layer", _block_header(spec), "spectral radius", "block norm",
             "norm of W_hh (all gates)"], np.array(rows, dtype=float))
