"""Training curves against the update number: loss (training batches and test set, log axis)
with the task's baseline and success threshold, the gradient norm before clipping with the clip
level, and the task's success measure. One colour per model, so models trained together race
on the same axes.

The curves are drawn from the document itself (every model's training record holds its
history), so they follow a run as its snapshots are installed, come back with undo, open with a
session file and export headless like any panel.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import numpy.ma  # noqa: F401 (np.unique imports it at its first call: in a run's first snapshot)
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem, QLabel, QSizePolicy

from rnnviz.gui.panels.base import LEFT_AXIS_WIDTH, Panel
from rnnviz.gui.panels.ranges import positive_or_nan
from rnnviz.gui.panels.tables import Table
from rnnviz.gui.theme import Theme
from rnnviz.session import Document, ModelResults, ViewState
from rnnviz.train import TrainingRecord

EMPTY_NOTE = "Not trained yet: Train → Start (Ctrl+Return) trains the model on a task"


def _table(x: np.ndarray, columns: dict[str, tuple[np.ndarray, np.ndarray]],
           name: str) -> Table:
    """Rows for every x in ``x`` (sorted), one column per series (NaN where it has no value)."""
    out = [x.astype(np.float64)]
    for xs, ys in columns.values():
        col = np.full(x.shape[0], np.nan)
        col[np.searchsorted(x, xs)] = ys
        out.append(col)
    rows = np.column_stack(out) if x.size else np.zeros((0, len(out)))
    return [name, *columns], rows


class TrainingPanel(Panel):
    """The training curves of every trained model of the document (see the module
    docstring). ``loss_plot``, ``grad_plot``, ``success_plot``; ``curves[name]``: the
    PlotDataItems drawn for a model ("train", "test", "norm", "success");
    :meth:`set_marker` marks the update the timeline shows; :meth:`set_status` writes the
    run's status line."""

    key = "training"

    def __init__(self, theme: Theme, parent=None) -> None:
        super().__init__(theme, parent)
        w = self.plot_widget
        self.loss_plot = w.addPlot(row=0, col=0, colspan=2)
        self.grad_plot = w.addPlot(row=1, col=0)
        self.success_plot = w.addPlot(row=1, col=1)
        w.ci.layout.setRowStretchFactor(0, 3)
        w.ci.layout.setRowStretchFactor(1, 2)
        self.plots = (self.loss_plot, self.grad_plot, self.success_plot)
        for plot, label, log in ((self.loss_plot, "loss (log)", True),
                                 (self.grad_plot, "‖∇‖ (log)", True),
                                 (self.success_plot, "success", False)):
            plot.setLogMode(x=False, y=log)
            plot.setLabel("left", label)
            plot.setLabel("bottom", "update")
            plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
            for name in ("left", "bottom"):
                plot.getAxis(name).enableAutoSIPrefix(False)
                # repaint from a pixmap unless the range changes (see Panel.add_time_plot)
                plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            plot.showGrid(y=True, alpha=theme.grid_alpha)
            plot.hideButtons()
            self._style_plot(plot)
        self.loss_plot.setLabel("bottom", "")  # the plots below name the axis
        self.success_plot.setYRange(0.0, 1.0, padding=0.05)
        self.success_plot.getAxis("left").setWidth(36)
        self.add_legend(self.loss_plot)
        self.reference: dict[str, pg.InfiniteLine] = {}
        for key, plot, style in (("baseline", self.loss_plot, Qt.PenStyle.DashLine),
                                 ("solved", self.loss_plot, Qt.PenStyle.DotLine),
                                 ("clip", self.grad_plot, Qt.PenStyle.DashLine),
                                 ("success", self.success_plot, Qt.PenStyle.DotLine)):
            line = pg.InfiniteLine(angle=0, movable=False, label=key,
                                   labelOpts={"position": 0.98, "anchors": [(1, 1), (1, 1)],
                                              "color": theme.foreground})
            line.setZValue(-5)
            line.hide()
            plot.addItem(line, ignoreBounds=True)
            self.reference[key] = line
            line._style = style  # noqa: SLF001 (kept for re-theming)
        self.markers: list[pg.InfiniteLine] = []
        self.divergence: list[pg.InfiniteLine] = []
        for plot in self.plots:
            marker = pg.InfiniteLine(angle=90, movable=False)
            marker.setZValue(50)
            marker.hide()
            plot.addItem(marker, ignoreBounds=True)
            self.markers.append(marker)
            alarm = pg.InfiniteLine(angle=90, movable=False)
            alarm.hide()
            plot.addItem(alarm, ignoreBounds=True)
            self.divergence.append(alarm)
        self.note = pg.TextItem(EMPTY_NOTE, color=theme.foreground, anchor=(0, 0))
        self.note.setParentItem(self.loss_plot.getViewBox())
        self.note.setPos(8, 24)
        # the run's status line, above the plots (a widget: cheap to change a few times a
        # second, and not part of exported figures, whose legend names the models)
        self.status = QLabel("")
        self.status.setContentsMargins(6, 2, 6, 0)
        # its text changes a few times a second: a width of its own would make the dock
        # column (and so the whole window) lay out and repaint each time it grows
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._layout.insertWidget(0, self.status)
        self.curves: dict[str, dict[str, pg.PlotDataItem]] = {}
        self._drawn: tuple = ()
        self._records: dict[int, TrainingRecord] = {}
        self._xrange = 0.0
        self._references_key: tuple = ("none",)
        # the task of the records drawn (its baseline and thresholds), by its definition
        self._task: tuple[object, object] = (None, None)
        self._style_references()

    def add_context_action(self, action) -> None:
        """As for time plots: in the right-click menu of each of the curves' plots."""
        super().add_context_action(action)
        for plot in self.plots:
            plot.getViewBox().menu.addAction(action)

    # ---- drawing -------------------------------------------------------------------------
    def show_results(self, results: ModelResults, view: ViewState) -> None:
        """The curves come from the document (:meth:`show_document`)."""
        self.results = results

    def show_document(self, document: Document, view: ViewState) -> None:
        trained = [(k, m.name, m.training, m.parameter_count)
                   for k, m in enumerate(document.models)
                   if isinstance(m.training, TrainingRecord)]
        key = tuple((k, name, id(rec)) for k, name, rec, _ in trained)
        if key == self._drawn and all(r is self._records.get(k) for k, _, r, _ in trained):
            return
        self._drawn = key
        self._records = {k: rec for k, _, rec, _ in trained}
        self._draw(trained)

    def _draw(self, trained) -> None:
        names = [f"{name} ({count:,} weights)" for _, name, _, count in trained]
        if list(self.curves) != names:
            self._rebuild(names, [k for k, *_ in trained])
        self.note.setVisible(not trained)
        tables_updates: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        tables_evals: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        losses, norms = [], []
        last = span = 0
        diverged = None
        for (_, model_name, rec, _), name in zip(trained, names, strict=True):
            h = rec.history
            n = h.updates
            x = np.arange(1, n + 1, dtype=np.float64)
            ev = h.eval_update.astype(np.float64)
            train = positive_or_nan(h.loss)
            test = positive_or_nan(h.test_loss)
            norm = positive_or_nan(h.grad_norm)
            c = self.curves[name]
            c["train"].setData(x, train)
            c["test"].setData(ev, test)
            c["norm"].setData(x, norm)
            c["success"].setData(ev, h.success)
            losses += [train, test]
            norms.append(norm)
            last = max(last, n)
            span = max(span, rec.settings.updates)
            if rec.diverged is not None:
                diverged = rec.diverged.update
            tables_updates[f"{model_name} training loss"] = (x, h.loss)
            tables_updates[f"{model_name} gradient norm"] = (x, h.grad_norm)
            tables_evals[f"{model_name} test loss"] = (ev, h.test_loss)
            tables_evals[f"{model_name} success"] = (ev, h.success)
        self._references(trained[0][2] if trained else None)
        for line in self.divergence:
            line.setVisible(diverged is not None)
            if diverged is not None:
                line.setValue(diverged)
        refs = [np.array([line.value() for key, line in self.reference.items()
                          if key in ("baseline", "solved") and line.isVisible()])]
        self.fit_y(self.loss_plot, *losses, *[10.0 ** r for r in refs], log=True)
        clip = self.reference["clip"]
        self.fit_y(self.grad_plot, *norms,
                   *([np.array([10.0 ** clip.value()])] if clip.isVisible() else []), log=True)
        # the run's whole budget, so the axis stays put while the curves grow
        right = float(max(span, last, 1))
        if self._xrange != right:
            self._xrange = right
            # each plot gets the range (linked views of different widths would align by
            # pixel, not by update)
            for plot in self.plots:
                plot.setXRange(0, right, padding=0.02)
        xs = np.unique(np.concatenate([v[0] for v in tables_updates.values()])) \
            if tables_updates else np.zeros(0)
        es = np.unique(np.concatenate([v[0] for v in tables_evals.values()])) \
            if tables_evals else np.zeros(0)
        self._tables = {"updates": partial(_table, xs, tables_updates, "update"),
                        "evaluations": partial(_table, es, tables_evals, "update")}

    def _rebuild(self, names: list[str], indices: list[int]) -> None:
        for curves in self.curves.values():
            for item in curves.values():
                plot = item.getViewBox()
                for p in self.plots:
                    if p.getViewBox() is plot:
                        self.remove_lines(p, [item])
        self.curves = {}
        for name, colour in zip(names, indices, strict=True):
            train = self.add_line(self.loss_plot, None, colour, width=1.0)
            test = self.add_line(self.loss_plot, name, colour, width=2.0)
            test.setSymbol("o")
            test.setSymbolSize(4)
            self._style_line(self._lines[-1])
            norm = self.add_line(self.grad_plot, None, colour)
            success = self.add_line(self.success_plot, None, colour, width=2.0)
            for item in (train, norm):
                item.setDownsampling(auto=True, method="peak")
                item.setOpacity(0.55 if item is train else 0.8)
            self.curves[name] = {"train": train, "test": test, "norm": norm,
                                 "success": success}

    def _references(self, record: TrainingRecord | None) -> None:
        key = (None if record is None else id(record.task),
               None if record is None else record.settings.clip_norm)
        if key == self._references_key:
            return  # unchanged: setting labels again would re-lay the axes out
        self._references_key = key
        task = None
        if record is not None:
            if self._task[0] is record.task:
                task = self._task[1]
            else:
                try:
                    task = record.make_task()
                except ValueError:
                    task = None
                self._task = (record.task, task)
        values = {
            "baseline": (task.baseline if task is not None else None,
                         f"baseline {task.baseline:.3g}" if task is not None else ""),
            "solved": (task.loss_threshold if task is not None else None,
                       f"solved < {task.loss_threshold:.3g}"
                       if task is not None and task.loss_threshold is not None else ""),
            "clip": (record.settings.clip_norm if record is not None else None,
                     f"clip {record.settings.clip_norm:g}"
                     if record is not None and record.settings.clip_norm else ""),
            "success": (task.success_threshold if task is not None else None,
                        "solved" if task is not None else ""),
        }
        for key, (value, text) in values.items():
            line = self.reference[key]
            ok = value is not None and value > 0
            line.setVisible(ok)
            if ok:
                log = key in ("baseline", "solved", "clip")
                line.setValue(np.log10(value) if log else value)
                line.label.setFormat(text)
        if task is not None:
            self.success_plot.setToolTip(f"success: {task.success_name}")

    # ---- for the training controller -----------------------------------------------------
    def set_marker(self, update: int | None) -> None:
        """Mark ``update`` (the timeline's position) on every plot; None hides the mark."""
        for line in self.markers:
            line.setVisible(update is not None)
            if update is not None:
                line.setValue(update)

    def set_status(self, text: str) -> None:
        if self.status.text() != text:
            self.status.setText(text)

    # ---- theme -----------------------------------------------------------------------------
    def _style_references(self) -> None:
        theme = self.theme
        for key, line in self.reference.items():
            colour = theme.target if key in ("baseline", "clip") else "#2e7d32"
            line.setPen(pg.mkPen(colour, width=1, style=line._style))  # noqa: SLF001
            line.label.setColor(theme.foreground)
        for line in self.markers:
            line.setPen(pg.mkPen(theme.cursor, width=1))
        for line in self.divergence:
            line.setPen(pg.mkPen(theme.alarm, width=1, style=Qt.PenStyle.DashLine))

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        for plot in self.plots:
            self._style_plot(plot)
            plot.showGrid(y=True, alpha=theme.grid_alpha)
        self._style_references()
        self.note.setColor(theme.foreground)
