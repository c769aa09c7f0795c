"""Changing the length of the sequence: insert steps at the cursor, delete a range of steps,
resize to a given length. Each is one undo step; text sequences change length through their
text instead."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QInputDialog,
    QSpinBox,
    QWidget,
)

from rnnviz.gui.editing.apply import apply_sequence
from rnnviz.session import MAX_STEPS, edits


def insert_steps(window, at: int, count: int) -> bool:
    """Insert ``count`` steps before step ``at`` (copies of the step before)."""
    return apply_sequence(
        window,
        lambda s: edits.insert_steps(s, at, count),
        f"Insert {count} step{'s' * (count != 1)} at {at}",
    )


def delete_steps(window, first: int, last: int) -> bool:
    """Delete steps ``first``..``last`` (inclusive)."""
    text = f"Delete steps {first}–{last}" if last > first else f"Delete step {first}"
    return apply_sequence(window, lambda s: edits.delete_steps(s, first, last + 1), text)


def resize_sequence(window, steps: int) -> bool:
    """Cut the sequence, or extend it repeating its last step, to ``steps`` steps."""
    return apply_sequence(window, lambda s: edits.resize(s, steps), f"Resize to {steps} steps")


class StepRangeDialog(QDialog):
    """Two spin boxes, the first and last step of a range in 0..steps-1."""

    def __init__(self, steps: int, first: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Delete steps")
        form = QFormLayout(self)
        self.first = QSpinBox()
        self.last = QSpinBox()
        for box in (self.first, self.last):
            box.setRange(0, steps - 1)
            box.setValue(first)
        self.first.valueChanged.connect(lambda v: self.last.setValue(max(self.last.value(), v)))
        self.last.valueChanged.connect(lambda v: self.first.setValue(min(self.first.value(), v)))
        form.addRow("First step", self.first)
        form.addRow("Last step", self.last)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


def ask_insert(window) -> None:
    """Sequence → Insert steps at cursor…"""
    seq = window.session.document.sequence
    at = window.session.view.step
    room = MAX_STEPS - seq.steps
    if room < 1:
        window.show_message(f"the sequence already has the most steps allowed ({MAX_STEPS})")
        return
    count, ok = QInputDialog.getInt(
        window, "Insert steps", f"Steps to insert before step {at}:", 1, 1, room
    )
    if ok:
        insert_steps(window, at, count)


def ask_delete(window) -> None:
    """Sequence → Delete step(s)…"""
    seq = window.session.document.sequence
    dialog = StepRangeDialog(seq.steps, window.session.view.step, window)
    if dialog.exec() == QDialog.DialogCode.Accepted:
        delete_steps(window, dialog.first.value(), dialog.last.value())


def ask_resize(window) -> None:
    """Sequence → Resize…"""
    seq = window.session.document.sequence
    steps, ok = QInputDialog.getInt(window, "Resize", "Number of steps:", seq.steps, 1, MAX_STEPS)
    if ok:
        resize_sequence(window, steps)
