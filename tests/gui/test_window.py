"""The window a new user sees: every panel filled with the demo's numbers, stepping, playback,
model changes, reveal mode and the NaN/Inf banner."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from rnnviz.engine import NetworkConfig
from rnnviz.gui.panels.registry import PANELS
from rnnviz.session import Session, Task
from rnnviz.session.demos import document_for, load_demo, sequence_from_generated
from rnnviz.tasks.generators import generate


def line_data(item):
    """The data given to a line (before any log transform of the axis)."""
    return np.asarray(item.xData), np.asarray(item.yData)


def image_of(heatmap):
    return np.asarray(heatmap.image.image)


def test_launch_shows_every_panel_with_the_demo(window):
    results = window.session.results
    trace, grads = results.models[0].trace, results.models[0].grads
    doc = results.document
    assert set(window.panels) == {"input", "hidden", "gates", "cell", "output", "gradients",
                                  "training"}
    in_front = [s.key for s in PANELS if s.tab_with is None]  # the others are tabs behind
    for key in ("model", "inspector", *in_front):
        assert window.docks[key].isVisible(), key

    x, y = line_data(window.panels["input"].x_lines[0])
    np.testing.assert_array_equal(x, np.arange(doc.sequence.steps))
    np.testing.assert_array_equal(y, doc.sequence.inputs[:, 0])
    _, target = line_data(window.panels["input"].target_lines[0])
    np.testing.assert_array_equal(target, doc.sequence.targets[:, 0])

    np.testing.assert_array_equal(image_of(window.panels["hidden"].heatmap), trace.hidden[0].T)
    gates = window.panels["gates"].gate_heatmaps
    assert list(gates) == ["i", "f", "g", "o"]
    for name, heat in gates.items():
        np.testing.assert_array_equal(image_of(heat), trace.gates[name][0].T)
        assert heat.image.getLevels() is not None
    assert tuple(gates["f"].bar.levels()) == (0.0, 1.0)
    assert tuple(window.panels["hidden"].heatmap.bar.levels()) == (-1.0, 1.0)
    np.testing.assert_array_equal(image_of(window.panels["cell"].heatmap), trace.cell[0].T)
    _, norm = line_data(window.panels["cell"].norm_line)
    np.testing.assert_allclose(norm, np.linalg.norm(trace.cell[0], axis=1))

    out = window.panels["output"]
    _, y_out = line_data(out.y_lines[0])
    np.testing.assert_array_equal(y_out, trace.output[:, 0])
    _, loss = line_data(out.loss_line)
    np.testing.assert_allclose(loss, results.models[0].loss.per_step)

    lines = window.panels["gradients"].grad_lines
    _, gh = line_data(lines["‖∂L/∂h_t‖"])
    np.testing.assert_allclose(gh, np.linalg.norm(grads.hidden[0], axis=1))
    _, gx = line_data(lines["‖∂L/∂x_t‖"])
    np.testing.assert_allclose(gx, np.linalg.norm(grads.input, axis=1))
    assert window.panels["gradients"].grad_plot.getAxis("left").logMode


def test_every_plot_shares_the_input_time_axis(window):
    master = window.input_plot.getViewBox()
    for key, panel in window.panels.items():
        for plot in panel.time_plots:
            if plot is not window.input_plot:
                assert plot.getViewBox().linkedView(0) is master, key
    window.input_plot.setXRange(20, 60, padding=0)
    QApplication.processEvents()
    lo, hi = window.panels["gradients"].grad_plot.getViewBox().viewRange()[0]
    assert (lo, hi) == pytest.approx((20, 60))


def test_csv_tables_hold_the_plotted_data(window):
    trace = window.session.results.models[0].trace
    headers, table = window.panels["hidden"].csv_tables()["hidden_layer0"]
    assert headers[:2] == ["unit", "step 0"] and len(headers) == trace.steps + 1
    np.testing.assert_array_equal(table[:, 0], np.arange(trace.hidden.shape[2]))
    np.testing.assert_array_equal(table[:, 1:], trace.hidden[0].T)
    headers, table = window.panels["gates"].csv_tables()["gate_o_layer0"]
    np.testing.assert_array_equal(table[:, 1:], trace.gates["o"][0].T)
    headers, table = window.panels["input"].csv_tables()["input"]
    assert headers == ["step", "x", "target"]
    np.testing.assert_array_equal(table[:, 1], window.session.document.sequence.inputs[:, 0])


def test_keys_move_the_cursor_and_the_inspector_follows(window, qtbot):
    trace = window.session.results.models[0].trace
    window.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Right)
    window.redraw_now()
    assert window.session.view.step == 1
    assert window.inspector.value_of("x_t", "x") == f"{trace.input[1, 0]:.6g}"
    qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    window.redraw_now()
    assert window.session.view.step == 11
    assert window.inspector.value_of("x_t", "x") == f"{trace.input[11, 0]:.6g}"
    assert window.inspector.value_of("y_t", "[0]") == f"{trace.output[11, 0]:.6g}"
    group = window.inspector.findItems("layer 0", Qt.MatchFlag.MatchExactly)[0].child(0)
    group.setExpanded(True)
    assert window.inspector.value_of("layer 0", "h_t", "[3]") == f"{trace.hidden[0, 11, 3]:.6g}"
    for panel in window.panels.values():
        for line in panel._cursors.values():
            assert line.value() == 11
    qtbot.keyClick(window, Qt.Key.Key_End)
    assert window.session.view.step == trace.steps - 1
    qtbot.keyClick(window, Qt.Key.Key_Left)
    assert window.session.view.step == trace.steps - 2
    qtbot.keyClick(window, Qt.Key.Key_Home)
    assert window.session.view.step == 0
    window.redraw_now()
    assert window.transport.step_spin.value() == 0
    assert window.transport.slider.value() == 0


def test_moving_the_cursor_does_not_recompute(window, qtbot):
    results = window.session.results
    computed = []
    window.session.results_changed.connect(computed.append)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    window.redraw_now()
    assert computed == [] and window.session.last_results is results
    window.session.results_changed.disconnect(computed.append)


def test_stepping_keys_leave_text_fields_alone(window, qtbot):
    spin = window.model_panel.hidden
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Right)
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Space)
    assert window.session.view.step == 0
    assert not window.player.playing


def test_the_step_box_and_slider_set_the_cursor(window):
    window.transport.step_spin.setValue(42)
    assert window.session.view.step == 42
    window.transport.slider.setValue(7)
    assert window.session.view.step == 7
    window.redraw_now()
    assert window.transport.step_spin.value() == 7


def test_space_plays_and_stops_at_the_end(window, qtbot):
    window.transport.speed_spin.setValue(2000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.player.playing
    last = window.session.document.sequence.steps - 1
    qtbot.waitUntil(lambda: not window.player.playing, timeout=5000)
    assert window.session.view.step == last
    qtbot.keyClick(window, Qt.Key.Key_Space)  # from the end: starts over
    assert window.player.playing and window.session.view.step < last
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.player.playing


def test_changing_the_cell_type_swaps_the_gates(window):
    gates = window.panels["gates"]
    assert list(gates.gate_heatmaps) == ["i", "f", "g", "o"]
    combo = window.model_panel.cell
    combo.setCurrentIndex(combo.findData("gru"))
    window.redraw_now()
    assert window.session.document.models[0].config.cell == "gru"
    assert list(gates.gate_heatmaps) == ["r", "z", "n"]
    trace = window.session.results.models[0].trace
    for name, heat in gates.gate_heatmaps.items():
        np.testing.assert_array_equal(image_of(heat), trace.gates[name][0].T)
    assert window.panels["cell"].note.isVisibleTo(window.panels["cell"])
    assert "‖∂L/∂c_t‖" not in window.panels["gradients"].grad_lines
    combo.setCurrentIndex(combo.findData("rnn_tanh"))
    window.redraw_now()
    assert list(gates.gate_heatmaps) == ["pre"]
    low, high = gates.gate_heatmaps["pre"].bar.levels()
    assert low == -high and high > 0


def test_changing_hidden_size_changes_the_heatmaps(window):
    window.model_panel.hidden.setValue(24)
    window.redraw_now()
    assert window.session.document.models[0].config.hidden_size == 24
    trace = window.session.results.models[0].trace
    assert image_of(window.panels["hidden"].heatmap).shape == (24, trace.steps)
    np.testing.assert_array_equal(image_of(window.panels["hidden"].heatmap), trace.hidden[0].T)
    assert image_of(window.panels["gates"].gate_heatmaps["i"]).shape == (24, trace.steps)


def test_layer_selector_shows_the_chosen_layer(window):
    window.model_panel.layers.setValue(2)
    window.redraw_now()
    hidden = window.panels["hidden"]
    assert hidden.layer_combo.count() == 2
    hidden.layer_combo.setCurrentIndex(1)
    window.redraw_now()
    assert window.session.view.layer == 1
    np.testing.assert_array_equal(
        image_of(hidden.heatmap), window.session.results.models[0].trace.hidden[1].T
    )


def test_unit_picker_sets_the_traced_units(window):
    hidden = window.panels["hidden"]
    hidden.units_edit.setText("4, 7-8")
    hidden.units_edit.editingFinished.emit()
    window.redraw_now()
    assert window.session.view.units == (4, 7, 8)
    _, y = line_data(hidden._traces[1])
    np.testing.assert_array_equal(y, window.session.results.models[0].trace.hidden[0, :, 7])
    hidden.units_edit.setText("99")
    hidden.units_edit.editingFinished.emit()
    assert "99 is not between 0 and 15" in window.statusBar().currentMessage()
    assert window.session.view.units == (4, 7, 8)


def test_recurrent_scale_recomputes_at_once(window):
    before = window.session.results.models[0].grads.hidden_norm.copy()
    window.model_panel.scale_on.setChecked(True)
    window.model_panel.scale_slider.setValue(150)
    window.redraw_now()
    assert window.session.document.models[0].config.recurrent_scale == pytest.approx(1.5)
    _, gh = line_data(window.panels["gradients"].grad_lines["‖∂L/∂h_t‖"])
    np.testing.assert_allclose(gh, window.session.results.models[0].grads.hidden_norm[0])
    assert not np.allclose(gh, before[0])


def test_an_invalid_combination_is_a_one_line_message(make_window):
    # cross-entropy needs whole class indices; the adding problem's targets are real sums
    window = make_window(Session(load_demo("adding")))
    drawn = image_of(window.panels["hidden"].heatmap).copy()
    loss = window.model_panel.loss
    loss.setCurrentIndex(loss.findData("ce"))
    window.redraw_now()
    message = window.statusBar().currentMessage()
    assert message == "cannot compute: cross-entropy targets must be whole class indices"
    assert "whole class indices" in window.banner.text() and window.banner_bar.isVisible()
    np.testing.assert_array_equal(image_of(window.panels["hidden"].heatmap), drawn)
    loss.setCurrentIndex(loss.findData("mse"))
    window.redraw_now()
    assert not window.banner_bar.isVisible()


def test_reveal_mode_hides_future_steps_then_sweeps_back(window, qtbot):
    trace = window.session.results.models[0].trace
    window.session.set_view(reveal=True, step=9)
    window.redraw_now()
    np.testing.assert_array_equal(image_of(window.panels["hidden"].heatmap), trace.hidden[0, :10].T)
    _, y = line_data(window.panels["output"].y_lines[0])
    assert len(y) == 10
    _, gh = line_data(window.panels["gradients"].grad_lines["‖∂L/∂h_t‖"])
    assert np.isnan(gh).all()
    assert window.inspector.value_of("layer 0", "‖∂L/∂h_t‖") == "—"

    window.session.set_view(phase="backward", step=150)
    window.redraw_now()
    assert image_of(window.panels["hidden"].heatmap).shape == trace.hidden[0].T.shape
    _, gh = line_data(window.panels["gradients"].grad_lines["‖∂L/∂h_t‖"])
    assert np.isnan(gh[:150]).all() and np.isfinite(gh[150:]).all()

    window.session.set_view(step=0, phase="forward")
    window.transport.speed_spin.setValue(2000)
    window.player.play()
    qtbot.waitUntil(lambda: window.session.view.phase == "backward", timeout=5000)
    qtbot.waitUntil(lambda: not window.player.playing, timeout=5000)
    assert window.session.view.step == 0 and window.session.view.phase == "backward"


def exploding_session() -> Session:
    seq = sequence_from_generated(generate("sine_plus_step", 400, seed=0))
    cfg = NetworkConfig(cell="rnn_relu", hidden_size=32, recurrent_scale=30.0, seed=0)
    return Session(document_for(seq, cfg, Task("mse", "all")))


def test_an_exploding_run_shows_the_banner_and_marks_the_step(make_window):
    session = exploding_session()
    bad = session.results.nonfinite_step
    assert bad is not None
    window = make_window(session)
    assert window.banner_bar.isVisible()
    assert f"NaN/Inf at step {bad}" in window.banner.text()
    forward = session.results.models[0].trace.nonfinite_step
    assert forward is not None and f"values at step {forward}" in window.banner.text()
    for panel in window.panels.values():
        for line in panel._alarms.values():
            assert line.isVisible() and line.value() == bad
    image = image_of(window.panels["hidden"].heatmap)
    assert np.isnan(image).any() and not np.isinf(image).any()
    _, gh = line_data(window.panels["gradients"].grad_lines["‖∂L/∂h_t‖"])
    assert np.all(np.isnan(gh) | (gh > 0)) and not np.isinf(gh).any()
    window.grab()  # painting non-finite data must not raise


def test_the_banner_goes_when_the_run_is_healthy_again(make_window):
    window = make_window(exploding_session())
    window.model_panel.scale.setValue(0.9)
    window.redraw_now()
    assert window.session.results.nonfinite_step is None
    assert not window.banner_bar.isVisible()


def test_text_demo_labels_the_time_axis_with_characters(make_window):
    window = make_window(Session(load_demo("text")))
    seq = window.session.document.sequence
    axis = window.input_plot.getAxis("bottom")
    window.input_plot.setXRange(0, 20, padding=0)
    values = axis.tickValues(0, 20, 600)
    strings = axis.tickStrings(values[0][1], 1.0, 1.0)
    assert strings[:5] == [seq.labels[t].replace(" ", "␣") for t in range(5)]
    assert list(window.panels["gates"].gate_heatmaps) == ["r", "z", "n"]


def test_open_demo_from_the_file_menu(window, menu_entry):
    menu_entry(window, "file.demos", "vanishing").trigger()
    window.redraw_now()
    assert window.session.document.models[0].config.cell == "rnn_tanh"
    assert window.model_panel.cell.currentData() == "rnn_tanh"
    assert window.model_panel.scale.value() == pytest.approx(0.8)
    assert list(window.panels["gates"].gate_heatmaps) == ["pre"]


def test_large_documents_compute_in_a_worker(make_window, qtbot):
    window = make_window()
    window.compute.sync_limit = 0
    window.model_panel.hidden.setValue(20)
    qtbot.waitUntil(lambda: not window.session.stale, timeout=10000)
    window.redraw_now()
    assert image_of(window.panels["hidden"].heatmap).shape[0] == 20
    assert not window.progress.isVisible()


def test_a_cancelled_computation_keeps_the_last_plots(make_window, qtbot):
    window = make_window()
    drawn = image_of(window.panels["hidden"].heatmap).copy()
    window.compute.sync_limit = 0
    window.model_panel.hidden.setValue(20)
    qtbot.waitUntil(lambda: window.compute.running, timeout=2000)
    window.cancel_button.click()
    window.compute.wait()
    QApplication.processEvents()
    np.testing.assert_array_equal(image_of(window.panels["hidden"].heatmap), drawn)
    assert "cancelled" in window.statusBar().currentMessage()


def test_toggling_a_unit_adds_and_removes_its_trace(window):
    hidden = window.panels["hidden"]
    hidden.toggle_unit(9)
    window.redraw_now()
    assert window.session.view.units == (0, 1, 2, 9)
    assert len(hidden._traces) == 4
    hidden.toggle_unit(1)
    window.redraw_now()
    assert window.session.view.units == (0, 2, 9)
    assert hidden.units_edit.text() == "0, 2, 9"


def test_a_forward_blow_up_is_reported_as_values(make_window):
    # a target-free task whose last state is already Inf: the forward pass fails first
    seq = sequence_from_generated(generate("sine_plus_step", 400, seed=0))
    cfg = NetworkConfig(cell="rnn_relu", hidden_size=32, recurrent_scale=30.0, seed=0)
    doc = document_for(seq, cfg, Task("none", "all"))
    session = Session(doc)
    forward = session.results.models[0].trace.nonfinite_step
    window = make_window(session)
    assert session.results.nonfinite_step == forward
    assert window.banner.text() == (
        f"Values became NaN/Inf at step {forward} — lower the recurrent scale "
        "(Model panel → W_hh scale)"
    )
    for line in window.panels["hidden"]._alarms.values():
        assert line.isVisible() and line.value() == forward


def test_model_edits_change_only_the_setting_edited(make_window):
    """Settings the widgets cannot show exactly survive an edit of another setting."""
    doc = load_demo("sine")
    cfg = doc.models[0].config.replace(num_layers=2, forget_bias=25.0, recurrent_scale=0.005,
                                       seed=2**40)
    window = make_window(Session(doc.with_config(0, cfg)))
    window.model_panel.where.setCurrentIndex(window.model_panel.where.findData("last"))
    new = window.session.document
    assert new.task.where == "last"
    assert new.models[0].config == cfg
