"""Undo and redo for every edit of the document (Qt's QUndoStack).

Documents are immutable values, so a command simply holds the document before and after. Edits
that belong together — the moves of one drag, the points of one stroke, a run of slider steps —
share a ``merge_key`` and collapse into a single undo step until :meth:`Editor.seal` is called.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from rnnviz.session import Document, Session

_MERGE_IDS: dict[str, int] = {}


def _merge_id(key: str | None) -> int:
    if key is None:
        return -1
    return _MERGE_IDS.setdefault(key, len(_MERGE_IDS) + 1)


class DocumentCommand(QUndoCommand):
    """Replace the session's document ``before`` → ``after``."""

    def __init__(self, session: Session, before: Document, after: Document, text: str,
                 merge_key: str | None, generation: int) -> None:
        super().__init__(text)
        self.session = session
        self.before = before
        self.after = after
        self._id = _merge_id(merge_key)
        self.generation = generation

    def id(self) -> int:  # noqa: A003 (Qt's name)
        return self._id

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt's name)
        if not isinstance(other, DocumentCommand) or other.generation != self.generation:
            return False
        self.after = other.after
        return True

    def redo(self) -> None:
        self.session.set_document(self.after)

    def undo(self) -> None:
        self.session.set_document(self.before)


class Editor(QObject):
    """The one way the GUI changes the document: ``apply(document, text)`` pushes an undoable
    command. ``stack`` is the QUndoStack (for menu actions and the undo view). ``reset_done``
    is emitted when the history is forgotten (another document was opened)."""

    reset_done = Signal()

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.stack = QUndoStack(self)
        self._generation = 0

    def apply(self, document: Document, text: str, merge_key: str | None = None) -> None:
        """Make ``document`` the session's document as one undoable step (merged with the
        previous step when both carry the same ``merge_key`` and no :meth:`seal` came between)."""
        before = self.session.document
        if document is before:
            return
        self.stack.push(DocumentCommand(self.session, before, document, text, merge_key,
                                        self._generation))

    def seal(self) -> None:
        """End the current run of mergeable edits (call on mouse release)."""
        self._generation += 1

    def reset(self, session: Session | None = None) -> None:
        """Forget the history (a new document was opened)."""
        if session is not None:
            self.session = session
        self.stack.clear()
        self.seal()
        self.reset_done.emit()
