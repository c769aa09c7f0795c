"""The comparison view: every model of the document on one time axis, one colour per model.

At the top, the key: one line per model in its colour — name, parameter count, loss and
memory horizon; clicking a line shows that model's full dashboard. Then, top to bottom: the
output against the target; the loss of each step; ‖∂L/∂h_t‖ on one shared log axis (so 1e-21
and 1e-3 are drawn decades apart, never alike); the influence of each step's input on the
last step's state relative to the last input's own (log, with the 1% line the memory horizon
is measured against); the mean activation of each gate with values in [0, 1] (LSTM i, f, o;
GRU r, z — the gate that keeps memory, f or z, solid).

Everything drawn comes from :mod:`rnnviz.session.compare` (summaries computed once per
result). The influence row comes from a background computation (see
:class:`rnnviz.gui.compare.controller.ModelsController`) and keeps its previous lines, marked
as updating, until it is done. Training curves, once models carry a training record, are a row
of their own to add here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

from rnnviz.gui.panels.base import LEFT_AXIS_WIDTH, Panel
from rnnviz.gui.panels.items import Line
from rnnviz.gui.panels.ranges import finite_or_nan, positive_or_nan
from rnnviz.gui.panels.tables import Table, lines_table
from rnnviz.gui.theme import Theme
from rnnviz.session import ModelResults, Results, Session, ViewState
from rnnviz.session.compare import (
    HORIZON_THRESHOLD,
    InfluenceSummary,
    ModelSummary,
    cached_influence,
    influence_available,
    summarise,
)

FEW_POINTS = 40  # below this many drawn steps, losses and targets are drawn as dots
# Log plots show at most this many decades below their largest value: a vanilla RNN's 1e-80
# would otherwise flatten every other model against the top. Lower values run off the bottom.
MAX_DECADES = 24
NOTE_HEADROOM = 0.3  # fraction of the data's span left free above it for the plot's name
# Gate line styles: the gate that keeps memory (LSTM forget, GRU update) solid.
GATE_STYLE = {"f": "solid", "z": "solid", "i": "dash", "r": "dash", "o": "dot"}
_PEN_STYLES = {"solid": Qt.PenStyle.SolidLine, "dash": Qt.PenStyle.DashLine,
               "dot": Qt.PenStyle.DotLine}
_ROWS = ("output", "target", "loss", "grad", "influence", "gates")


def model_colour(theme: Theme, index: int) -> str:
    """The colour of model ``index`` in every comparison plot and list."""
    return theme.lines[index % len(theme.lines)]


def key_text(name: str, parameters: int, summary: ModelSummary,
             influence: InfluenceSummary | None, pending: bool) -> str:
    """One model's line of the key (plain text after the colour mark)."""
    parts = [f"{name}", f"{parameters:,} params"]
    if summary.loss is not None:
        parts.append(f"loss {summary.loss:.3g}")
    if influence is not None:
        parts.append(f"horizon {influence.horizon_text}")
    elif pending:
        parts.append("horizon …")
    return " · ".join(parts)


class KeyEntry(pg.LabelItem):
    """One line of the key; a click calls ``clicked()``. ``plain``: its text without markup."""

    def __init__(self, clicked: Callable[[], None]) -> None:
        super().__init__("", justify="left", size="8pt")
        self.plain = ""
        self._clicked = clicked
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("click: show this model's dashboard")

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph's name)
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self._clicked()


class ComparePanel(Panel):
    """Every model of the session's document side by side (see the module docstring).

    ``model_clicked(index)``: the user asked for a model's dashboard; ``drawn()``: new results
    were drawn (the influence rows wait for :meth:`refresh_influence`). :meth:`attach` gives the
    panel its session; it draws from ``session.last_results``, and only while shown (a hidden
    panel catches up when it is shown, and before its data is exported)."""

    key = "compare"
    model_clicked = Signal(int)
    drawn = Signal()  # new results were drawn (their influence may still be to compute)

    def __init__(self, theme: Theme, parent=None) -> None:
        super().__init__(theme, parent)
        self.session: Session | None = None
        self._gate_styles: dict[int, str] = {}  # line id -> pen style of a gate's line
        self.key_layout = pg.GraphicsLayout()
        self.key_layout.setContentsMargins(LEFT_AXIS_WIDTH, 0, 0, 2)
        self.key_layout.setSpacing(0)
        self.plot_widget.addItem(self.key_layout, row=0, col=0)
        self.key_entries: list[KeyEntry] = []

        # each plot's name is a note in its corner: rotated axis labels do not fit short rows
        self.output_plot, self.output_note = self._row(1, "output y_t and target")
        self.loss_plot, self.loss_note = self._row(2, "loss per step")
        self.grad_plot, self.grad_note = self._row(3, "‖∂L/∂h_t‖ (log)")
        self.influence_plot, self.influence_note = self._row(
            4, f"influence of x_k on h_T, relative (log; dotted: {HORIZON_THRESHOLD:.0%})")
        self.gate_plot, self.gate_note = self._row(5, "mean gate")
        for plot in (self.grad_plot, self.influence_plot):
            plot.setLogMode(x=False, y=True)
        self.gate_plot.setLabel("bottom", "step")
        self.gate_plot.getAxis("bottom").setStyle(showValues=True)
        self.threshold = pg.InfiniteLine(pos=np.log10(HORIZON_THRESHOLD), angle=0, movable=False)
        self.influence_plot.addItem(self.threshold, ignoreBounds=True)
        layout = self.plot_widget.ci.layout
        for row, stretch in enumerate((0, 3, 2, 3, 3, 3)):
            layout.setRowStretchFactor(row, stretch)
        self._names = {id(note): note.toPlainText() for note in
                       (self.output_note, self.loss_note, self.grad_note, self.influence_note,
                        self.gate_note)}

        self.lines: dict[str, list[pg.PlotDataItem]] = {row: [] for row in _ROWS}
        self._structure: tuple = ()
        self._drawn: tuple = ()
        self._drawn_influence: tuple = ()
        self._influence_pending = False
        self._influence_fraction: float | None = None
        self._influence_cut = ""  # what the influence plot's range leaves off, if anything
        self._dirty = True
        self._key_shown: tuple = ()
        self._style_extras()

    def _row(self, row: int, name: str) -> tuple[pg.PlotItem, pg.TextItem]:
        """A time plot at ``row`` and the note in its top-left corner that names it."""
        plot = self.add_time_plot(row)
        plot.setMouseEnabled(x=True, y=False)
        plot.getAxis("bottom").setStyle(showValues=False)
        note = pg.TextItem(name, color=self.theme.foreground, anchor=(0, 0),
                           fill=pg.mkBrush(self.theme.background + "c0"))
        font = note.textItem.font()
        font.setPointSizeF(8.0)
        note.setFont(font)
        note.setParentItem(plot.getViewBox())
        note.setPos(4, -2)
        return plot, note

    def _set_note(self, note: pg.TextItem, extra: str = "") -> None:
        """The plot's name, then ``extra`` (a state, a reason, a line-style key)."""
        name = self._names[id(note)]
        text = f"{name} — {extra}" if extra else name
        if note.toPlainText() != text:
            note.setText(text)

    # ---- wiring ------------------------------------------------------------------------------
    def attach(self, session: Session) -> None:
        """Draw ``session``'s results from now on."""
        self.session = session
        self._dirty = True

    def current(self) -> Results | None:
        """The results drawn: the session's current ones (None while they are computed)."""
        return None if self.session is None else self.session.last_results

    # ---- drawing -----------------------------------------------------------------------------
    def show_results(self, results: ModelResults, view: ViewState) -> None:
        self.results = results
        self.refresh()

    def refresh(self, force: bool = False) -> None:
        """Draw the session's current results if they changed since the last drawing (only
        while the panel is shown, unless ``force``), and the selection."""
        results = self.current()
        if results is None or self.session is None:
            return
        view = self.session.view
        steps = results.document.sequence.steps
        key = (tuple(map(id, results.models)), view.visible_states(steps),
               view.visible_gradients(steps))
        if key != self._drawn or force:
            if not force and not self.isVisible():
                self._dirty = True
                return
            self._draw(results, view)
            self._drawn = key
            self._dirty = False
            self._drawn_influence = ()
            self.refresh_influence()
            self.drawn.emit()
        self._show_key(results)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._dirty:
            self.refresh()

    def _clear_lines(self) -> None:
        gone = {id(item) for items in self.lines.values() for item in items}
        for plot in self.time_plots:
            for item in list(plot.listDataItems()):
                if id(item) in gone:
                    plot.removeItem(item)
        self._lines = [ln for ln in self._lines if id(ln.item) not in gone]
        self._gate_styles = {}
        self.lines = {row: [] for row in _ROWS}

    def _rebuild(self, results: Results, summaries: list[ModelSummary]) -> None:
        """New line items and key entries for a new set of models (or output channels)."""
        self._clear_lines()
        lines = self.lines
        for k, (r, s) in enumerate(zip(results.models, summaries, strict=True)):
            name = r.model.name
            channels = 0 if s.output is None else s.output.shape[1]
            for c in range(channels):
                lines["output"].append(self.add_line(self.output_plot, f"{name} y[{c}]", k))
            lines["loss"].append(self.add_line(self.loss_plot, name, k))
            lines["grad"].append(self.add_line(self.grad_plot, name, k))
            lines["influence"].append(self.add_line(self.influence_plot, name, k))
            for gate in s.gates:
                item = self.add_line(self.gate_plot, f"{name} {gate}", k)
                self._gate_styles[id(item)] = GATE_STYLE.get(gate, "solid")
                self._style_line(self._lines[-1])
                lines["gates"].append(item)
        seq = results.document.sequence
        if seq.targets is not None and results.document.task.loss == "mse":
            widest = max((s.output.shape[1] for s in summaries if s.output is not None),
                         default=0)
            for c in range(min(seq.targets.shape[1], widest)):
                lines["target"].append(self.add_line(self.output_plot, f"target[{c}]", -1,
                                                     dashed=True))
        for entry in self.key_entries:
            self.key_layout.removeItem(entry)
        self.key_entries = []
        for k in range(len(results.models)):
            entry = KeyEntry(lambda k=k: self.model_clicked.emit(k))
            self.key_layout.addItem(entry, row=k, col=0)
            self.key_entries.append(entry)
        self._key_shown = ()

    def _draw(self, results: Results, view: ViewState) -> None:
        summaries = [summarise(r) for r in results.models]
        seq = results.document.sequence
        steps = seq.steps
        structure = (tuple((r.model.name, None if s.output is None else s.output.shape[1],
                            tuple(s.gates)) for r, s in zip(results.models, summaries,
                                                            strict=True)),
                     results.document.task, None if seq.targets is None else seq.targets.shape)
        if structure != self._structure:
            self._structure = structure
            self._rebuild(results, summaries)
        shown = view.visible_states(steps)
        start, stop = view.visible_gradients(steps)
        x = np.arange(steps, dtype=np.float64)
        outputs: dict[str, np.ndarray] = {}
        losses: dict[str, np.ndarray] = {}
        grads: dict[str, np.ndarray] = {}
        gates: dict[str, np.ndarray] = {}
        out_items = iter(self.lines["output"])
        gate_items = iter(self.lines["gates"])
        counted = 0
        loss_rows: list[tuple[pg.PlotDataItem, np.ndarray]] = []
        for r, s, loss_item, grad_item in zip(results.models, summaries, self.lines["loss"],
                                              self.lines["grad"], strict=True):
            name = r.model.name
            if s.output is not None:
                wide = s.output.shape[1] > 1
                for c in range(s.output.shape[1]):
                    y = finite_or_nan(s.output[:shown, c])
                    next(out_items).setData(x[:shown], y)
                    outputs[f"{name} y[{c}]" if wide else name] = y
            if s.loss_per_step is not None:
                per_step = finite_or_nan(s.loss_per_step[:shown])
                losses[name] = per_step
                loss_rows.append((loss_item, per_step))
                counted = max(counted, int(np.isfinite(per_step).sum()))
            else:
                loss_item.setData([], [])
            g = positive_or_nan(s.grad_norm)
            if start > 0 or stop < steps:
                g = g.copy()
                g[:start] = np.nan
                g[stop:] = np.nan
            grad_item.setData(x, g)
            grads[name] = g
            for gate, values in s.gates.items():
                y = finite_or_nan(values[:shown])
                next(gate_items).setData(x[:shown], y)
                gates[f"{name} {gate}"] = y
        targets = seq.masked_targets
        few_targets = targets is not None and int(np.isfinite(targets[:, 0]).sum()) < FEW_POINTS
        for c, item in enumerate(self.lines["target"]):
            self._dots(item, few_targets, "x")
            self._set_points(item, x, targets[:, c], few_targets)
            outputs["target" if len(self.lines["target"]) == 1 else f"target[{c}]"] = \
                targets[:, c]
        for item, per_step in loss_rows:
            self._dots(item, counted < FEW_POINTS, "o")
            self._set_points(item, x[:shown], per_step, counted < FEW_POINTS)
        self._fit(self.output_plot, outputs.values())
        self._fit(self.loss_plot, losses.values())
        self._set_note(self.grad_note, self._fit(self.grad_plot, grads.values(), log=True))
        self._fit(self.gate_plot, [np.array([0.0, 1.0])])
        self._set_note(self.output_note, "" if outputs else "no readout: the task has no loss")
        self._set_note(self.loss_note, "" if losses else "the task has no loss")
        cells = {r.model.config.cell for r in results.models}
        notes = []
        if cells & {"lstm", "gru"}:
            styles = [("f", "z", "solid"), ("i", "r", "dashed"), ("o", None, "dotted")]
            for lstm, gru, style in styles:
                names = [g for g, cell in ((lstm, "lstm"), (gru, "gru")) if g and cell in cells]
                if names:
                    notes.append(f"{', '.join(names)} {style}")
        if cells & {"rnn_tanh", "rnn_relu"}:
            notes.append("RNN: no gates")
        self._set_note(self.gate_note, "; ".join(notes))
        columns = {"output": outputs, "loss": losses, "gradients": grads, "gates": gates}
        self._tables = {name: (lambda cols=cols: lines_table(cols))
                        for name, cols in columns.items() if cols}
        self._tables["summary"] = self._summary_table

    def _fit(self, plot: pg.PlotItem, arrays, log: bool = False) -> str:
        """Fit ``plot``'s y range to ``arrays`` with room above for its name; on a log axis
        at most :data:`MAX_DECADES` below the top. Returns a note when values were cut off."""
        finite = [a[np.isfinite(a) & ((a > 0) if log else True)] for a in map(np.asarray, arrays)]
        finite = [a for a in finite if a.size]
        if not finite:
            self.fit_y(plot, np.array([]), log=log)
            return ""
        lo = min(float(a.min()) for a in finite)
        hi = max(float(a.max()) for a in finite)
        cut = ""
        if log:
            lo_d, hi_d = np.log10(lo), np.log10(hi)
            if hi_d - lo_d > MAX_DECADES:
                lo_d = hi_d - MAX_DECADES
                cut = f"below 1e{int(np.floor(lo_d))} off scale"
            top = 10.0 ** (hi_d + NOTE_HEADROOM * max(hi_d - lo_d, 1.0))
            self.fit_y(plot, np.array([10.0 ** lo_d, top]), log=True)
        else:
            self.fit_y(plot, np.array([lo, hi + NOTE_HEADROOM * max(hi - lo, 1e-12)]))
        return cut

    @staticmethod
    def _set_points(item: pg.PlotDataItem, x: np.ndarray, y: np.ndarray, dots: bool) -> None:
        """``item``'s data; as dots only the points there are (a scatter of NaN gaps would
        be clipped to nothing at the edges of the view)."""
        if dots:
            keep = np.isfinite(y)
            x, y = x[keep], y[keep]
        item.setData(x, y)

    def _dots(self, item: pg.PlotDataItem, on: bool, symbol: str) -> None:
        """Draw ``item`` as dots (few points: a line would not show) or as a line."""
        wanted = symbol if on else None
        if item.opts["symbol"] != wanted:
            item.setSymbol(wanted)
            item.setSymbolSize(7 if symbol == "x" else 6)
            self._style_line(next(ln for ln in self._lines if ln.item is item))

    def _show_key(self, results: Results) -> None:
        """The key's lines: each model's numbers, the selected one in bold."""
        if len(self.key_entries) != len(results.models):
            return
        selected = self.session.view.model if self.session is not None else -1
        lines = []
        for r in results.models:
            lines.append(key_text(r.model.name, r.model.parameter_count, summarise(r),
                                  cached_influence(r), self._influence_pending))
        shown = (tuple(lines), selected, self.theme.name)
        if shown == self._key_shown:
            return
        self._key_shown = shown
        for k, (entry, text) in enumerate(zip(self.key_entries, lines, strict=True)):
            colour = model_colour(self.theme, k)
            mark = "▶" if k == selected else "■"
            weight = "bold" if k == selected else "normal"
            entry.plain = text
            entry.setText(f"<span style='color:{colour}'>{mark}</span> "
                          f"<span style='font-weight:{weight}'>{_escape(text)}</span>",
                          color=self.theme.foreground)

    def set_influence_pending(self, pending: bool, fraction: float | None = None) -> None:
        """Whether newer influence numbers are being computed (the lines drawn are older),
        and how far that is (0..1) when known."""
        self._influence_pending = pending
        self._influence_fraction = fraction if pending else None
        self._influence_note()
        results = self.current()
        if results is not None:
            self._show_key(results)

    def refresh_influence(self) -> None:
        """Draw the influence profiles computed for the current results (a model whose
        numbers are still being computed keeps its older line)."""
        results = self.current()
        if results is None or self._dirty or \
                len(self.lines["influence"]) != len(results.models):
            return
        found = tuple(cached_influence(r) for r in results.models)
        key = tuple(map(id, found))
        if key != self._drawn_influence:
            self._drawn_influence = key
            x = np.arange(results.document.sequence.steps, dtype=np.float64)
            for r, summary, item in zip(results.models, found, self.lines["influence"],
                                        strict=True):
                if summary is not None:
                    item.setData(x, positive_or_nan(summary.profile))
                elif influence_available(r) is not None:
                    item.setData([], [])
            drawn = [np.asarray(item.yData) for item in self.lines["influence"]
                     if item.yData is not None and len(item.yData)]
            self._influence_cut = self._fit(self.influence_plot,
                                            [*drawn, np.array([1.0, HORIZON_THRESHOLD / 3])],
                                            log=True)
            columns = {r.model.name: positive_or_nan(summary.profile)
                       for r, summary in zip(results.models, found, strict=True)
                       if summary is not None}
            if columns:
                self._tables["influence"] = lambda cols=columns: lines_table(cols)
            else:
                self._tables.pop("influence", None)
        self._influence_note()
        self._show_key(results)

    def _influence_note(self) -> None:
        results = self.current()
        if results is None:
            return
        reasons = sorted({influence_available(r) for r in results.models} - {None})
        missing = any(cached_influence(r) is None and influence_available(r) is None
                      for r in results.models)
        if missing:
            fraction = self._influence_fraction
            if not self._influence_pending:
                text = "to come"
            elif fraction is None:
                text = "updating…"
            else:
                text = f"updating… {fraction:.0%}"
        else:
            text = "; ".join(reasons)
        self._set_note(self.influence_note,
                       "; ".join(t for t in (text, self._influence_cut) if t))

    def _summary_table(self) -> Table:
        """One row per model: name, cell, hidden size, layers, parameters, loss, memory
        horizon (steps; inf when longer than the sequence; empty when not known)."""
        results = self.current()
        rows = []
        for r in results.models if results is not None else ():
            s = summarise(r)
            inf = cached_influence(r)
            cfg = r.model.config
            rows.append([r.model.name, cfg.cell, cfg.hidden_size, cfg.num_layers,
                         r.model.parameter_count, "" if s.loss is None else s.loss,
                         "" if inf is None else inf.horizon.value])
        return (["model", "cell", "hidden_size", "layers", "parameters", "loss",
                 "memory_horizon"], rows)

    def csv_tables(self) -> dict[str, Table]:
        if self._dirty:
            self.refresh(force=True)
        return super().csv_tables()

    # ---- theme -------------------------------------------------------------------------------
    def _style_line(self, line: Line) -> None:
        style = self._gate_styles.get(id(line.item))
        if style is None:
            super()._style_line(line)
            return
        colour = self.theme.lines[line.colour % len(self.theme.lines)]
        line.item.setPen(pg.mkPen(colour, width=line.width, style=_PEN_STYLES[style]))

    def _style_extras(self) -> None:
        theme = self.theme
        for plot in (self.grad_plot, self.influence_plot):
            plot.showGrid(y=True, alpha=theme.grid_alpha)
        self.threshold.setPen(pg.mkPen(theme.target, width=1, style=_PEN_STYLES["dot"]))
        for note in (self.output_note, self.loss_note, self.grad_note, self.influence_note,
                     self.gate_note):
            note.setColor(theme.foreground)
            note.fill = pg.mkBrush(theme.background + "c0")
            note.update()

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self._style_extras()
        results = self.current()
        if results is not None:
            self._show_key(results)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

