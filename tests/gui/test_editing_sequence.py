"""Whole-sequence edits: generators, text mode, insert/delete/resize and file import."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QDialogButtonBox

from rnnviz.gui.editing.importing import TargetColumnDialog, target_choices
from rnnviz.gui.editing.resize_actions import delete_steps, insert_steps, resize_sequence
from rnnviz.session import Session
from rnnviz.session.demos import load_demo, sequence_from_generated
from rnnviz.tasks.generators import GENERATORS, generate
from rnnviz.tasks.text import PRINTABLE


@pytest.fixture
def editing(window):
    return window.editing


def test_the_sequence_menu_sits_after_edit(window, editing):
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles.index("&Sequence") == titles.index("&Edit") + 1
    texts = [a.text() for a in window.menus["Sequence"].actions()]
    for text in (
        "&Generate…",
        "&Text…",
        "&Import…",
        "I&nsert steps at cursor…",
        "&Delete step(s)…",
        "&Resize…",
    ):
        assert text in texts


@pytest.mark.parametrize("name", list(GENERATORS))
def test_every_generator_through_the_dialog(window, editing, name):
    spec = GENERATORS[name]
    dialog = editing.show_generator_dialog()
    dialog.select(name)
    length = max(spec.default_length, spec.min_length())
    dialog.length.setValue(length)
    dialog.seed.setValue(7)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.error.text() == ""
    expected = sequence_from_generated(generate(name, length, 7))
    doc = window.session.document
    np.testing.assert_array_equal(doc.sequence.inputs, expected.inputs)
    np.testing.assert_array_equal(doc.sequence.targets, expected.targets)
    np.testing.assert_array_equal(doc.sequence.target_mask, expected.target_mask)
    assert doc.sequence.channel_names == expected.channel_names
    assert doc.task.loss == spec.loss
    assert doc.task.where == (
        "last" if spec.category == "task" and name != "copy_memory" else "all"
    )
    assert doc.models[0].config.input_size == expected.channels
    assert window.editor.stack.count() == 1


def test_a_generator_error_stays_in_the_dialog(window, editing):
    start = window.session.document
    dialog = editing.show_generator_dialog()
    dialog.select("adding")
    dialog.length.setValue(1)  # shorter than the task needs
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert "adding" in dialog.error.text()
    assert dialog.isVisible()
    assert window.session.document is start


def test_typed_text_is_one_hot_with_labels_and_next_character_targets(window, editing, qtbot):
    dock = editing.text_dock
    dock.start_typing()
    qtbot.keyClicks(dock.editor, "abca")
    qtbot.waitUntil(lambda: window.session.document.sequence.text == "abca", timeout=2000)
    doc = window.session.document
    seq = doc.sequence
    assert seq.vocabulary == ("a", "b", "c")
    np.testing.assert_array_equal(seq.inputs, np.eye(3)[[0, 1, 2, 0]])
    np.testing.assert_array_equal(seq.targets[:3, 0], [1, 2, 0])
    np.testing.assert_array_equal(seq.target_mask, [True, True, True, False])
    assert seq.labels == ("a", "b", "c", "a")
    assert (doc.task.loss, doc.models[0].config.readout) == ("ce", "softmax")
    window.redraw_now()
    assert window.panels["input"].time_plots[0].getAxis("bottom")._labels == seq.labels
    dock.seal()
    assert window.editor.stack.count() == 1  # one typing burst, one undo step

    dock.vocabulary_combo.setCurrentIndex(dock.vocabulary_combo.findData("printable"))
    dock.apply_now()
    assert window.session.document.sequence.vocabulary == PRINTABLE
    assert window.session.document.models[0].config.input_size == len(PRINTABLE)


def test_undo_puts_the_previous_text_back_in_the_editor(make_window):
    window = make_window(Session(load_demo("text")))
    editing = window.editing
    dock = editing.text_dock
    original = window.session.document.sequence.text
    assert dock.editor.toPlainText() == original
    dock.editor.setPlainText("hello")
    dock.apply_now()
    dock.seal()
    assert window.session.document.sequence.text == "hello"
    window.actions["edit.undo"].trigger()
    assert dock.editor.toPlainText() == original


def test_insert_delete_and_resize(window, editing):
    start = window.session.document.sequence
    assert insert_steps(window, 10, 3)
    seq = window.session.document.sequence
    assert seq.steps == start.steps + 3
    np.testing.assert_array_equal(seq.inputs[10:13], np.repeat(start.inputs[9:10], 3, axis=0))
    np.testing.assert_array_equal(seq.inputs[13:], start.inputs[10:])
    assert delete_steps(window, 10, 12)
    np.testing.assert_array_equal(window.session.document.sequence.inputs, start.inputs)
    assert resize_sequence(window, 50)
    np.testing.assert_array_equal(window.session.document.sequence.inputs, start.inputs[:50])
    window.redraw_now()
    assert len(window.panels["input"].x_lines[0].xData) == 50
    assert window.editor.stack.count() == 3
    for _ in range(3):
        window.actions["edit.undo"].trigger()
    np.testing.assert_array_equal(window.session.document.sequence.inputs, start.inputs)
    assert not delete_steps(window, 0, start.steps - 1)
    assert "at least one step" in window.statusBar().currentMessage()


def test_import_of_a_csv_with_a_target_column(window, editing, tmp_path):
    path = tmp_path / "series.csv"
    path.write_text("a,b,y\n1,2,0.5\n3,4,1.5\n5,6,2.5\n")
    assert target_choices(path) == ["a", "b", "y"]
    dialog = TargetColumnDialog(["a", "b", "y"])
    assert dialog.target_column == 2  # the last column is offered first
    assert editing.importer.import_file(path, target_column=dialog.target_column)
    seq = window.session.document.sequence
    np.testing.assert_array_equal(seq.inputs, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(seq.targets[:, 0], [0.5, 1.5, 2.5])
    assert seq.channel_names == ("a", "b")
    assert window.editor.stack.count() == 1


@pytest.mark.parametrize("text, reason", [("1,2\n3\n", "row 2"), ("1,2\nnan,4\n", "NaN")])
def test_a_bad_file_is_refused_and_the_sequence_stays(window, editing, tmp_path, text, reason):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    start = window.session.document
    assert not editing.importer.import_file(path)
    assert window.session.document is start
    assert reason in window.statusBar().currentMessage()
    assert reason in editing.importer.error_box.text()
    assert "\n" not in editing.importer.error_box.text()
