"""The questions the file commands ask the user, behind one object that tests (and embedders)
replace to answer them without dialogs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMainWindow, QMessageBox

from rnnviz.io.autosave import RecoveryInfo

# Answers to "save changes?"
SAVE, DISCARD, CANCEL = "save", "discard", "cancel"



class Prompts:
    """The questions the file commands ask, as dialogs. Replace (subclass) to answer them
    without dialogs; every method gets the window as the dialogs' parent."""

    def unsaved_changes(self, window: QMainWindow, name: str, answer: Callable[[str], None]):
        """Ask whether to save ``name`` first; call ``answer`` with SAVE, DISCARD or CANCEL.
        The dialog is window-modal and returns at once (``answer`` runs when it closes)."""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Unsaved changes",
            f"Save the changes to {name}?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            window,
        )
        box.setInformativeText("Your changes are lost if you don't save them.")
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        choices = {
            QMessageBox.StandardButton.Save: SAVE,
            QMessageBox.StandardButton.Discard: DISCARD,
        }

        def finished(_result: int) -> None:
            answer(choices.get(box.standardButton(box.clickedButton()), CANCEL))
            box.deleteLater()

        box.finished.connect(finished)
        box.open()

    def recover(self, window: QMainWindow, info: RecoveryInfo) -> bool:
        """Offer the autosave of a session that did not exit cleanly: True = recover."""
        name = Path(info.original_path).name if info.original_path else "an untitled session"
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Recover unsaved work?",
            f"rnnviz did not close properly. Recover the unsaved changes to {name}, "
            f"autosaved {info.saved_at:%Y-%m-%d %H:%M}?",
            parent=window,
        )
        recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(recover)
        box.setEscapeButton(recover)  # dismissing the box must not throw work away
        box.exec()
        return box.clickedButton() is recover

    def choose_prefix(self, window: QMainWindow, file_name: str, prefixes: list[str]) -> str | None:
        """Pick one of several RNNs in a weights file (None = cancel)."""
        shown = [p or "(no prefix)" for p in prefixes]
        item, ok = QInputDialog.getItem(
            window,
            "Choose the RNN",
            f"{file_name} holds several RNNs; show which one?",
            shown,
            0,
            False,
        )
        return prefixes[shown.index(item)] if ok and item in shown else None

    def open_paths(self, window: QMainWindow, title: str, file_filter: str) -> list[str]:
        paths, _ = QFileDialog.getOpenFileNames(window, title, "", file_filter)
        return list(paths)

    def save_path(
        self, window: QMainWindow, title: str, suggested: str, file_filter: str
    ) -> str | None:
        path, _ = QFileDialog.getSaveFileName(window, title, suggested, file_filter)
        return path or None

    def warn(self, window: QMainWindow, text: str) -> None:
        """Show a one-line failure (a window-modal box that does not block)."""
        box = QMessageBox(QMessageBox.Icon.Warning, "rnnviz", text, parent=window)
        box.finished.connect(box.deleteLater)
        box.open()
