"""Help → Keyboard shortcuts (F1): every key of the action registry in two columns."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from rnnviz.gui.actions import shortcut_rows

NOTE = ("Plain keys (arrows, Space, R, A) do nothing while a text field or number box has the "
        "focus.")
WHAT_WIDTH = 260  # the description column wraps at this width, within its own column


class ShortcutsDialog(QDialog):
    """Keys on the left, what they do on the right; a long description wraps inside its own
    column (a rich-text table in a message box let wrapped lines run under the keys).
    ``rows``: (keys label, description label) per command."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(3)
        self.rows: list[tuple[QLabel, QLabel]] = []
        for r, (keys, what) in enumerate(shortcut_rows()):
            key_label = QLabel(f"<b>{keys}</b>")
            key_label.setTextFormat(Qt.TextFormat.RichText)
            what_label = QLabel(what)
            what_label.setWordWrap(True)
            what_label.setFixedWidth(WHAT_WIDTH)
            what_label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Minimum)
            grid.addWidget(key_label, r, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(what_label, r, 1, Qt.AlignmentFlag.AlignTop)
            self.rows.append((key_label, what_label))
        note = QLabel(NOTE)
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        # the list scrolls rather than squeezing its rows when it is taller than the screen
        table = QWidget()
        table.setLayout(grid)
        scroll = QScrollArea()
        scroll.setWidget(table)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.adjustSize()
        bar = scroll.verticalScrollBar().sizeHint().width()
        scroll.setMinimumWidth(table.sizeHint().width() + bar)
        screen = (parent.screen() if parent is not None else self.screen()).availableGeometry()
        scroll.setMinimumHeight(min(table.sizeHint().height(), int(screen.height() * 0.7)))
        self.scroll = scroll
        layout = QVBoxLayout(self)
        layout.addWidget(scroll)
        layout.addSpacing(8)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def text(self) -> str:
        """Every row as "<b>keys</b> what", one a line (what the dialog lists)."""
        return "\n".join(f"{k.text()} {w.text()}" for k, w in self.rows)
