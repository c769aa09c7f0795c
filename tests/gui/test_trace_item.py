"""A trace given data the fast way draws exactly what pyqtgraph's own path draws, and data the
fast way cannot draw as it is (dots, a log axis, huge values, many points) takes that path."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from rnnviz.gui.panels.trace_item import DIRECT_POINTS, TraceItem


@pytest.fixture
def plot(qtbot):
    widget = pg.GraphicsLayoutWidget()
    qtbot.addWidget(widget)
    widget.resize(500, 300)
    widget.show()
    item = widget.addPlot()
    item.setXRange(0, 200, padding=0)
    item.setYRange(-2, 2, padding=0)
    yield item  # the widget (and so the plot) lives until the test is done
    widget.close()


def _pair(plot) -> tuple[TraceItem, TraceItem]:
    items = []
    for _ in range(2):
        item = TraceItem(connect="finite", pen="b")
        item.setClipToView(True)
        item.setDownsampling(auto=True, method="peak")
        plot.addItem(item)
        items.append(item)
    return items[0], items[1]


def _elements(item: TraceItem) -> list[tuple[float, float]]:
    path = item.curve.getPath()
    return [(path.elementAt(k).x, path.elementAt(k).y) for k in range(path.elementCount())]


def test_the_fast_way_draws_what_set_data_draws(plot):
    fast, slow = _pair(plot)
    x = np.arange(200.0)
    for shift in (0.0, 0.7):
        y = np.sin(x / 9.0 + shift)
        y[50:53] = np.nan  # a gap in the line
        fast.set_xy(x, y)
        slow.setData(x, y)
        assert fast.direct(x, y)
        assert _elements(fast) == _elements(slow)
        assert fast.curve.boundingRect() == slow.curve.boundingRect()
        assert fast.dataBounds(1) == slow.dataBounds(1)
        got_x, got_y = fast.getData()
        np.testing.assert_array_equal(got_x, x)
        np.testing.assert_array_equal(got_y, y)


def test_data_it_cannot_draw_as_it_is_takes_set_data(plot):
    fast, slow = _pair(plot)
    x = np.arange(200.0)
    y = np.cos(x / 5.0)
    huge = y * 1e12
    assert not fast.direct(x, huge)  # pyqtgraph limits such values to what Qt can paint
    fast.set_xy(x, huge)
    slow.setData(x, huge)
    assert _elements(fast) == _elements(slow)
    long_x = np.arange(DIRECT_POINTS + 1.0)
    assert not fast.direct(long_x, np.sin(long_x))
    fast.setSymbol("o")
    assert not fast.direct(x, y)
    fast.setSymbol(None)
    plot.setLogMode(y=True)
    assert not fast.direct(x, np.abs(y) + 1.0)
    fast.set_xy(x, np.abs(y) + 1.0)
    np.testing.assert_allclose(fast.curve.getData()[1], np.log10(np.abs(y) + 1.0))


def test_a_trace_emptied_and_filled_again_shows_its_curve(plot):
    fast, _slow = _pair(plot)
    fast.setData([], [])
    x = np.arange(10.0)
    fast.set_xy(x, x / 10.0)
    assert fast.curve.isVisible()
    np.testing.assert_array_equal(fast.curve.getData()[1], x / 10.0)
