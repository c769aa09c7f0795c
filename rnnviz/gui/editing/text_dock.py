"""Text mode: the user types a string and the network reads it one character per step.

Each character becomes a one-hot input over a vocabulary — the distinct characters of the text,
or the fixed printable set (the network's input size then never changes while typing) — the
time axis is labelled with the characters and each step's target is the next character
(cross-entropy through a softmax readout).

Typing is applied live but coalesced (:data:`APPLY_MS` after the last key), and a burst of
typing is one undo step: the edits share a merge key, sealed when the field loses the focus or
after :data:`IDLE_MS` without typing.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from rnnviz.gui.editing.apply import apply_document
from rnnviz.session import Document, SessionError, Task
from rnnviz.session.demos import sequence_from_text
from rnnviz.tasks.text import PRINTABLE, TextError, encode_text

APPLY_MS = 120
IDLE_MS = 1000
VOCABULARIES = (
    ("text", "Characters of the text"),
    ("printable", f"Printable characters (fixed, {len(PRINTABLE)})"),
)


def text_document(doc: Document, text: str, vocabulary: str = "text") -> Document:
    """``doc`` with a text sequence of ``text``: one-hot inputs over the vocabulary ("text":
    the text's characters; "printable": the printable set), next-character class targets,
    loss "ce" through a softmax readout. Raises SessionError for text that cannot be encoded."""
    try:
        enc = encode_text(text, mode=vocabulary)
    except TextError as exc:
        raise SessionError(str(exc)) from None
    where = doc.task.where if doc.sequence.text is not None else "all"
    return doc.with_sequence_and_task(sequence_from_text(enc), Task("ce", where))


class TextDock(QDockWidget):
    """The text editor dock; ``editor`` is the QPlainTextEdit, ``vocabulary_combo`` the
    vocabulary choice."""

    def __init__(self, window) -> None:
        super().__init__("Text", window)
        self.setObjectName("dock_text")
        self.window_ = window
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        row.addWidget(QLabel("Vocabulary"))
        self.vocabulary_combo = QComboBox()
        for key, label in VOCABULARIES:
            self.vocabulary_combo.addItem(label, key)
        self.vocabulary_combo.setToolTip(
            "One-hot over the text's own characters (the input size follows the text) or over "
            "every printable character (the input size stays fixed while typing)"
        )
        row.addWidget(self.vocabulary_combo, 1)
        layout.addLayout(row)
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText("Type the text the network reads, one character a step")
        layout.addWidget(self.editor, 1)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.setWidget(body)

        self._apply_timer = QTimer(self, singleShot=True, interval=APPLY_MS)
        self._apply_timer.timeout.connect(self.apply_now)
        self._idle_timer = QTimer(self, singleShot=True, interval=IDLE_MS)
        self._idle_timer.timeout.connect(self.seal)
        self.editor.textChanged.connect(self._typed)
        self.vocabulary_combo.currentIndexChanged.connect(lambda _i: self._typed())
        self.editor.installEventFilter(self)
        self.show_document(window.session.document)

    @property
    def vocabulary(self) -> str:
        return self.vocabulary_combo.currentData()

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802
        if obj is self.editor and ev.type() == QEvent.Type.FocusOut:
            if self._apply_timer.isActive():  # typing not applied yet
                self.apply_now()
            self.seal()
        return False

    def _typed(self) -> None:
        self._apply_timer.start()
        self._idle_timer.start()

    def apply_now(self) -> bool:
        """Apply the typed text now (merged into the current typing burst)."""
        self._apply_timer.stop()
        text = self.editor.toPlainText()
        seq = self.window_.session.document.sequence
        if seq.text == text and self._vocabulary_of(seq.vocabulary) == self.vocabulary:
            return False
        if not text:
            self.status.setText("Type at least one character.")
            return False
        vocabulary = self.vocabulary
        done = apply_document(
            self.window_,
            lambda d: text_document(d, text, vocabulary),
            "Edit text",
            merge_key="text",
        )
        self.status.setText("" if done else self.window_.statusBar().currentMessage())
        return done

    def seal(self) -> None:
        """End the current typing burst (its edits are one undo step)."""
        self._idle_timer.stop()
        self.window_.editor.seal()

    @staticmethod
    def _vocabulary_of(vocabulary: tuple[str, ...] | None) -> str:
        return "printable" if vocabulary == PRINTABLE else "text"

    def show_document(self, doc: Document) -> None:
        """Show the document's text (after an undo, a redo or an opened file)."""
        seq = doc.sequence
        if seq.text is None:
            self.status.setText("The sequence is numeric; typing here replaces it with text.")
            return
        self.status.setText(f"{len(seq.text)} characters, {seq.channels} in the vocabulary")
        if seq.text == self.editor.toPlainText():
            return
        self.editor.blockSignals(True)
        self.vocabulary_combo.blockSignals(True)
        try:
            cursor = self.editor.textCursor().position()
            self.editor.setPlainText(seq.text)
            index = self.vocabulary_combo.findData(self._vocabulary_of(seq.vocabulary))
            self.vocabulary_combo.setCurrentIndex(index)
            text_cursor = self.editor.textCursor()
            text_cursor.setPosition(min(cursor, len(seq.text)))
            self.editor.setTextCursor(text_cursor)
        finally:
            self.editor.blockSignals(False)
            self.vocabulary_combo.blockSignals(False)

    def start_typing(self) -> None:
        """Show the dock and put the keyboard focus in the text."""
        self.show()
        self.raise_()
        self.editor.setFocus(Qt.FocusReason.OtherFocusReason)
