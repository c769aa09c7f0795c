"""Editing the input sequence live: drag or draw on the input plot, a table of exact values,
generators, text, import, and changes of length — every change an undoable edit through the
window's editor, so the network recomputes and every plot follows.

``install(window)`` adds the Sequence menu, the "Sequence table" and "Text" docks and the plot
editing to a :class:`~rnnviz.gui.main_window.MainWindow`, and returns the
:class:`EditingController` that owns them.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

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

SHORTCUTS = (
    ("Ctrl+G", "generate a sequence"),
    ("Ctrl+T", "type a text sequence"),
    ("Ctrl+I", "import a sequence file"),
)


class EditingController(QObject):
    """Owns the editing tools of one window: ``plot_editor``, ``table_dock``, ``text_dock``,
    ``importer``, ``sequence_menu`` and its ``actions`` (name -> QAction)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.plot_editor = PlotEditor(window)
        self.table_dock = TableDock(window)
        self.text_dock = TextDock(window)
        self.importer = Importer(window)
        self.generator_dialog: GeneratorDialog | None = None
        self._place_docks()
        self.actions: dict[str, QAction] = {}
        self.sequence_menu = self._build_menu()
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
            w.panels_menu.addAction(dock.toggleViewAction())

    def _build_menu(self) -> QMenu:
        w = self.window
        menu = QMenu("&Sequence", w)
        after_edit = w.menuBar().actions()
        index = after_edit.index(w.edit_menu.menuAction()) + 1
        if index < len(after_edit):
            w.menuBar().insertMenu(after_edit[index], menu)
        else:
            w.menuBar().addMenu(menu)

        def add(name: str, text: str, slot, shortcut: str | None = None, tip: str = "") -> None:
            action = menu.addAction(text)
            action.triggered.connect(lambda _=False: slot())
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.setStatusTip(tip)
            self.actions[name] = action

        add(
            "generate",
            "&Generate…",
            self.show_generator_dialog,
            "Ctrl+G",
            "Replace the sequence with a test signal or a memory task",
        )
        add(
            "text",
            "&Text…",
            self.text_dock.start_typing,
            "Ctrl+T",
            "Type the text the network reads, one character per step",
        )
        add(
            "import",
            "&Import…",
            self.importer.ask,
            "Ctrl+I",
            "Read the sequence from a CSV, TSV, NPY or NPZ file",
        )
        menu.addSeparator()
        add("insert", "I&nsert steps at cursor…", lambda: ask_insert(w))
        add("delete", "&Delete step(s)…", lambda: ask_delete(w))
        add("resize", "&Resize…", lambda: ask_resize(w))
        menu.addSeparator()
        table = self.table_dock.toggleViewAction()
        table.setText("Show t&able of values")
        menu.addAction(table)
        self.actions["table"] = table
        return menu

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
