"""The table of exact values: cell edits, multi-cell paste, copy, following the cursor, and a
model that stays fast for long sequences."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from rnnviz.engine import NetworkConfig
from rnnviz.gui.editing.table_dock import SequenceTableModel
from rnnviz.session import Sequence, Session, Task
from rnnviz.session.demos import document_for, sequence_from_generated
from rnnviz.tasks.generators import generate


@pytest.fixture
def adding_window(make_window):
    seq = sequence_from_generated(generate("adding", 50, seed=1))
    doc = document_for(seq, NetworkConfig(cell="lstm", hidden_size=8), Task("mse", "last"))
    window = make_window(Session(doc))
    return window, window.editing


def test_editing_a_cell_is_one_undo_step(adding_window):
    window, editing = adding_window
    table = editing.table_dock
    start = window.session.document
    model = table.view.model()
    assert model.headerData(1, Qt.Orientation.Horizontal) == "marker"
    assert model.headerData(2, Qt.Orientation.Horizontal) == "target"
    assert model.setData(model.index(7, 1), "0.25")
    assert window.session.document.sequence.inputs[7, 1] == 0.25
    assert model.data(model.index(7, 1)) == "0.25"
    assert model.setData(model.index(3, 2), "1.5")  # the target column
    assert window.session.document.sequence.targets[3, 0] == 1.5
    assert window.editor.stack.count() == 2
    window.actions["edit.undo"].trigger()
    window.actions["edit.undo"].trigger()
    np.testing.assert_array_equal(window.session.document.sequence.inputs, start.sequence.inputs)
    np.testing.assert_array_equal(window.session.document.sequence.targets, start.sequence.targets)
    assert model.data(model.index(7, 1)) == f"{start.sequence.inputs[7, 1]:.6g}"


def test_a_bad_cell_value_is_refused(adding_window):
    window, editing = adding_window
    model = editing.table_dock.view.model()
    start = window.session.document
    assert not model.setData(model.index(2, 0), "abc")
    assert window.session.document is start
    assert "not a number" in window.statusBar().currentMessage()


def test_pasting_a_tab_separated_block_starts_at_the_current_cell(adding_window, qtbot):
    window, editing = adding_window
    view = editing.table_dock.view
    start = window.session.document
    view.setFocus()
    view.setCurrentIndex(view.model().index(4, 0))
    QGuiApplication.clipboard().setText("0.1\t1\t2.5\n0.2\t0\t-3\n")
    qtbot.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    seq = window.session.document.sequence
    np.testing.assert_array_equal(seq.inputs[4:6], [[0.1, 1.0], [0.2, 0.0]])
    np.testing.assert_array_equal(seq.targets[4:6, 0], [2.5, -3.0])
    rest = np.r_[0:4, 6:50]
    np.testing.assert_array_equal(seq.inputs[rest], start.sequence.inputs[rest])
    assert window.editor.stack.count() == 1
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.session.document is start


def test_a_paste_past_the_end_extends_the_sequence_and_a_too_wide_one_is_refused(adding_window):
    window, editing = adding_window
    table = editing.table_dock
    assert table.paste_text(48, 0, "1,2\n3,4\n5,6\n7,8")
    seq = window.session.document.sequence
    assert seq.steps == 52
    np.testing.assert_array_equal(seq.inputs[48:], [[1, 2], [3, 4], [5, 6], [7, 8]])
    before = window.session.document
    assert not table.paste_text(0, 1, "1\t2\t3")  # only 2 columns from column 1 on
    assert window.session.document is before
    assert "do not fit" in window.statusBar().currentMessage()
    assert not table.paste_text(0, 0, "1\t2\n3")  # ragged
    assert "row 2" in window.statusBar().currentMessage()
    assert window.session.document is before


def test_copy_gives_the_selected_values_as_tab_separated_text(adding_window, qtbot):
    window, editing = adding_window
    view = editing.table_dock.view
    model = view.model()
    selection = view.selectionModel()
    from PySide6.QtCore import QItemSelection, QItemSelectionModel

    selection.select(
        QItemSelection(model.index(2, 0), model.index(3, 1)),
        QItemSelectionModel.SelectionFlag.ClearAndSelect,
    )
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    rows = [line.split("\t") for line in QGuiApplication.clipboard().text().splitlines()]
    values = np.array(rows, dtype=float)
    np.testing.assert_array_equal(values, window.session.document.sequence.inputs[2:4, 0:2])


def test_the_table_follows_the_cursor_and_undo(adding_window):
    window, editing = adding_window
    view = editing.table_dock.view
    window.session.set_view(step=17)
    assert view.currentIndex().row() == 17
    assert view.selectionModel().isRowSelected(17)
    view.setCurrentIndex(view.model().index(30, 0))
    assert window.session.view.step == 30
    editing.table_dock.paste_text(0, 0, "9")
    assert view.model().data(view.model().index(0, 0)) == "9"
    window.actions["edit.undo"].trigger()
    assert view.model().data(view.model().index(0, 0)) != "9"


def test_the_model_is_fast_for_a_hundred_thousand_steps():
    rng = np.random.default_rng(0)
    seq = Sequence(rng.normal(size=(100_000, 3)), targets=rng.normal(size=(100_000, 1)))
    model = SequenceTableModel()
    started = time.perf_counter()
    model.set_sequence(seq)
    assert model.rowCount() == 100_000 and model.columnCount() == 4
    assert model.data(model.index(99_999, 3)) == f"{seq.targets[99_999, 0]:.6g}"
    changed = Sequence(seq.inputs * 2, targets=seq.targets)
    model.set_sequence(changed)
    assert model.data(model.index(5, 1)) == f"{changed.inputs[5, 1]:.6g}"
    assert time.perf_counter() - started < 0.5


def test_the_table_shows_zero_for_round_off_and_keeps_the_exact_value(window):
    from PySide6.QtCore import Qt

    model = window.editing.table_dock.view.model()
    seq = window.session.document.sequence
    tiny = [t for t in range(seq.steps) if 0 < abs(seq.inputs[t, 0]) < 1e-12]
    assert tiny  # the sine has exact zeros that come out of sin() as 1e-16
    index = model.index(tiny[0], 0)
    assert model.data(index, Qt.ItemDataRole.DisplayRole) == "0"
    assert float(model.data(index, Qt.ItemDataRole.EditRole)) == seq.inputs[tiny[0], 0]
    assert model.data(model.index(5, 0), Qt.ItemDataRole.DisplayRole) == \
        f"{seq.inputs[5, 0]:.6g}"
