"""What the panels draw and where: sparse targets as dots with the prediction beside them,
legends and totals above the data (never over it), short axis labels, named character rows,
and no warnings printed along the way."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QFontMetricsF

from rnnviz.gui.export.figures import render_figure
from rnnviz.gui.files.controller import sample_paths
from rnnviz.gui.panels.base import LEFT_AXIS_WIDTH
from rnnviz.session import Session
from rnnviz.session.demos import load_demo


def sample(stem):
    return next(p for p in sample_paths() if p.stem == stem)


def points(item):
    """The (x, y) of what a PlotDataItem draws as dots (empty when it draws none)."""
    if item.opts.get("symbol") is None or item.xData is None:
        return np.zeros(0), np.zeros(0)
    keep = np.isfinite(item.yData)
    return np.asarray(item.xData)[keep], np.asarray(item.yData)[keep]


def colour_pixels(image, colour: str) -> int:
    """How many pixels of ``image`` have exactly ``colour``."""
    rgba = image.convertToFormat(image.Format.Format_RGB32)
    h, w = rgba.height(), rgba.width()
    a = np.frombuffer(rgba.constBits(), np.uint32, h * rgba.bytesPerLine() // 4)
    a = a.reshape(h, -1)[:, :w]
    return int(np.count_nonzero((a & 0xFFFFFF) == (QColor(colour).rgb() & 0xFFFFFF)))


def test_a_target_at_one_step_is_drawn_with_the_prediction(window):
    window.files.open_sample(sample("adding"))
    window.redraw_now()
    r = window.session.results.models[0]
    target = r.masked_targets[:, 0]
    last = r.steps - 1
    assert np.flatnonzero(np.isfinite(target)).tolist() == [last]
    out = window.panels["output"]
    x, y = points(out.target_lines[0])
    assert x.tolist() == [last] and y[0] == pytest.approx(target[last])
    x, y = points(out.at_target[0])
    assert x.tolist() == [last] and y[0] == pytest.approx(r.trace.output[last, 0])
    x, _ = points(window.panels["input"].target_lines[0])
    assert x.tolist() == [last]
    legend = out.header(out.output_plot).legend_text()
    assert "target" in legend and "y_t at the target" in legend
    # and it is in the picture: the target's dot in the target colour
    image = render_figure(out.plot_widget)
    assert colour_pixels(image, window.theme.target) >= 8


def test_legends_and_the_loss_total_sit_above_the_data(window, qtbot):
    window.resize(1280, 800)
    window.reset_layout()
    qtbot.wait(50)
    doc = window.session.document
    window.session.set_document(doc.with_config(0, doc.model(0).config.replace(num_layers=3)))
    window.redraw_now()
    for key, panel in window.panels.items():
        for plot in panel.time_plots:
            header = panel.header(plot)
            if header is None or not plot.isVisible():
                continue
            data = plot.getViewBox().sceneBoundingRect()
            for item in (header._legend, header._status):
                box = item.sceneBoundingRect()
                if item.toPlainText():
                    assert box.bottom() <= data.top() + 1, key  # above the data
                    assert box.left() >= data.left() - 1, key  # nothing cut on the left
    grad = window.panels["gradients"]
    text = grad.header(grad.grad_plot).legend_text()
    for k in range(3):
        assert f"‖∂L/∂h_t‖ layer {k}" in text and f"‖∂L/∂c_t‖ layer {k}" in text
    out = window.panels["output"]
    loss = window.session.results.models[0].loss.total
    assert out.loss_text == f"mse loss = {loss:.4g}"


def test_log_axis_labels_are_short_powers_of_ten(window):
    window.redraw_now()
    axis = window.panels["gradients"].grad_plot.getAxis("left")
    lo, hi = window.panels["gradients"].grad_plot.getViewBox().viewRange()[1]
    levels = axis.tickValues(lo, hi, 200)
    labels = [s for _, values in levels for s in axis.tickStrings(values, 1.0, 1.0) if s]
    assert labels and all(s == "1" or s == "10" or s.startswith("10") for s in labels)
    widest = max(QFontMetricsF(axis.style["tickFont"] or axis.font()).horizontalAdvance(s)
                 for s in labels)
    label_height = QFontMetricsF(axis.label.font()).height()
    # tick labels, tick marks and the rotated axis title fit the shared axis width
    assert widest + axis.style["tickTextOffset"][0] + 5 + label_height <= LEFT_AXIS_WIDTH


def text_demo_at_1280x800(make_window, first: str):
    """The window at 1280 x 800 on the demo ``first``, then on the text demo: (window, the
    input panel, its channel names, a function giving the rows the input plot names)."""
    window = make_window(Session(load_demo(first)))
    window.resize(1280, 800)
    window.reset_layout()
    window.files.open_demo("text")
    window.redraw_now()
    panel = window.panels["input"]
    vb = panel.input_plot.getViewBox()

    def named_rows() -> list[float]:
        lo, hi = vb.viewRange()[1]
        return panel.channel_axis.tickValues(lo, hi, vb.height())[0][1]

    return window, panel, window.session.document.sequence.channel_names, named_rows


def test_the_text_input_names_every_character_row_and_explains_its_marks(make_window, qtbot):
    window, panel, names, named_rows = text_demo_at_1280x800(make_window, "text")
    # the window makes the room once its layout has settled, within a blink
    qtbot.waitUntil(lambda: len(named_rows()) == len(names), timeout=2000)
    values = named_rows()
    assert panel.channel_axis.tickStrings(values, 1, 1) == list(names)
    legend = panel.header(panel.input_plot).legend_text()
    assert "character read" in legend and "target: the next character" in legend


def test_normal_use_prints_no_warnings(window, qtbot):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name in ("adding", "exploding", "text", "vanishing", "sine"):
            window.files.open_demo(name)
            window.redraw_now()
            window.set_reveal(True)
            for step in (0, 5, window.session.document.sequence.steps - 1):
                window.session.set_view(step=step)
                window.redraw_now()
            window.session.set_view(phase="backward", step=3)
            window.redraw_now()
            window.set_reveal(False)
            window.redraw_now()
        qtbot.wait(50)
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "NaN" in m or "overflow" in m or "invalid" in m], messages


def test_heatmap_cells_have_their_colour_map_colour(window):
    from rnnviz.gui.theme import colormap

    window.redraw_now()
    heat = window.panels["hidden"].heatmap
    hidden = window.session.results.models[0].trace.hidden[0]  # (T, H)
    lo, hi = heat.bar.levels()
    cmap = colormap(window.theme.diverging)
    image = render_figure(window.panels["hidden"].plot_widget, 1600)
    vb = heat.plot.getViewBox()
    scale = image.width() / window.panels["hidden"].plot_widget.width()
    for t, u in ((3, 2), (100, 7), (150, 12)):
        point = vb.mapViewToScene(QPointF(t, u))
        pixel = image.pixelColor(round(point.x() * scale), round(point.y() * scale))
        expected = cmap.map((hidden[t, u] - lo) / (hi - lo), mode="qcolor")
        for a, b in ((pixel.red(), expected.red()), (pixel.green(), expected.green()),
                     (pixel.blue(), expected.blue())):
            assert abs(a - b) <= 6, (t, u)


def test_wide_heatmaps_keep_a_one_step_spike():
    from rnnviz.gui.panels.items import reduce_columns

    data = np.zeros((3, 100_000))
    data[1, 54_321] = 0.9
    data[2, 7] = -0.8
    reduced = reduce_columns(data, 0.0, columns=1000)
    assert reduced.shape == (3, 1000)
    assert reduced[1].max() == 0.9 and reduced[2].min() == -0.8
    assert np.count_nonzero(reduced) == 2


@pytest.mark.parametrize("spread", [False, True], ids=["at-once", "a-panel-per-turn"])
def test_switching_documents_prints_no_warnings(window, qtbot, menu_entry, spread):
    """Through the menus and the event loop (no synchronous redraw): for a moment after a switch
    the new time range shows the old document's sparse dots, none of them in view."""
    window.dashboard.spread = spread  # as while training: a panel per event loop turn
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for submenu, name in (("file.samples", "adding"), ("file.samples", "text"),
                              ("file.demos", "adding"), ("file.demos", "text")):
            menu_entry(window, submenu, name).trigger()
            qtbot.waitUntil(lambda: window.session.model_results is not None
                            and window.dashboard.drawn is window.session.model_results)
            with qtbot.waitCallback() as drawn:
                window.dashboard.after_drawn(drawn)
            qtbot.wait(100)  # painted
    assert window.session.document.sequence.labels is not None  # the text demo is shown
    messages = [f"{w.filename}:{w.lineno}: {w.message}" for w in caught
                if issubclass(w.category, RuntimeWarning)]
    assert not messages, messages


def test_zooming_away_from_a_sparse_target_prints_no_warnings(window, qtbot):
    window.files.open_sample(sample("adding"))  # its one target is at the last step
    window.redraw_now()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        window.input_plot.setXRange(0, 50, padding=0)
        qtbot.wait(100)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not messages, messages


def test_the_step_axis_comes_back_into_view_when_the_legend_needs_fewer_lines(qtbot):
    """A plot laid out narrow and short first (as docks are while the window is arranged):
    its legend's lines then need more than the view's height; widened, they need one line."""
    from rnnviz.gui.panels.gradients import GradientsPanel
    from rnnviz.gui.theme import LIGHT
    from rnnviz.session import ViewState, compute

    doc = load_demo("sine")
    doc = doc.with_config(0, doc.model(0).config.replace(cell="lstm", num_layers=3))
    panel = GradientsPanel(LIGHT)
    qtbot.addWidget(panel)
    panel.resize(110, 90)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_results(compute(doc).model(0), ViewState())
    qtbot.wait(20)
    view, plot = panel.plot_widget, panel.grad_plot
    assert panel.header(plot).lines > 3
    panel.resize(900, 120)
    qtbot.wait(20)
    assert panel.header(plot).lines == 1
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert plot.getAxis("bottom").sceneBoundingRect().bottom() <= shown.bottom() + 1
