"""Exporting from the app: the menu entries, the Export dialog, dashboard images, animations
with Cancel and the run data."""

import csv

import imageio.v3 as iio
import numpy as np
import pyqtgraph as pg
import pytest
from PIL import Image
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage, QKeySequence
from PySide6.QtWidgets import QProgressDialog

from rnnviz.engine import NetworkConfig
from rnnviz.gui.export.animation import frame_steps
from rnnviz.gui.export.controller import ExportError
from rnnviz.session import Session
from rnnviz.session.demos import load_demo


def read_table(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], np.array([[float(v) for v in row] for row in rows[1:]])


def ink(frame):
    """How many pixels are not (nearly) white."""
    return int((frame.astype(int).sum(axis=2) < 700).sum())


@pytest.fixture
def controller(window):
    return window.exports


def test_menus_and_context_menus_offer_export(window, controller):
    actions = window.menus["File"].actions()
    quit_at = actions.index(window.actions["file.quit"])
    for name in ("file.export", "file.export_animation", "file.export_run"):
        assert actions.index(window.actions[name]) < quit_at
    assert window.actions["file.export"].shortcut() == QKeySequence("Ctrl+E")
    assert window.actions["file.export_animation"].shortcut() == QKeySequence("Ctrl+Shift+E")
    for panel in window.panels.values():
        # plots carry it in their plot menus; other panels (a diagram) in their own
        layout = getattr(panel.plot_widget, "ci", None)
        plots = [i for i in layout.items if isinstance(i, pg.PlotItem)] if layout else []
        menu = plots[0].getViewBox().menu if plots else panel.view.context_menu
        assert "Export…" in [a.text() for a in menu.actions()]
        # pyqtgraph's own exporter is hidden: ours replaces it
        builtin = panel.plot_widget.scene().contextMenu
        assert all(not a.isVisible() for a in builtin if a.text().startswith("Export"))


def test_context_menu_export_opens_the_dialog_on_that_panel(window, controller):
    menu = window.panels["gates"].time_plots[0].getViewBox().menu
    next(a for a in menu.actions() if a.text() == "Export…").trigger()
    assert controller.dialog is not None and controller.dialog.key() == "gates"
    controller.dialog.reject()


def test_dialog_accept_writes_the_plotted_data_as_csv(window, controller, tmp_path):
    dialog = controller.open_export_dialog("hidden")
    dialog.set_choices(fmt="csv", path=tmp_path / "h.csv")
    dialog.accept()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "h_hidden_layer0.csv",
        "h_hidden_traces_layer0.csv",
    ]
    header, table = read_table(tmp_path / "h_hidden_layer0.csv")
    hidden = window.session.results.models[0].trace.hidden[0]
    assert header[:2] == ["unit", "step 0"]
    np.testing.assert_array_equal(table[:, 1:], hidden.T)
    header, table = read_table(tmp_path / "h_hidden_traces_layer0.csv")
    assert header == ["step", "unit 0", "unit 1", "unit 2"]
    np.testing.assert_array_equal(table[:, 1:], hidden[:, :3])
    # step and unit indices are whole numbers, as written
    with open(tmp_path / "h_hidden_traces_layer0.csv", newline="") as f:
        assert [row[0] for row in csv.reader(f)][:4] == ["step", "0", "1", "2"]
    with open(tmp_path / "h_hidden_layer0.csv", newline="") as f:
        assert [row[0] for row in csv.reader(f)][:3] == ["unit", "0", "1"]


def test_dialog_accept_writes_a_png_of_the_chosen_width(window, controller, tmp_path):
    dialog = controller.open_export_dialog()
    dialog.set_choices(key="gates", fmt="png", width=640, path=tmp_path / "figure")
    dialog.accept()
    image = Image.open(tmp_path / "figure.png")  # the format's suffix is added
    assert image.width == 640
    assert np.asarray(image.convert("RGB")).std() > 20


def test_dialog_keeps_open_with_the_error_when_the_file_cannot_be_written(
    window, controller, tmp_path
):
    dialog = controller.open_export_dialog("hidden")
    dialog.set_choices(fmt="svg", path=tmp_path / "missing" / "h.svg")
    dialog.accept()
    assert dialog.isVisible()
    assert "h.svg" in dialog.error_label.text()
    assert not (tmp_path / "missing").exists()
    dialog.reject()


def test_dashboard_png_has_the_requested_width_and_the_window_is_restored(
    window, controller, tmp_path
):
    geometry = {key: dock.geometry() for key, dock in window.docks.items()}
    [path] = controller.export("dashboard", tmp_path / "dash.png", width=1000)
    image = np.asarray(Image.open(path).convert("RGB"))
    assert image.shape[1] == 1000
    assert image.std() > 20
    assert window.menuBar().isVisible() and window.statusBar().isVisible()
    assert {key: dock.geometry() for key, dock in window.docks.items()} == geometry


def test_animation_frames_follow_the_cursor_and_the_view_comes_back(window, controller, tmp_path):
    window.session.set_view(step=30, reveal=True)
    path = tmp_path / "hidden.gif"
    assert controller.export_animation("hidden", path, fps=10, stride=50, width=320)
    frames = iio.imread(path, index=None)
    steps = window.session.document.sequence.steps
    assert frames.shape[0] == len(frame_steps(steps, 50))
    assert frames.shape[2] == 320
    # reveal mode: the heatmap unfolds, so the first frame holds far less than the last
    assert ink(frames[0]) < ink(frames[-1]) * 0.8
    assert window.session.view.step == 30 and window.session.view.reveal


def test_cancelling_an_animation_leaves_no_file_and_restores_the_view(window, controller, tmp_path):
    window.session.set_view(step=7)
    cancelled = []

    def cancel_when_shown():
        dialog = window.findChild(QProgressDialog)
        if dialog is not None and dialog.value() > 0 and not cancelled:
            cancelled.append(dialog.value())
            dialog.cancel()

    timer = QTimer()
    timer.timeout.connect(cancel_when_shown)
    timer.start(0)
    try:
        done = controller.animate_with_progress("gates", tmp_path / "gates.mp4", 10, 1, 240)
    finally:
        timer.stop()
    assert cancelled and not done
    assert list(tmp_path.iterdir()) == []  # neither the video nor a partial file
    assert window.session.view.step == 7


def test_run_data_round_trips(window, controller, tmp_path):
    npz, sidecar = controller.export_run(tmp_path / "run.npz")
    assert sidecar.name == "run.json"
    with np.load(npz, allow_pickle=False) as run:
        hidden = window.session.results.models[0].trace.hidden
        np.testing.assert_array_equal(run["states/hidden"], hidden)


def test_nothing_to_export_is_a_clear_error(make_window, tmp_path):
    doc = load_demo("sine")
    window = make_window(Session(doc.with_config(0, NetworkConfig(cell="gru", hidden_size=4))))
    controller = window.exports
    with pytest.raises(ExportError, match="Cell memory"):
        controller.export("cell", tmp_path / "cell.png")
    window.docks["hidden"].close()
    with pytest.raises(ExportError, match="closed"):
        controller.export("hidden", tmp_path / "hidden.png")
    assert list(tmp_path.iterdir()) == []


def test_exports_wait_for_current_results(make_window, tmp_path, qtbot):
    """An export never writes the previous document's data: while a background computation
    runs it is refused; once the results are in, it writes the new values."""
    window = make_window()
    window.compute.sync_limit = 0
    seq = window.session.document.sequence
    window.editor.apply(window.session.document.with_sequence(
        seq.with_inputs(np.full_like(seq.inputs, 5.0))), "set all")
    qtbot.waitUntil(lambda: window.compute.running, timeout=2000)
    with pytest.raises(ExportError, match="still computing"):
        window.exports.export_csv("input", tmp_path / "input.csv")
    qtbot.waitUntil(lambda: not window.session.stale, timeout=20000)
    (path,) = window.exports.export_csv("input", tmp_path / "input.csv")
    assert path.read_text().splitlines()[1].split(",")[1] == "5.0"


def test_a_line_plot_panel_alone_has_no_empty_right_margin(window, controller, tmp_path):
    from rnnviz.gui.panels.base import RIGHT_GUTTER

    panel = window.panels["gradients"]
    plot = panel.grad_plot
    on_screen = plot.getAxis("right").width()
    assert on_screen == RIGHT_GUTTER  # kept in the window, where heatmaps sit beside it
    seen = []
    original = controller._no_empty_margin

    import contextlib

    @contextlib.contextmanager
    def watch(key):
        with original(key):
            seen.append((plot.getAxis("right").isVisible(),
                         plot.getViewBox().sceneBoundingRect().right(),
                         panel.plot_widget.width()))
            yield

    controller._no_empty_margin = watch
    (path,) = controller.export("gradients", tmp_path / "g.png")
    visible, right, width = seen[0]
    assert not visible and width - right < 12  # the data reaches the right edge
    assert plot.getAxis("right").width() == RIGHT_GUTTER  # and the window is as it was
    image = QImage(str(path))
    column = [image.pixelColor(image.width() - 20, y).lightness() for y in range(image.height())]
    assert min(column) < 200  # something is drawn near the right edge, not empty paper


def test_a_three_layer_gradient_export_shows_whole_entries_and_the_step_axis(tmp_path):
    """As ``rnnviz export --cell lstm --layers 3 --panels gradients``: the window is laid out
    headless, its legend first wrapped for a narrow plot and then for the real one."""
    from rnnviz.gui.export.headless import _offscreen_window

    doc = load_demo("sine")
    doc = doc.with_config(0, doc.model(0).config.replace(cell="lstm", num_layers=3))
    with _offscreen_window(Session(doc)) as exports:
        panel = exports.window.panels["gradients"]
        plot, view = panel.grad_plot, panel.plot_widget
        (path,) = exports.export("gradients", tmp_path / "gradients.png", 1600)
        entries = {f"{'╍╍' if 'c_t' in name else '━━'} {name}" for name in panel.grad_lines}
        lines = panel.header(plot).shown_lines()
        axis = plot.getAxis("bottom").sceneBoundingRect()
        data = plot.getViewBox().sceneBoundingRect()
        shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert len(entries) == 7 and len(lines) > 1
    pieces = [piece for line in lines for piece in line.split("   ")]
    assert sorted(pieces) == sorted(entries), lines  # every entry whole, on one line
    assert shown.top() <= data.top() and axis.bottom() <= shown.bottom() + 1  # axis and label
    image = QImage(str(path))
    scale = image.width() / shown.width()
    assert image.height() == round(shown.height() * scale)
    row = round((data.bottom() - shown.top()) * scale)  # the x axis line, under the data
    dark = [image.pixelColor(x, row).lightness() < 100
            for x in range(round(data.left() * scale) + 4, round(data.right() * scale) - 4)]
    assert sum(dark) > 0.9 * len(dark)
