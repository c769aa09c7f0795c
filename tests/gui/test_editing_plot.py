"""Editing the input on its plot: dragging a sample and drawing a stroke, live and undoable."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from rnnviz.gui.editing.plot_editor import pick_sample
from rnnviz.session import Session, edits
from rnnviz.session.demos import load_demo


@pytest.fixture
def editing(window):
    return window.editing


def pixel_of(window, x: float, y: float) -> QPoint:
    """The viewport pixel of the view point (x, y) of the input plot."""
    scene = window.input_plot.vb.mapViewToScene(QPointF(x, y))
    return window.panels["input"].plot_widget.mapFromScene(scene)


def hidden_image(window) -> np.ndarray:
    return np.array(window.panels["hidden"].heatmap.image.image)


def mouse(kind: str, window, point: QPoint) -> None:
    viewport = window.panels["input"].plot_widget.viewport()
    if kind == "press":
        QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    elif kind == "release":
        QTest.mouseRelease(
            viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point
        )
    else:
        QTest.qWait(15)  # pyqtgraph drops mouse moves closer than 10 ms apart
        QTest.mouseMove(viewport, point)


def test_dragging_a_sample_moves_it_and_the_hidden_state_follows_during_the_drag(
    window, editing, qtbot
):
    start = window.session.document
    seq = start.sequence
    # a step where the input lies far from the target, so the press picks the input
    step = 20 + int(np.argmax(np.abs(seq.inputs[20:180, 0] - seq.targets[20:180, 0])))
    x0 = float(start.sequence.inputs[step, 0])
    before = hidden_image(window)
    lo, hi = window.input_plot.vb.viewRange()[1]
    target_y = lo + 0.2 * (hi - lo)  # well away from the sample, inside the plot
    mouse("press", window, pixel_of(window, step, x0))
    for frac in (0.25, 0.5, 0.75):
        mouse("move", window, pixel_of(window, step, x0 + frac * (target_y - x0)))
    mouse("move", window, pixel_of(window, step, target_y))
    # still pressed: the document and the hidden-state heatmap have already changed
    moved = window.session.document.sequence.inputs
    assert moved[step, 0] == pytest.approx(target_y, abs=(hi - lo) / 50)
    qtbot.waitUntil(lambda: not np.array_equal(hidden_image(window), before), timeout=2000)
    assert editing.plot_editor.gesture is not None
    mouse("release", window, pixel_of(window, step, target_y))
    assert editing.plot_editor.gesture is None

    after = window.session.document.sequence.inputs
    others = np.arange(after.shape[0]) != step
    np.testing.assert_array_equal(after[others], start.sequence.inputs[others])
    assert window.editor.stack.count() == 1
    window.actions["edit.undo"].trigger()
    assert window.session.document is start


def test_a_draw_stroke_replaces_the_values_under_it_in_one_undo_step(window, editing, qtbot):
    panel = window.panels["input"]
    panel.set_edit_mode("draw")
    panel.channel_combo.setCurrentIndex(panel.channel_combo.findData(0))
    start = window.session.document
    path = [(50, 0.5), (60, 0.5), (70, -0.5)]
    mouse("press", window, pixel_of(window, *path[0]))
    for point in path[1:]:
        mouse("move", window, pixel_of(window, *point))
    mouse("release", window, pixel_of(window, *path[-1]))

    before, after = start.sequence.inputs[:, 0], window.session.document.sequence.inputs[:, 0]
    tol = 3 * abs(window.input_plot.vb.viewPixelSize()[1])
    inside = np.arange(52, 69)
    expected = np.interp(inside, [p[0] for p in path], [p[1] for p in path])
    np.testing.assert_allclose(after[inside], expected, atol=tol)
    outside = np.r_[0:48, 73 : len(before)]
    np.testing.assert_array_equal(after[outside], before[outside])
    np.testing.assert_array_equal(window.session.document.sequence.targets, start.sequence.targets)
    assert window.editor.stack.count() == 1
    window.actions["edit.undo"].trigger()
    assert window.session.document is start


def test_pan_mode_and_presses_away_from_samples_do_not_edit(window, editing):
    start = window.session.document
    lo, hi = window.input_plot.vb.viewRange()[1]
    for mode, y in (("pan", float(start.sequence.inputs[30, 0])), ("drag", hi - 0.05 * (hi - lo))):
        window.panels["input"].set_edit_mode(mode)
        mouse("press", window, pixel_of(window, 30, y))
        mouse("move", window, pixel_of(window, 50, y))
        mouse("release", window, pixel_of(window, 50, y))
        assert window.session.document is start, mode
    assert window.editor.stack.count() == 0


def test_pick_sample_finds_the_nearest_channel_within_the_radius(window):
    seq = window.session.document.sequence
    pixel = (0.5, 0.05)  # steps and values per pixel
    step = 20 + int(np.argmax(np.abs(seq.inputs[20:180, 0] - seq.targets[20:180, 0])))
    target, x = float(seq.targets[step, 0]), float(seq.inputs[step, 0])
    assert pick_sample(seq, step + 0.5, target + 0.1, pixel) == (edits.TARGET, step)
    assert pick_sample(seq, step + 0.2, x, pixel) == (0, step)
    assert pick_sample(seq, step, max(x, target) + 2.0, pixel) is None  # 40 pixels away


def test_text_sequences_are_not_drawn_on_but_say_why(make_window):
    window = make_window(Session(load_demo("text")))
    assert window.editing is not None
    start = window.session.document
    window.panels["input"].set_edit_mode("draw")
    mouse("press", window, pixel_of(window, 3, 3))
    mouse("move", window, pixel_of(window, 9, 5))
    mouse("release", window, pixel_of(window, 9, 5))
    assert window.session.document is start
    assert "edited through its text" in window.statusBar().currentMessage()


def test_on_the_worker_path_the_input_follows_the_mouse_before_the_results_arrive(
    window, qtbot, monkeypatch
):
    """A long sequence computes in a job; the dragged curve must not wait for it."""
    import threading

    import rnnviz.gui.scheduler as scheduler

    release = threading.Event()
    real_compute = scheduler.compute

    def held_compute(*args, **kwargs):
        release.wait(10)
        return real_compute(*args, **kwargs)

    monkeypatch.setattr(scheduler, "compute", held_compute)
    window.compute.sync_limit = 0  # every recompute goes to the job runner
    start = window.session.document
    seq = start.sequence
    step = 20 + int(np.argmax(np.abs(seq.inputs[20:180, 0] - seq.targets[20:180, 0])))
    x0 = float(seq.inputs[step, 0])
    before = hidden_image(window)
    lo, hi = window.input_plot.vb.viewRange()[1]
    target_y = lo + 0.2 * (hi - lo)
    line = window.panels["input"].x_lines[0]
    mouse("press", window, pixel_of(window, step, x0))
    mouse("move", window, pixel_of(window, step, target_y))
    qtbot.waitUntil(lambda: window.compute.running, timeout=2000)  # results being computed
    qtbot.waitUntil(lambda: abs(line.yData[step] - target_y) < (hi - lo) / 50, timeout=2000)
    np.testing.assert_array_equal(hidden_image(window), before)  # the others wait
    assert window.progress.isVisible()
    release.set()
    qtbot.waitUntil(lambda: not np.array_equal(hidden_image(window), before), timeout=5000)
    mouse("release", window, pixel_of(window, step, target_y))
    qtbot.waitUntil(lambda: not window.compute.running and not window.session.stale,
                    timeout=5000)
    r = window.session.results.models[0]
    assert r.sequence is window.session.document.sequence
    np.testing.assert_array_equal(hidden_image(window), r.trace.hidden[0].T)
