"""The main window: plot panels as docks on one time axis, the Model panel, the inspector,
the transport bar, menus, keyboard stepping and the NaN/Inf banner.

Data flow: an edit goes to the session; :class:`ComputeScheduler` brings the results up to
date; ``results_changed`` / ``view_changed`` mark the views dirty and :class:`RedrawScheduler`
redraws at most once per frame. Moving the cursor never recomputes: it moves the cursor lines
and refreshes the inspector (and, in reveal mode, what part of the data is shown).
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, QSignalBlocker, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QDockWidget,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTextEdit,
    QToolBar,
    QWidget,
)

from rnnviz.engine import GATE_NAMES
from rnnviz.gui.editing import install as install_editing
from rnnviz.gui.export_actions import install as install_exports
from rnnviz.gui.files import install as install_files
from rnnviz.gui.inspector import Inspector
from rnnviz.gui.model_panel import ModelPanel
from rnnviz.gui.panels import PANEL_CLASSES, Panel
from rnnviz.gui.runner import JobRunner
from rnnviz.gui.scheduler import ComputeScheduler, RedrawScheduler
from rnnviz.gui.settings import LAYOUT_VERSION, WindowSettings
from rnnviz.gui.theme import Theme, apply_global, apply_palette, current_theme
from rnnviz.gui.transport import Player, TransportBar
from rnnviz.gui.undo import Editor
from rnnviz.session import ModelResults, Results, Session, ViewState
from rnnviz.session.demos import load_demo

DEFAULT_SIZE = (1280, 800)
STATUS_MS = 6000
SHORTCUTS = (
    ("←  /  →", "previous / next step"),
    ("Shift+←  /  Shift+→", "ten steps back / forward"),
    ("Home  /  End", "first / last step"),
    ("Space", "play / pause"),
    ("R", "reveal mode on / off"),
    ("Ctrl+N", "new document (the sine demo)"),
    ("Ctrl+O", "open a session, sequence or weights file"),
    ("Ctrl+S  /  Ctrl+Shift+S", "save / save as"),
    ("Ctrl+E", "export a panel, the dashboard or its data"),
    ("Ctrl+Shift+E", "export an animation (GIF / MP4)"),
    ("Ctrl+G  /  Ctrl+T  /  Ctrl+I", "generate a sequence / type text / import a sequence"),
    ("Ctrl+Z", "undo"),
    ("Ctrl+Shift+Z  /  Ctrl+Y", "redo"),
    ("Esc", "leave a text field (so the keys above step again)"),
    ("F1", "this list"),
)
_BANNER_STYLE = {
    "error": "background:#c62828; color:white; padding:5px 10px; font-weight:bold;",
    "warning": "background:#f0a020; color:black; padding:5px 10px; font-weight:bold;",
}


def nonfinite_message(results: ModelResults) -> str:
    """The banner text for a run that produced NaN/Inf: where, and what to do about it."""
    step = results.nonfinite_step
    forward = results.trace.nonfinite_step
    if forward is not None and forward <= step:
        where = f"Values became NaN/Inf at step {step}"
    elif forward is not None:
        where = f"Gradients became NaN/Inf at step {step} and values at step {forward}"
    else:
        where = f"Gradients became NaN/Inf at step {step}"
    return f"{where} — lower the recurrent scale (Model panel → W_hh scale)"


def _typing_in(widget: QWidget | None) -> bool:
    """Whether ``widget`` takes keys as text (then stepping shortcuts stay out of its way)."""
    if isinstance(widget, QLineEdit | QAbstractSpinBox | QTextEdit | QPlainTextEdit):
        return True
    return (
        isinstance(widget, QAbstractItemView)
        and widget.state() == QAbstractItemView.State.EditingState
    )


class MainWindow(QMainWindow):
    """The rnnviz window over ``session`` (the "sine" demo when None).

    Public for other parts of the app: ``session``; ``panels`` (key -> Panel: "input",
    "hidden", "gates", "cell", "output", "gradients"); ``input_plot`` (the input panel's
    PlotItem); ``docks`` (key -> QDockWidget); ``file_menu``; :meth:`redraw_now`.
    """

    def __init__(
        self,
        session: Session | None = None,
        settings: QSettings | None = None,
        theme: Theme | None = None,
        restore_layout: bool = True,
    ) -> None:
        super().__init__()
        self.session = session if session is not None else Session(load_demo("sine"))
        self.theme = theme or current_theme()
        self._theme_forced = theme is not None
        apply_global(self.theme)
        self.settings = WindowSettings(settings)
        self.setWindowTitle("rnnviz")
        # The window itself takes the focus, so stepping keys work before anything is clicked.
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setDockNestingEnabled(True)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowNestedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
        )

        self.panels: dict[str, Panel] = {}
        for cls in PANEL_CLASSES:
            panel = cls(self.theme)
            panel.hovered.connect(self.show_message)
            self.panels[cls.key] = panel
        self.input_plot = self.panels["input"].input_plot
        for panel in self.panels.values():
            panel.link_x(self.input_plot)
        hidden = self.panels["hidden"]
        hidden.view_requested.connect(lambda changes: self.session.set_view(**changes))
        hidden.message.connect(self.show_message)

        self.editor = Editor(self.session, self)
        self.model_panel = ModelPanel(self.session, self.editor)
        self.model_panel.message.connect(self.show_message)
        self.inspector = Inspector()
        self.player = Player(self.session, self)
        self.transport = TransportBar(self.session, self.player)

        self._build_banner()
        self._build_status_bar()
        self.docks: dict[str, QDockWidget] = {}
        self._build_docks()
        self._build_menus()
        self._build_shortcuts()

        self.runner = JobRunner(self)
        self.compute = ComputeScheduler(self.session, self.runner, self)
        self.compute.busy.connect(self._set_busy)
        self.compute.progress.connect(lambda f: self.progress.setValue(round(f * 100)))
        self.compute.failed.connect(self._compute_failed)
        self.redraw = RedrawScheduler(self._redraw, self)
        self._drawn: ModelResults | None = None
        self._drawn_key: tuple = ()
        self._drawn_steps = -1
        self._drawn_labels: tuple[str, ...] | None = None
        self._connect_session()
        # Feature modules that add docks come before the layout is arranged and restored.
        self.editing = install_editing(self)

        self.resize(*self._first_size())
        self._arrange_default()
        self._default_state = self.saveState(LAYOUT_VERSION)
        self.player.set_speed(float(self.settings.value("playback/speed", 20, int)))
        self.transport.speed_spin.setValue(round(self.player.speed))
        if restore_layout:
            self.settings.restore_window(self)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._scheme_changed)
        self.redraw_now()
        self.statusBar().showMessage(
            "← → step through time, Space plays, hover a heatmap for its values (F1: all keys)"
        )
        self.files = install_files(self)
        self.exports = install_exports(self)

    # ---- construction ----------------------------------------------------------------------
    def _build_banner(self) -> None:
        self.banner = QLabel()
        self.banner.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.banner_bar = QToolBar("Alerts", self)
        self.banner_bar.setObjectName("toolbar_banner")
        self.banner_bar.setMovable(False)
        self.banner_bar.setFloatable(False)
        self.banner_bar.toggleViewAction().setVisible(False)
        self.banner_bar.addWidget(self.banner)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.banner_bar)
        self.banner_bar.hide()
        transport_bar = QToolBar("Transport", self)
        transport_bar.setObjectName("toolbar_transport")
        transport_bar.setMovable(False)
        transport_bar.setFloatable(False)
        transport_bar.addWidget(self.transport)
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, transport_bar)
        self.transport_bar = transport_bar

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(180)
        self.progress.setFormat("computing %p%")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop this computation (the plots keep the last results)")
        self.cancel_button.clicked.connect(self._cancel_compute)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        self.progress.hide()
        self.cancel_button.hide()

    def _dock(self, key: str, title: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.docks[key] = dock
        return dock

    def _build_docks(self) -> None:
        self._dock("model", "Model", self.model_panel)
        self._dock("inspector", "Inspector (cursor step)", self.inspector)
        for key, panel in self.panels.items():
            self._dock(key, panel.title, panel)

    def _first_size(self) -> tuple[int, int]:
        """The size on first start: most of the screen, at least 1280 x 800 where it fits."""
        screen = self.screen().availableGeometry() if self.screen() else None
        if screen is None or screen.width() <= 0:
            return DEFAULT_SIZE
        width = min(max(DEFAULT_SIZE[0], round(screen.width() * 0.9)), screen.width())
        height = min(max(DEFAULT_SIZE[1], round(screen.height() * 0.9)), screen.height())
        return width, height

    def _arrange_default(self) -> None:
        """Model and inspector on the left; inputs, hidden state and gates in the middle
        column; output, cell memory and gradients on the right."""
        d = self.docks
        for dock in d.values():
            dock.setFloating(False)
            dock.show()
            self.removeDockWidget(dock)
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.addDockWidget(left, d["model"])
        self.splitDockWidget(d["model"], d["inspector"], Qt.Orientation.Vertical)
        self.addDockWidget(right, d["input"])
        self.splitDockWidget(d["input"], d["output"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["input"], d["hidden"], Qt.Orientation.Vertical)
        self.splitDockWidget(d["hidden"], d["gates"], Qt.Orientation.Vertical)
        self.splitDockWidget(d["output"], d["cell"], Qt.Orientation.Vertical)
        self.splitDockWidget(d["cell"], d["gradients"], Qt.Orientation.Vertical)
        if "table" in d:  # editing docks share the inspector's place, as tabs
            self.tabifyDockWidget(d["inspector"], d["table"])
            self.tabifyDockWidget(d["table"], d["text"])
        for dock in d.values():
            dock.show()
        if "text" in d:
            d["text"].hide()
            d["inspector"].raise_()
        width = self.width()
        side = max(260, width // 5)
        column = (width - side) // 2
        self.resizeDocks(
            [d["model"], d["input"], d["output"]], [side, column, column], Qt.Orientation.Horizontal
        )
        height = self.height()
        self.resizeDocks(
            [d["input"], d["hidden"], d["gates"]],
            [height * 23 // 100, height * 29 // 100, height * 48 // 100],
            Qt.Orientation.Vertical,
        )
        self.resizeDocks(
            [d["output"], d["cell"], d["gradients"]],
            [height * 30 // 100, height * 35 // 100, height * 35 // 100],
            Qt.Orientation.Vertical,
        )
        self.resizeDocks(
            [d["model"], d["inspector"]],
            [height * 45 // 100, height * 55 // 100],
            Qt.Orientation.Vertical,
        )

    def _build_menus(self) -> None:
        menu = self.menuBar()
        # New, Open, Save, weights ... are added above this separator by rnnviz.gui.files.
        self.file_menu = menu.addMenu("&File")
        self.demo_actions: dict[str, QAction] = {}
        self.file_menu_end = self.file_menu.addSeparator()
        self.quit_action = self.file_menu.addAction("&Quit", self.close)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)

        self.edit_menu = menu.addMenu("&Edit")
        self.undo_action = self.editor.stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts([QKeySequence.StandardKey.Undo])
        self.redo_action = self.editor.stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.edit_menu.addAction(self.undo_action)
        self.edit_menu.addAction(self.redo_action)
        self.edit_menu.addSeparator()

        view = menu.addMenu("&View")
        panels = self.panels_menu = view.addMenu("&Panels")
        for dock in self.docks.values():
            panels.addAction(dock.toggleViewAction())
        self.reveal_action = view.addAction("&Reveal mode")
        self.reveal_action.setCheckable(True)
        self.reveal_action.toggled.connect(
            lambda on: self.session.set_view(reveal=on, phase="forward")
        )
        view.addSeparator()
        self.reset_layout_action = view.addAction("Reset &layout", self.reset_layout)

        help_menu = menu.addMenu("&Help")
        keys = help_menu.addAction("&Keyboard shortcuts", self.show_shortcuts)
        keys.setShortcut(QKeySequence.StandardKey.HelpContents)
        help_menu.addAction("&About rnnviz", self._about)

    def _build_shortcuts(self) -> None:
        def step_by(delta: int):
            return lambda: self.session.set_view(step=self.session.view.step + delta)

        last = lambda: self.session.set_view(step=self.session.document.sequence.steps - 1)  # noqa: E731
        reveal = lambda: self.reveal_action.toggle()  # noqa: E731
        for key, slot in (
            (Qt.Key.Key_Left, step_by(-1)),
            (Qt.Key.Key_Right, step_by(1)),
            (Qt.KeyboardModifier.ShiftModifier | Qt.Key.Key_Left, step_by(-10)),
            (Qt.KeyboardModifier.ShiftModifier | Qt.Key.Key_Right, step_by(10)),
            (Qt.Key.Key_Home, lambda: self.session.set_view(step=0)),
            (Qt.Key.Key_End, last),
            (Qt.Key.Key_Space, self.player.toggle),
            (Qt.Key.Key_R, reveal),
            (Qt.Key.Key_Escape, self.setFocus),
        ):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(lambda slot=slot: self._unless_typing(slot))

    def _unless_typing(self, slot) -> None:
        if not _typing_in(QApplication.focusWidget()):
            slot()

    # ---- session ---------------------------------------------------------------------------
    def _connect_session(self) -> None:
        s = self.session
        s.document_changed.connect(self._document_changed)
        s.results_changed.connect(self._results_changed)
        s.view_changed.connect(self._view_changed)

    def _disconnect_session(self) -> None:
        s = self.session
        s.document_changed.disconnect(self._document_changed)
        s.results_changed.disconnect(self._results_changed)
        s.view_changed.disconnect(self._view_changed)

    def _document_changed(self, doc) -> None:
        self.model_panel.show_document(doc)
        self.redraw.request(document=True)
        self.compute.request()

    def _results_changed(self, results: Results) -> None:
        self.redraw.request(results=True)

    def _view_changed(self, view: ViewState) -> None:
        self.redraw.request(view=True)

    def open_demo(self, name: str) -> None:
        """Replace the document with the named demo (see rnnviz.session.demos.DEMOS), untitled and
        with a fresh undo history. (File → Open Demo asks about unsaved changes first.)"""
        self.files.open_demo(name)

    def open_paths(self, paths: list[str]) -> bool:
        """Open files in order: a session replaces the document (asking about unsaved changes
        first), sequences and weights apply to it as undoable edits. False (with a one-line
        message, the document unchanged) on failure."""
        return self.files.open_paths(list(paths))

    def _open_dialog(self) -> None:
        self.files.open_dialog()

    # ---- computing -------------------------------------------------------------------------
    def _set_busy(self, busy: bool) -> None:
        self.progress.setValue(0)
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)

    def _cancel_compute(self) -> None:
        self.compute.cancel()
        self.show_message("computation cancelled; the plots show the previous results")

    def _compute_failed(self, message: str) -> None:
        self.show_message(message)
        self.set_banner(message[:1].upper() + message[1:], "warning")

    # ---- drawing ---------------------------------------------------------------------------
    def redraw_now(self) -> None:
        """Compute if needed and redraw everything synchronously (for tests and exports)."""
        if self.session.stale and not self.compute.running:
            self.compute.run_now()
        self.redraw.request(document=True, results=True, view=True)
        self.redraw.flush()

    @staticmethod
    def _data_key(view: ViewState, steps: int) -> tuple:
        # what, besides the results, decides the data drawn (not the cursor, outside reveal)
        return (view.model, view.layer, view.units, view.visible_states(steps),
                view.visible_gradients(steps))

    def _redraw(self, document_dirty: bool, results_dirty: bool, view_dirty: bool) -> None:
        session = self.session
        view = session.view
        if document_dirty:
            for panel in self.panels.values():
                panel.show_document(session.document, view)
        results = session.model_results
        if results is None:
            return
        steps = results.sequence.steps
        key = self._data_key(view, steps)
        if results is not self._drawn or key != self._drawn_key:
            self._draw_results(results, view)
            self._drawn, self._drawn_key = results, key
        for panel in self.panels.values():
            panel.set_cursor(view.step)
        self.inspector.show_step(results, view)
        self.transport.show_view(view)
        with QSignalBlocker(self.reveal_action):
            self.reveal_action.setChecked(view.reveal)

    def _draw_results(self, results: ModelResults, view: ViewState) -> None:
        seq = results.sequence
        if seq.labels != self._drawn_labels:
            self._drawn_labels = seq.labels
            for panel in self.panels.values():
                panel.set_time_labels(seq.labels)
        for panel in self.panels.values():
            panel.show_results(results, view)
            panel.set_alarm(results.nonfinite_step)
        if seq.steps != self._drawn_steps:
            self._drawn_steps = seq.steps
            vb = self.input_plot.getViewBox()
            vb.setLimits(xMin=-0.5 - seq.steps * 0.05, xMax=seq.steps - 0.5 + seq.steps * 0.05)
            self.input_plot.setXRange(-0.5, seq.steps - 0.5, padding=0)
        cell = results.config.cell
        self.docks["gates"].setWindowTitle(f"Gates — {cell}: {', '.join(GATE_NAMES[cell])}")
        if results.nonfinite_step is not None:
            self.set_banner(nonfinite_message(results), "error")
        else:
            self.set_banner(None)

    def set_banner(self, text: str | None, level: str = "warning") -> None:
        """Show ``text`` in the banner above the plots (None hides it)."""
        if text is None:
            self.banner_bar.hide()
            self.banner.clear()
            return
        self.banner.setStyleSheet(_BANNER_STYLE[level])
        self.banner.setText(text)
        self.banner_bar.show()

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, STATUS_MS)

    # ---- layout, theme, help ---------------------------------------------------------------
    def reset_layout(self) -> None:
        """Put every panel back where it starts and forget the saved layout."""
        self.restoreState(self._default_state, LAYOUT_VERSION)
        self._arrange_default()
        self.settings.forget_layout()

    def _scheme_changed(self, *_args) -> None:
        if not self._theme_forced:
            self.apply_theme(current_theme())

    def apply_theme(self, theme: Theme) -> None:
        """Switch colours (plots, colormaps, widget palette) to ``theme``."""
        self.theme = theme
        apply_global(theme)
        apply_palette(theme)
        for panel in self.panels.values():
            panel.apply_theme(theme)
        self.redraw.request(results=True)

    def show_shortcuts(self) -> None:
        rows = "".join(
            f"<tr><td><b>{k}</b></td><td>&nbsp;&nbsp;{v}</td></tr>" for k, v in SHORTCUTS
        )
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Keyboard shortcuts",
            f"<table>{rows}</table><p>Stepping keys do nothing while a text "
            "field or number box has the focus.</p>",
            parent=self,
        )
        box.open()
        self._shortcuts_box = box

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About rnnviz",
            "<b>rnnviz</b> shows what recurrent networks (RNN, LSTM, GRU) compute "
            "step by step: hidden states, gates, cell memory and the gradients "
            "of backpropagation through time.",
        )

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        self.setFocus()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        # Workers stop first, so a window deleted while the unsaved-changes question is open
        # leaves no thread running.
        self.player.stop()
        self.compute.cancel()
        self.runner.cancel()
        self.runner.wait()
        if not self.files.may_close():  # unsaved changes: Cancel, or a save that failed
            event.ignore()
            return
        self.files.shutdown()
        self.settings.save_window(self)
        self.settings.set_value("playback/speed", round(self.player.speed))
        self.settings.sync()
        self._disconnect_session()
        super().closeEvent(event)
