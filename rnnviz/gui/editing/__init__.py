"""Editing the input sequence live: drag or draw on the input plot, a table of exact values,
generators, text, import, and changes of length — every change an undoable edit through the
window's editor, so the network recomputes and every plot follows.

``install(window)`` adds the "Sequence table" and "Text" docks and the plot editing to a
:class:`~rnnviz.gui.main_window.MainWindow` and returns the :class:`EditingController` that owns
them; the Sequence menu's commands (see :mod:`rnnviz.gui.actions`) call it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt

from rnnviz.gui.editing.apply import apply_document
from rnnviz.gui.editing.generator_dialog import GeneratorDialog, generated_document
from rnnviz.gui.editing.importing import Importer
from rnnviz.gui.editing.plot_editor import PlotEditor
from rnnviz.gui.editing.resize_actions import ask_delete, ask_insert, ask_resize
from rnnviz.gui.editing.table_dock import TableDock
from rnnviz.gui.editing.text_dock import TextDock
from rnnviz.session import Document, ViewState
from rnnviz.tasks.generators import GeneratedSequence

__all__ = ["EditingController", "install"]

class EditingController(QObject):
    """Owns the editing tools of one window: ``plot_editor``, ``table_dock``, ``text_dock``,
    ``importer``."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.plot_editor = PlotEditor(window)
        self.table_dock = TableDock(window)
        self.text_dock = TextDock(window)
        self.importer = Importer(window)
        self.generator_dialog: GeneratorDialog | None = None
        self._place_docks()
        session = window.session
        session.document_changed.connect(self._document_changed)
        session.view_changed.connect(self._view_changed)
        self.table_dock.follow_step(session.view.step)

    def _place_docks(self) -> None:
        """Register the docks with the window, which lays them out (tabbed with the
        inspector) and saves and restores their places with the rest."""
        w = self.window
        for key, dock in (("table", self.table_dock), ("text", self.text_dock)):
            w.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
            w.docks[key] = dock

    # ---- commands of the Sequence menu (see rnnviz.gui.actions) ----------------------------
    def ask_insert(self) -> None:
        ask_insert(self.window)

    def ask_delete(self) -> None:
        ask_delete(self.window)

    def ask_resize(self) -> None:
        ask_resize(self.window)

    # ---- following the session -------------------------------------------------------------
    def _document_changed(self, doc: Document) -> None:
        self.table_dock.show_sequence(doc.sequence)
        self.text_dock.show_document(doc)

    def _view_changed(self, view: ViewState) -> None:
        self.table_dock.follow_step(view.step)

    # ---- generators ------------------------------------------------------------------------
    def show_generator_dialog(self) -> GeneratorDialog:
        """Open Sequence → Generate… (window-modal); OK replaces the sequence."""
        dialog = GeneratorDialog(self.window)
        dialog.accepted.connect(lambda: self.apply_generated(dialog.generated))
        self.generator_dialog = dialog
        dialog.open()
        return dialog

    def apply_generated(self, gen: GeneratedSequence | None) -> bool:
        """Make ``gen`` the sequence with its task (one undo step)."""
        if gen is None:
            return False
        return apply_document(
            self.window, lambda d: generated_document(d, gen), f"Generate {gen.name}"
        )


def install(window) -> EditingController:
    """Add sequence editing to ``window`` (a MainWindow) and return its controller."""
    return EditingController(window)
