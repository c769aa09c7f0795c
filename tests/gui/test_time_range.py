"""Every plot shows one time range: the whole sequence after any change of document, the same
range in every panel when zoomed, and back to every step with Reset zoom (key, button, menu)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest

from rnnviz.gui.files.controller import sample_paths
from rnnviz.gui.time_axis import full_range


def x_ranges(window):
    return {(key, k): tuple(plot.getViewBox().viewRange()[0])
            for key, panel in window.panels.items()
            for k, plot in enumerate(panel.time_plots)}


def assert_whole_range(window):
    steps = window.session.document.sequence.steps
    lo, hi = full_range(steps)
    for where, (a, b) in x_ranges(window).items():
        assert (a, b) == pytest.approx((lo, hi)), where
        assert a < 0 and b > steps - 1, where  # the first and the last step are on screen


def sample(stem):
    return next(p for p in sample_paths() if p.stem == stem)


@pytest.mark.parametrize("first, second", [("exploding", "adding"), ("text", "adding"),
                                           ("adding", "vanishing"), ("sine", "exploding")])
def test_every_document_change_shows_its_whole_time_range(window, first, second):
    window.files.open_demo(first)
    window.redraw_now()
    window.files.open_demo(second)
    window.redraw_now()
    assert_whole_range(window)
    window.last_step()
    window.redraw_now()
    step = window.session.view.step
    for (key, _), (a, b) in x_ranges(window).items():
        assert a < step < b, key  # the cursor (and the last step's target) is on screen


def test_opening_a_sample_after_zooming_shows_its_whole_range(window):
    window.input_plot.setXRange(20, 40, padding=0)
    window.files.open_demo("exploding")
    window.files.open_sample(sample("adding"))
    window.redraw_now()
    assert_whole_range(window)


def zoom_with_the_wheel(plot, factor):
    vb = plot.getViewBox()
    vb.scaleBy(x=factor, center=QPointF(30, 0))


def test_zoom_is_shared_and_stops_at_the_whole_range(window):
    gradients = window.panels["gradients"].grad_plot
    zoom_with_the_wheel(gradients, 0.2)
    ranges = set(x_ranges(window).values())
    assert len(ranges) == 1  # every panel zoomed together
    (a, b), = ranges
    assert b - a < 60
    zoom_with_the_wheel(gradients, 50.0)  # far out: no panel goes beyond the sequence
    assert_whole_range(window)


@pytest.mark.parametrize("how", ["key", "ctrl0", "button", "menu", "view all"])
def test_reset_zoom_restores_every_panel(window, how):
    steps = window.session.document.sequence.steps
    window.input_plot.setXRange(10, 30, padding=0)
    grad = window.panels["gradients"].grad_plot
    grad.getViewBox().setYRange(-30, -25, padding=0)  # a y range far from the data
    if how == "key":
        QTest.keySequence(window, QKeySequence("A"))
    elif how == "ctrl0":
        QTest.keySequence(window, QKeySequence("Ctrl+0"))
    elif how == "button":
        window.transport.zoom_button.click()
    elif how == "menu":
        window.actions["view.reset_zoom"].trigger()
    else:
        grad.getViewBox().menu.viewAll.trigger()
    window.redraw_now()
    assert_whole_range(window)
    import numpy as np
    norms = window.session.results.models[0].grads.hidden_norm[0]
    lo, hi = grad.getViewBox().viewRange()[1]
    assert lo <= np.log10(norms.min()) and np.log10(norms.max()) <= hi  # the curves are inside
    assert steps == window.session.document.sequence.steps


def test_reset_layout_resets_the_zoom(window):
    window.input_plot.setXRange(10, 30, padding=0)
    window.reset_layout()
    window.redraw_now()
    assert_whole_range(window)


def test_the_cursor_at_step_zero_is_clear_of_the_axis(window, qtbot):
    window.resize(1280, 800)
    window.reset_layout()
    qtbot.wait(50)
    window.first_step()
    window.redraw_now()
    for key, panel in window.panels.items():
        for plot in panel.time_plots:
            vb = plot.getViewBox()
            if vb.width() <= 0:
                continue
            x = vb.mapViewToScene(QPointF(0, 0)).x()
            assert x - vb.sceneBoundingRect().left() >= 4, (key, vb.width())
        if panel.plot_widget.isVisible() and panel.time_plots:  # the diagram has no time axis
            assert panel.cursor.isVisible(), key
            assert panel.cursor.pos().x() - vb.sceneBoundingRect().left() >= 4, key


def test_the_time_axes_of_a_panel_line_up(window, qtbot):
    window.resize(1280, 800)
    window.reset_layout()
    qtbot.wait(50)
    window.redraw_now()
    for key, panel in window.panels.items():
        edges = {(round(plot.getViewBox().sceneBoundingRect().left()),
                  round(plot.getViewBox().sceneBoundingRect().right()))
                 for plot in panel.time_plots if plot.isVisible()}
        assert len(edges) <= 1, (key, edges)
