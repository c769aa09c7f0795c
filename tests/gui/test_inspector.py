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


# ---- every kind of edit ------------------------------------------------------------------------
def _check_everything(window):
    """Every row the inspector shows, against the installed results at the cursor."""
    from rnnviz.engine import GATE_NAMES

    window.redraw_now()
    session = window.session
    r = session.model_results
    assert r is session.last_results.model(session.view.model)
    t = session.view.step
    assert 0 <= t < r.sequence.steps
    ins = window.inspector
    assert ins.value_of("step") == f"{t} of 0…{r.sequence.steps - 1}"
    x = r.trace.input[t]
    assert ins.value_of("x_t") == f"‖·‖ = {np.linalg.norm(x):.6g}"
    if r.trace.output is not None:
        assert ins.value_of("y_t") == f"‖·‖ = {np.linalg.norm(r.trace.output[t]):.6g}"
    if r.loss is not None:
        value = float(r.loss.per_step[t])
        assert ins.value_of("loss_t") == (f"{value:.6g}" if np.isfinite(value)
                                          else "(not counted)")
    cfg = r.config
    for k in range(cfg.num_layers):
        layer = f"layer {k}"
        assert ins.value_of(layer, "h_t") == f"‖·‖ = {np.linalg.norm(r.trace.hidden[k, t]):.6g}"
        if r.trace.cell is not None:
            assert ins.value_of(layer, "c_t") == \
                f"‖·‖ = {np.linalg.norm(r.trace.cell[k, t]):.6g}"
        for name in GATE_NAMES[cfg.cell]:
            gate = r.trace.gates[name][k, t]
            assert ins.value_of(layer, name) == f"‖·‖ = {np.linalg.norm(gate):.6g}"
        assert ins.value_of(layer, "‖∂L/∂h_t‖") == f"{r.grads.hidden_norm[k, t]:.6g}"
    assert ins.value_of("‖∂L/∂x_t‖") == f"{r.grads.input_norm[t]:.6g}"
    _expand(window, "layer 0", "h_t")
    assert ins.value_of("layer 0", "h_t", "[0]") == f"{r.trace.hidden[0, t, 0]:.6g}"


def test_the_inspector_follows_every_kind_of_edit(window, tmp_path):
    from rnnviz.io.weights import save_weights
    from rnnviz.session import Task
    from rnnviz.session.demos import load_demo

    session, editor = window.session, window.editor

    def apply(doc, text):
        editor.apply(doc, text)
        _check_everything(window)

    session.set_view(step=150)
    _check_everything(window)
    doc = session.document
    apply(doc.with_sequence(edits.set_values(doc.sequence, 0, [150], [2.5])), "value")
    doc = session.document
    apply(doc.with_sequence(edits.stroke(doc.sequence, 0, [(140, -1.0), (160, 1.0)])), "draw")
    doc = session.document
    apply(doc.with_sequence(edits.insert_steps(doc.sequence, 10, 25)), "insert")
    doc = session.document
    apply(doc.with_sequence(edits.delete_steps(doc.sequence, 0, 180)), "delete")  # past the cursor
    doc = session.document
    apply(doc.with_sequence(edits.resize(doc.sequence, 900)), "grow")
    window.last_step()
    _check_everything(window)
    doc = session.document
    apply(doc.with_sequence(edits.resize(doc.sequence, 30)), "shrink")
    doc = session.document
    apply(doc.with_config(0, doc.model(0).config.replace(hidden_size=9)), "hidden size")
    doc = session.document
    apply(doc.with_config(0, doc.model(0).config.replace(num_layers=3)), "layers")
    session.set_view(layer=2)
    _check_everything(window)
    for cell in ("gru", "rnn_tanh", "rnn_relu", "lstm"):
        doc = session.document
        apply(doc.with_config(0, doc.model(0).config.replace(cell=cell)), cell)
    doc = session.document
    apply(doc.with_task(Task("mse", "last")), "task")
    doc = session.document
    apply(doc.with_config(0, doc.model(0).config.replace(recurrent_scale=1.7, seed=4)), "scale")
    # trained weights loaded from a file
    path = tmp_path / "w.npz"
    model = session.document.model(0)
    save_weights(path, model.network().state_dict(), model.config.cell)
    assert window.open_paths([str(path)])
    _check_everything(window)
    # a second model, and the dashboard switched to it
    doc = session.document
    other = doc.model(0).with_config(doc.model(0).config.replace(seed=11)).renamed("other")
    apply(doc.add_model(other), "add model")
    session.set_view(model=1)
    _check_everything(window)
    # a whole new sequence and task (a generated task, a text)
    text = load_demo("text")
    apply(session.document.with_sequence_and_task(text.sequence, text.task), "text")
    # and back through the history, then forward again
    while editor.stack.canUndo():
        editor.stack.undo()
        _check_everything(window)
    while editor.stack.canRedo():
        editor.stack.redo()
        _check_everything(window)
