"""Finite values near the float64 limit (1e308) draw — or say they cannot — in every plot and
every export, for line inputs and one-hot-like images, with targets and for unbounded cells."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnviz.engine import NetworkConfig
from rnnviz.gui.export.headless import export_views
from rnnviz.session import Sequence, Session, Task
from rnnviz.session.demos import document_for


def huge_document(channels: int, cell: str) -> Session:
    t = np.linspace(-1.0, 1.0, 60)
    inputs = np.column_stack([t * 1e308 * (0.5 + 0.5 * k / channels) for k in range(channels)])
    targets = (np.sin(t * 7) * 1e307)[:, None]
    seq = Sequence(inputs, targets=targets)
    return Session(document_for(seq, NetworkConfig(cell=cell, hidden_size=4, seed=0),
                                Task("mse", "all")))


@pytest.mark.parametrize("channels, cell", [(2, "lstm"), (12, "rnn_relu"), (1, "gru")])
def test_huge_values_draw_everywhere(make_window, tmp_path, channels, cell):
    session = huge_document(channels, cell)
    window = make_window(session)
    window.redraw_now()
    for key, panel in window.panels.items():
        for plot in panel.time_plots:
            for lo, hi in plot.getViewBox().viewRange():
                assert math.isfinite(lo) and math.isfinite(hi) and hi > lo, key
    header = window.panels["input"].header(window.input_plot)
    if channels <= 8:
        assert "not drawn" in header.status
    written = export_views(Session(session.document), tmp_path,
                           ["png", "svg", "pdf", "csv"], ["input", "hidden", "output",
                                                          "gradients", "dashboard"])
    assert all(p.stat().st_size > 0 for p in written)
    csv = "".join(p.read_text() for p in tmp_path.glob("input*.csv"))
    assert "1e+308" in csv or "e+307" in csv  # the data itself is kept exactly
