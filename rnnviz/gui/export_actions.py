"""Exporting from the app: File → Export… (Ctrl+E), Export Animation… (Ctrl+Shift+E), Export
Run Data…, and "Export…" in every plot's right-click menu.

:class:`ExportController` does the exporting for one window (also used headless by
:mod:`rnnviz.gui.headless`): a panel or the whole dashboard as PNG/SVG/PDF, the plotted data as
CSV, an animation of the cursor stepping through the sequence as GIF/MP4, and the run as NPZ +
JSON. :func:`install` adds the menu entries and dialogs to a window.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QImage, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressDialog,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rnnviz.gui.animation import MAX_GIF_FPS, export_animation, frame_steps
from rnnviz.gui.figure_export import (
    MAX_PIXELS,
    export_figure,
    export_widget_image,
    render_figure,
    render_widget,
)
from rnnviz.io.run_export import ExportError, write_csv, write_run_npz

__all__ = [
    "ANIMATION_FORMATS",
    "DASHBOARD",
    "FIGURE_FORMATS",
    "AnimationDialog",
    "ExportController",
    "ExportDialog",
    "install",
]

DASHBOARD = "dashboard"
# Dialog choice -> file suffix.
FIGURE_FORMATS = {"PNG image": ".png", "SVG vector": ".svg", "PDF": ".pdf", "CSV data": ".csv"}
ANIMATION_FORMATS = {"GIF": ".gif", "MP4 video": ".mp4"}
DEFAULT_WIDTH = 1600
# Animations keep every frame in memory until written (GIF): a smaller default.
DEFAULT_ANIMATION_WIDTH = 800
MIN_WIDTH = 16

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
        self.export_action: QAction | None = None
        self.animation_action: QAction | None = None
        self.run_action: QAction | None = None
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
        return titles[key].replace("&&", "&")  # dock titles escape "&" for Qt

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
        with self._panel_shown(key) as panel_view:
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
        keys = list(self.window.panels) if key == DASHBOARD else [key]
        tables = {}
        for k in keys:
            tables.update(self.window.panels[k].csv_tables())
        tables = {name: table for name, table in tables.items() if len(table[1])}
        if not tables:
            raise ExportError(f"{self._title(key)}: no data is plotted")
        if len(tables) == 1:
            headers, rows = next(iter(tables.values()))
            return [write_csv(target, headers, rows)]
        return [
            write_csv(target.with_name(f"{target.stem}_{_safe_name(name)}.csv"), headers, rows)
            for name, (headers, rows) in tables.items()
        ]

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
        shown = self._dashboard_renderer() if key == DASHBOARD else self._panel_renderer(key)
        with shown as render:

            def frame(step: int) -> QImage:
                session.set_view(step=step)
                window.redraw_now()
                return render(width)

            try:
                return export_animation(path, frame, steps, fps, progress)
            finally:
                session.set_view(saved)
                window.redraw_now()

    # ---- preparing what is rendered --------------------------------------------------------
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
        if not view.isVisible() and dock is not None:
            if dock.isHidden():
                raise ExportError(f"{title}: the panel is closed; show it from View → Panels")
            dock.raise_()
            QApplication.processEvents()
        if not view.isVisible():
            raise ExportError(f"{title}: the panel is not shown")
        yield view

    @contextlib.contextmanager
    def _panel_renderer(self, key: str) -> Iterator[Renderer]:
        with self._panel_shown(key) as view:
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
        start = str(Path(self._last_folder()) / "run.npz")
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
            self._message(str(exc))
            return []
        self._remember_folder(path)
        self._message("exported " + ", ".join(p.name for p in written))
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
        self._message(f"exported {Path(path).name}" if done else "animation export cancelled")
        return done

    # ---- remembered choices ----------------------------------------------------------------
    def _setting(self, key: str, default: object, kind: type) -> object:
        settings = getattr(self.window, "settings", None)
        return default if settings is None else settings.value(f"export/{key}", default, kind)

    def _remember(self, key: str, value: object) -> None:
        settings = getattr(self.window, "settings", None)
        if settings is not None:
            settings.set_value(f"export/{key}", value)

    def _last_folder(self) -> str:
        folder = str(self._setting("folder", "", str))
        return folder if folder and Path(folder).is_dir() else str(Path.home())

    def _remember_folder(self, path: str | os.PathLike[str]) -> None:
        self._remember("folder", str(Path(path).parent))

    def _message(self, text: str) -> None:
        show = getattr(self.window, "show_message", None)
        if show is not None:
            show(text)


def _settle() -> None:
    """Let posted layout requests run (twice: a re-laid-out window resizes the plot views,
    whose scenes then lay out their own items)."""
    for _ in range(2):
        QApplication.processEvents()


# ---- dialogs ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportChoices:
    """What the Export dialog will write: ``key`` (panel or "dashboard") to ``path``;
    ``width``: PNG width in pixels."""

    key: str
    path: Path
    width: int


class _PathRow(QWidget):
    """A file path field with a Browse… button."""

    def __init__(self, dialog: _ExportDialogBase) -> None:
        super().__init__()
        self.dialog = dialog
        self.edit = QLineEdit()
        self.edit.setMinimumWidth(320)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(browse)

    def _browse(self) -> None:
        suffix = self.dialog.suffix()
        name = self.dialog.format_combo.currentText()
        path, _ = QFileDialog.getSaveFileName(
            self, "Export to", self.edit.text(), f"{name} (*{suffix})"
        )
        if path:
            self.edit.setText(path if Path(path).suffix.lower() == suffix else path + suffix)


class _ExportDialogBase(QDialog):
    """Shared parts: what to export, the format, the image width and the file."""

    formats: dict[str, str] = {}
    width_setting = "width"
    default_width = DEFAULT_WIDTH

    def __init__(self, controller: ExportController, key: str | None, title: str) -> None:
        super().__init__(controller.window)
        self.controller = controller
        self.setWindowTitle(title)
        self.target_combo = QComboBox()
        for k, name in controller.targets().items():
            self.target_combo.addItem(name, k)
        self.format_combo = QComboBox()
        for name, suffix in self.formats.items():
            self.format_combo.addItem(name, suffix)
        self.width_spin = QSpinBox()
        self.width_spin.setRange(MIN_WIDTH, MAX_PIXELS)
        self.width_spin.setSingleStep(100)
        self.width_spin.setSuffix(" px")
        self.width_spin.setValue(
            int(controller._setting(self.width_setting, self.default_width, int))
        )
        self.path_row = _PathRow(self)
        self.form = QFormLayout()
        self.form.addRow("Export", self.target_combo)
        self.form.addRow("Format", self.format_combo)
        self.form.addRow("Width", self.width_spin)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c62828;")
        self.error_label.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self._default_stem = ""
        if key is not None:
            self.target_combo.setCurrentIndex(max(0, self.target_combo.findData(key)))
        self.target_combo.currentIndexChanged.connect(self._update_path)
        self.format_combo.currentIndexChanged.connect(self._update_path)
        self._update_path()

    def _add_path_row(self) -> None:
        self.form.addRow("File", self.path_row)

    def suffix(self) -> str:
        return str(self.format_combo.currentData())

    def key(self) -> str:
        return str(self.target_combo.currentData())

    def _update_path(self) -> None:
        """Keep the file's suffix on the format and its name on the panel (unless typed)."""
        text = self.path_row.edit.text().strip()
        path = Path(text) if text else Path(self.controller._last_folder()) / self.key()
        stem = path.stem if path.suffix else path.name
        if not text or stem == self._default_stem:
            stem = self.key()
        self._default_stem = self.key()
        self.path_row.edit.setText(str(path.with_name(stem + self.suffix())))
        self.width_spin.setEnabled(self._uses_width())

    def _uses_width(self) -> bool:
        return True

    def set_choices(
        self,
        key: str | None = None,
        fmt: str | None = None,
        path: str | os.PathLike[str] | None = None,
        width: int | None = None,
    ) -> None:
        """Choose programmatically: ``key`` (panel or "dashboard"), ``fmt`` (a suffix such as
        ".png" or "png"), ``path``, ``width`` in pixels."""
        if key is not None:
            index = self.target_combo.findData(key)
            if index < 0:
                raise ExportError(f"unknown panel {key!r}")
            self.target_combo.setCurrentIndex(index)
        if fmt is not None:
            suffix = fmt if fmt.startswith(".") else "." + fmt
            index = self.format_combo.findData(suffix.lower())
            if index < 0:
                raise ExportError(f"unknown format {fmt!r}")
            self.format_combo.setCurrentIndex(index)
        if width is not None:
            self.width_spin.setValue(width)
        if path is not None:
            self.path_row.edit.setText(str(path))

    def chosen_path(self) -> Path:
        text = self.path_row.edit.text().strip()
        if not text:
            raise ExportError("choose a file to export to")
        path = Path(text).expanduser()
        if path.suffix.lower() != self.suffix():
            path = path.with_name(path.name + self.suffix())
        return path

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    def accept(self) -> None:
        """Export with the chosen settings; on failure the dialog stays open with the error."""
        try:
            path = self.chosen_path()
            written = self._export(path)
        except ExportError as exc:
            self.show_error(str(exc))
            return
        if written:
            self.controller._remember_folder(path)
            self.controller._remember(self.width_setting, self.width_spin.value())
            self.written = written
            super().accept()

    def _export(self, path: Path) -> list[Path]:
        raise NotImplementedError


class ExportDialog(_ExportDialogBase):
    """File → Export…: a panel or the dashboard as PNG (at a width), SVG, PDF or CSV.

    ``set_choices(...)`` then ``accept()`` exports as the Save button does; the files written
    are then in ``written``.
    """

    formats = FIGURE_FORMATS

    def __init__(self, controller: ExportController, key: str | None = None) -> None:
        super().__init__(controller, key, "Export")
        self.written: list[Path] = []
        self._add_path_row()
        note = QLabel("CSV holds exactly the plotted values; several tables give one file each.")
        note.setWordWrap(True)
        self.form.addRow("", note)

    def _uses_width(self) -> bool:
        return self.suffix() == ".png"

    def _export(self, path: Path) -> list[Path]:
        written = self.controller.export(self.key(), path, self.width_spin.value())
        self.controller._message("exported " + ", ".join(p.name for p in written))
        return written


class AnimationDialog(_ExportDialogBase):
    """File → Export Animation…: the cursor stepping through the sequence as GIF or MP4, with
    a frame stride and rate. Accepting renders behind a progress dialog with Cancel."""

    formats = ANIMATION_FORMATS
    width_setting = "animation_width"
    default_width = DEFAULT_ANIMATION_WIDTH

    def __init__(self, controller: ExportController, key: str | None = None) -> None:
        super().__init__(controller, key, "Export animation")
        self.written: list[Path] = []
        steps = controller.window.session.document.sequence.steps
        self.stride_spin = QSpinBox()
        self.stride_spin.setRange(1, max(1, steps))
        self.stride_spin.setValue(int(controller._setting("stride", 1, int)))
        self.stride_spin.setSuffix(" step(s)")
        self.fps_spin = QDoubleSpinBox()
        self.fps_spin.setRange(1.0, MAX_GIF_FPS)
        self.fps_spin.setDecimals(1)
        self.fps_spin.setValue(float(controller._setting("fps", 10.0, float)))
        self.fps_spin.setSuffix(" frames/s")
        self.form.addRow("A frame every", self.stride_spin)
        self.form.addRow("Rate", self.fps_spin)
        self._add_path_row()
        self.frames_label = QLabel()
        self.form.addRow("", self.frames_label)
        self.stride_spin.valueChanged.connect(self._update_frames)
        self.fps_spin.valueChanged.connect(self._update_frames)
        self._update_frames()

    def _update_frames(self) -> None:
        steps = self.controller.window.session.document.sequence.steps
        count = len(frame_steps(steps, self.stride_spin.value()))
        seconds = count / self.fps_spin.value()
        self.frames_label.setText(f"{count} frames of {steps} steps, {seconds:.1f} s")

    def set_choices(
        self,
        key: str | None = None,
        fmt: str | None = None,
        path: str | os.PathLike[str] | None = None,
        width: int | None = None,
        fps: float | None = None,
        stride: int | None = None,
    ) -> None:
        """As :meth:`ExportDialog.set_choices`, plus ``fps`` and ``stride``."""
        super().set_choices(key, fmt, path, width)
        if fps is not None:
            self.fps_spin.setValue(fps)
        if stride is not None:
            self.stride_spin.setValue(stride)

    def _export(self, path: Path) -> list[Path]:
        fps, stride = self.fps_spin.value(), self.stride_spin.value()
        self.controller._remember("fps", fps)
        self.controller._remember("stride", stride)
        self.hide()  # the progress dialog takes over
        done = self.controller.animate_with_progress(
            self.key(), path, fps, stride, self.width_spin.value()
        )
        if not done:
            self.show()
            self.show_error("cancelled: nothing was written")
            return []
        return [path]


# ---- installing ---------------------------------------------------------------------------
def _hide_builtin_export(window: QMainWindow) -> None:
    """Hide pyqtgraph's own "Export..." entry from the plots' menus: File → Export… replaces
    it (with exact CSV data, high-resolution images and whole-dashboard figures)."""
    for panel in window.panels.values():
        for action in getattr(panel.plot_widget.scene(), "contextMenu", []):
            if action.text().startswith("Export"):
                action.setVisible(False)


def install(window: QMainWindow) -> ExportController:
    """Add the export entries to ``window``'s File menu (before Quit) and to every panel's
    right-click menu; returns the controller behind them."""
    controller = ExportController(window)
    menu = window.file_menu
    before = window.quit_action

    export_action = QAction("&Export…", window)
    export_action.setShortcut(QKeySequence("Ctrl+E"))
    export_action.setStatusTip("Save a panel or the dashboard as PNG, SVG, PDF or CSV")
    export_action.triggered.connect(lambda: controller.open_export_dialog())
    animation_action = QAction("Export &Animation…", window)
    animation_action.setShortcut(QKeySequence("Ctrl+Shift+E"))
    animation_action.setStatusTip("Save the cursor stepping through the sequence as GIF or MP4")
    animation_action.triggered.connect(lambda: controller.open_animation_dialog())
    run_action = QAction("Export &Run Data…", window)
    run_action.setStatusTip("Save every array of the run (NPZ) with a JSON description")
    run_action.triggered.connect(controller.export_run_dialog)
    menu.insertActions(before, [export_action, animation_action, run_action])
    menu.insertSeparator(before)
    controller.export_action = export_action
    controller.animation_action = animation_action
    controller.run_action = run_action

    for key, panel in window.panels.items():
        action = QAction("Export…", panel)
        action.triggered.connect(lambda _=False, k=key: controller.open_export_dialog(k))
        panel.add_context_action(action)
        action = QAction("Export Animation…", panel)
        action.triggered.connect(lambda _=False, k=key: controller.open_animation_dialog(k))
        panel.add_context_action(action)
    _hide_builtin_export(window)
    return controller
