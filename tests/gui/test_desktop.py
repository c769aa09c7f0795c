"""Desktop manners: persistent layout and settings, Reset layout, themes, the shortcut list,
opening files, and playback rules."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from rnnviz.gui.main_window import MainWindow
from rnnviz.gui.theme import DARK, LIGHT
from rnnviz.gui.transport import next_view
from rnnviz.session import ViewState


def test_every_dock_has_a_unique_object_name(window):
    names = [dock.objectName() for dock in window.docks.values()]
    assert all(names) and len(set(names)) == len(names)


def test_layout_and_speed_persist_across_windows(make_window, settings, qtbot):
    window = make_window()
    window.docks["gradients"].close()
    window.transport.speed_spin.setValue(55)
    window.close()
    assert settings.value("playback/speed") in (55, "55")
    again = MainWindow(settings=settings, theme=LIGHT)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert not again.docks["gradients"].isVisible()
    assert again.docks["hidden"].isVisible()
    assert again.player.speed == 55
    again.actions["view.reset_layout"].trigger()
    assert again.docks["gradients"].isVisible()
    assert not settings.contains("window/state")


def test_a_layout_saved_with_other_docks_gives_the_default_layout(make_window, settings, qtbot):
    window = make_window()
    window.docks["gradients"].close()
    window.close()
    # as a version with fewer panels saved it: without the diagram's dock
    names = settings.value("window/docks").split(",")
    settings.setValue("window/docks", ",".join(n for n in names if n != "dock_diagram"))
    again = MainWindow(settings=settings, theme=LIGHT)
    qtbot.addWidget(again)
    again.resize(1280, 800)
    again.show()
    qtbot.waitExposed(again)
    assert again.docks["gradients"].isVisible()  # the saved arrangement was not applied
    assert again.tabifiedDockWidgets(again.docks["diagram"])  # a tab, as by default
    heat = again.panels["hidden"].heatmap.plot.getViewBox()
    restored = heat.height()
    again.reset_layout()
    qtbot.wait(50)
    assert abs(heat.height() - restored) <= 2  # the plots have the default layout's room


def test_settings_file_is_the_one_given(window, settings, tmp_path):
    window.close()
    settings.sync()
    assert (tmp_path / "rnnviz.ini").exists()
    assert QSettings(str(tmp_path / "rnnviz.ini"), QSettings.Format.IniFormat).contains(
        "window/state"
    )


def test_switching_to_dark_recolours_the_plots(window):
    window.apply_theme(DARK)
    window.redraw_now()
    hidden = window.panels["hidden"]
    assert hidden.plot_widget.backgroundBrush().color().name() == DARK.background
    assert hidden.heatmap.bar.colorMap().name == DARK.diverging
    gates = window.panels["gates"].gate_heatmaps
    assert gates["f"].bar.colorMap().name == DARK.sequential
    window.apply_theme(LIGHT)
    assert hidden.plot_widget.backgroundBrush().color().name() == LIGHT.background


def test_theme_can_be_forced_by_environment(monkeypatch):
    from rnnviz.gui.theme import current_theme

    monkeypatch.setenv("RNNVIZ_THEME", "dark")
    assert current_theme() is DARK
    monkeypatch.setenv("RNNVIZ_THEME", "light")
    assert current_theme() is LIGHT


def test_help_lists_the_keyboard_shortcuts(window):
    box = window.show_shortcuts()
    for key in ("Space", "Shift+←", "Home", "End", "Ctrl+O", "F1"):
        assert f"<b>{key}</b>" in box.text()
    box.close()


def test_hovering_a_heatmap_reports_unit_step_value(window, qtbot):
    heat = window.panels["hidden"].heatmap
    trace = window.session.results.models[0].trace
    QApplication.processEvents()
    scene_pos = heat.plot.vb.mapViewToScene(pytest.importorskip("PySide6.QtCore").QPointF(7, 3))
    with qtbot.waitSignal(window.panels["hidden"].hovered) as blocker:
        window.panels["hidden"]._on_mouse_moved(scene_pos)
    assert blocker.args[0].endswith(f"unit 3, step 7, value {trace.hidden[0, 7, 3]:.6g}")
    assert window.statusBar().currentMessage() == blocker.args[0]


def test_opening_a_sequence_file_replaces_the_inputs(window, tmp_path):
    path = tmp_path / "seq.csv"
    values = np.column_stack([np.linspace(0, 1, 30), np.linspace(1, 0, 30)])
    path.write_text("a,b\n" + "\n".join(f"{x},{y}" for x, y in values))
    assert window.open_paths([str(path)])
    window.redraw_now()
    doc = window.session.document
    assert doc.sequence.inputs.shape == (30, 2)
    np.testing.assert_allclose(doc.sequence.inputs, values)
    assert window.session.results.models[0].trace.hidden.shape[1] == 30


def test_opening_a_bad_file_is_a_one_line_message(window, tmp_path):
    path = tmp_path / "notes.xyz"
    path.write_text("hello")
    before = window.session.document
    assert not window.open_paths([str(path)])
    assert window.session.document is before
    message = window.statusBar().currentMessage()
    assert message.startswith("cannot open notes.xyz:") and "\n" not in message


@pytest.mark.parametrize(
    ("view", "count", "expected", "keep"),
    [
        (ViewState(step=5), 1, ViewState(step=6), True),
        (ViewState(step=8), 5, ViewState(step=9), False),
        # forward 8 -> 9 (the last), then on into the sweep: backward 9, 8, 7, 6
        (ViewState(step=8, reveal=True), 5, ViewState(step=6, reveal=True, phase="backward"), True),
        (ViewState(step=8, reveal=True), 1, ViewState(step=9, reveal=True), True),
        (
            ViewState(step=4, reveal=True, phase="backward"),
            3,
            ViewState(step=1, reveal=True, phase="backward"),
            True,
        ),
        (
            ViewState(step=1, reveal=True, phase="backward"),
            3,
            ViewState(step=0, reveal=True, phase="backward"),
            False,
        ),
    ],
)
def test_playback_order(view, count, expected, keep):
    assert next_view(view, 10, count) == (expected, keep)


def test_reveal_action_and_r_key_toggle_reveal(window, qtbot):
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert window.session.view.reveal
    window.redraw_now()
    assert window.actions["view.reveal"].isChecked() and window.transport.reveal_check.isChecked()
    window.actions["view.reveal"].trigger()
    assert not window.session.view.reveal


def test_panel_context_menus_take_extra_actions(window):
    from PySide6.QtGui import QAction

    action = QAction("Export…", window)
    gates = window.panels["gates"]
    gates.add_context_action(action)
    for plot in gates.time_plots:
        assert action in plot.getViewBox().menu.actions()
    window.model_panel.cell.setCurrentIndex(window.model_panel.cell.findData("gru"))
    window.redraw_now()
    for plot in gates.time_plots:  # rebuilt for the new gates
        assert action in plot.getViewBox().menu.actions()


def test_wrapped_help_lines_stay_in_their_column(window, qtbot):
    box = window.show_shortcuts()
    qtbot.waitExposed(box)
    keys_right = max(k.geometry().right() for k, _ in box.rows)
    wrapped = [w for _, w in box.rows if w.height() > 1.5 * w.fontMetrics().height()]
    assert wrapped  # some descriptions are long enough to wrap
    for _, what in box.rows:
        assert what.geometry().left() > keys_right
    box.close()
