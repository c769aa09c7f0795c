"""A long run (T=100,000, H=128) is drawn without holding the event loop: its heatmaps and
curves are prepared (reduced to what a screen shows, coloured) in a job, then drawn a panel at
a time; the inspector computes only the cursor step's norms."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from rnnviz.gui.latency import benchmark_document
from rnnviz.gui.panels.items import MAX_IMAGE_COLUMNS
from rnnviz.session import Sequence, compute

STEPS = 100_000


@pytest.fixture(scope="module")
def long_run():
    doc = benchmark_document("lstm", 1000, 128)
    doc = doc.with_sequence(Sequence(np.sin(np.arange(STEPS) / 20.0)[:, None]))
    return doc, compute(doc)


def test_a_long_run_is_prepared_off_the_gui_thread_and_drawn_in_short_turns(
        make_window, qtbot, long_run, monkeypatch):
    doc, results = long_run
    window = make_window()
    threads = []
    hidden = window.panels["hidden"]
    real_prepare = type(hidden).prepare

    def prepare(self, *args, **kwargs):
        threads.append(threading.current_thread())
        return real_prepare(self, *args, **kwargs)

    monkeypatch.setattr(type(hidden), "prepare", prepare)
    turns = []
    real_show = type(hidden).show_results

    def show(self, *args, **kwargs):
        start = time.thread_time()
        real_show(self, *args, **kwargs)
        turns.append(time.thread_time() - start)

    monkeypatch.setattr(type(hidden), "show_results", show)
    window.session.set_document(doc)
    window.compute.cancel()
    window.session.accept(results)
    qtbot.waitUntil(lambda: window.dashboard.drawn is window.session.model_results,
                    timeout=60_000)
    qtbot.waitUntil(lambda: not window.dashboard._queue, timeout=10_000)
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert turns and max(turns) < 0.05  # the GUI thread's share, CPU seconds
    image = hidden.heatmap.image
    assert image.image.shape[0] == 128 and image.image.shape[1] <= MAX_IMAGE_COLUMNS
    assert hidden.heatmap.data.shape == (128, STEPS)  # hover and CSV keep every step
    x, y = hidden.traces[0].xData, hidden.traces[0].yData
    assert len(x) <= 8192 and np.nanmax(y) == pytest.approx(
        np.nanmax(results.model(0).trace.hidden[0, :, 0]))


def test_the_inspector_does_not_compute_every_steps_norm(make_window, long_run):
    doc, results = long_run
    window = make_window()
    window.session.set_document(doc)
    window.compute.cancel()
    window.session.accept(results)
    window.session.set_view(step=54_321)
    r = window.session.model_results
    grads = r.grads
    fresh = type(grads)(**{f: getattr(grads, f) for f in grads.__dataclass_fields__})
    start = time.thread_time()
    window.inspector.show_step(r.__class__(**{**{f: getattr(r, f) for f in
                                                 r.__dataclass_fields__}, "grads": fresh}),
                               window.session.view)
    assert time.thread_time() - start < 0.05
    assert "hidden_norm" not in vars(fresh)  # not computed for the whole run
    expected = np.linalg.norm(grads.hidden[0, 54_321])
    assert window.inspector.value_of("layer 0", "‖∂L/∂h_t‖") == f"{expected:.6g}"


def test_exports_of_a_long_run_draw_it_at_once(make_window, long_run, tmp_path):
    doc, results = long_run
    window = make_window()
    window.session.set_document(doc)
    window.compute.cancel()
    window.session.accept(results)
    window.redraw_now()  # synchronous: what an export shows is current
    assert window.dashboard.drawn is window.session.model_results
    assert not window.dashboard._queue
    assert window.panels["gates"].gate_heatmaps["f"].data.shape == (128, STEPS)
