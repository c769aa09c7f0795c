"""Comparing models in the window: the Model menu's comparisons, the Models dock, undo of every
change of the models, the comparison view's arrays (each model's own engine run), live input
edits and the influence computed in the background."""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine import Network, NetworkConfig
from rnnviz.engine.analysis import influence
from rnnviz.io.weights import save_weights
from rnnviz.session import Session, Task
from rnnviz.session import compare as cmp
from rnnviz.session.demos import document_for, load_demo, sequence_from_generated
from rnnviz.tasks.generators import generate


def line_data(item):
    return np.asarray(item.xData, dtype=float), np.asarray(item.yData, dtype=float)


def settle(qtbot, window):
    """Compute and draw, then let the comparison's background influence finish."""
    window.redraw_now()
    qtbot.waitUntil(lambda: not window.models.influence_running
                    and not window.models._timer.isActive(), timeout=20000)
    window.redraw_now()


@pytest.fixture
def adding(make_window):
    return make_window(Session(load_demo("adding")))


def engine_run(doc, model):
    net = Network.from_config(model.config)
    seq = doc.sequence
    trace = net.forward(seq.inputs)
    loss = net.loss(trace, seq.targets, doc.task.loss, doc.task.where, seq.target_mask)
    grads = net.backward(trace, d_output=loss.grad)
    return net, trace, loss, grads


def assert_view_shows_own_runs(window):
    doc = window.session.document
    view = window.panels["compare"]
    for k, model in enumerate(doc.models):
        net, trace, loss, grads = engine_run(doc, model)
        x, y = line_data(view.lines["output"][k])
        np.testing.assert_array_equal(x, np.arange(doc.sequence.steps))
        np.testing.assert_allclose(y, trace.output[:, 0], rtol=1e-12)
        _, per_step = line_data(view.lines["loss"][k])
        keep = np.isfinite(loss.per_step)  # few points: drawn as dots, only where they are
        np.testing.assert_allclose(per_step, loss.per_step[keep], rtol=1e-12)
        _, g = line_data(view.lines["grad"][k])
        np.testing.assert_allclose(g, np.linalg.norm(grads.hidden[-1], axis=1), rtol=1e-10)
        m = influence(net, trace)
        _, profile = line_data(view.lines["influence"][k])
        np.testing.assert_allclose(profile, m[-1] / m[-1, -1], rtol=1e-9)


def test_compare_menu_makes_rnn_lstm_gru_and_the_view_shows_each_run(adding, qtbot,
                                                                     menu_entry):
    window = adding
    window.actions["model.compare_three"].trigger()
    doc = window.session.document
    assert [m.name for m in doc.models] == ["RNN 32", "LSTM 32", "GRU 32"]
    assert window.session.model.name == "LSTM 32"  # the model that was shown stays shown
    assert window.docks["compare"].isVisible() and window.docks["models"].isVisible()
    settle(qtbot, window)
    assert_view_shows_own_runs(window)
    view = window.panels["compare"]
    # one shared log axis: the RNN's tiny early gradients are decades below the others
    lo, hi = view.grad_plot.getViewBox().viewRange()[1]
    first = [line_data(view.lines["grad"][k])[1][0] for k in range(3)]
    assert lo <= np.log10(min(first)) and hi >= np.log10(max(first))
    assert first[0] < 1e-3 * first[1]
    # the key names each model with its parameters, loss and horizon
    texts = [entry.plain for entry in view.key_entries]
    for text, model, r in zip(texts, doc.models, window.session.results.models, strict=True):
        assert model.name in text and f"{model.parameter_count:,} params" in text
        assert f"loss {r.loss.total:.3g}" in text
        assert f"horizon {cmp.cached_influence(r).horizon_text}" in text
    table = window.models.dock.table
    assert [table.item(k, 0).text() for k in range(3)] == ["■ RNN 32", "■ LSTM 32", "■ GRU 32"]
    assert [table.item(k, 1).text() for k in range(3)] == ["1,185", "4,641", "3,489"]


def test_matched_parameters_from_the_menu(adding, menu_entry):
    adding.actions["model.compare_matched"].trigger()
    doc = adding.session.document
    assert [m.config.hidden_size for m in doc.models] == [66, 32, 37]
    assert "RNN 66: 4,687" in adding.statusBar().currentMessage()


def test_clicking_a_model_shows_its_dashboard(adding, qtbot):
    window = adding
    window.models.compare_cells()
    window.redraw_now()
    view = window.panels["compare"]
    view.key_entries[2]._clicked()
    window.redraw_now()
    assert window.session.view.model == 2
    assert window.dashboard.drawn.model.name == "GRU 32"
    assert list(window.panels["gates"].gate_heatmaps) == ["r", "z", "n"]
    assert "▶" in view.key_entries[2].text and "▶" not in view.key_entries[1].text
    window.models.dock.table.selectRow(0)
    window.redraw_now()
    assert window.dashboard.drawn.model.name == "RNN 32"
    window.models.next_model()
    assert window.session.view.model == 1
    window.models.previous_model()
    window.models.previous_model()
    assert window.session.view.model == 2  # wraps around


def test_undo_and_redo_of_every_change_of_the_models(adding, tmp_path):
    window = adding
    models = window.models
    stack = window.editor.stack
    names = lambda: [m.name for m in window.session.document.models]  # noqa: E731
    original = window.session.document
    models.compare_cells()
    models.duplicate(0)
    assert names() == ["RNN 32", "LSTM 32", "GRU 32", "RNN 32 copy"]
    assert window.session.view.model == 3  # the copy is selected
    assert not models.duplicate(0)  # a fifth model is refused with a message
    assert "at most 4" in window.statusBar().currentMessage()
    assert models.rename("vanilla", 0)
    models.remove(1)
    assert names() == ["vanilla", "GRU 32", "RNN 32 copy"]
    texts = [stack.text(k) for k in range(stack.count())]
    assert texts == ["Compare RNN vs LSTM vs GRU (same size)", "Duplicate model",
                     "Rename model", "Remove model LSTM 32"]
    stack.undo()
    assert names() == ["vanilla", "LSTM 32", "GRU 32", "RNN 32 copy"]
    stack.undo()
    stack.undo()
    assert names() == ["RNN 32", "LSTM 32", "GRU 32"]
    stack.undo()
    assert window.session.document is original
    for _ in range(4):
        stack.redo()
    assert names() == ["vanilla", "GRU 32", "RNN 32 copy"]
    # adding (a GRU with weights from a file), undone and redone
    cfg = window.session.document.models[1].config.replace(hidden_size=12, seed=4)
    net = Network.from_config(cfg)
    path = tmp_path / "gru.npz"
    save_weights(path, net.state_dict(), "gru")
    before = window.session.document
    assert models.add({"cell": "lstm", "hidden_size": 5}, weights=str(path))
    added = window.session.document.models[-1]
    assert added.name == "GRU 12" and added.config.cell == "gru"
    assert window.session.view.model == 3
    np.testing.assert_array_equal(added.weights["weight_hh_l0"], net.state_dict()["weight_hh_l0"])
    assert stack.text(stack.index() - 1) == "Add model GRU 12"
    stack.undo()
    assert window.session.document is before
    stack.redo()
    assert window.session.document.models[-1] is added


def test_add_dialog_adds_or_says_why_not(adding, tmp_path):
    window = adding
    dialog = window.models.add_dialog()
    dialog.cell.setCurrentIndex(dialog.cell.findData("gru"))
    dialog.hidden.setValue(10)
    dialog.layers.setValue(2)
    dialog.name.setText("small GRU")
    assert dialog.count.text() == f"{cmp.parameter_count(window.session.model.config.replace(cell='gru', hidden_size=10, num_layers=2)):,}"  # noqa: E501
    dialog.weights.setText(str(tmp_path / "missing.npz"))
    assert not dialog.accept_settings()
    assert "no such file" in dialog.error.text() and dialog.isVisible()
    dialog.weights.setText("")
    assert dialog.accept_settings()
    model = window.session.document.models[-1]
    assert model.name == "small GRU"
    assert (model.config.cell, model.config.hidden_size, model.config.num_layers) == (
        "gru", 10, 2)


def test_editing_the_input_updates_every_model(adding, qtbot):
    window = adding
    window.models.compare_cells()
    settle(qtbot, window)
    doc = window.session.document
    inputs = np.array(doc.sequence.inputs)
    inputs[3, 0] += 0.5
    window.editor.apply(doc.with_sequence(doc.sequence.with_inputs(inputs)), "Edit value")
    window.redraw_now()
    settle(qtbot, window)
    assert window.session.document.sequence.inputs[3, 0] == inputs[3, 0]
    assert_view_shows_own_runs(window)


def test_influence_of_large_comparisons_runs_as_a_job(make_window, qtbot):
    seq = sequence_from_generated(generate("sine_plus_step", 300, seed=0))
    doc = cmp.compare_cells(document_for(seq, NetworkConfig(cell="lstm", hidden_size=48),
                                         Task("mse", "all")))
    window = make_window(Session(doc))
    window.models.show_comparison()
    window.redraw_now()
    results = window.session.results
    assert sum(cmp.influence_cost(r) for r in results.models) > 2e7  # beyond the live budget
    view = window.panels["compare"]
    assert "updating…" in view.influence_note.toPlainText()  # the job waits for edits to rest
    assert "horizon …" in view.key_entries[0].text
    window.models._job_progressed("influence", 0.4, "")
    assert view.influence_note.toPlainText().endswith("updating… 40%")
    qtbot.waitUntil(lambda: window.models.influence_running
                    or all(cmp.cached_influence(r) for r in results.models), timeout=5000)
    settle(qtbot, window)
    for k, r in enumerate(results.models):
        _, y = line_data(view.lines["influence"][k])
        np.testing.assert_array_equal(y, cmp.cached_influence(r).profile)
    assert view.influence_note.toPlainText().startswith("influence of x_k")
    assert "updating" not in view.influence_note.toPlainText()


def test_the_comparison_csv_is_what_is_drawn(adding, qtbot, tmp_path):
    window = adding
    window.models.compare_cells()
    settle(qtbot, window)
    written = window.exports.export("compare", tmp_path / "compare.csv")
    assert [p.name for p in written] == [f"compare_{t}.csv" for t in (
        "output", "loss", "gradients", "gates", "summary", "influence")]
    summary = (tmp_path / "compare_summary.csv").read_text().splitlines()
    assert summary[0] == "model,cell,hidden_size,layers,parameters,loss,memory_horizon"
    assert summary[2].startswith("LSTM 32,lstm,32,1,4641,")
    header = (tmp_path / "compare_gradients.csv").read_text().splitlines()[0]
    assert header == "step,RNN 32,LSTM 32,GRU 32"
    gates = (tmp_path / "compare_gates.csv").read_text().splitlines()[0]
    assert gates == "step,LSTM 32 i,LSTM 32 f,LSTM 32 o,GRU 32 r,GRU 32 z"


def test_model_menu_lists_the_commands(adding):
    texts = [a.text() for a in adding.menus["Model"].actions() if not a.isSeparator()]
    assert texts[:6] == ["&Compare RNN vs LSTM vs GRU",
                         "Compare RNN vs LSTM vs GRU, &matched parameters", "&Add model…",
                         "&Duplicate", "Re&name…", "&Remove"]
    assert adding.actions["model.next"].shortcut().toString() == "Ctrl+PgDown"
    adding.models.compare_cells()
    adding.actions["model.next"].trigger()
    assert adding.session.view.model == 2
    assert adding.docks["models"].isVisible()
    adding.docks["models"].widget().table.selectRow(0)
    assert adding.session.view.model == 0
    assert adding.docks["compare"].widget().isVisible()


def test_the_latency_probe_times_a_comparison(qapp):
    from rnnviz.gui.latency import measure_latency

    result = measure_latency(cell="lstm", steps=60, hidden=8, edits=5,
                             compare=("rnn_tanh", "lstm", "gru"))
    assert result["models"] == 3 and result["edits"] == 5
    assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["max_ms"]
    assert 0 < result["compute_p50_ms"] < result["max_ms"]
