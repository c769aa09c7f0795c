"""The analysis views in the window: what they draw against outside computations, that edits
and the recurrent scale update them live, that moving the cursor recomputes only what depends
on it, that dear values run as jobs in the runner and cancel, and their exports."""

from __future__ import annotations

import csv
import time

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from rnnviz.engine import NetworkConfig
from rnnviz.engine import analysis as an
from rnnviz.gui.analysis import ANALYSIS_PANELS, SLOT
from rnnviz.gui.panels.registry import PANELS, panel_spec
from rnnviz.session import Document, Sequence, Session, Task
from rnnviz.session import analysis as sa
from rnnviz.session.demos import load_demo
from rnnviz.session.edits import set_values

CELLS = ("rnn_tanh", "lstm", "gru")


def session_for(cell="lstm", hidden=8, layers=1, steps=40, seed=0, outputs=1):
    doc = load_demo("sine")
    seq = doc.sequence
    if steps != seq.steps:
        seq = Sequence(inputs=seq.inputs[:steps], targets=seq.targets[:steps])
        doc = doc.with_sequence(seq)
    cfg = doc.models[0].config.replace(cell=cell, hidden_size=hidden, num_layers=layers,
                                       seed=seed, output_size=outputs)
    return Session(doc.with_config(0, cfg))


def bistable_session():
    """W_hh = diag(3, 3) tanh: four stable fixed points under x* = 0."""
    rng = np.random.default_rng(0)
    x = np.zeros((60, 2))
    x[::6] = rng.choice([-4.0, 4.0], size=(10, 2))
    cfg = NetworkConfig(cell="rnn_tanh", input_size=2, hidden_size=2, output_size=1)
    weights = {"weight_ih_l0": np.eye(2), "weight_hh_l0": np.diag([3.0, 3.0]),
               "bias_ih_l0": np.zeros(2), "bias_hh_l0": np.zeros(2),
               "readout.weight": np.array([[1.0, -1.0]]), "readout.bias": np.zeros(1)}
    return Session(Document.single(Sequence(inputs=x), cfg, Task("none", "all"),
                                   weights=weights))


def open_panel(window, key, wait=True):
    """Open the panel ``key`` and (``wait``) wait for what it computes as jobs."""
    window.analysis.show_panel(key)
    window.redraw_now()
    deadline = time.monotonic() + 30
    while wait and window.analysis.running is not None and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.002)
    window.redraw_now()
    panel = window.panels[key]
    assert panel.isVisible() and panel.active
    return panel


def network_and_trace(window):
    results = window.session.results.model(window.session.view.model)
    return results, results.model.network(), results.trace


def image_of(item):
    return np.asarray(item.image)


# ---- the registry and the menu -----------------------------------------------------------------
def test_analysis_panels_are_closed_by_default_and_opened_from_the_menu(window):
    for key in ANALYSIS_PANELS:
        spec = panel_spec(key)
        assert not spec.shown and spec.tab_with in ("gates", "gradients")
        assert not window.docks[key].isVisible()
    assert window.menus["Analysis"].menuAction().isVisible()
    for name, key in (("analysis.influence", "influence"), ("analysis.distance", "distance"),
                      ("analysis.spectrum", "spectrum"), ("analysis.perturb", "perturb"),
                      ("analysis.state_space", "state_space")):
        window.actions[name].trigger()
        assert window.docks[key].isVisible() and window.panels[key].isVisible(), key


def test_hidden_analysis_panels_compute_nothing(window):
    window.session.set_view(step=50)
    window.redraw_now()
    assert window.analysis.cache.computed <= 1  # at most the inspector's cheap horizon
    assert not window.runner.running(SLOT)


# ---- influence -------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_influence_plot_data_equal_influence(make_window, cell):
    window = make_window(session_for(cell, layers=2))
    panel = open_panel(window, "influence")
    results, net, trace = network_and_trace(window)
    m = an.influence(net, trace)
    headers, rows = panel.csv_tables()["influence"]
    np.testing.assert_array_equal(rows[:, 1:], m)
    assert headers[0] == "step t" and rows.shape == (results.steps, results.steps + 1)
    drawn = image_of(panel.heatmap.image)
    with np.errstate(divide="ignore"):
        logm = np.log10(m)
    top = np.ceil(np.max(logm[np.isfinite(logm)]))
    shown = np.isfinite(drawn)
    np.testing.assert_allclose(drawn[shown], logm[shown])
    assert np.array_equal(shown, np.isfinite(logm) & (logm >= top - 6))
    horizon = an.memory_horizon(m)
    assert sa.describe_horizon(horizon, short=True) in panel.horizon_label.text()
    assert window.inspector.value_of("memory horizon") == sa.describe_horizon(horizon,
                                                                             short=True)


def test_bars_at_the_cursor_show_both_directions(make_window):
    window = make_window(session_for("gru"))
    panel = open_panel(window, "influence")
    _, net, trace = network_and_trace(window)
    m = an.influence(net, trace)
    t = 17
    window.session.set_view(step=t)
    window.redraw_now()
    lo = panel.back_bars.opts["y0"]
    back_x = panel.back_bars.opts["x"]
    np.testing.assert_array_equal(back_x, np.arange(t + 1))
    np.testing.assert_allclose(panel.back_bars.opts["height"] + lo,
                               np.maximum(np.log10(m[t, :t + 1]), lo))
    np.testing.assert_array_equal(panel.forward_bars.opts["x"], np.arange(t, m.shape[0]))
    np.testing.assert_allclose(panel.forward_bars.opts["height"] + lo,
                               np.maximum(np.log10(m[t:, t]), lo))
    assert panel.row_line.value() == t
    _, rows = panel.csv_tables()["influence_at_cursor"]
    np.testing.assert_array_equal(rows[:t + 1, 1], m[t, :t + 1])
    np.testing.assert_array_equal(rows[t:, 2], m[t:, t])


def test_hovering_a_step_on_the_input_plot_shades_what_it_remembers(make_window, qtbot):
    window = make_window(session_for("lstm"))
    panel = open_panel(window, "influence")
    qtbot.waitUntil(lambda: panel.influence is not None)  # a loaded machine may still compute it
    value = panel.influence
    plot = window.input_plot
    t = 25
    view = plot.scene().views()[0]

    def hover() -> bool:
        # mapped afresh each try: the layout may still settle on a busy machine
        scene = plot.getViewBox().mapViewToScene(QPointF(t, 0.0))
        target = view.mapFromScene(scene)
        # a move event delivered to the plot's viewport, as the pointer sends it (the
        # offscreen platform's cursor reaches only the window it thinks is under it), a
        # frame apart: the scene drops moves that come sooner
        for at in (target + QPoint(40, 0), target):
            qtbot.wait(40)
            local = QPointF(at)
            move = QMouseEvent(QEvent.Type.MouseMove, local, view.viewport().mapToGlobal(local),
                               Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                               Qt.KeyboardModifier.NoModifier)
            QApplication.sendEvent(view.viewport(), move)
        qtbot.wait(20)
        return panel.hover_step == t

    qtbot.waitUntil(hover)
    np.testing.assert_allclose(panel.input_shading.weights, value.shading(t))
    np.testing.assert_allclose(panel.shading.weights, value.shading(t))
    assert panel.input_shading.image.isVisible()
    assert panel.input_shading.weights[t + 1:].max() == 0
    panel.clear_hover()
    assert not panel.input_shading.image.isVisible()


def test_moving_the_cursor_never_recomputes_the_influence(make_window):
    window = make_window(session_for("lstm"))
    panel = open_panel(window, "influence")
    drawn = panel.influence
    computed = window.analysis.cache.computed
    for step in (3, 20, 39, 0):
        window.session.set_view(step=step)
        window.redraw_now()
        assert panel.influence is drawn
    assert window.analysis.cache.computed == computed


def test_editing_the_input_updates_the_influence_live(make_window):
    window = make_window(session_for("lstm", hidden=16))
    panel = open_panel(window, "influence")
    before = panel.influence.matrix.copy()
    doc = window.session.document
    seq = set_values(doc.sequence, 0, np.array([10, 11]), np.array([2.5, -2.0]))
    window.editor.apply(doc.with_sequence(seq), "edit")
    window.redraw_now()
    _, net, trace = network_and_trace(window)
    assert not window.runner.running(SLOT)  # no job: it was computed at once
    np.testing.assert_array_equal(panel.influence.matrix, an.influence(net, trace))
    assert not np.array_equal(panel.influence.matrix, before)


def test_reveal_mode_shows_only_the_steps_computed_so_far(make_window):
    window = make_window(session_for("gru"))
    influence = open_panel(window, "influence")
    space = open_panel(window, "state_space")
    window.session.set_view(step=15, reveal=True, phase="forward")
    window.redraw_now()
    _, rows = influence.csv_tables()["influence"]
    assert np.isnan(rows[16:, 1:]).all() and not np.isnan(rows[:16, 1:]).any()
    window.analysis.show_panel("state_space")
    window.redraw_now()
    assert len(space.projections[0][0].path.xData) == 16


def test_output_influence_needs_a_readout(make_window):
    window = make_window(session_for("rnn_tanh", outputs=None))
    panel = open_panel(window, "influence")
    assert not panel.of_combo.model().item(1).isEnabled()
    assert panel.of == "hidden"


# ---- jobs ------------------------------------------------------------------------------------
def test_a_dear_influence_runs_in_the_runner_and_cancels(make_window, qtbot):
    window = make_window(session_for("lstm", hidden=64, steps=150))
    window.analysis.budget = 0.0  # everything is dear
    panel = open_panel(window, "influence", wait=False)
    assert window.runner.running(SLOT)
    assert window.analysis.running.kind == "influence"
    assert panel._status_row.isVisible() and panel.status_button.text() == "Cancel"
    assert panel.influence is None
    panel.status_button.click()
    assert not window.runner.running(SLOT)
    assert panel.status_button.text() == "Compute"
    assert panel.influence is None
    panel.status_button.click()  # Compute
    assert window.runner.running(SLOT)
    qtbot.waitUntil(lambda: panel.influence is not None, timeout=20000)
    _, net, trace = network_and_trace(window)
    np.testing.assert_allclose(panel.influence.matrix, an.influence(net, trace), rtol=1e-12,
                               atol=1e-300)
    assert not panel._status_row.isVisible()
    horizon = sa.describe_horizon(panel.influence.horizon, short=True)
    assert window.inspector.value_of("memory horizon") == horizon


def test_a_new_edit_cancels_the_job_for_the_old_results(make_window, qtbot):
    window = make_window(session_for("lstm", hidden=64, steps=150))
    window.analysis.budget = 0.0
    panel = open_panel(window, "influence", wait=False)
    old = window.analysis.running
    doc = window.session.document
    window.editor.apply(doc.with_sequence(set_values(doc.sequence, 0, np.array([5]),
                                                     np.array([1.5]))), "edit")
    window.redraw_now()
    assert window.analysis.running is not old
    assert window.analysis.running.results is window.session.results.model(0)
    qtbot.waitUntil(lambda: panel.influence is not None, timeout=20000)
    assert window.analysis.cache.cached(old) is None


def test_export_computes_what_a_job_would(make_window, tmp_path):
    window = make_window(session_for("gru"))
    window.analysis.budget = 0.0
    open_panel(window, "distance", wait=False)
    assert window.runner.running(SLOT)
    written = window.exports.export("distance", tmp_path / "distance.csv")
    _, net, trace = network_and_trace(window)
    norms = an.jacobian_norms(net, trace, window.session.view.step)
    with open(written[0]) as f:
        rows = list(csv.reader(f))
    np.testing.assert_allclose([float(r[1]) for r in rows[1:]], norms.norm, rtol=1e-12)


# ---- gradient against distance ---------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_distance_plot_is_the_jacobian_norms_with_references(make_window, cell):
    window = make_window(session_for(cell))
    window.session.set_view(step=30)
    panel = open_panel(window, "distance")
    results, net, trace = network_and_trace(window)
    norms = an.jacobian_norms(net, trace, 30)
    x, y = panel.norm_line.xData, panel.norm_line.yData
    np.testing.assert_array_equal(x, np.arange(32))
    np.testing.assert_allclose(y, norms.norm)
    rho = sa.spectrum(results).radius
    np.testing.assert_allclose(panel.reference_line.yData, rho ** np.arange(32), rtol=1e-10)
    headers, _ = panel.csv_tables()["gradient_distance"]
    if cell == "lstm":
        f = trace.gates["f"][0]
        np.testing.assert_allclose(panel.forget_lines[0].yData[1:],
                                   [np.prod(f[31 - d:31], axis=0).max() for d in range(1, 32)])
        assert any(h.startswith("∏ f") for h in headers)
    else:
        assert panel.forget_lines == []
        assert not any(h.startswith("∏ f") for h in headers)
    window.session.set_view(step=12)
    window.redraw_now()
    assert panel.curve.t == 12 and len(panel.norm_line.yData) == 14


# ---- spectrum --------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_spectrum_points_equal_numpys_eigenvalues(make_window, cell):
    window = make_window(session_for(cell, hidden=6))
    panel = open_panel(window, "spectrum")
    _, net, trace = network_and_trace(window)
    w = np.asarray(net.state_dict()["weight_hh_l0"])
    blocks = w.shape[0] // 6
    assert len(panel.block_items) == blocks
    for g, item in enumerate(panel.block_items):
        x, y = item.getData()
        theirs = np.linalg.eigvals(w[g * 6:(g + 1) * 6])
        np.testing.assert_allclose(np.sort_complex(x + 1j * y), np.sort_complex(theirs),
                                   atol=1e-12)
    t = window.session.view.step
    jac = an.state_jacobians(net, trace)[t]
    _, logs = panel.singular_item.getData()
    np.testing.assert_allclose(10 ** logs, np.linalg.svd(jac, compute_uv=False), rtol=1e-10)


def test_spectrum_follows_the_recurrent_scale(make_window):
    window = make_window(session_for("rnn_tanh", hidden=6))
    panel = open_panel(window, "spectrum")
    doc = window.session.document
    cfg = doc.models[0].config.replace(init="orthogonal", recurrent_scale=1.5)
    window.editor.apply(doc.with_config(0, cfg), "scale")
    window.redraw_now()
    x, y = panel.block_items[0].getData()
    np.testing.assert_allclose(np.max(np.hypot(x, y)), 1.5, rtol=1e-9)
    assert "1.5" in panel.summary.text()


# ---- perturbation ----------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_perturbation_actual_curve_is_a_rerun(make_window, cell):
    window = make_window(session_for(cell, layers=2))
    k = 9
    window.session.set_view(step=k)
    panel = open_panel(window, "perturb")
    panel.eps_spin.setValue(0.25)
    window.redraw_now()
    _, net, trace = network_and_trace(window)
    x = np.array(trace.input, copy=True)
    x[k, 0] += 0.25
    rerun = net.forward(x)
    delta = rerun.hidden[-1, k:] - trace.hidden[-1, k:]
    steps, norms = panel.actual_norm.xData, panel.actual_norm.yData
    np.testing.assert_array_equal(steps, np.arange(k, x.shape[0]))
    expected = np.linalg.norm(delta, axis=1)
    keep = expected > 0
    np.testing.assert_allclose(norms[keep], expected[keep], rtol=1e-12)
    unit = window.session.view.units[0]
    np.testing.assert_allclose(panel.actual_unit.yData, delta[:, unit], atol=1e-15)
    _, rows = panel.csv_tables()["perturbation_rerun"]
    np.testing.assert_allclose(rows[:, 1:], delta, atol=1e-15)
    # the prediction is first order: ε → 0 makes the two curves meet
    panel.eps_spin.setValue(0.0001)
    window.redraw_now()
    np.testing.assert_allclose(panel.predicted_unit.yData, panel.actual_unit.yData,
                               rtol=1e-3, atol=1e-10)


def test_perturbation_follows_the_cursor(make_window):
    window = make_window(session_for("lstm"))
    panel = open_panel(window, "perturb")
    for k in (4, 30):
        window.session.set_view(step=k)
        window.redraw_now()
        assert panel.actual_norm.xData[0] == k
        assert f"x_{k}[" in panel.title_of(panel.norm_plot)


# ---- state space -----------------------------------------------------------------------------
@pytest.mark.parametrize(("cell", "layers"), [("rnn_tanh", 1), ("lstm", 2), ("gru", 1)])
def test_state_space_trajectory_is_the_pca_projection(make_window, cell, layers):
    window = make_window(session_for(cell, layers=layers))
    panel = open_panel(window, "state_space")
    _, net, trace = network_and_trace(window)
    h = trace.hidden[-1]
    centred = h - h.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    theirs = centred @ vt[:2].T
    proj = panel.projections[0][0]
    xy = np.column_stack([proj.path.xData, proj.path.yData])
    signs = np.sign(np.sum(theirs * xy, axis=0))
    np.testing.assert_allclose(xy, theirs * signs, atol=1e-10)
    t = 13
    window.session.set_view(step=t)
    window.redraw_now()
    cx, cy = proj.cursor.getData()
    np.testing.assert_allclose([cx[0], cy[0]], theirs[t] * signs, atol=1e-10)
    _, rows = panel.csv_tables()["trajectory"]
    np.testing.assert_allclose(rows[:, 1:3], theirs * signs, atol=1e-10)


def test_state_space_spaces_per_cell(make_window):
    window = make_window(session_for("lstm", layers=2))
    panel = open_panel(window, "state_space")
    keys = [panel.space_combo.itemData(k) for k in range(panel.space_combo.count())]
    assert keys == ["h0", "hc0", "h1", "hc1", "all"]
    assert panel.space == "h1"
    panel.space_combo.setCurrentIndex(keys.index("all"))
    window.redraw_now()
    assert panel.values["space0"].index.size == 2 * 2 * 8
    panel.third.setChecked(True)
    window.redraw_now()
    assert len(panel.projections[0]) == 2 and panel.projections[0][1].dims == (0, 2)


def test_fixed_point_markers_equal_the_search_on_a_bistable_network(make_window, qtbot):
    window = make_window(bistable_session())
    panel = open_panel(window, "state_space")
    panel.starts_spin.setValue(256)
    panel.noise_spin.setValue(0.6)
    window.actions["analysis.fixed_points"].trigger()
    assert window.runner.running(SLOT)  # fixed points are always a job
    assert window.analysis.running.kind == "fixed_points"
    qtbot.waitUntil(lambda: isinstance(panel.values.get("fixed0"), sa.FixedPointsView),
                    timeout=20000)
    results = window.session.results.model(0)
    found = sa.find_fixed_points(results, np.zeros(2), starts=256, noise=0.6)
    space = sa.state_space(results)
    coords = space.pca.project(found.found.states())
    proj = panel.projections[0][0]
    stable = np.column_stack(proj.stable.getData())
    expected = coords[[p.kind == "stable" and not p.slow for p in found.found.points]]
    assert len(stable) == 4
    np.testing.assert_allclose(stable, expected[:, :2])
    saddle = np.column_stack(proj.saddle.getData())
    np.testing.assert_allclose(
        saddle, coords[[p.kind == "saddle" for p in found.found.points]][:, :2])
    assert panel.counts.text().startswith("4 stable")
    # hover a stable point: its q and eigenvalues
    messages = []
    panel.hovered.connect(messages.append)
    scene = proj.plot.getViewBox().mapViewToScene(QPointF(*stable[0]))
    panel._on_mouse_moved(scene)
    assert proj.hover.isVisible() and messages
    assert messages[-1].startswith("#0 stable fixed point: q = ")
    assert "λ = " in messages[-1]
    _, rows = panel.csv_tables()["fixed_points"]
    assert rows.shape[0] == len(found.found.points)
    np.testing.assert_allclose(rows[:, 6:8], coords[:, :2])
    panel.clear_fixed_points()
    assert proj.stable.getData()[0].size == 0


def test_every_model_gets_its_own_plot(make_window):
    session = session_for("lstm")
    doc = session.document
    doc = doc.add_model(doc.models[0].with_config(doc.models[0].config.replace(cell="gru"))
                        .renamed("GRU"))
    window = make_window(Session(doc))
    panel = open_panel(window, "state_space")
    assert len(panel.projections) == 1
    panel.models_combo.setCurrentIndex(1)
    window.redraw_now()
    assert len(panel.projections) == 2
    titles = [panel.title_of(row[0].plot) for row in panel.projections]
    assert titles[1].startswith("GRU")
    assert set(panel.csv_tables()) >= {"model0_trajectory", "model1_trajectory"}


# ---- export ----------------------------------------------------------------------------------
def test_headless_export_writes_every_analysis_panel(tmp_path, qapp):
    from rnnviz.gui.export.headless import export_views

    session = session_for("lstm")
    written = export_views(session, tmp_path, ["png", "csv"], list(ANALYSIS_PANELS))
    names = {p.name for p in written}
    for key in ANALYSIS_PANELS:
        assert f"{key}.png" in names, key
    assert "influence_influence.csv" in names and "influence_memory_horizon_summary.csv" in names
    assert "spectrum_eigenvalues.csv" in names and "state_space_trajectory.csv" in names
    results = session.results.model(0)
    m = an.influence(results.model.network(), results.trace)
    with open(tmp_path / "influence_influence.csv") as f:
        rows = np.array([[float(v) for v in r[1:]] for r in list(csv.reader(f))[1:]])
    np.testing.assert_allclose(rows, m, rtol=1e-12)
    with open(tmp_path / "influence_memory_horizon_summary.csv") as f:
        summary = list(csv.reader(f))
    assert float(summary[1][1]) == pytest.approx(an.memory_horizon(m).value)


def test_every_panel_has_content_for_every_cell():
    for spec in PANELS:
        if spec.key in ANALYSIS_PANELS:
            for cell in ("rnn_tanh", "rnn_relu", "lstm", "gru"):
                assert spec.has_content(NetworkConfig(cell=cell))


def test_a_failed_run_shows_a_message_not_a_plot(make_window):
    doc = load_demo("exploding")
    cfg = doc.models[0].config.replace(cell="rnn_relu", recurrent_scale=1e4)
    window = make_window(Session(doc.with_config(0, cfg)))
    panel = open_panel(window, "influence")
    assert "NaN" in panel.failures["influence"]
    assert panel.note.isVisible() and "NaN" in panel.note.toPlainText()


def test_a_job_cancelled_by_a_refused_close_starts_again(make_window, qtbot):
    window = make_window(session_for("lstm", hidden=64, steps=150))
    window.analysis.budget = 0.0
    panel = open_panel(window, "influence", wait=False)
    window.runner.cancel()  # what closing the window does before it asks about saving
    qtbot.waitUntil(lambda: window.runner.running(SLOT), timeout=5000)
    qtbot.waitUntil(lambda: panel.influence is not None, timeout=20000)


def test_closing_a_panel_stops_asking(make_window):
    window = make_window(session_for("lstm", hidden=64, steps=150))
    window.analysis.budget = 0.0
    open_panel(window, "influence", wait=False)
    assert window.runner.running(SLOT)
    window.docks["influence"].close()
    window.redraw_now()
    assert not window.runner.running(SLOT)

