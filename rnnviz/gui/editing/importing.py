"""Sequence → Import…: a CSV/TSV/TXT/NPY/NPZ file becomes the sequence (one undo step).

When the file holds several columns and no separate target array, a small dialog asks which
column (if any) is the target. A file that cannot be read leaves the sequence as it is; its
one-line reason goes to the status bar and a message box.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QMessageBox,
    QWidget,
)

from rnnviz.io.errors import FileFormatError
from rnnviz.io.opener import file_kind, open_file
from rnnviz.io.sequences import load_sequence

IMPORT_FILTER = "Sequences (*.csv *.tsv *.txt *.npy *.npz);;All files (*)"


def target_choices(path: str | Path) -> list[str] | None:
    """The column names to offer as the target, or None when there is nothing to choose (one
    column, or a target array in the file). Raises FileFormatError for a bad file."""
    if file_kind(path) != "sequence":
        raise FileFormatError(f"{Path(path).name}: not a sequence file")
    imported = load_sequence(path)
    if imported.targets is not None or len(imported.channel_names) < 2:
        return None
    return list(imported.channel_names)


class TargetColumnDialog(QDialog):
    """Which column is the target: "(none)" or one of ``columns``."""

    def __init__(self, columns: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Target column")
        form = QFormLayout(self)
        self.combo = QComboBox()
        self.combo.addItem("(none: every column is an input)", None)
        for k, name in enumerate(columns):
            self.combo.addItem(name, k)
        self.combo.setCurrentIndex(len(columns))  # the last column, where targets usually are
        form.addRow("Target", self.combo)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    @property
    def target_column(self) -> int | None:
        return self.combo.currentData()


class Importer:
    """Imports files into ``window``'s document through its editor."""

    def __init__(self, window) -> None:
        self.window = window
        self.error_box: QMessageBox | None = None

    def report(self, message: str) -> None:
        self.window.show_message(message)
        self.error_box = QMessageBox(
            QMessageBox.Icon.Warning, "Import", message, parent=self.window
        )
        self.error_box.open()

    def import_file(self, path: str | Path, target_column: str | int | None = None) -> bool:
        """Make the file's sequence the document's (one undo step); False if refused."""
        path = Path(path)
        try:
            opened = open_file(
                path, self.window.session.document, target_column=target_column, expect="sequence"
            )
        except FileFormatError as exc:
            self.report(str(exc))
            return False
        self.window.editor.apply(opened.document, f"Import {path.name}")
        self.window.show_message(opened.message)
        return True

    def ask(self) -> None:
        """The file dialog, then the target column dialog if there is a choice to make."""
        path, _ = QFileDialog.getOpenFileName(self.window, "Import a sequence", "", IMPORT_FILTER)
        if not path:
            return
        try:
            columns = target_choices(path)
        except FileFormatError as exc:
            self.report(str(exc))
            return
        target = None
        if columns:
            dialog = TargetColumnDialog(columns, self.window)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            target = dialog.target_column
        self.import_file(path, target_column=target)
