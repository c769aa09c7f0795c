"""The latency probe drives the real window: edits reach the screen and the timings are sane."""

from __future__ import annotations

from rnnviz.gui.latency import measure_latency


def test_measure_latency_times_real_edits(qapp):
    result = measure_latency(cell="gru", steps=60, hidden=8, edits=5)
    assert result["edits"] == 5 and result["cell"] == "gru"
    assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["max_ms"]
    assert 0 < result["compute_p50_ms"] < result["max_ms"]
