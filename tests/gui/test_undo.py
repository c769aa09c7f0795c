"""Undo and redo of document edits, through the window's Edit menu and shortcuts."""

import numpy as np
from PySide6.QtCore import Qt

from rnnviz.session import edits


def test_model_change_is_undone_and_redone(window, qtbot):
    before = window.session.document
    window.model_panel.hidden.setValue(5)
    assert window.session.document.models[0].config.hidden_size == 5
    window.actions["edit.undo"].trigger()
    assert window.session.document is before
    window.actions["edit.redo"].trigger()
    assert window.session.document.models[0].config.hidden_size == 5
    window.redraw_now()
    assert window.panels["hidden"].heatmap.image.image.shape[0] == 5  # the heatmap follows


def test_hundred_edits_undone_then_redone_give_identical_arrays(window, qtbot):
    editor = window.editor
    rng = np.random.default_rng(0)
    history = [window.session.document.sequence.inputs]
    for k in range(100):
        seq = window.session.document.sequence
        new = edits.set_values(seq, 0, [int(rng.integers(seq.steps))], [float(rng.normal())])
        editor.apply(window.session.document.with_sequence(new), f"edit {k}")
        history.append(window.session.document.sequence.inputs)
    for k in range(100, 0, -1):
        np.testing.assert_array_equal(window.session.document.sequence.inputs, history[k])
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(window.session.document.sequence.inputs, history[0])
    for k in range(1, 101):
        qtbot.keyClick(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
        np.testing.assert_array_equal(window.session.document.sequence.inputs, history[k])


def test_a_drag_merges_into_one_undo_step(window):
    editor = window.editor
    start = window.session.document
    for value in (0.5, 1.0, 1.5):
        seq = edits.set_values(window.session.document.sequence, 0, [3], [value])
        editor.apply(window.session.document.with_sequence(seq), "Drag x", merge_key="drag")
    editor.seal()
    assert editor.stack.count() == 1
    window.actions["edit.undo"].trigger()
    assert window.session.document is start
