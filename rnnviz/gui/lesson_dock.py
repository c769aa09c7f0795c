"""The lesson side panel: a lesson's title and its numbered steps, each with a "Show me" button.

It only shows the lesson; :class:`rnnviz.gui.lessons.LessonController` does what the buttons
ask (``show_requested(step index)``, ``language_requested(code)``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from rnnviz.gui.panels.mathtext import render_text
from rnnviz.io.lesson_file import Lesson, translated

LANGUAGE_NAMES = {"en": "English", "zh": "中文", "de": "Deutsch", "fr": "Français",
                  "es": "Español", "pt": "Português", "ja": "日本語", "it": "Italiano"}
SHOW_ME = {"en": "Show me", "zh": "演示"}
STEP_STYLE = "QFrame#lessonStep {{ background-color: {colour}; border-radius: 4px; }}"


class StepRow(QFrame):
    """One step: its number, its text and its "Show me" button."""

    def __init__(self, number: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lessonStep")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 4, 4)
        self.number = QLabel(f"<b>{number}</b>")
        self.number.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight)
        self.number.setFixedWidth(18)
        layout.addWidget(self.number)
        body = QVBoxLayout()
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        body.addWidget(self.text)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.note.setStyleSheet("color: gray;")
        self.note.hide()
        body.addWidget(self.note)
        self.button = QPushButton("Show me")
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the window keeps the stepping keys
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addStretch(1)
        body.addLayout(row)
        layout.addLayout(body, 1)

    def set_current(self, current: bool, colour: str) -> None:
        """Mark the step last shown with a light tint of ``colour`` (#rrggbb)."""
        tint = QColor(colour)
        shade = f"rgba({tint.red()}, {tint.green()}, {tint.blue()}, 0.22)"
        self.setStyleSheet(STEP_STYLE.format(colour=shade if current else "transparent"))


class LessonDock(QWidget):
    """The steps of one lesson. ``rows``: a :class:`StepRow` per step."""

    show_requested = Signal(int)
    language_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.title = QLabel("No lesson open: Help → Lessons")
        self.title.setWordWrap(True)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.title)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.summary)
        self.language = QComboBox()
        self.language.setToolTip("The language of the lesson's text")
        self.language.activated.connect(
            lambda i: self.language_requested.emit(self.language.itemData(i)))
        layout.addWidget(self.language)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(self.scroll, 1)
        self.rows: list[StepRow] = []
        self.current = -1
        self.accent = "#e08000"

    def set_lesson(self, lesson: Lesson, language: str, problems: dict[int, str]) -> None:
        """Show ``lesson`` in ``language``; steps in ``problems`` (index -> why) get a note
        and no working button."""
        self.title.setText(f"<b>{render_text(translated(lesson.title, language))}</b>")
        summary = translated(lesson.summary, language)
        self.summary.setText(render_text(summary) if summary else "")
        self.summary.setVisible(bool(summary))
        self.language.blockSignals(True)
        self.language.clear()
        for code in lesson.languages:
            self.language.addItem(LANGUAGE_NAMES.get(code, code), code)
        self.language.setCurrentIndex(max(self.language.findData(language), 0))
        self.language.setVisible(len(lesson.languages) > 1)
        self.language.blockSignals(False)
        container = QWidget()
        column = QVBoxLayout(container)
        column.setContentsMargins(0, 0, 0, 0)
        self.rows = []
        for k, step in enumerate(lesson.steps):
            row = StepRow(k + 1)
            row.text.setText(render_text(translated(step.text, language)))
            row.button.setText(SHOW_ME.get(language.split("-")[0], SHOW_ME["en"]))
            row.button.setVisible(step.show is not None)
            if k in problems:
                row.button.setEnabled(False)
                row.button.setToolTip(problems[k])
                row.note.setText(problems[k])
                row.note.show()
            row.button.clicked.connect(lambda _=False, i=k: self.show_requested.emit(i))
            column.addWidget(row)
            self.rows.append(row)
        column.addStretch(1)
        self.scroll.setWidget(container)
        self.current = -1

    def set_current(self, index: int) -> None:
        """Mark step ``index`` as the one shown (-1: none) and scroll to it."""
        self.current = index
        for k, row in enumerate(self.rows):
            row.set_current(k == index, self.accent)
        if 0 <= index < len(self.rows):
            self.scroll.ensureWidgetVisible(self.rows[index])
