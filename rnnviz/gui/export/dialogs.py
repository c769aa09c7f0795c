"""The export dialogs: File → Export… (a panel or the dashboard as PNG at a width, SVG, PDF or
CSV) and File → Export Animation… (GIF or MP4, with a frame stride and rate)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rnnviz.gui.export.animation import MAX_GIF_FPS, frame_steps
from rnnviz.gui.export.figures import MAX_PIXELS
from rnnviz.gui.panels.registry import panel_spec
from rnnviz.io.run_export import ExportError

if TYPE_CHECKING:
    from rnnviz.gui.export.controller import ExportController

__all__ = ["ANIMATION_FORMATS", "FIGURE_FORMATS", "AnimationDialog", "ExportDialog",
           "HandoutDialog"]

# Dialog choice -> file suffix.
FIGURE_FORMATS = {"PNG image": ".png", "SVG vector": ".svg", "PDF": ".pdf", "CSV data": ".csv"}
ANIMATION_FORMATS = {"GIF": ".gif", "MP4 video": ".mp4"}
DEFAULT_WIDTH = 1600
# Animations keep every frame in memory until written (GIF): a smaller default.
DEFAULT_ANIMATION_WIDTH = 800
MIN_WIDTH = 16


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
            int(controller.setting(self.width_setting, self.default_width, int))
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
        path = Path(text) if text else Path(self.controller.last_folder()) / self.key()
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
            self.controller.remember_folder(path)
            self.controller.remember(self.width_setting, self.width_spin.value())
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
        self.controller.message("exported " + ", ".join(p.name for p in written))
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
        self.stride_spin.setValue(int(controller.setting("stride", 1, int)))
        self.stride_spin.setSuffix(" step(s)")
        self.fps_spin = QDoubleSpinBox()
        self.fps_spin.setRange(1.0, MAX_GIF_FPS)
        self.fps_spin.setDecimals(1)
        self.fps_spin.setValue(float(controller.setting("fps", 10.0, float)))
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
        self.controller.remember("fps", fps)
        self.controller.remember("stride", stride)
        self.hide()  # the progress dialog takes over
        done = self.controller.animate_with_progress(
            self.key(), path, fps, stride, self.width_spin.value()
        )
        if not done:
            self.show()
            self.show_error("cancelled: nothing was written")
            return []
        return [path]


HANDOUT_CHOICES = {"PNG image": ".png", "SVG vector": ".svg", "PDF": ".pdf"}


class HandoutDialog(QDialog):
    """File → Export Figure…: the chosen panels as one figure for a handout, with panel
    letters, a title and a caption describing the model; PNG at a resolution, SVG or PDF.

    ``set_choices(...)`` then ``accept()`` exports as the Save button does; the file written
    is then in ``written``."""

    def __init__(self, controller: ExportController) -> None:
        from rnnviz.gui.export.handout import (
            DEFAULT_DPI,
            DEFAULT_WIDTH_IN,
            MAX_DPI,
            default_panels,
            describe_model,
        )

        super().__init__(controller.window)
        self.controller = controller
        self.setWindowTitle("Export figure")
        self.written: list[Path] = []
        window = controller.window
        results = window.session.model_results
        config = window.session.model.config
        chosen = default_panels(config, window.session.document)
        self.panel_checks: dict[str, QCheckBox] = {}
        panels_box = QVBoxLayout()
        for key, panel in window.panels.items():
            check = QCheckBox(panel.title.replace("&", "&&"))
            check.setChecked(key in chosen)
            check.setEnabled(panel_spec(key).has_content(config))
            panels_box.addWidget(check)
            self.panel_checks[key] = check
        self.title_edit = QLineEdit(_default_title(window))
        self.caption_edit = QLineEdit(describe_model(results) if results is not None else "")
        self.caption_edit.setToolTip("The model's description; edit it freely")
        self.format_combo = QComboBox()
        for name, suffix in HANDOUT_CHOICES.items():
            self.format_combo.addItem(name, suffix)
        self.dpi_spin = QSpinBox()
        self.dpi_spin.setRange(36, MAX_DPI)
        self.dpi_spin.setSuffix(" dpi")
        self.dpi_spin.setValue(int(controller.setting("handout_dpi", DEFAULT_DPI, int)))
        self.width_spin = QDoubleSpinBox()
        self.width_spin.setRange(1.0, 40.0)
        self.width_spin.setDecimals(1)
        self.width_spin.setSuffix(" in")
        self.width_spin.setValue(float(controller.setting("handout_width", DEFAULT_WIDTH_IN,
                                                          float)))
        self.cursor_check = QCheckBox("mark the cursor step")
        self.path_edit = QLineEdit(str(Path(controller.last_folder()) / "figure.png"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Panels", panels_box)
        form.addRow("Title", self.title_edit)
        form.addRow("Caption", self.caption_edit)
        form.addRow("Format", self.format_combo)
        form.addRow("Resolution", self.dpi_spin)
        form.addRow("Width", self.width_spin)
        form.addRow("", self.cursor_check)
        form.addRow("File", path_row)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c62828;")
        self.error_label.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self.format_combo.currentIndexChanged.connect(self._format_changed)

    def suffix(self) -> str:
        return str(self.format_combo.currentData())

    def keys(self) -> list[str]:
        return [k for k, c in self.panel_checks.items() if c.isChecked() and c.isEnabled()]

    def _format_changed(self) -> None:
        path = Path(self.path_edit.text().strip() or "figure")
        self.path_edit.setText(str(path.with_suffix(self.suffix())))
        self.dpi_spin.setEnabled(self.suffix() == ".png")

    def _browse(self) -> None:
        name = self.format_combo.currentText()
        path, _ = QFileDialog.getSaveFileName(self, "Export figure to", self.path_edit.text(),
                                              f"{name} (*{self.suffix()})")
        if path:
            self.path_edit.setText(path if Path(path).suffix.lower() == self.suffix()
                                   else path + self.suffix())

    def set_choices(self, panels: list[str] | None = None, fmt: str | None = None,
                    path: str | os.PathLike[str] | None = None, title: str | None = None,
                    caption: str | None = None, dpi: int | None = None,
                    width_in: float | None = None, cursor: bool | None = None) -> None:
        """Choose programmatically (as a user would in the dialog)."""
        if panels is not None:
            for key, check in self.panel_checks.items():
                check.setChecked(key in panels)
        if fmt is not None:
            suffix = fmt if fmt.startswith(".") else "." + fmt
            index = self.format_combo.findData(suffix.lower())
            if index < 0:
                raise ExportError(f"unknown format {fmt!r}")
            self.format_combo.setCurrentIndex(index)
        if path is not None:
            self.path_edit.setText(str(path))
        if title is not None:
            self.title_edit.setText(title)
        if caption is not None:
            self.caption_edit.setText(caption)
        if dpi is not None:
            self.dpi_spin.setValue(dpi)
        if width_in is not None:
            self.width_spin.setValue(width_in)
        if cursor is not None:
            self.cursor_check.setChecked(cursor)

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    def accept(self) -> None:
        try:
            text = self.path_edit.text().strip()
            if not text:
                raise ExportError("choose a file to export to")
            path = Path(text).expanduser()
            if path.suffix.lower() != self.suffix():
                path = path.with_name(path.name + self.suffix())
            written = self.controller.export_handout(
                path, self.keys(), title=self.title_edit.text(),
                caption=self.caption_edit.text(), width_in=self.width_spin.value(),
                dpi=self.dpi_spin.value(), cursor=self.cursor_check.isChecked())
        except ExportError as exc:
            self.show_error(str(exc))
            return
        self.controller.remember_folder(path)
        self.controller.remember("handout_dpi", self.dpi_spin.value())
        self.controller.remember("handout_width", self.width_spin.value())
        self.controller.message(f"exported {written.name}")
        self.written = [written]
        super().accept()


def _default_title(window) -> str:
    path = window.session.path
    return Path(path).stem if path else ""
