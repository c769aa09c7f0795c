"""The one path by which the editing tools change the document: build the new document from
the current one and push it onto the window's undo stack, or report why it cannot be built."""

from __future__ import annotations

from collections.abc import Callable

from rnnviz.engine import EngineError
from rnnviz.session import Document, Sequence, SessionError

EDIT_ERRORS = (SessionError, EngineError, ValueError)


def apply_document(
    window, build: Callable[[Document], Document], text: str, merge_key: str | None = None
) -> bool:
    """Push ``build(current document)`` as an undoable edit called ``text``. A build that
    raises (a refused edit) leaves the document as it is and puts the reason in the status
    bar; returns whether the edit was made."""
    try:
        document = build(window.session.document)
    except EDIT_ERRORS as exc:
        window.show_message(f"{text}: {exc}")
        return False
    window.editor.apply(document, text, merge_key=merge_key)
    return True


def apply_sequence(
    window, build: Callable[[Sequence], Sequence], text: str, merge_key: str | None = None
) -> bool:
    """:func:`apply_document` for an edit of the sequence alone (the task is kept). A build
    that returns the sequence unchanged makes no edit."""

    def build_document(doc: Document) -> Document:
        seq = build(doc.sequence)
        return doc if seq is doc.sequence else doc.with_sequence(seq)

    return apply_document(window, build_document, text, merge_key)
