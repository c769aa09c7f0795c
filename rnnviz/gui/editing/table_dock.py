"""The exact values of the sequence in a table: one row per step, one column per input channel
then the target column(s). Editable cell by cell, by pasting a block from a spreadsheet
(Ctrl+V, starting at the current cell) and copyable (Ctrl+C).

The model reads straight from the document's arrays (no item per cell), so a sequence of
100,000 steps costs no more than a short one. A paste that runs past the last step extends the
sequence (the new steps first repeat the last one, then take the pasted values); a paste wider
than the columns to the right of the current cell is refused. Text sequences are shown but not
editable: their text is edited instead.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QDockWidget, QHeaderView, QTableView

from rnnviz.gui.editing.apply import apply_sequence
from rnnviz.gui.editing.plot_editor import TEXT_HINT, class_values
from rnnviz.io.errors import FileFormatError
from rnnviz.io.sequences import format_table, parse_table
from rnnviz.session import Sequence, SessionError, edits

_MASKED = QBrush(QColor(150, 150, 150))


def column_names(seq: Sequence) -> list[str]:
    """Headers: the input channels, then "target" (or "target k" for several columns)."""
    outs = 0 if seq.targets is None else seq.targets.shape[1]
    targets = ["target"] if outs == 1 else [f"target {k}" for k in range(outs)]
    return list(seq.channel_names) + targets


def set_block(
    seq: Sequence, row: int, column: int, block: np.ndarray, class_targets: bool = False
) -> Sequence:
    """``block`` (n, m) written into the table of ``seq`` with its top-left cell at (row,
    column) (columns as :func:`column_names`). Rows past the end extend the sequence; columns
    past the last one are refused. ``class_targets``: target values must be whole numbers ≥ 0."""
    if seq.text is not None:
        raise SessionError(TEXT_HINT)
    block = np.asarray(block, dtype=np.float64)
    if block.ndim == 1:
        block = block[:, None]
    n, m = block.shape
    width = len(column_names(seq))
    if not (0 <= row < seq.steps and 0 <= column < width):
        raise SessionError(f"no cell at step {row}, column {column}")
    if column + m > width:
        raise SessionError(f"{m} columns do not fit: only {width - column} from this column on")
    if row + n > seq.steps:
        seq = edits.resize(seq, row + n)
    steps = np.arange(row, row + n)
    for j in range(m):
        col = column + j
        values = block[:, j]
        if col < seq.channels:
            seq = edits.set_values(seq, col, steps, values)
            continue
        if class_targets and not np.array_equal(values, class_values(values)):
            raise SessionError("class targets must be whole numbers ≥ 0")
        if col == seq.channels:
            seq = edits.set_values(seq, edits.TARGET, steps, values)
        else:  # further target columns (multi-output regression)
            if not np.all(np.isfinite(values)):
                raise SessionError("values must be finite numbers")
            targets = np.array(seq.targets)
            targets[steps, col - seq.channels] = values
            seq = replace(seq, targets=targets)
    return seq


class SequenceTableModel(QAbstractTableModel):
    """A read-through table over a :class:`Sequence`; a cell edit is emitted as
    ``edit_requested(row, column, value)`` and shows once the document changes."""

    edit_requested = Signal(int, int, float)
    message = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.seq: Sequence | None = None
        self._names: list[str] = []
        self._scales: dict[int, float] = {}

    def set_sequence(self, seq: Sequence) -> None:
        self._scales = {}
        names = column_names(seq)
        old = self.seq
        if old is not None and old.steps == seq.steps and names == self._names:
            self.seq = seq
            if old.labels != seq.labels:
                self.headerDataChanged.emit(Qt.Orientation.Vertical, 0, seq.steps - 1)
            last = self.index(seq.steps - 1, len(names) - 1)
            self.dataChanged.emit(self.index(0, 0), last)
            return
        self.beginResetModel()
        self.seq, self._names = seq, names
        self.endResetModel()

    # ---- reading -------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() or self.seq is None else self.seq.steps

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._names)

    def _scale(self, column: int) -> float:
        """The largest finite magnitude of ``column`` (what its display precision is of)."""
        if column not in self._scales:
            seq = self.seq
            values = (seq.inputs[:, column] if column < seq.channels
                      else seq.targets[:, column - seq.channels])
            finite = np.abs(values[np.isfinite(values)])
            self._scales[column] = float(finite.max()) if finite.size else 0.0
        return self._scales[column]

    def display(self, row: int, column: int) -> str:
        """A cell as shown: six significant digits, and "0" for a value below the sixth digit
        of its column's largest (sin(π) is 1.2e-16, not a number anyone typed)."""
        value = self.value(row, column)
        if value != 0 and np.isfinite(value) and abs(value) < self._scale(column) * 5e-7:
            return "0"
        return f"{value:.6g}"

    def value(self, row: int, column: int) -> float:
        seq = self.seq
        if column < seq.channels:
            return float(seq.inputs[row, column])
        return float(seq.targets[row, column - seq.channels])

    def block(self, rows: slice, columns: range) -> np.ndarray:
        """The values of ``rows`` × ``columns`` as one (n, m) array."""
        seq = self.seq
        cols = [
            seq.inputs[rows, c] if c < seq.channels else seq.targets[rows, c - seq.channels]
            for c in columns
        ]
        return np.column_stack(cols)

    def _masked(self, row: int, column: int) -> bool:
        seq = self.seq
        return column >= seq.channels and seq.target_mask is not None and not seq.target_mask[row]

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.seq is None:
            return None
        row, column = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(row, column)
        if role == Qt.ItemDataRole.EditRole:
            return repr(self.value(row, column))
        if role == Qt.ItemDataRole.ForegroundRole and self._masked(row, column):
            return _MASKED
        if role == Qt.ItemDataRole.ToolTipRole and self._masked(row, column):
            return "no target at this step (not scored)"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,  # noqa: N802
        role: int = Qt.ItemDataRole.DisplayRole,
    ):
        if role != Qt.ItemDataRole.DisplayRole or self.seq is None:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._names[section] if section < len(self._names) else None
        labels = self.seq.labels
        return f"{section} {labels[section]}" if labels else str(section)

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self.seq is not None and self.seq.text is None:
            base |= Qt.ItemFlag.ItemIsEditable
        return base

    # ---- writing -------------------------------------------------------------------------
    def setData(self, index: QModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        try:
            number = float(str(value).strip().replace(",", "."))
        except ValueError:
            self.message.emit(f"not a number: {str(value)!r}")
            return False
        self.edit_requested.emit(index.row(), index.column(), number)
        return True


class SequenceTable(QTableView):
    """The table view: Ctrl+C copies the selection as tab-separated text, Ctrl+V pastes."""

    paste_requested = Signal(int, int, str)  # row, column, clipboard text

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setAlternatingRowColors(True)
        vertical = self.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setDefaultSectionSize(90)

    def event(self, ev: QEvent) -> bool:
        # Copy and paste belong to the table while it has the focus, whatever the window's
        # menus bind to the same keys.
        if ev.type() == QEvent.Type.ShortcutOverride and (
            ev.matches(QKeySequence.StandardKey.Copy) or ev.matches(QKeySequence.StandardKey.Paste)
        ):
            ev.accept()
            return True
        return super().event(ev)

    def keyPressEvent(self, ev) -> None:  # noqa: N802
        if ev.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
        elif ev.matches(QKeySequence.StandardKey.Paste):
            self.paste()
        else:
            super().keyPressEvent(ev)

    def selection_text(self) -> str:
        """The bounding box of the selected cells as tab-separated lines ("" if none)."""
        indexes = self.selectionModel().selectedIndexes() if self.selectionModel() else []
        if not indexes:
            return ""
        rows = [i.row() for i in indexes]
        cols = [i.column() for i in indexes]
        block = self.model().block(slice(min(rows), max(rows) + 1), range(min(cols), max(cols) + 1))
        return format_table(block)

    def copy_selection(self) -> None:
        text = self.selection_text()
        if text:
            QGuiApplication.clipboard().setText(text)

    def paste(self) -> None:
        index = self.currentIndex()
        row, column = (index.row(), index.column()) if index.isValid() else (0, 0)
        self.paste_requested.emit(row, column, QGuiApplication.clipboard().text())


class TableDock(QDockWidget):
    """A dock with the table of the window's sequence; every change goes through the editor.
    The current row follows the cursor step, and choosing a row moves the cursor."""

    def __init__(self, window) -> None:
        super().__init__("Sequence table", window)
        self.setObjectName("dock_sequence_table")
        self.window_ = window
        self.model = SequenceTableModel(self)
        self.view = SequenceTable(self)
        self.view.setModel(self.model)
        self.setWidget(self.view)
        self.model.edit_requested.connect(self.edit_cell)
        self.model.message.connect(window.show_message)
        self.view.paste_requested.connect(self.paste_text)
        self.view.selectionModel().currentRowChanged.connect(self._row_chosen)
        self._syncing = False
        self._pending_step: int | None = None
        self.view.installEventFilter(self)
        self.show_sequence(window.session.document.sequence)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        if watched is self.view and event.type() == QEvent.Type.Show \
                and self._pending_step is not None:
            QTimer.singleShot(0, lambda: self.follow_step(self.window_.session.view.step))
        return super().eventFilter(watched, event)

    # ---- following the session -------------------------------------------------------------
    def show_sequence(self, seq: Sequence) -> None:
        self._syncing = True
        try:
            self.model.set_sequence(seq)
        finally:
            self._syncing = False

    def follow_step(self, step: int) -> None:
        """Select the row of ``step`` (unless it is the current row already). While the table
        is not on screen (a tab behind the inspector) this waits until it is shown: selecting
        and scrolling a hidden table cost a quarter of every cursor move."""
        if not self.view.isVisible():
            self._pending_step = step
            return
        self._pending_step = None
        current = self.view.currentIndex()
        if current.isValid() and current.row() == step:
            return
        if not 0 <= step < self.model.rowCount():
            return
        index = self.model.index(step, max(current.column(), 0))
        self._syncing = True
        try:
            flags = (
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows
            )
            self.view.selectionModel().setCurrentIndex(index, flags)
            self.view.scrollTo(index)
        finally:
            self._syncing = False

    def _row_chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not self._syncing and current.isValid():
            self.window_.session.set_view(step=current.row())

    # ---- edits -----------------------------------------------------------------------------
    def _class_targets(self) -> bool:
        return self.window_.session.document.task.loss == "ce"

    def edit_cell(self, row: int, column: int, value: float) -> bool:
        """Set one cell (one undo step)."""
        name = column_names(self.window_.session.document.sequence)[column]
        ce = self._class_targets()
        return apply_sequence(
            self.window_,
            lambda s: set_block(s, row, column, np.array([[value]]), ce),
            f"Set {name} at step {row}",
        )

    def paste_text(self, row: int, column: int, text: str) -> bool:
        """Paste tab/comma-separated ``text`` with its top-left at (row, column) (one undo
        step); a bad table is refused with its one-line reason."""
        try:
            table = parse_table(text, source="pasted text")
        except FileFormatError as exc:
            self.window_.show_message(str(exc))
            return False
        ce = self._class_targets()
        n, m = table.values.shape
        return apply_sequence(
            self.window_,
            lambda s: set_block(s, row, column, table.values, ce),
            f"Paste {n}×{m} values at step {row}",
        )
