"""The window a new user sees: every panel filled with the demo's numbers, stepping, playback,
model changes, reveal mode and the NaN/Inf banner."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from rnnviz.engine import NetworkConfig
from rnnviz.gui.main_window import MainWindow
from rnnviz.gui.panels.registry import PANELS
from rnnviz.session import Session, Task
from rnnviz.session.demos import document_for, load_demo, sequence_from_generated
from rnnviz.tasks.generators import generate


def line_data(item):
    """The data given to a line (before any log transform of the axis); empty if none."""
    if item.yData is None:
        return np.zeros(0), np.zeros(0)
    return np.asarray(item.xData), np.asarray(item.yData)


def image_of(heatmap):
    return np.asarray(heatmap.image.image)


def test_launch_shows_every_panel_with_the_demo(window):
    results = window.session.results
    trace, grads = results.models[0].trace, results.models[0].grads
    doc = results.document
    plots = {"input", "hidden", "gates", "cell", "output", "gradients"}
    assert plots <= {spec.key for spec in PANELS if spec.shown}  # others start as tabs
    assert set(window.panels) == {spec.key for spec in PANELS}
    in_front = [s.key for s in PANELS if s.tab_with is None and s.shown]  # others: tabs behind
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
    window.input_plot.setXRange(20, 60, padding=0)
    QApplication.processEvents()
    for key, panel in window.panels.items():
        for plot in panel.time_plots:
            lo, hi = plot.getViewBox().viewRange()[0]
            assert (lo, hi) == pytest.approx((20, 60)), key
    assert window.time_link.range == pytest.approx((20, 60))


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
    for key, panel in window.panels.items():
        assert panel.cursor.step == 11, key
        if panel.cursor.isVisible():  # drawn at step 11 of the panel's plots
            vb = panel.time_plots[0].getViewBox()
            assert panel.cursor.pos().x() == pytest.approx(
                vb.mapViewToScene(QPointF(11, 0)).x()), key
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
    _, y = line_data(hidden.traces[1])
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
    assert not np.isfinite(gh).any()  # nothing drawn
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
        for line in panel.alarm_lines:
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
    assert len(hidden.traces) == 4
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
    for line in window.panels["hidden"].alarm_lines:
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


def test_settings_that_are_off_show_off_not_an_old_number(window, menu_entry):
    menu_entry(window, "file.demos", "exploding").trigger()
    window.redraw_now()
    panel = window.model_panel
    assert panel.scale.text() == "1.60"
    menu_entry(window, "file.demos", "sine").trigger()
    window.redraw_now()
    assert window.session.document.models[0].config.recurrent_scale is None
    assert panel.scale.text() == "off" and not panel.scale.isEnabled()
    assert panel.forget.text() == "off"
    menu_entry(window, "file.demos", "text").trigger()  # a GRU: no forget bias at all
    window.redraw_now()
    assert panel.forget.text() == "off" and not panel.forget_on.isEnabled()
    panel.scale_on.setChecked(True)  # switching a setting on shows and applies a value
    assert panel.scale.text() == "1.00"
    assert window.session.document.models[0].config.recurrent_scale == 1.0


def test_the_model_panel_says_what_the_forget_bias_does(window, menu_entry, qtbot):
    window.resize(1280, 800)
    window.reset_layout()
    qtbot.wait(50)
    assert window.size().toTuple() == (1280, 800)
    panel = window.model_panel
    note = panel.forget_note

    def readable() -> bool:  # every wrapped line of the note gets its room
        return note.isVisible() and note.height() >= note.heightForWidth(note.width())

    assert "forgets within a few steps" in note.text()  # the sine demo: no bias
    assert "Set it near 3" in note.text() and readable()
    assert "σ(b_f)" in panel.forget_on.toolTip()
    menu_entry(window, "file.demos", "adding").trigger()
    window.redraw_now()
    assert panel.forget.value() == 3.0
    assert "0.95" in note.text()
    qtbot.waitUntil(readable)
    panel.forget_on.setChecked(False)
    assert window.session.document.models[0].config.forget_bias is None
    assert "Set it near 3" in note.text()
    qtbot.waitUntil(readable)


def _icon_lightness(button) -> float:
    image = button.icon().pixmap(16, 16).toImage()
    values = [image.pixelColor(x, y) for x in range(image.width())
              for y in range(image.height())]
    opaque = [c.lightness() for c in values if c.alpha() > 200]
    return sum(opaque) / len(opaque)


def test_view_theme_switches_and_is_remembered(window, make_window, menu_entry, settings):
    from rnnviz.gui.theme import DARK, LIGHT

    menu_entry(window, "view.theme", "&Dark").trigger()
    assert window.theme is DARK and window.theme_choice == "dark"
    assert window.panels["hidden"].plot_widget.backgroundBrush().color().name() == \
        DARK.background
    assert _icon_lightness(window.transport.play_button) > 150  # light on dark buttons
    entries = {a.text(): a.isChecked() for a in window.actions["view.theme"].menu().actions()}
    assert entries == {"&System": False, "&Light": False, "&Dark": True}
    menu_entry(window, "view.theme", "&Light").trigger()
    assert window.theme is LIGHT
    assert _icon_lightness(window.transport.play_button) < 100
    menu_entry(window, "view.theme", "&Dark").trigger()
    window.close()
    again = MainWindow(Session(load_demo("sine")), settings=settings)
    try:
        assert again.theme is DARK and again.theme_choice == "dark"
        again.set_theme_choice("system")
    finally:
        again.deleteLater()


def test_every_dock_title_shows_its_ampersand(window):
    from rnnviz.gui.panels.registry import PANELS

    for spec in PANELS:
        shown = window.docks[spec.key].windowTitle().replace("&&", "&")
        assert shown.startswith(spec.title.split(" — ")[0]), spec.key
    assert window.docks["input"].windowTitle() == "Input && target"


def test_the_gates_panel_says_which_layer_it_shows(window):
    doc = window.session.document
    window.session.set_document(doc.with_config(0, doc.model(0).config.replace(num_layers=2)))
    window.session.set_view(layer=1)
    window.redraw_now()
    assert "layer 1 of 0…1" in window.docks["gates"].windowTitle()
    heat = window.panels["gates"].gate_heatmaps["f"]
    assert heat.plot.titleLabel.text.endswith("layer 1")
    window.panels["hidden"].layer_combo.setCurrentIndex(0)
    window.redraw_now()
    assert "layer 0 of 0…1" in window.docks["gates"].windowTitle()


def test_reveal_mode_steps_through_the_backward_sweep_and_back(window, qtbot):
    steps = window.session.document.sequence.steps
    grads = window.session.results.models[0].grads.hidden_norm[0]
    window.set_reveal(True)
    qtbot.keyClick(window, Qt.Key.Key_End)  # End: the whole picture, gradients included
    window.redraw_now()
    assert (window.session.view.step, window.session.view.phase) == (0, "backward")
    _, gh = line_data(window.panels["gradients"].grad_lines["‖∂L/∂h_t‖"])
    np.testing.assert_allclose(gh, grads)
    qtbot.keyClick(window, Qt.Key.Key_Left)  # one step back: BPTT has not reached step 0
    window.redraw_now()
    assert (window.session.view.step, window.session.view.phase) == (1, "backward")
    _, gh = line_data(window.panels["gradients"].grad_lines["‖∂L/∂h_t‖"])
    assert np.isnan(gh[0]) and np.isfinite(gh[1:]).all()
    assert window.inspector.value_of("layer 0", "‖∂L/∂h_t‖") == f"{grads[1]:.6g}"
    for _ in range(steps - 2):  # back up the sweep to its start...
        qtbot.keyClick(window, Qt.Key.Key_Left)
    assert (window.session.view.step, window.session.view.phase) == (steps - 1, "backward")
    qtbot.keyClick(window, Qt.Key.Key_Left)  # ...and into the forward pass
    assert (window.session.view.step, window.session.view.phase) == (steps - 1, "forward")
    qtbot.keyClick(window, Qt.Key.Key_Right)  # → at the last step starts the sweep
    assert (window.session.view.step, window.session.view.phase) == (steps - 1, "backward")
    qtbot.keyClick(window, Qt.Key.Key_Home)
    assert (window.session.view.step, window.session.view.phase) == (0, "forward")


def test_while_revealing_the_loss_label_is_the_loss_so_far(window):
    r = window.session.results.models[0]
    window.session.set_view(reveal=True, step=60)
    window.redraw_now()
    so_far = np.nanmean(np.asarray(r.loss.per_step)[:61])
    assert window.panels["output"].loss_text == (
        f"mse loss so far = {so_far:.4g} (steps 0–60 of {r.steps})")
    window.session.set_view(reveal=False)
    window.redraw_now()
    assert window.panels["output"].loss_text == f"mse loss = {r.loss.total:.4g}"
