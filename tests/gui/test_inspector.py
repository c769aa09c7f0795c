"""The inspector always shows the installed results, clamped to the current length."""

import numpy as np
from PySide6.QtCore import Qt

from rnnviz.session import edits


def _expand(window, *path):
    items = [window.inspector.topLevelItem(k) for k in range(window.inspector.topLevelItemCount())]
    item = None
    for part in path:
        item = next(it for it in items if it.text(0) == part)
        items = [item.child(k) for k in range(item.childCount())]
    item.setExpanded(True)


def _check_against_engine(window):
    session = window.session
    window.redraw_now()
    r = session.results.models[0]
    t = session.view.step
    assert window.inspector.value_of("step") == f"{t} of 0…{r.sequence.steps - 1}"
    assert window.inspector.value_of("x_t", "x") == f"{r.trace.input[t, 0]:.6g}"
    norm = np.linalg.norm(r.trace.hidden[0, t])
    assert window.inspector.value_of("layer 0", "h_t") == f"‖·‖ = {norm:.6g}"
    assert window.inspector.value_of("layer 0", "h_t", "[2]") == f"{r.trace.hidden[0, t, 2]:.6g}"
    grad = r.grads.hidden_norm[0, t]
    assert window.inspector.value_of("layer 0", "‖∂L/∂h_t‖") == f"{grad:.6g}"


def test_an_edit_at_the_cursor_shows_the_new_numbers(window, qtbot):
    _expand(window, "layer 0", "h_t")
    window.session.set_view(step=5)
    _check_against_engine(window)
    before = window.inspector.value_of("layer 0", "h_t")
    seq = window.session.document.sequence
    window.editor.apply(window.session.document.with_sequence(
        edits.set_values(seq, 0, [5], [3.14159])), "edit")
    _check_against_engine(window)
    assert window.inspector.value_of("x_t", "x") == "3.14159"
    assert window.inspector.value_of("layer 0", "h_t") != before


def test_growing_and_shrinking_the_sequence_keeps_the_inspector_in_range(window, qtbot):
    _expand(window, "layer 0", "h_t")
    doc = window.session.document
    window.editor.apply(doc.with_sequence(edits.resize(doc.sequence, 2000)), "grow")
    qtbot.keyClick(window, Qt.Key.Key_End)
    assert window.session.view.step == 1999
    _check_against_engine(window)
    doc = window.session.document
    window.editor.apply(doc.with_sequence(edits.delete_steps(doc.sequence, 10, 1810)), "cut")
    assert window.session.view.step == 199
    _check_against_engine(window)
    window.editor.stack.undo()
    _check_against_engine(window)
