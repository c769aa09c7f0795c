"""The main window: builds the panels (from the panel registry) as docks on one time axis, the
Model panel, the inspector, the transport bar, the menus and keys (from the action registry)
and the NaN/Inf banner, and wires them to the session.

Data flow: an edit goes to the session; :class:`~rnnviz.gui.scheduler.ComputeScheduler`
brings the results up to date (long runs as jobs of the window's one
:class:`~rnnviz.gui.runner.JobRunner`); ``document_changed`` / ``results_changed`` /
``view_changed`` mark the views dirty and :class:`~rnnviz.gui.redraw.Dashboard` redraws at
most once per frame.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QActionGroup, QGuiApplication
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolBar,
    QWidget,
)

from rnnviz.gui.actions import build_actions
from rnnviz.gui.editing import install as install_editing
from rnnviz.gui.export.controller import ExportController, add_context_actions
from rnnviz.gui.features import install_features
from rnnviz.gui.files import FileController
from rnnviz.gui.inspector import Inspector
from rnnviz.gui.layout import arrange_default, make_room
from rnnviz.gui.model_panel import ModelPanel
from rnnviz.gui.panels.base import Panel
from rnnviz.gui.panels.registry import PANELS
from rnnviz.gui.redraw import Dashboard, RedrawScheduler
from rnnviz.gui.runner import JobRunner
from rnnviz.gui.scheduler import ComputeScheduler
from rnnviz.gui.settings import LAYOUT_VERSION, WindowSettings
from rnnviz.gui.shortcuts_dialog import ShortcutsDialog
from rnnviz.gui.theme import DARK, LIGHT, Theme, apply_global, apply_palette, current_theme
from rnnviz.gui.time_axis import TimeLink
from rnnviz.gui.transport import Player, TransportBar
from rnnviz.gui.undo import Editor
from rnnviz.session import Results, Session, ViewState
from rnnviz.session.demos import load_demo

DEFAULT_SIZE = (1280, 800)
THEMES: dict[str, Theme | None] = {"system": None, "light": LIGHT, "dark": DARK}
THEME_TEXT = {"system": "&System", "light": "&Light", "dark": "&Dark"}
STATUS_MS = 6000
_BANNER_STYLE = {
    "error": "background:#c62828; color:white; padding:5px 10px; font-weight:bold;",
    "warning": "background:#f0a020; color:black; padding:5px 10px; font-weight:bold;",
}


def dock_title(title: str) -> str:
    """``title`` as a dock's window title: dock title bars read "&" as a mnemonic marker (and
    dropped it: "Input  target"), so it is doubled."""
    return title.replace("&", "&&")


class MainWindow(QMainWindow):
    """The rnnviz window over ``session`` (the "sine" demo when None).

    Public for other parts of the app: ``session``; ``panels`` (registry key -> Panel);
    ``input_plot`` (the input panel's PlotItem, master of the shared time axis); ``docks``
    (key -> QDockWidget); ``actions`` (action name -> QAction, see
    :data:`rnnviz.gui.actions.ACTIONS`); ``menus`` (title -> QMenu); ``runner`` (the job
    runner); ``files``, ``exports``, ``editing`` (the controllers behind the commands);
    :meth:`redraw_now`.
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
        self.settings = WindowSettings(settings)
        # View → Theme: "system" follows the OS (or RNNVIZ_THEME); a theme given here wins
        self.theme_choice = str(self.settings.value("view/theme", "system", str))
        if self.theme_choice not in THEMES:
            self.theme_choice = "system"
        self.theme = theme or THEMES[self.theme_choice] or current_theme()
        self._theme_forced = theme is not None or self.theme_choice != "system"
        apply_global(self.theme)
        if theme is None and self.theme_choice != "system":
            apply_palette(self.theme)
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
        for spec in PANELS:
            panel = spec.load()(self.theme)
            panel.hovered.connect(self.show_message)
            panel.zoom_reset_requested.connect(self.reset_zoom)
            self.panels[spec.key] = panel
        self.input_plot = self.panels["input"].input_plot
        self.time_link = TimeLink(self)
        self.time_link.set_steps(self.session.document.sequence.steps)
        for panel in self.panels.values():
            panel.link_x(self.time_link)
        self.panels["input"].needs_height.connect(self._input_needs_height)
        hidden = self.panels["hidden"]
        hidden.view_requested.connect(lambda changes: self.session.set_view(**changes))
        hidden.message.connect(self.show_message)

        self.editor = Editor(self.session, self)
        self.model_panel = ModelPanel(self.session, self.editor)
        self.model_panel.message.connect(self.show_message)
        self.inspector = Inspector()
        self.player = Player(self.session, self)
        self.transport = TransportBar(self.session, self.player)
        self.transport.zoom_button.clicked.connect(self.reset_zoom)
        self.transport.paint_icons(self.theme.foreground)

        self._build_bars()
        self._build_status_bar()
        self.docks: dict[str, QDockWidget] = {}
        self._build_docks()

        self.runner = JobRunner(self)
        self.compute = ComputeScheduler(self.session, self.runner, self)
        self.compute.busy.connect(self._set_busy)
        self.compute.progress.connect(lambda f: self.progress.setValue(round(f * 100)))
        self.compute.failed.connect(self._compute_failed)
        self.dashboard = Dashboard(self)
        self.redraw = RedrawScheduler(self.dashboard.redraw, self)
        # playback refreshes the inspector sparingly; stopping shows the final numbers
        self.player.playing_changed.connect(lambda _on: self.redraw.request(view=True))

        # The controllers behind the commands, then the commands themselves.
        self.editing = install_editing(self)
        self.files = FileController(self)
        self.exports = ExportController(self)
        install_features(self)
        self.actions = build_actions(self)
        self._follow_undo_stack()
        add_context_actions(self.exports)
        self._connect_session()

        self.resize(*self._first_size())
        arrange_default(self, self.docks)
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

    # ---- construction ----------------------------------------------------------------------
    def _build_bars(self) -> None:
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

    def add_dock(self, key: str, title: str, widget: QWidget) -> QDockWidget:
        """A dock for ``widget``, saved and restored with the layout as ``dock_<key>``.
        ``title`` is plain text (see :meth:`set_dock_title`)."""
        dock = QDockWidget(dock_title(title), self)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        dock.toggleViewAction().setText(title.replace("&", "&&"))
        self.docks[key] = dock
        return dock

    def set_dock_title(self, key: str, title: str) -> None:
        """Set a dock's title (plain text: an "&" is shown as itself)."""
        self.docks[key].setWindowTitle(dock_title(title))

    def _build_docks(self) -> None:
        self.add_dock("model", "Model", self.model_panel)
        self.add_dock("inspector", "Inspector (cursor step)", self.inspector)
        for spec in PANELS:
            self.add_dock(spec.key, spec.title, self.panels[spec.key])

    def fill_panels_menu(self, menu: QMenu) -> None:
        """View → Panels: show or hide each dock."""
        menu.clear()
        for dock in self.docks.values():
            menu.addAction(dock.toggleViewAction())

    def _follow_undo_stack(self) -> None:
        stack = self.editor.stack
        undo, redo = self.actions["edit.undo"], self.actions["edit.redo"]
        undo.setEnabled(stack.canUndo())
        redo.setEnabled(stack.canRedo())
        stack.canUndoChanged.connect(undo.setEnabled)
        stack.canRedoChanged.connect(redo.setEnabled)
        stack.undoTextChanged.connect(lambda t: undo.setText(f"&Undo {t}".strip()))
        stack.redoTextChanged.connect(lambda t: redo.setText(f"&Redo {t}".strip()))

    def _first_size(self) -> tuple[int, int]:
        """The size on first start: most of the screen, at least 1280 x 800 where it fits."""
        screen = self.screen().availableGeometry() if self.screen() else None
        if screen is None or screen.width() <= 0:
            return DEFAULT_SIZE
        width = min(max(DEFAULT_SIZE[0], round(screen.width() * 0.9)), screen.width())
        height = min(max(DEFAULT_SIZE[1], round(screen.height() * 0.9)), screen.height())
        return width, height

    # ---- commands (see rnnviz.gui.actions) -------------------------------------------------
    def _step_by(self, delta: int) -> None:
        # in reveal mode the steps go on into the backward sweep, and back
        self.transport.move(delta)

    def step_by_one(self) -> None:
        self._step_by(1)

    def step_by_one_back(self) -> None:
        self._step_by(-1)

    def step_by_ten(self) -> None:
        self._step_by(10)

    def step_by_ten_back(self) -> None:
        self._step_by(-10)

    def first_step(self) -> None:
        self.transport.go(0)

    def last_step(self) -> None:
        """End: the last step; in reveal mode the end of the backward sweep (all shown)."""
        self.transport.go(-1)

    def set_reveal(self, on: bool) -> None:
        self.session.set_view(reveal=on, phase="forward")

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
        if self.compute.computes_at_once(doc):
            self.redraw.mark(document=True)  # drawn with its results, a moment from now
        else:
            self.redraw.request(document=True)  # the input now; results when the job is done
        self.compute.request()

    def _results_changed(self, results: Results) -> None:
        self.redraw.request(results=True)

    def _view_changed(self, view: ViewState) -> None:
        self.model_panel.show_document(self.session.document)
        self.redraw.request(view=True)

    def open_demo(self, name: str) -> None:
        """Replace the document with the named demo (see rnnviz.session.demos.DEMOS), untitled
        and with a fresh undo history. (File → Open Demo asks about unsaved changes first.)"""
        self.files.open_demo(name)

    def open_paths(self, paths: list[str]) -> bool:
        """Open files in order: a session replaces the document (asking about unsaved changes
        first), sequences and weights apply to it as undoable edits. False (with a one-line
        message, the document unchanged) on failure. The files are read in a job; this waits
        for them with the event loop running (File → Open and dropped files do not wait)."""
        return self.files.open_paths(list(paths), wait=True)

    # ---- computing -------------------------------------------------------------------------
    def _set_busy(self, busy: bool) -> None:
        self.progress.setValue(0)
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)

    def _cancel_compute(self) -> None:
        self.compute.cancel()
        self.show_message("computation cancelled; the plots show the previous results")

    def _compute_failed(self, message: str) -> None:
        self.redraw.request(document=True)  # the edit shows, with the last results
        self.show_message(message)
        self.set_banner(message[:1].upper() + message[1:], "warning")

    # ---- drawing ---------------------------------------------------------------------------
    def redraw_now(self) -> None:
        """Compute if needed and redraw everything synchronously (for tests and exports)."""
        if self.session.stale and not self.compute.running:
            self.compute.run_now()
        self.redraw.request(document=True, results=True, view=True)
        self.dashboard.synchronous = True
        try:
            self.redraw.flush()
        finally:
            self.dashboard.synchronous = False

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
        """Put every panel back where it starts, with its full range, and forget the saved
        layout."""
        self.restoreState(self._default_state, LAYOUT_VERSION)
        arrange_default(self, self.docks)
        self.settings.forget_layout()
        self.reset_zoom()

    def _input_needs_height(self, pixels: int) -> None:
        # after the layout has settled on the new content; once more a little later, for a
        # layout still being arranged then (a reset, a first show) undoes the first
        def grow() -> None:
            make_room(self, self.docks, "input", self.panels["input"], pixels)

        QTimer.singleShot(0, grow)
        QTimer.singleShot(60, grow)

    def reset_zoom(self) -> None:
        """View → Reset zoom: every panel shows every step again, its y range fitted to the
        data (linked panels stay linked: they share one time range)."""
        self.time_link.set_steps(self.session.document.sequence.steps)
        for panel in self.panels.values():
            panel.reset_zoom()
        self.dashboard.forget()
        self.redraw.request(document=True, results=True, view=True)

    def _scheme_changed(self, *_args) -> None:
        if not self._theme_forced:
            self.apply_theme(current_theme())

    def fill_theme_menu(self, menu: QMenu) -> None:
        """View → Theme: System (the OS setting), Light, Dark; the choice is remembered."""
        menu.clear()
        group = QActionGroup(menu)
        for choice, text in THEME_TEXT.items():
            action = menu.addAction(text)
            action.setCheckable(True)
            action.setChecked(choice == self.theme_choice)
            action.setData(choice)
            group.addAction(action)
            action.triggered.connect(lambda _=False, c=choice: self.set_theme_choice(c))

    def set_theme_choice(self, choice: str) -> None:
        """Use the "system", "light" or "dark" theme from now on (and at the next start)."""
        if choice not in THEMES:
            raise ValueError(f"unknown theme {choice!r}; choose from {', '.join(THEMES)}")
        self.theme_choice = choice
        self._theme_forced = choice != "system"
        self.settings.set_value("view/theme", choice)
        self.apply_theme(THEMES[choice] or current_theme())

    def apply_theme(self, theme: Theme) -> None:
        """Switch colours (plots, colormaps, widget palette) to ``theme``."""
        self.theme = theme
        apply_global(theme)
        apply_palette(theme)
        for panel in self.panels.values():
            panel.apply_theme(theme)
        self.transport.paint_icons(theme.foreground)
        self.dashboard.forget()
        self.redraw.request(document=True, results=True, view=True)

    def show_shortcuts(self) -> ShortcutsDialog:
        """Help → Keyboard shortcuts (F1): every key of the action registry."""
        box = ShortcutsDialog(self)
        box.open()
        self.shortcuts_box = box
        return box

    def show_about(self) -> None:
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
        # Jobs stop first, so a window deleted while the unsaved-changes question is open
        # leaves no thread running.
        self.player.stop()
        self.compute.cancel()
        # A training run goes on while the question is open: it stops only if the window
        # really closes (its controller stops the thread should the window be deleted first).
        for slot in self.runner.slots:
            if slot != "train":
                self.runner.cancel(slot)
        if not self.runner.running("train"):
            self.runner.wait()
        if not self.files.may_close():  # unsaved changes: Cancel, or a save that failed
            event.ignore()
            return
        self.runner.cancel()
        self.runner.wait()
        self.files.shutdown()
        self.settings.save_window(self)
        self.settings.set_value("playback/speed", round(self.player.speed))
        self.settings.sync()
        self._disconnect_session()
        super().closeEvent(event)
