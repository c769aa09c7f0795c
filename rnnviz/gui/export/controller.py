"""Exporting one window's plots and run: :class:`ExportController`.

A panel or the whole dashboard as PNG/SVG/PDF, the plotted data as CSV, an animation of the
cursor stepping through the sequence as GIF/MP4, and the run as NPZ + JSON. The File menu's
export commands (see :mod:`rnnviz.gui.actions`) and every panel's right-click "Export…" call it;
so does the headless exporter (:mod:`rnnviz.gui.export.headless`).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QImage
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QMainWindow,
    QProgressDialog,
    QWidget,
)

from rnnviz.gui.export.animation import export_animation, frame_steps
from rnnviz.gui.export.dialogs import AnimationDialog, ExportDialog, HandoutDialog
from rnnviz.gui.export.figures import (
    export_figure,
    export_widget_image,
    render_figure,
    render_widget,
)
from rnnviz.gui.export.sweep import CursorSweep
from rnnviz.gui.panels.registry import DASHBOARD
from rnnviz.gui.panels.tables import table_rows
from rnnviz.io.run_export import ExportError, write_csv, write_run_npz

__all__ = ["DASHBOARD", "ExportController", "add_context_actions"]

Renderer = Callable[[int | None], QImage]


def _safe_name(text: str) -> str:
    """``text`` as a file-name part: letters, digits, '-' and '_' only."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_") or "table"


class ExportController(QObject):
    """Exports of one main window's plots and run. Every method raises
    :class:`~rnnviz.io.run_export.ExportError` with a one-line message on failure.

    ``key``: a panel key of ``window.panels`` ("input", "hidden", ...) or ``"dashboard"``
    (every dock as laid out in the window).
    """

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: QDialog | None = None

    # ---- what can be exported ------------------------------------------------------------
    def targets(self) -> dict[str, str]:
        """key -> title of everything that can be exported (panels, then the dashboard)."""
        names = {key: panel.title for key, panel in self.window.panels.items()}
        names[DASHBOARD] = "Whole dashboard"
        return names

    def _title(self, key: str) -> str:
        titles = self.targets()
        if key not in titles:
            raise ExportError(f"unknown panel {key!r}; choose one of {', '.join(titles)}")
        return titles[key]

    def _require_current(self) -> None:
        """Exports show the current document's results: compute them now if they are stale;
        refuse while a background computation is still under way."""
        compute = self.window.compute
        if self.window.session.stale and not compute.running:
            compute.run_now()
        if compute.running or self.window.session.stale:
            raise ExportError("still computing the results of the last change; export when "
                              "the plots are up to date")

    # ---- figures and data ------------------------------------------------------------------
    def export(
        self, key: str, path: str | os.PathLike[str], width: int | None = None
    ) -> list[Path]:
        """Write ``key`` to ``path``; its suffix picks the format: .png (``width`` pixels wide,
        default as on screen), .svg, .pdf, or .csv (the plotted data, see :meth:`export_csv`).
        Returns the files written."""
        self._require_current()
        target = Path(path)
        if target.suffix.lower() == ".csv":
            return self.export_csv(key, target)
        if key == DASHBOARD:
            return [self.export_dashboard(target, width)]
        return self.export_panel(key, target, width)

    def export_panel(
        self, key: str, path: str | os.PathLike[str], width: int | None = None
    ) -> list[Path]:
        """Write one panel's plots to ``path`` (.png/.svg/.pdf; .csv as :meth:`export_csv`)."""
        self._require_current()
        if Path(path).suffix.lower() == ".csv":
            return self.export_csv(key, path)
        with self._panel_shown(key) as panel_view, self._no_empty_margin(key):
            return [export_figure(panel_view, path, width)]

    def export_dashboard(self, path: str | os.PathLike[str], width: int | None = None) -> Path:
        """Write every docked panel as laid out in the window (.png/.svg/.pdf)."""
        self._require_current()
        with self._dashboard_shown():
            return export_widget_image(self.window, path, width)

    def export_csv(self, key: str, path: str | os.PathLike[str]) -> list[Path]:
        """Write exactly the data plotted in ``key`` (every panel's for the dashboard) as CSV:
        one table to ``path``, several to ``<stem>_<table>.csv`` each. Tables with no rows
        (e.g. no traced units) are left out. Returns the files written."""
        target = Path(path)
        if target.suffix.lower() != ".csv":
            raise ExportError(f"{target}: a data export must be a .csv file")
        self._title(key)
        self._require_current()
        self.window.redraw_now()
        self._prepare(key)
        keys = list(self.window.panels) if key == DASHBOARD else [key]
        tables = {}
        for k in keys:
            tables.update(self.window.panels[k].csv_tables())
        tables = {name: table for name, table in tables.items() if len(table[1])}
        if not tables:
            raise ExportError(f"{self._title(key)}: no data is plotted")
        if len(tables) == 1:
            table = next(iter(tables.values()))
            return [write_csv(target, table[0], table_rows(table))]
        return [
            write_csv(target.with_name(f"{target.stem}_{_safe_name(name)}.csv"), table[0],
                      table_rows(table))
            for name, table in tables.items()
        ]

    def export_handout(self, path: str | os.PathLike[str], keys: list[str], *,
                       title: str = "", caption: str | None = None, width_in: float = 7.0,
                       dpi: int = 300, cursor: bool = False) -> Path:
        """Write the handout figure of panels ``keys`` (see :mod:`.handout`): .png at ``dpi``,
        .svg or .pdf, ``width_in`` inches wide, with ``title`` and ``caption`` (None: the
        model's description); ``cursor``: mark the cursor step. Returns the path."""
        from rnnviz.gui.export.handout import export_handout

        self._require_current()
        self.window.redraw_now()
        return export_handout(self.window, path, keys, title=title, caption=caption,
                              width_in=width_in, dpi=dpi, cursor=cursor)

    def open_figure_dialog(self) -> HandoutDialog:
        """File → Export Figure…: a figure of chosen panels for a handout."""
        self._require_current_quietly()
        dialog = HandoutDialog(self)
        self._show_dialog(dialog)
        return dialog

    def _require_current_quietly(self) -> None:
        try:
            self._require_current()
        except ExportError as exc:
            self.message(str(exc))

    def export_run(self, path: str | os.PathLike[str]) -> list[Path]:
        """Write the run's arrays to ``path`` (.npz) and its description beside it (.json)."""
        self._require_current()
        session = self.window.session
        return write_run_npz(path, session.results.model(session.view.model))

    # ---- animations ------------------------------------------------------------------------
    def export_animation(
        self,
        key: str,
        path: str | os.PathLike[str],
        fps: float = 10.0,
        stride: int = 1,
        width: int | None = None,
        progress: Callable[[float], bool | None] | None = None,
    ) -> bool:
        """Write ``key`` as the cursor steps through the sequence (every ``stride`` steps and the
        last) to ``path`` (.gif/.mp4) at ``fps`` frames per second, ``width`` pixels wide
        (default as on screen). In reveal mode the plots unfold as the cursor moves (backwards,
        from the last step, in the backward phase). ``progress(fraction)`` after each frame;
        returning False cancels and leaves no file. The view is restored afterwards.
        Returns True when written, False when cancelled."""
        self._require_current()
        window = self.window
        session = window.session
        window.player.stop()
        window.redraw_now()
        saved = session.view
        steps = frame_steps(session.document.sequence.steps, stride)
        if saved.reveal and saved.phase == "backward":
            steps.reverse()
        if key != DASHBOARD and not saved.reveal:
            # only the cursor moves: the panel is rendered once, the cursor drawn per frame
            with self._panel_shown(key) as view, self._no_empty_margin(key), CursorSweep(
                    view, window.panels[key].cursor, width) as sweep:
                try:
                    return export_animation(path, sweep.frame, steps, fps, progress)
                finally:
                    session.set_view(saved)
                    window.redraw_now()
        shown = self._dashboard_renderer() if key == DASHBOARD else self._panel_renderer(key)
        with shown as render:

            def frame(step: int) -> QImage:
                session.set_view(step=step)
                window.redraw_now()
                self._prepare(key)
                return render(width)

            try:
                return export_animation(path, frame, steps, fps, progress)
            finally:
                session.set_view(saved)
                window.redraw_now()

    # ---- preparing what is rendered --------------------------------------------------------
    def _prepare(self, key: str) -> None:
        """Let the panels about to be exported draw what they still compute in the
        background (see Panel.prepare_export)."""
        for k in (list(self.window.panels) if key == DASHBOARD else [key]):
            self.window.panels[k].prepare_export()

    @contextlib.contextmanager
    def _panel_shown(self, key: str) -> Iterator[QWidget]:
        """The panel's plot view, up to date and on screen (a tabbed dock is brought to the
        front)."""
        title = self._title(key)
        if key == DASHBOARD:
            raise ExportError("the dashboard is not a single panel")
        window = self.window
        window.redraw_now()
        panel = window.panels[key]
        view = panel.plot_widget
        if not view.isVisibleTo(panel):
            raise ExportError(f"{title}: nothing is plotted for this network")
        dock = window.docks.get(key)
        # A tab behind another counts as visible (Qt moves it out of sight): bring it up.
        tabbed = dock is not None and not dock.isHidden() and window.tabifiedDockWidgets(dock)
        if (not view.isVisible() or tabbed) and dock is not None:
            if dock.isHidden():
                raise ExportError(f"{title}: the panel is closed; show it from View → Panels")
            dock.raise_()
            QApplication.processEvents()
        if not view.isVisible():
            raise ExportError(f"{title}: the panel is not shown")
        panel.prepare_export()
        yield view

    @contextlib.contextmanager
    def _no_empty_margin(self, key: str) -> Iterator[None]:
        """A panel of line plots alone drops the room its plots keep for colour bars."""
        panel = self.window.panels[key]
        drop = not panel.has_heatmaps
        if drop:
            panel.set_gutter(False)
            _settle()
        try:
            yield
        finally:
            if drop:
                panel.set_gutter(True)
                _settle()

    @contextlib.contextmanager
    def _panel_renderer(self, key: str) -> Iterator[Renderer]:
        with self._panel_shown(key) as view, self._no_empty_margin(key):
            yield lambda width: render_figure(view, width)

    @contextlib.contextmanager
    def _dashboard_shown(self) -> Iterator[QMainWindow]:
        """The window with its menu bar, status bar and transport bar hidden, so that only the
        docks (and an alert banner) are in the picture; everything is put back afterwards."""
        window = self.window
        window.redraw_now()
        state = window.saveState()
        bars = [window.menuBar(), window.statusBar(), getattr(window, "transport_bar", None)]
        hidden = [bar for bar in bars if bar is not None and bar.isVisible()]
        for bar in hidden:
            bar.hide()
        self._prepare(DASHBOARD)
        _settle()
        try:
            yield window
        finally:
            for bar in hidden:
                bar.show()
            window.restoreState(state)
            _settle()

    @contextlib.contextmanager
    def _dashboard_renderer(self) -> Iterator[Renderer]:
        with self._dashboard_shown() as window:
            yield lambda width: render_widget(window, width)

    # ---- dialogs ---------------------------------------------------------------------------
    def open_export_dialog(self, key: str | None = None) -> ExportDialog:
        """Show the Export dialog (non-modal), with ``key`` chosen if given."""
        dialog = ExportDialog(self, key)
        self._show_dialog(dialog)
        return dialog

    def open_animation_dialog(self, key: str | None = None) -> AnimationDialog:
        """Show the Export Animation dialog (non-modal), with ``key`` chosen if given."""
        dialog = AnimationDialog(self, key)
        self._show_dialog(dialog)
        return dialog

    def _show_dialog(self, dialog: QDialog) -> None:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda *_: self._forget(dialog))
        dialog.open()

    def _forget(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def export_run_dialog(self) -> list[Path]:
        """Ask for an .npz file name and write the run there (with its .json description)."""
        start = str(Path(self.last_folder()) / "run.npz")
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Export run data", start, "NumPy archive (*.npz)"
        )
        if not path:
            return []
        if Path(path).suffix.lower() != ".npz":
            path += ".npz"
        try:
            written = self.export_run(path)
        except ExportError as exc:
            self.message(str(exc))
            return []
        self.remember_folder(path)
        self.message("exported " + ", ".join(p.name for p in written))
        return written

    def animate_with_progress(
        self, key: str, path: str | os.PathLike[str], fps: float, stride: int, width: int | None
    ) -> bool:
        """:meth:`export_animation` behind a progress dialog whose Cancel stops it (and
        removes the partial file). Returns True when the file was written."""
        progress = QProgressDialog(f"Rendering {Path(path).name}…", "Cancel", 0, 1000, self.window)
        progress.setWindowTitle("Export animation")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        progress.setValue(0)

        def report(fraction: float) -> bool:
            progress.setValue(round(fraction * 1000))
            QApplication.processEvents()
            return not progress.wasCanceled()

        try:
            done = self.export_animation(key, path, fps, stride, width, report)
        finally:
            progress.close()
            progress.deleteLater()
        self.message(f"exported {Path(path).name}" if done else "animation export cancelled")
        return done

    # ---- remembered choices ----------------------------------------------------------------
    def setting(self, key: str, default: object, kind: type) -> object:
        settings = getattr(self.window, "settings", None)
        return default if settings is None else settings.value(f"export/{key}", default, kind)

    def remember(self, key: str, value: object) -> None:
        settings = getattr(self.window, "settings", None)
        if settings is not None:
            settings.set_value(f"export/{key}", value)

    def last_folder(self) -> str:
        folder = str(self.setting("folder", "", str))
        return folder if folder and Path(folder).is_dir() else str(Path.home())

    def remember_folder(self, path: str | os.PathLike[str]) -> None:
        self.remember("folder", str(Path(path).parent))

    def message(self, text: str) -> None:
        show = getattr(self.window, "show_message", None)
        if show is not None:
            show(text)


def _settle() -> None:
    """Let posted layout requests run (twice: a re-laid-out window resizes the plot views,
    whose scenes then lay out their own items)."""
    for _ in range(2):
        QApplication.processEvents()


def _hide_builtin_export(panel) -> None:
    """Hide pyqtgraph's own "Export..." entry from a panel's plot menus: File → Export…
    replaces it (with exact CSV data, high-resolution images and whole-dashboard figures)."""
    for action in getattr(panel.plot_widget.scene(), "contextMenu", []):
        if action.text().startswith("Export"):
            action.setVisible(False)


def add_context_actions(controller: ExportController) -> None:
    """Put "Export…" and "Export Animation…" in every panel's right-click menu."""
    for key, panel in controller.window.panels.items():
        action = QAction("Export…", panel)
        action.triggered.connect(lambda _=False, k=key: controller.open_export_dialog(k))
        panel.add_context_action(action)
        action = QAction("Export Animation…", panel)
        action.triggered.connect(lambda _=False, k=key: controller.open_animation_dialog(k))
        panel.add_context_action(action)
        _hide_builtin_export(panel)
