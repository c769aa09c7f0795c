"""The base of the analysis panels: their values come from the window's analysis service
(:mod:`rnnviz.gui.analysis`), never computed here.

A subclass says what it needs (:meth:`AnalysisPanel.requests`: name -> Request, for the
results, view and cursor step), draws a part when its value changes (:meth:`draw_part`) and
the cursor-dependent marks on every step (:meth:`draw_cursor`). Nothing is requested while the
panel is hidden; showing it draws what is current. A status line under the plots tells what
is being computed in the background, with Cancel (and Compute after a cancel).
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from rnnviz.gui.panels.base import LEFT_AXIS_WIDTH, Panel
from rnnviz.gui.theme import LIGHT, Theme
from rnnviz.session import ModelResults, ViewState
from rnnviz.session.analysis import Failure, Request


class AnalysisPanel(Panel):
    """A panel drawing values of the analysis service; see the module docstring.

    ``values``: name -> the value drawn (None: not there yet); ``failures``: name -> the
    message of a value that could not be computed."""

    def __init__(self, theme: Theme = LIGHT, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.controller = None
        self.view: ViewState | None = None
        self.step = 0
        self.values: dict[str, Any] = {}
        self.failures: dict[str, str] = {}
        self._requests: dict[str, Request | None] = {}
        self._cursor_drawn: tuple | None = None
        self._forced = False  # drawing for an export although not on screen
        self._view_key: tuple = ()
        self._redraw_all = False
        self._build_status()

    # ---- construction ----------------------------------------------------------------------
    def _build_status(self) -> None:
        row = QHBoxLayout()
        row.setContentsMargins(4, 0, 4, 2)
        row.setSpacing(6)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_progress = QProgressBar()
        self.status_progress.setRange(0, 100)
        self.status_progress.setMaximumWidth(140)
        self.status_progress.setMaximumHeight(14)
        self.status_progress.setTextVisible(False)
        self.status_button = QPushButton("Cancel")
        self.status_button.clicked.connect(self._status_clicked)
        row.addWidget(self.status_label, 1)
        row.addWidget(self.status_progress)
        row.addWidget(self.status_button)
        self._status_row = QWidget()
        self._status_row.setLayout(row)
        self._layout.addWidget(self._status_row)
        self._status_row.hide()

    def control_bar(self) -> QHBoxLayout:
        """A row of controls above the plots (added to the panel's layout)."""
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 0)
        bar.setSpacing(4)
        self._layout.insertLayout(0, bar)
        return bar

    def add_plot(self, row: int, col: int = 0, **kwargs) -> pg.PlotItem:
        """A plot that is not on the shared time axis (its own x), styled like the others."""
        plot = self.plot_widget.addPlot(row=row, col=col, **kwargs)
        plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        for name in ("left", "bottom"):
            plot.getAxis(name).enableAutoSIPrefix(False)
        plot.hideButtons()
        self._own_plots.append(plot)
        self._style_plot(plot)
        for action in self.context_actions:
            plot.getViewBox().menu.addAction(action)
        return plot

    @property
    def _own_plots(self) -> list[pg.PlotItem]:
        if not hasattr(self, "_plots_off_axis"):
            self._plots_off_axis: list[pg.PlotItem] = []
        return self._plots_off_axis

    def add_context_action(self, action) -> None:
        super().add_context_action(action)
        for plot in self._own_plots:
            plot.getViewBox().menu.addAction(action)

    def attach(self, controller) -> None:
        """Take values from ``controller`` (the window's analysis service)."""
        self.controller = controller
        controller.updated.connect(self._updated)
        controller.progressed.connect(self._progressed)
        controller.status_changed.connect(self._show_status)

    # ---- what subclasses provide -----------------------------------------------------------
    def requests(self, results: ModelResults, view: ViewState, step: int
                 ) -> dict[str, Request | None]:
        """name -> what to draw under that name (None: nothing)."""
        raise NotImplementedError

    def draw_part(self, name: str, value: Any) -> None:
        """Draw ``value`` (None: nothing to draw, a Failure: its message) as part ``name``."""
        raise NotImplementedError

    def draw_cursor(self, step: int) -> None:
        """Draw what follows the cursor from the values drawn (bars at the cursor step)."""

    # ---- the flow --------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """Whether the panel is on screen (a closed dock or a tab behind another is not)."""
        return (self.controller is not None and self.results is not None
                and (self.isVisible() or self._forced))

    def show_results(self, results: ModelResults, view: ViewState) -> None:
        key = (view.visible_states(results.steps), view.layer, view.units)
        if key != self._view_key:  # the same values are drawn differently (reveal mode)
            self._view_key = key
            self._redraw_all = True
        self.results, self.view = results, view
        self.step = min(view.step, results.steps - 1)
        self.refresh()

    def set_cursor(self, step: int) -> None:
        super().set_cursor(step)
        if self.results is None:
            return
        step = min(step, self.results.steps - 1)
        if step != self.step:
            self.step = step
            self.refresh()

    def refresh(self, live: bool = True) -> None:
        """Ask for what is needed now, draw what changed."""
        if not self.active:
            if self.controller is not None:
                self.controller.want(self.key, [])
            return
        view = self.view
        reqs = self.requests(self.results, view, self.step)
        self._requests = reqs
        pending = []
        for name, req in reqs.items():
            value = self.controller.value(req, live) if req is not None else None
            if req is not None and value is None:
                pending.append(req)
                continue  # the old drawing stays until the new value arrives
            self._draw(name, value)
        self._redraw_all = False
        self.controller.want(self.key, pending)
        key = (self.step, self._view_key, *(id(v) for v in self.values.values()))
        if key != self._cursor_drawn:
            self._cursor_drawn = key
            self.draw_cursor(self.step)
        self._show_status()

    def _draw(self, name: str, value: Any) -> None:
        if name in self.values and self.values[name] is value and not self._redraw_all:
            return
        self.values[name] = value
        if isinstance(value, Failure):
            self.failures[name] = value.message
        else:
            self.failures.pop(name, None)
        self.draw_part(name, value)

    @property
    def closed(self) -> bool:
        """Whether the panel's dock is closed (not merely behind another tab)."""
        dock = self.parentWidget()
        while dock is not None and not isinstance(dock, QDockWidget):
            dock = dock.parentWidget()
        return dock is not None and dock.isHidden()

    def prepare_export(self) -> None:
        """Compute whatever is still waiting, now, and draw it (an export shows it all); a
        closed panel exports nothing (its tables are emptied rather than left stale)."""
        if self.controller is None or self.results is None:
            return
        if self.closed:
            self._tables = {}
            return
        for req in self.requests(self.results, self.view, self.step).values():
            if req is not None:
                self.controller.compute_now(req)
        self._forced = True
        try:
            self.refresh()
        finally:
            self._forced = False

    def _updated(self) -> None:
        if any(self.controller.cache.cached(r) is not None
               for r in self._requests.values() if r is not None):
            self.refresh()

    def _pending(self) -> list[Request]:
        return [r for r in self._requests.values()
                if r is not None and self.controller.cache.cached(r) is None]

    def _progressed(self, req: Request, fraction: float) -> None:
        if req in self._pending():
            self.status_progress.setValue(round(fraction * 100))

    def _show_status(self) -> None:
        if self.controller is None or not self.active:
            self._status_row.hide()
            return
        pending = self._pending()
        states = [self.controller.state(r) for r in pending]
        if not pending:
            self._status_row.hide()
            return
        cancelled = all(s == "cancelled" for s, _ in states)
        running = [f for s, f in states if s == "running"]
        if cancelled:
            self.status_label.setText("Cancelled; the plots show what was computed before.")
            self.status_button.setText("Compute")
            self.status_progress.hide()
        else:
            names = ", ".join(sorted({self._describe(r) for r in pending}))
            self.status_label.setText(f"Computing {names} in the background…")
            self.status_button.setText("Cancel")
            self.status_progress.setVisible(bool(running))
            if running:
                self.status_progress.setValue(round(running[0] * 100))
        self._status_row.show()

    @staticmethod
    def _describe(req: Request) -> str:
        from rnnviz.gui.analysis import TITLES

        return TITLES.get(req.kind, req.kind)

    def _status_clicked(self) -> None:
        if self.controller is None:
            return
        if self.status_button.text() == "Cancel":
            self.controller.cancel()
        else:
            self.controller.resume(self._pending())

    # ---- showing and hiding ----------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self.results is not None:
            self.refresh()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().hideEvent(event)
        if self.controller is not None:
            self.controller.want(self.key, [])

    # ---- theme -----------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        for plot in self._own_plots:
            self._style_plot(plot)


def note_item(plot: pg.PlotItem, theme: Theme) -> pg.TextItem:
    """A text note in a plot's top-left corner (e.g. why there is nothing to draw)."""
    item = pg.TextItem("", color=theme.foreground, anchor=(0, 0))
    item.setParentItem(plot.getViewBox())
    item.setPos(6, 4)
    item.hide()
    return item



def shrinkable(combo: QComboBox, characters: int = 6) -> QComboBox:
    """Let a combo box shrink below its longest entry (so a row of controls does not widen
    the dock); the full text shows when it opens."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)
    return combo


def elastic(label: QLabel) -> QLabel:
    """Let a label of changing text take the room there is without widening the dock (what
    does not fit is cut; the tooltip can carry the whole)."""
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    label.setMinimumWidth(0)
    return label
